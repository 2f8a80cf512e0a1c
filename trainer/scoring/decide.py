"""How evidence becomes a step decision, and step decisions a verdict: the one place to read it.

1. Evidence for a step (`StepEvidence.kind`), strongest first:
   - ``phrasing``: a standard phrasing or variant said closely, its key words heard;
   - ``cue``: one of the step's cues said (the trainee's own words that carry the step);
   - ``amount``: 四总 — the bill amount was said, whatever the wording;
   - ``content``: no phrasing or cue, but one clause holds every key word group of the step
     ("服务卡有吗？" for 询问户号, "坐这儿" for 请坐);
   - ``partial``: a phrasing said only in part;
   - ``trace``: nothing that performs the step, but some of its key words were said;
   - ``none``: nothing at all.
   Two facts change how sure that makes us: whether the words were said in the turn that answers
   the step's customer line (`expected_turn`: in practice and exams turn i answers step i), and
   whether the recogniser may have misheard them (`heard`: word confidences; a key word heard
   only as a near-homophone such as 交贴费 for 交电费).

2. A step decision (`decide_step`) is the best guess (hit / partial / missed), the probability
   that it is right (`confidence`), and whether that is sure enough to decide alone (`certain`).
   The probabilities of each kind are measured, not guessed: `EVIDENCE_CONFIDENCE` holds the
   share of decisions of that kind that were right on the development sets (sets A–C and the dev
   labels, label text), see `benchmarks/evidence_calibration.py`. A recognition doubt never
   becomes a certain miss: the machine may have misheard, and that is not the trainee's fault.

3. The verdict (`decide_verdict`) applies the pass rule twice: with every uncertain step taken
   at its best case (performed) and at its worst case (missed). Both pass -> ``pass``; both fail
   -> ``fail``; they differ -> ``review`` (an instructor decides). `passed` stays the best single
   guess (the rule applied to the best-guess statuses).

Pass rule (`fail_reasons`): total >= pass mark, no required step missed (a partial one costs
coverage but does not fail), no major or critical 服务忌语 (in exams none at all), and 唱收唱付
amounts that add up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trainer.scoring.feedback import short_title
from trainer.scoring.result import FAIL, HIT, MISSED, PARTIAL, PASS, REVIEW, WHY_ASR, WHY_WEAK, AmountCheck, ForbiddenHit, StepResult

PHRASING, CUE, AMOUNT, CONTENT = "phrasing", "cue", "amount", "content"
PARTIAL_MATCH, TRACE, NONE = "partial", "trace", "none"
EVIDENCE_KINDS = (PHRASING, CUE, AMOUNT, CONTENT, PARTIAL_MATCH, TRACE, NONE)

# P(best guess right | kind of evidence), measured on the development sets' label text (sets A, B, C
# and the dev labels: 1,027 step decisions) by benchmarks/evidence_calibration.py, smoothed with
# Laplace's rule of succession ((right + 1) / (n + 2)) so that a small count is not read as certainty.
EVIDENCE_CONFIDENCE: dict[str, float] = {
    PHRASING: 0.998,  # 655 of 655
    CUE: 0.994,  # 157 of 157
    AMOUNT: 0.923,  # 11 of 11
    CONTENT: 0.712,  # 36 of 50
    PARTIAL_MATCH: 0.778,  # 6 of 7 were performed (a partial does not fail: it costs coverage)
    TRACE: 0.615,  # 7 of 11 were not performed
    NONE: 0.912,  # 124 of 135 were not performed
}
# Own-words evidence in the very turn that answers the step's customer line: the customer asked
# for exactly this, so the clause that holds the step's key words is the answer.
CONTENT_IN_EXPECTED_TURN = 0.95
CERTAIN = 0.9  # decide alone at or above this probability; below it an instructor decides
LOW_HEARD = 0.6  # mean word confidence below which the recogniser may have misheard
ASR_DOUBT = 0.6  # confidence of a miss or partial when the recogniser may have misheard

# 服务忌语: points off the 忌语 dimension per hit, and the severities that fail a performance even in
# practice (an instructor would not pass a trainee who said it to a customer); a minor one costs
# points only, except in exams.
SEVERITY_PENALTY = {"minor": 20.0, "major": 40.0, "critical": 100.0}
FAILING_SEVERITIES = frozenset({"major", "critical"})


@dataclass(frozen=True)
class StepEvidence:
    kind: str  # one of EVIDENCE_KINDS
    expected_turn: int | None = None  # 1-based turn answering the step's customer line; None = unknown
    turn: int | None = None  # 1-based turn of the evidence
    heard: float = 1.0  # recogniser confidence in the words that matter (1.0 for typed text)
    near_homophone: bool = False  # a key word was heard only as a near-homophone


@dataclass(frozen=True)
class StepDecision:
    status: str  # hit | partial | missed: the best guess
    confidence: float  # probability that the best guess is right, 0..1
    certain: bool
    doubt: str = ""  # WHY_ASR | WHY_WEAK when not certain


def decide_step(evidence: StepEvidence) -> StepDecision:
    kind = evidence.kind
    status = {PHRASING: HIT, CUE: HIT, AMOUNT: HIT, CONTENT: HIT, PARTIAL_MATCH: PARTIAL, TRACE: MISSED, NONE: MISSED}[kind]
    confidence = EVIDENCE_CONFIDENCE[kind]
    if kind == CONTENT and evidence.expected_turn is not None and evidence.turn == evidence.expected_turn:
        confidence = CONTENT_IN_EXPECTED_TURN
    misheard = evidence.heard < LOW_HEARD or evidence.near_homophone
    if status != HIT and misheard:
        return StepDecision(status, min(confidence, ASR_DOUBT), False, WHY_ASR)
    certain = confidence >= CERTAIN
    return StepDecision(status, confidence, certain, "" if certain else WHY_WEAK)


# ---------------------------------------------------------------------------------------- verdict

@dataclass(frozen=True)
class Verdict:
    verdict: str  # pass | fail | review
    passed: bool  # best single guess
    fail_reasons: tuple[str, ...]  # Chinese, for the best guess
    doubts: tuple[str, ...] = ()  # step ids whose uncertainty decides the outcome (review only)


def fail_reasons(
    steps: Sequence[StepResult],
    total: float,
    pass_mark: float,
    hits: Sequence[ForbiddenHit],
    amounts: AmountCheck | None,
    *,
    exam: bool,
) -> tuple[str, ...]:
    """Why a performance with these step statuses fails (empty: it passes)."""
    reasons: list[str] = []
    if total < pass_mark:
        reasons.append(f"总分 {total:.0f} 低于及格线 {pass_mark:.0f}")
    for result in steps:
        if result.required and result.status == MISSED:
            reasons.append(f"漏掉必做步骤「{short_title(result.title) or result.id}」")
    failing = [h for h in hits if h.severity in FAILING_SEVERITIES]
    if failing:
        worst = max(failing, key=lambda h: SEVERITY_PENALTY.get(h.severity, 0.0))
        reasons.append(f"使用了{'严重' if worst.severity == 'critical' else ''}服务忌语「{worst.phrase}」")
    elif exam and hits:
        reasons.append(f"考试中使用了服务忌语「{hits[0].phrase}」")
    if amounts is not None and not amounts.consistent:
        reasons.append("唱收唱付金额不符或没有唱收唱付")
    return tuple(reasons)


def decide_verdict(
    steps: Sequence[StepResult],
    judge: Callable[[Sequence[StepResult]], tuple[str, ...]],
) -> Verdict:
    """Pass, fail or review, from the step decisions and the pass rule `judge` (statuses -> fail reasons).

    `steps` carry their best-guess status and `certain`. The rule is applied to the best guess, to
    the best case (uncertain steps performed) and to the worst case (uncertain steps missed).
    """
    best_reasons = judge(steps)
    doubtful = [s for s in steps if not s.certain]
    if not doubtful:
        return Verdict(FAIL if best_reasons else PASS, not best_reasons, best_reasons)
    best_case = [dataclasses.replace(s, status=HIT) if not s.certain else s for s in steps]
    worst_case = [dataclasses.replace(s, status=MISSED) if not s.certain else s for s in steps]
    if judge(worst_case) == ():
        verdict = PASS
    elif judge(best_case) != ():
        verdict = FAIL
    else:
        verdict = REVIEW
    doubts = tuple(s.id for s in doubtful) if verdict == REVIEW else ()
    return Verdict(verdict, not best_reasons, best_reasons, doubts)
