"""Run the scorer over labelled performances and measure how often it agrees with the labels.

Two modes: "turns" scores each performance from its turn files (steps and
forbidden phrases are compared turn by turn: the right step in the wrong turn
counts as a miss and a false hit); "full" scores `full.wav` as one recording
(compared as sets over the performance). With a `split_full` transcriber, full.wav
is first cut into answers at pauses and each answer is scored as a turn; the labels
have no turn alignment for those answers, so the comparison stays per performance, and
the report counts how many answers each full.wav gave against its spoken turns
(`SplitCounts`). A step labelled on several turns of
one performance (a read-back) counts once per performance, and in "turns" mode
a hit on any of its labelled turns is correct (see `_step_units`).

Measured: step precision/recall (a step counts as detected when its status is
"hit"), forbidden precision/recall, forbidden hits on clean units (turns, or
whole performances in full mode, labelled without any forbidden phrase),
pass/fail agreement and amount-check agreement where the labels state them,
and every disagreement.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from trainer.asr.base import Transcript
from trainer.phrasebook.model import Library
from trainer.scoring.document import TurnText, cached_form
from trainer.scoring.result import ScoreResult
from trainer.segment import answer_count_label
from trainer.text.stage import without_stage_directions

MODES = ("turns", "full")
AMOUNT_TOLERANCE = 0.005

# (paths) -> transcripts, one per path
Transcriber = Callable[[Sequence[Path]], list[Transcript]]
Scorer = Callable[[Sequence[TurnText], str], ScoreResult]
# (full.wav) -> the transcripts of the answers it was split into at pauses, in order
FullSplitter = Callable[[Path], list[Transcript]]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, expected: Counter, got: Counter) -> tuple[list[Any], list[Any]]:
        missed = list((expected - got).elements())
        extra = list((got - expected).elements())
        self.tp += sum((expected & got).values())
        self.fn += len(missed)
        self.fp += len(extra)
        return missed, extra

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


@dataclass
class Agreement:
    agree: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.agree / self.total if self.total else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"agree": self.agree, "total": self.total, "rate": round(self.rate, 4)}


@dataclass
class SplitCounts:
    """How many answers full.wav was split into, against its spoken (labelled, not all stage direction) turns."""

    exact: int = 0
    over: int = 0  # more answers than turns: a turn cut at a pause inside it
    under: int = 0  # fewer: turns run together (a gap shorter than the pause)
    pieces: int = 0
    turns: int = 0

    def add(self, pieces: int, turns: int) -> None:
        label = answer_count_label(pieces, turns)
        setattr(self, label, getattr(self, label) + 1)
        self.pieces += pieces
        self.turns += turns

    def to_dict(self) -> dict[str, int]:
        return {"exact": self.exact, "over": self.over, "under": self.under, "pieces": self.pieces, "turns": self.turns}


def spoken_turns(perf: Any) -> int:
    """Labelled turns with something said (a turn that is all stage direction is a short silence)."""
    return sum(1 for t in perf.turns if without_stage_directions(t.text).strip())


@dataclass(frozen=True)
class Disagreement:
    performance: str
    mode: str
    kind: str  # step_missed | step_extra | forbidden_missed | forbidden_extra | passed | amounts
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"performance": self.performance, "mode": self.mode, "kind": self.kind, "detail": self.detail}


@dataclass
class ModeReport:
    mode: str
    performances: int = 0
    steps: Counts = field(default_factory=Counts)
    # The same steps compared as sets over the performance (found in any turn), which is what the pass
    # rule reads: in "turns" mode a step found in another turn than the labelled one counts here (a clerk
    # who asks for the ID card, then confirms 您是本人吧, is credited on either turn); in "full" mode it
    # equals `steps`.
    steps_in_performance: Counts = field(default_factory=Counts)
    # Turn by turn, with every turn where the scorer heard a performed step (`StepResult.also_heard`), not
    # only the turn it decided on: right when those turns meet the labelled ones, the rule `steps` already
    # applies to a step labelled on several turns. In "full" mode it equals `steps`.
    steps_any_turn: Counts = field(default_factory=Counts)
    forbidden: Counts = field(default_factory=Counts)
    clean_units: int = 0
    clean_false_hits: int = 0
    # The clean-turn false hits in performances the labeller passes: the ones that would fail a good
    # trainee. (Writers who label only the seed's 14 entries leave list entries beyond them, 等着 or
    # 走吧 said by a rude clerk, unlabelled in performances they fail: those are clean_false_hits too.)
    passing_false_hits: int = 0
    passed: Agreement = field(default_factory=Agreement)
    amounts: Agreement = field(default_factory=Agreement)
    # three-way verdicts: how many were sent to review, and agreement on the ones the machine decided alone
    review: int = 0
    decided: Agreement = field(default_factory=Agreement)
    disagreements: list[Disagreement] = field(default_factory=list)
    split: SplitCounts | None = None  # full mode split at pauses: answers found vs. turns

    def add_clean_unit(self, false_hits: int, *, passing: bool) -> None:
        """One labelled unit with no 忌语 (a turn, or a whole performance) and the 忌语 found in it;
        `passing`: the labeller passes the performance."""
        self.clean_units += 1
        self.clean_false_hits += false_hits
        if passing:
            self.passing_false_hits += false_hits

    def meets_goals(self, *, step_recall: float = 0.95, step_precision: float = 0.95, forbidden_recall: float = 0.95) -> bool:
        return (
            self.steps.recall >= step_recall
            and self.steps.precision >= step_precision
            and self.forbidden.recall >= forbidden_recall
            and self.clean_false_hits == 0
            and self.passed.rate == 1.0
            and self.amounts.rate == 1.0
        )

    def to_dict(self) -> dict[str, Any]:
        document = {
            "mode": self.mode,
            "performances": self.performances,
            "steps": self.steps.to_dict(),
            "steps_in_performance": self.steps_in_performance.to_dict(),
            "steps_any_turn": self.steps_any_turn.to_dict(),
            "forbidden": self.forbidden.to_dict(),
            "clean_units": self.clean_units,
            "clean_false_hits": self.clean_false_hits,
            "passing_false_hits": self.passing_false_hits,
            "passed": self.passed.to_dict(),
            "amounts": self.amounts.to_dict(),
            "review": {"count": self.review, "rate": round(self.review / self.passed.total, 4) if self.passed.total else 0.0},
            "decided": self.decided.to_dict(),
            "disagreements": [d.to_dict() for d in self.disagreements],
        }
        if self.split is not None:
            document["split"] = self.split.to_dict()
        return document


def forbidden_label_id(label: str, library: Library, scenario_id: str) -> str:
    """The forbidden entry a label (canonical text or a variant) names; "?label" when none does."""
    entries = library.forbidden_for(scenario_id)
    form = cached_form(label)
    for entry in entries:
        if any(cached_form(p) == form for p in entry.all_phrasings):
            return entry.id
    best = max(
        ((fuzz.ratio(form, cached_form(p)), entry.id) for entry in entries for p in entry.all_phrasings),
        default=(0.0, ""),
    )
    return best[1] if best[0] >= 80 else f"?{label}"


def resolve_forbidden_label(label: str, library: Library, scenario_id: str, detected: Collection[str] = ()) -> str:
    """`forbidden_label_id` for labels that name a seed entry with alternatives ("你是谁/你找谁"),
    or a seed entry the library splits in two ("这事解决不了，我也没办法": two entries).

    The whole label is tried first; then each part: one the scorer
    detected (in `detected`) is preferred, else the first one that names an entry.
    """
    whole = forbidden_label_id(label, library, scenario_id)
    parts = [part.strip() for part in re.split(r"[/／,，、]", label) if part.strip()]
    if not whole.startswith("?") or len(parts) < 2:
        return whole
    ids = [forbidden_label_id(part, library, scenario_id) for part in parts]
    known = [i for i in ids if not i.startswith("?")]
    return next((i for i in known if i in detected), known[0] if known else whole)


def _compare_amounts(perf_amounts: dict[str, float] | None, expect: dict[str, Any], result: ScoreResult) -> tuple[bool, str] | None:
    if perf_amounts is None and "amounts_consistent" not in expect:
        return None
    got = result.amounts
    problems = []
    if got is None:
        if not perf_amounts:  # a scenario without amounts, labelled "consistent": nothing to compare
            return None
        return False, "scenario has no amount check"
    for role, value in (perf_amounts or {}).items():
        said = getattr(got, role, None)
        if said is None or abs(float(said) - value) > AMOUNT_TOLERANCE:
            problems.append(f"{role}: expected {value:g}, got {said}")
    if "amounts_consistent" in expect and bool(expect["amounts_consistent"]) != got.consistent:
        problems.append(f"consistent: expected {expect['amounts_consistent']}, got {got.consistent}")
    return (not problems), "; ".join(problems)


def _step_units(perf: Any, found: Mapping[str, Sequence[int]]) -> tuple[Counter, Counter]:
    """Expected and detected (turn, step) units for turn-by-turn comparison; `found`: each step the
    scorer performed, with the turns it was heard in (the decided turn first).

    A step counts once per performance even when it is labelled on several turns
    (a read-back: the address said, then confirmed), and once however many turns it
    was heard in: it is right when those turns meet. The unit is then that turn; otherwise
    it is a miss of the first labelled turn and a false hit on the decided turn.
    """
    labelled: dict[str, list[int]] = {}
    for i, t in enumerate(perf.turns):
        for step in t.steps:
            turns = labelled.setdefault(step, [])
            if i + 1 not in turns:
                turns.append(i + 1)
    expected: Counter = Counter()
    got: Counter = Counter()
    for step, turns in labelled.items():
        right = next((turn for turn in found.get(step, ()) if turn in turns), None)
        expected[(right if right is not None else turns[0], step)] += 1
    for step, heard in found.items():
        right = next((turn for turn in heard if turn in labelled.get(step, ())), None)
        got[(right if right is not None else heard[0], step)] += 1
    return expected, got


def evaluate_performance(
    perf: Any,
    mode: str,
    transcripts: Sequence[Transcript],
    score: Scorer,
    library: Library,
    report: ModeReport,
) -> ScoreResult:
    """Score one performance in one mode and add the comparison to `report`."""
    if mode == "turns":
        turns = [TurnText(t, label.file, customer=label.customer) for t, label in zip(transcripts, perf.turns)]
    elif len(transcripts) == 1:
        turns = [TurnText(transcripts[0], "full.wav")]
    else:  # full.wav split into answers at pauses
        turns = [TurnText(t, f"full.wav#{i}") for i, t in enumerate(transcripts, 1)]
    result = score(turns, perf.scenario)
    report.performances += 1
    hits = [(s.turn or 0, s.id) for s in result.steps if s.status == "hit"]
    said = [(h.turn, h.id) for h in result.forbidden]
    # a step counts once per performance, in whatever turn it was found
    performance_steps = Counter(set(s for t in perf.turns for s in t.steps)), Counter(set(s for _, s in hits))
    if mode == "turns":
        expected_steps, got_steps = _step_units(perf, {step: (turn,) for turn, step in hits})
        heard = {s.id: (s.turn or 0, *(turn for turn, _ in s.also_heard)) for s in result.steps if s.status == "hit"}
        report.steps_any_turn.add(*_step_units(perf, heard))
        expected_forbidden = Counter(
            (i + 1, resolve_forbidden_label(f, library, perf.scenario, {fid for turn, fid in said if turn == i + 1}))
            for i, t in enumerate(perf.turns)
            for f in t.forbidden
        )
        got_forbidden = Counter(said)
        for i, t in enumerate(perf.turns):
            if not t.forbidden:
                report.add_clean_unit(sum(1 for turn, _ in said if turn == i + 1), passing=perf.expect.get("passed") is True)
    else:
        expected_steps, got_steps = performance_steps
        report.steps_any_turn.add(*performance_steps)
        detected = {fid for _, fid in said}
        expected_forbidden = Counter(resolve_forbidden_label(f, library, perf.scenario, detected) for t in perf.turns for f in t.forbidden)
        got_forbidden = Counter(fid for _, fid in said)
        if not expected_forbidden:
            report.add_clean_unit(len(said), passing=perf.expect.get("passed") is True)
    missed, extra = report.steps.add(expected_steps, got_steps)
    report.steps_in_performance.add(*performance_steps)
    for item in missed:
        report.disagreements.append(Disagreement(perf.id, mode, "step_missed", str(item)))
    for item in extra:
        report.disagreements.append(Disagreement(perf.id, mode, "step_extra", str(item)))
    missed, extra = report.forbidden.add(expected_forbidden, got_forbidden)
    for item in missed:
        report.disagreements.append(Disagreement(perf.id, mode, "forbidden_missed", str(item)))
    for item in extra:
        report.disagreements.append(Disagreement(perf.id, mode, "forbidden_extra", str(item)))
    if "passed" in perf.expect:
        report.passed.total += 1
        if bool(perf.expect["passed"]) == result.passed:
            report.passed.agree += 1
        else:
            why = "；".join(result.fail_reasons) or f"total {result.score.total:.1f}"
            report.disagreements.append(
                Disagreement(perf.id, mode, "passed", f"expected passed={perf.expect['passed']}, got {result.passed} ({why})")
            )
        if result.decision == "review":
            report.review += 1
            doubtful = ", ".join(s.id for s in result.steps if not s.certain)
            report.disagreements.append(Disagreement(perf.id, mode, "review", f"sent to review (uncertain: {doubtful})"))
        else:
            report.decided.total += 1
            report.decided.agree += int(bool(perf.expect["passed"]) == (result.decision == "pass"))
    amounts = _compare_amounts(perf.amounts, perf.expect, result)
    if amounts is not None:
        report.amounts.total += 1
        if amounts[0]:
            report.amounts.agree += 1
        else:
            report.disagreements.append(Disagreement(perf.id, mode, "amounts", amounts[1]))
    return result


def run_evaluation(
    performances: Sequence[Any],
    transcribe: Transcriber,
    score: Scorer,
    library: Library,
    modes: Sequence[str] = MODES,
    progress: Callable[[str], None] | None = None,
    split_full: FullSplitter | None = None,
) -> dict[str, ModeReport]:
    """`split_full`: full mode scores the answers full.wav is split into (see the module doc)."""
    reports = {mode: ModeReport(mode) for mode in modes}
    if split_full is not None and "full" in reports:
        reports["full"].split = SplitCounts()
    for perf in performances:
        for mode in modes:
            if mode == "full" and split_full is not None:
                transcripts = split_full(perf.full_path)
                reports[mode].split.add(len(transcripts), spoken_turns(perf))  # type: ignore[union-attr]
            else:
                transcripts = transcribe(perf.turn_paths() if mode == "turns" else [perf.full_path])
            evaluate_performance(perf, mode, transcripts, score, library, reports[mode])
            if progress:
                progress(f"{perf.id} [{mode}]")
    return reports
