"""Phrasebook phrasings compiled into matching patterns, and the similarity thresholds.

A phrasing such as "收您{received}元" becomes the matching form "收您#元":
numeric slots (amount, number, digits, days, time) become NUMBER, so they
match any number said there; free-text slots (name, text) and unknown
placeholders are dropped (whatever name was said counts as an insertion).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from trainer.phrasebook.model import Slot
from trainer.scoring.document import NUMBER, matching_form
from trainer.text.pinyin import encode

NUMERIC_SLOT_KINDS = frozenset({"amount", "number", "digits", "days", "time"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Pattern:
    text: str  # phrasing as written in the phrasebook
    form: str  # matching form
    pin: str  # folded pinyin (2 symbols per character)
    pin_strict: str  # pinyin without whole-syllable folds (for forbidden phrases)
    slots: tuple[tuple[int, str], ...] = ()  # (index in form, slot name) for numeric slots

    @property
    def length(self) -> int:
        return len(self.form)


def _segment(text: str, fillers: tuple[str, ...], after_number: bool) -> str:
    """Matching form of the text between placeholders; a unit right after a number slot is part of the number."""
    form = matching_form(text, fillers)
    if after_number and form[:1] in ("元", "块"):
        form = form[1:]
    return form


@lru_cache(maxsize=4096)
def _compile(text: str, slot_kinds: tuple[tuple[str, str], ...], fillers: tuple[str, ...]) -> Pattern:
    kinds = dict(slot_kinds)
    form_parts: list[str] = []
    slots: list[tuple[int, str]] = []
    pos = 0
    after_number = False
    for match in _PLACEHOLDER.finditer(text):
        form_parts.append(_segment(text[pos : match.start()], fillers, after_number))
        name = match.group(1)
        after_number = kinds.get(name) in NUMERIC_SLOT_KINDS
        if after_number:
            slots.append((sum(len(p) for p in form_parts), name))
            form_parts.append(NUMBER)
        pos = match.end()
    form_parts.append(_segment(text[pos:], fillers, after_number))
    form = "".join(form_parts)
    return Pattern(text=text, form=form, pin=encode(form), pin_strict=encode(form, strict=True), slots=tuple(slots))


def compile_phrasing(text: str, slots: Sequence[Slot] = (), fillers: Sequence[str] = ()) -> Pattern:
    return _compile(text, tuple((s.name, s.kind) for s in slots), tuple(fillers))


def step_thresholds(length: int) -> tuple[float, float]:
    """(hit, partial) similarity thresholds for a standard phrasing of `length` characters.

    Short phrasings need a near-exact match (on characters or on folded pinyin):
    one wrong character in 您好 makes another phrase. Longer ones tolerate
    recogniser errors: about one character in four for 5–8 characters, one in
    three beyond 12 (pinyin similarity already forgives homophones).
    """
    if length <= 2:
        return 0.99, 0.99
    if length == 3:
        return 0.83, 0.83  # too short for a meaningful "partial"
    if length == 4:
        return 0.8, 0.8
    if length <= 8:
        return 0.74, 0.6
    if length <= 12:
        return 0.7, 0.56
    return 0.66, 0.52


def forbidden_thresholds(length: int) -> tuple[float, float]:
    """(characters, pinyin) thresholds for a forbidden phrasing: stricter than for steps.

    Up to 2 characters: exact characters only. 3–4: exact characters, or exact
    pinyin with most characters right. Longer: one wrong character in five.
    """
    if length <= 2:
        return 1.0, 2.0  # pinyin alone never suffices
    if length <= 4:
        return 1.0, 1.0
    return 0.8, 0.9
