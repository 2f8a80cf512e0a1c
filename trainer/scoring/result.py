"""The result of scoring one performance, and its JSON form (the `trainer score --json` contract).

`ScoreResult.to_dict()` returns exactly the keys of the contract in issue 4 (plus `advice`,
added for issue 14: the advice grouped by turn, see scoring/advice.py); other
tools (sessions, exams, the web app) depend on it, so keep it stable. Extra
details that are useful in reports (out-of-order flags, missing key words, the
reason a forbidden phrase is wrong…) live on the dataclasses but not in the dict.

Times are seconds on the performance timeline: turn files are laid end to end in
order, `turns[k].start`/`end` give each file's place, so a step's time inside
its own file is `step.start - turns[step.turn - 1].start`. Turns are 1-based.
Times are None when the input was text without word timings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HIT, PARTIAL, MISSED = "hit", "partial", "missed"
STATUSES = (HIT, PARTIAL, MISSED)
# The three-way verdict of a performance (scoring/decide.py) and its one Chinese vocabulary on every screen.
PASS, FAIL, REVIEW = VERDICTS = ("pass", "fail", "review")
VERDICT_LABELS = {PASS: "通过", FAIL: "未通过", REVIEW: "待复核"}
# Why a step decision is not certain (StepResult.doubt).
WHY_ASR = "asr"  # the recogniser may have misheard
WHY_WEAK = "weak"  # the evidence is weak either way
# StepResult.evidence of a step performed by a 服务忌语 that still meets its purpose (decide.BRUSH_OFF):
# its feedback is the manner finding, not a doubt (the 忌语 decides the verdict).
EVIDENCE_BRUSH_OFF = "brush_off"


def verdict_of(score: Mapping[str, Any]) -> str:
    """The three-way verdict of a score dict ("pass" | "fail" | "review").

    Scores stored before the scorer gave a verdict have none: "pass" if `passed` else "fail".
    Any other value counts as "review" (a result is never decided silently on what is not understood).
    """
    verdict = score.get("verdict")
    if verdict is None:
        return PASS if score.get("passed") else FAIL
    return verdict if verdict in VERDICTS else REVIEW


def _num(value: float | None) -> float | int | None:
    """Amounts in yuan: 52 stays an integer in JSON, 48.5 a float."""
    if value is None:
        return None
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def _time(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


@dataclass(frozen=True)
class TurnInfo:
    file: str
    text: str
    start: float | None
    end: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "text": self.text, "start": _time(self.start), "end": _time(self.end)}


@dataclass(frozen=True)
class StepResult:
    id: str
    status: str  # hit | partial | missed
    similarity: float  # 0..1, best similarity found (also for missed steps)
    matched_text: str  # transcript text of the match ("" when missed)
    turn: int | None  # 1-based
    start: float | None
    end: float | None
    expected: str  # the standard phrasing shown to the trainee
    title: str = ""
    required: bool = True
    out_of_order: bool = False  # performed, but not in the scenario's order
    missing_keywords: tuple[str, ...] = ()  # key word groups not heard (shown as "a/b")
    tip: str = ""
    certain: bool = True  # sure enough to decide alone (see scoring/decide.py)
    confidence: float = 1.0  # probability that `status` is right
    evidence: str = ""  # kind of evidence behind `status` (decide.EVIDENCE_KINDS)
    doubt: str = ""  # why not certain: WHY_ASR (may have been misheard) or WHY_WEAK
    manner: str = ""  # Chinese: a politeness finding about how a performed step was said
    # A performed step said again in other turns (asked for the ID, then 您是本人吧): (turn, words) of each
    # other turn where the step's phrasing or cue was heard on words no other step holds. `turn` stays the
    # one decision; these only show where else it was said (scoring/score.py `_also_heard`).
    also_heard: tuple[tuple[int, str], ...] = ()

    @property
    def performed(self) -> bool:
        return self.status == HIT

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "similarity": round(float(self.similarity), 3),
            "matched_text": self.matched_text,
            "turn": self.turn,
            "start": _time(self.start),
            "end": _time(self.end),
            "expected": self.expected,
            "certain": self.certain,
            "also_heard": [{"turn": turn, "text": text} for turn, text in self.also_heard],
        }


@dataclass(frozen=True)
class ForbiddenHit:
    id: str
    phrase: str  # canonical forbidden phrase
    matched_text: str
    turn: int
    start: float | None
    severity: str
    suggestion: str  # the standard phrase to say instead
    end: float | None = None
    similarity: float = 1.0
    reason: str = ""
    evidence: str = ""  # forbidden.FORBIDDEN_EVIDENCE_KINDS
    confidence: float = 1.0  # probability that the words are the 服务忌语 here (decide.FORBIDDEN_CONFIDENCE)
    certain: bool = True  # sure enough to decide a verdict on (decide.decide_forbidden)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phrase": self.phrase,
            "matched_text": self.matched_text,
            "turn": self.turn,
            "start": _time(self.start),
            "severity": self.severity,
            "suggestion": self.suggestion,
            "certain": self.certain,
        }


@dataclass(frozen=True)
class AmountCheck:
    """唱收唱付: what was said, and whether bill + change = received with 收您/找您 spoken."""

    bill: float | None
    received: float | None
    change: float | None
    consistent: bool
    received_said: bool = False  # 收您… was spoken
    change_said: bool = False  # 找您… was spoken
    problems: tuple[str, ...] = ()  # Chinese, one line each
    # (role, index in Doc.form) of each amount read; only meaningful with the scored Doc, not stored
    positions: tuple[tuple[str, int], ...] = ()
    # the check fails, but the recogniser may have garbled an amount (amounts.amounts_misheard):
    # not the trainee's fault, so an instructor decides
    misheard: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "bill": _num(self.bill),
            "received": _num(self.received),
            "change": _num(self.change),
            "consistent": self.consistent,
            "misheard": self.misheard,
        }


@dataclass(frozen=True)
class Fluency:
    chars_per_min: float  # 0.0 when there were no word timings
    fillers: int
    long_pauses: int
    speaking_seconds: float = 0.0
    filler_words: tuple[str, ...] = ()
    timed: bool = False  # word timings were available

    def to_dict(self) -> dict[str, Any]:
        return {"chars_per_min": round(float(self.chars_per_min), 1), "fillers": self.fillers, "long_pauses": self.long_pauses}


# Kinds of advice (AdviceItem.kind): for one turn, then for the whole performance (turn None).
ADVICE_MISSED, ADVICE_PARTIAL, ADVICE_UNSURE, ADVICE_MANNER = "missed", "partial", "unsure", "manner"
ADVICE_FORBIDDEN, ADVICE_FORBIDDEN_DOUBTFUL = "forbidden", "forbidden_doubtful"
ADVICE_ORDER, ADVICE_AMOUNTS, ADVICE_POLITENESS, ADVICE_FLUENCY = "order", "amounts", "politeness", "fluency"
ADVICE_OTHER = "other"  # a stored feedback line of an older score that is none of the above
ADVICE_KINDS = (
    ADVICE_FORBIDDEN, ADVICE_MISSED, ADVICE_PARTIAL, ADVICE_UNSURE, ADVICE_MANNER, ADVICE_FORBIDDEN_DOUBTFUL,
    ADVICE_ORDER, ADVICE_AMOUNTS, ADVICE_POLITENESS, ADVICE_FLUENCY, ADVICE_OTHER,
)


@dataclass(frozen=True)
class AdviceItem:
    """One piece of advice: what was wrong (or may have been misheard) and what to say instead."""

    kind: str  # ADVICE_KINDS
    text: str  # Chinese, complete on its own
    step: str = ""  # the step it is about ("" for 忌语 and whole-performance advice)
    severity: str = ""  # 轻微 / 严重 / 极严重 for a counted 服务忌语, "" otherwise

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "step": self.step or None, "severity": self.severity or None, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AdviceItem":
        return cls(str(data.get("kind") or ""), str(data.get("text") or ""), str(data.get("step") or ""), str(data.get("severity") or ""))


@dataclass(frozen=True)
class TurnAdvice:
    """The advice for one turn (1-based), or for the whole performance (`turn` None, always last)."""

    turn: int | None
    items: tuple[AdviceItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"turn": self.turn, "items": [item.to_dict() for item in self.items]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TurnAdvice":
        turn = data.get("turn")
        return cls(int(turn) if isinstance(turn, int) else None, tuple(AdviceItem.from_dict(i) for i in data.get("items") or ()))


@dataclass(frozen=True)
class Score:
    total: float  # 0..100
    dimensions: dict[str, float] = field(default_factory=dict)  # each 0..100; only dimensions that apply

    def to_dict(self) -> dict[str, Any]:
        return {"total": round(float(self.total), 1), "dimensions": {k: round(float(v), 1) for k, v in self.dimensions.items()}}


@dataclass(frozen=True)
class ScoreResult:
    scenario: str
    engine: str
    transcript: str
    turns: tuple[TurnInfo, ...]
    steps: tuple[StepResult, ...]
    forbidden: tuple[ForbiddenHit, ...]
    amounts: AmountCheck | None
    fluency: Fluency
    score: Score
    passed: bool
    feedback: tuple[str, ...]
    scenario_title: str = ""
    library_version: str = ""
    fail_reasons: tuple[str, ...] = ()  # Chinese: why `passed` is False despite the total, if so
    verdict: str = ""  # pass | fail | review (decide.py); "" = derived from `passed`
    # Words of a 服务忌语 said where they probably mean something else (不是随便说的): not counted in
    # the score, but an instructor decides when they would change the verdict.
    forbidden_doubtful: tuple[ForbiddenHit, ...] = ()
    advice: tuple[TurnAdvice, ...] = ()  # the feedback grouped by turn, each piece once (scoring/advice.py)

    @property
    def decision(self) -> str:
        """pass | fail | review: review means an instructor decides (the machine is not sure enough)."""
        return verdict_of({"verdict": self.verdict or None, "passed": self.passed})

    def step(self, step_id: str) -> StepResult:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def performed_steps(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps if s.performed)

    def to_dict(self) -> dict[str, Any]:
        """Exactly the `trainer score --json` object."""
        return {
            "scenario": self.scenario,
            "engine": self.engine,
            "transcript": self.transcript,
            "turns": [t.to_dict() for t in self.turns],
            "steps": [s.to_dict() for s in self.steps],
            "forbidden": [f.to_dict() for f in self.forbidden],
            "forbidden_doubtful": [f.to_dict() for f in self.forbidden_doubtful],
            "amounts": self.amounts.to_dict() if self.amounts is not None else None,
            "fluency": self.fluency.to_dict(),
            "score": self.score.to_dict(),
            "passed": self.passed,
            "verdict": self.decision,
            "feedback": list(self.feedback),
            "advice": [group.to_dict() for group in self.advice],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScoreResult":
        """Rebuild a result from its JSON form (fields outside the contract get defaults)."""
        amounts = data.get("amounts")
        return cls(
            scenario=data["scenario"],
            engine=data.get("engine", ""),
            transcript=data.get("transcript", ""),
            turns=tuple(TurnInfo(t.get("file", ""), t.get("text", ""), t.get("start"), t.get("end")) for t in data.get("turns", ())),
            steps=tuple(
                StepResult(
                    id=s["id"],
                    status=s["status"],
                    similarity=float(s.get("similarity", 0.0)),
                    matched_text=s.get("matched_text", ""),
                    turn=s.get("turn"),
                    start=s.get("start"),
                    end=s.get("end"),
                    expected=s.get("expected", ""),
                    certain=bool(s.get("certain", True)),
                    also_heard=tuple((int(a["turn"]), str(a.get("text", ""))) for a in s.get("also_heard") or () if isinstance(a, Mapping) and isinstance(a.get("turn"), int)),
                )
                for s in data.get("steps", ())
            ),
            forbidden=tuple(_hit_from_dict(f) for f in data.get("forbidden", ())),
            forbidden_doubtful=tuple(_hit_from_dict(f) for f in data.get("forbidden_doubtful", ())),
            amounts=None
            if amounts is None
            else AmountCheck(
                amounts.get("bill"),
                amounts.get("received"),
                amounts.get("change"),
                bool(amounts.get("consistent")),
                misheard=bool(amounts.get("misheard")),
            ),
            fluency=Fluency(
                float(data.get("fluency", {}).get("chars_per_min", 0.0)),
                int(data.get("fluency", {}).get("fillers", 0)),
                int(data.get("fluency", {}).get("long_pauses", 0)),
            ),
            score=Score(float(data.get("score", {}).get("total", 0.0)), dict(data.get("score", {}).get("dimensions", {}))),
            passed=bool(data.get("passed", False)),
            feedback=tuple(data.get("feedback", ())),
            verdict=str(data.get("verdict", "")),
            advice=tuple(TurnAdvice.from_dict(g) for g in data.get("advice") or ()),
        )


def _hit_from_dict(f: dict[str, Any]) -> ForbiddenHit:
    return ForbiddenHit(
        id=f["id"],
        phrase=f.get("phrase", ""),
        matched_text=f.get("matched_text", ""),
        turn=int(f.get("turn", 1)),
        start=f.get("start"),
        severity=f.get("severity", ""),
        suggestion=f.get("suggestion", ""),
        certain=bool(f.get("certain", True)),
    )
