"""Recogniser-like noise for robustness tests without audio.

`corrupt(text, rate, rng)` changes about `rate` of the Chinese characters of a
text the way a small recogniser does: mostly homophone substitutions (same
toneless pinyin, a common character), some deletions and insertions.

`robustness(library, rates, seed)` takes the phrasebook's own phrasings, adds
that noise and measures, per noise level:
- step recall: the noisy phrasing of a step is still found as that step (hit);
- step false alarms: other steps of the scenario found in it that the clean
  phrasing did not already perform (share of (phrasing, other step) pairs);
- forbidden recall: a noisy forbidden phrasing is still flagged as its entry;
- forbidden false alarms: a noisy standard phrasing flagged as any forbidden phrase.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jieba
from pypinyin import Style, lazy_pinyin

from trainer.asr.base import Transcript
from trainer.phrasebook.model import Library, Scenario
from trainer.scoring.document import TurnText, build_doc
from trainer.scoring.forbidden import find_forbidden
from trainer.scoring.match import match_steps
from trainer.scoring.patterns import NUMERIC_SLOT_KINDS
from trainer.scoring.result import HIT
from trainer.text.normalize import to_chinese_numerals

SUBSTITUTE, DELETE, INSERT = "sub", "del", "ins"
OPERATION_WEIGHTS = {SUBSTITUTE: 0.6, DELETE: 0.2, INSERT: 0.2}
COMMON_MIN_FREQUENCY = 2000  # jieba dictionary frequency of a single-character word
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@lru_cache(maxsize=1)
def _common_chars() -> tuple[str, ...]:
    jieba.initialize()
    freq = jieba.dt.FREQ
    return tuple(sorted(w for w, f in freq.items() if len(w) == 1 and _CJK.fullmatch(w) and f >= COMMON_MIN_FREQUENCY))


@lru_cache(maxsize=1)
def _homophones() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for char in _common_chars():
        groups.setdefault(lazy_pinyin(char, style=Style.NORMAL)[0], []).append(char)
    return {k: tuple(v) for k, v in groups.items()}


def homophones_of(char: str) -> tuple[str, ...]:
    syllable = lazy_pinyin(char, style=Style.NORMAL)[0]
    return tuple(c for c in _homophones().get(syllable, ()) if c != char)


def corrupt(text: str, rate: float, rng: random.Random) -> str:
    """`text` with about `rate` of its Chinese characters substituted (homophones), deleted or followed by an insertion."""
    common = _common_chars()
    out: list[str] = []
    operations = list(OPERATION_WEIGHTS)
    weights = list(OPERATION_WEIGHTS.values())
    for char in text:
        if not _CJK.fullmatch(char) or rng.random() >= rate:
            out.append(char)
            continue
        op = rng.choices(operations, weights)[0]
        if op == SUBSTITUTE:
            options = homophones_of(char)
            out.append(rng.choice(options) if options else rng.choice(common))
        elif op == INSERT:
            out.append(char)
            out.append(rng.choice(common))
        # DELETE: nothing
    return "".join(out)


def fill_slots(text: str, scenario: Scenario, rng: random.Random) -> str:
    """A phrasing as a trainee would say it: number slots get a spoken amount, other slots a name."""
    kinds = {slot.name: slot.kind for step in scenario.steps for slot in step.slots}

    def value(match: re.Match[str]) -> str:
        if kinds.get(match.group(1)) in NUMERIC_SLOT_KINDS:
            return to_chinese_numerals(str(rng.randint(2, 300)))
        return "张伟"

    return _PLACEHOLDER.sub(value, text)


@dataclass
class LevelResult:
    rate: float
    step_trials: int = 0
    step_found: int = 0
    step_pairs: int = 0
    step_false: int = 0
    forbidden_trials: int = 0
    forbidden_found: int = 0
    polite_trials: int = 0
    polite_false: int = 0

    @property
    def step_recall(self) -> float:
        return self.step_found / self.step_trials if self.step_trials else 1.0

    @property
    def step_false_alarm_rate(self) -> float:
        return self.step_false / self.step_pairs if self.step_pairs else 0.0

    @property
    def forbidden_recall(self) -> float:
        return self.forbidden_found / self.forbidden_trials if self.forbidden_trials else 1.0

    @property
    def forbidden_false_alarm_rate(self) -> float:
        return self.polite_false / self.polite_trials if self.polite_trials else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "rate": self.rate,
            "step_recall": round(self.step_recall, 4),
            "step_false_alarm_rate": round(self.step_false_alarm_rate, 4),
            "forbidden_recall": round(self.forbidden_recall, 4),
            "forbidden_false_alarm_rate": round(self.forbidden_false_alarm_rate, 4),
            "step_trials": self.step_trials,
            "forbidden_trials": self.forbidden_trials,
        }


def _doc(text: str, fillers: Sequence[str]):  # type: ignore[no-untyped-def]
    return build_doc([TurnText(Transcript(text=text))], fillers)


def _steps_hit(scenario: Scenario, text: str, fillers: Sequence[str]) -> set[int]:
    found = match_steps(scenario.steps, _doc(text, fillers), fillers)
    return {i for i, candidates in enumerate(found) if any(c.status == HIT for c in candidates)}


def robustness(library: Library, rates: Sequence[float] = (0.1, 0.2, 0.3), seed: int = 1234) -> list[LevelResult]:
    fillers = library.lexicon.fillers
    results = []
    for rate in rates:
        rng = random.Random(f"{seed}:{rate}")
        level = LevelResult(rate)
        for scenario in library.scenarios.values():
            entries = library.forbidden_for(scenario.id)
            polite = [p for s in scenario.steps for p in s.all_phrasings]
            for index, step in enumerate(scenario.steps):
                for phrasing in step.all_phrasings:
                    clean = fill_slots(phrasing, scenario, rng)
                    noisy = corrupt(clean, rate, rng)
                    baseline = _steps_hit(scenario, clean, fillers)
                    hit = _steps_hit(scenario, noisy, fillers)
                    level.step_trials += 1
                    level.step_found += index in hit
                    others = [i for i in range(len(scenario.steps)) if i != index and i not in baseline]
                    level.step_pairs += len(others)
                    level.step_false += sum(1 for i in others if i in hit)
                    level.polite_trials += 1
                    level.polite_false += bool(find_forbidden(entries, _doc(noisy, fillers), polite, fillers))
        for entry in library.forbidden:
            for phrasing in entry.all_phrasings:
                noisy = corrupt(phrasing, rate, rng)
                level.forbidden_trials += 1
                level.forbidden_found += any(m.entry.id == entry.id for m in find_forbidden([entry], _doc(noisy, fillers), (), fillers))
        results.append(level)
    return results
