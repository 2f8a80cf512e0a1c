"""Cues: short word sequences that alone prove a step was performed (`Step.cues`, e.g. "办+什么").

A cue is found when all its words are said in one turn, in order, each word
starting at most `CUE_GAP` characters (of the matching form) after the end of
the previous one. Words are compiled like transcript text (normalised, numbers
collapsed). A word of two or more characters is found by its characters or by
its folded pinyin at a character boundary (homophones and the confusable
initials/finals tolerated, as for phrasings); a 1-character word only by its
exact character — one syllable alone is too easy to hear by chance.

Pure functions over a `Doc`; the matcher turns the spans into step candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from trainer.phrasebook.model import CUE_GAP, CUE_SEPARATOR
from trainer.scoring.document import Doc, cached_form
from trainer.scoring.patterns import Pattern
from trainer.text.pinyin import encode

MAX_CUE_SPANS = 4  # per cue and turn is plenty: the alignment needs alternatives, not every repetition


@dataclass(frozen=True)
class CueWord:
    form: str  # matching form
    pin: str  # folded pinyin, two symbols per character ("" for 1-character words: exact only)


@dataclass(frozen=True)
class CompiledCue:
    text: str  # as written in the phrasebook ("办+什么")
    words: tuple[CueWord, ...]
    pattern: Pattern  # the words run together, for candidates and display


@lru_cache(maxsize=4096)
def compile_cue(text: str, fillers: tuple[str, ...] = ()) -> CompiledCue | None:
    """The cue's words in matching form; None when a word normalises to nothing (e.g. only punctuation)."""
    words: list[CueWord] = []
    for raw in text.split(CUE_SEPARATOR):
        form = cached_form(raw.strip(), fillers)
        if not form:
            return None
        words.append(CueWord(form, encode(form) if len(form) >= 2 else ""))
    joined = "".join(w.form for w in words)
    pattern = Pattern(text=text, form=joined, pin=encode(joined), pin_strict=encode(joined, strict=True))
    return CompiledCue(text, tuple(words), pattern)


def _occurrences(word: CueWord, doc: Doc, lo: int, hi: int) -> list[int]:
    """Start positions of `word` in Doc.form[lo:hi] (characters, or folded pinyin for 2+ characters)."""
    n = len(word.form)
    found: set[int] = set()
    k = doc.form.find(word.form, lo, hi)
    while k >= 0:
        found.add(k)
        k = doc.form.find(word.form, k + 1, hi)
    if word.pin:
        k = doc.pin.find(word.pin, 2 * lo, 2 * hi)
        while k >= 0:
            if k % 2 == 0 and k // 2 + n <= hi:
                found.add(k // 2)
            k = doc.pin.find(word.pin, k + 1, 2 * hi)
    return sorted(found)


def find_cue(cue: CompiledCue, doc: Doc, turn: int) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) spans in Doc.form where the cue is said within `turn`, leftmost first.

    For each start of the first word, the shortest completion is kept: each later
    word is placed at the earliest occurrence that keeps the rest reachable.
    """
    lo, hi = doc.turn_range(turn)
    if hi <= lo:
        return []
    occurrences = [_occurrences(w, doc, lo, hi) for w in cue.words]
    if any(not o for o in occurrences):
        return []
    spans: list[tuple[int, int]] = []
    last_end = lo
    for first in occurrences[0]:
        if first < last_end:
            continue
        end = _complete(cue.words, occurrences, 1, first + len(cue.words[0].form))
        if end is not None:
            spans.append((first, end))
            last_end = end
            if len(spans) >= MAX_CUE_SPANS:
                break
    return spans


def _complete(words: Sequence[CueWord], occurrences: Sequence[list[int]], k: int, previous_end: int) -> int | None:
    """End of the earliest placement of words[k:] after `previous_end` (None if impossible)."""
    if k == len(words):
        return previous_end
    for start in occurrences[k]:
        if start < previous_end:
            continue
        if start - previous_end > CUE_GAP:
            break
        end = _complete(words, occurrences, k + 1, start + len(words[k].form))
        if end is not None:
            return end
    return None


def find_cues(cues: Sequence[str], doc: Doc, fillers: Sequence[str] = ()) -> list[tuple[CompiledCue, int, int]]:
    """Every (cue, start, end) found in the performance, turn by turn."""
    out: list[tuple[CompiledCue, int, int]] = []
    compiled = [c for c in (compile_cue(text, tuple(fillers)) for text in cues) if c is not None]
    for turn in range(len(doc.turns)):
        for cue in compiled:
            for start, end in find_cue(cue, doc, turn):
                out.append((cue, start, end))
    return out
