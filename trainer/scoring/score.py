"""Score a performance against a scenario: the pure core behind `trainer score`, the app and exams.

Dimensions (0..100 each; weights from `settings.scoring_weights`, defaults below;
a dimension that does not apply is left out and the weights renormalised):
- coverage: required steps performed (hit = 1, partial = ½), by step weight;
  optional steps performed add to it (never above 100);
- order: share of performed steps that follow the scenario's order (needs two steps done);
- forbidden: 100 minus a penalty per 服务忌语 (minor 20, major 40, critical 100);
- politeness: 您 rather than 你 and the 十字用语 (see politeness.py; not for silence);
- amounts: 唱收唱付 consistent (only for scenarios with bill/received/change);
- fluency: rate band, fillers, long pauses (only with word timings).

The conduct dimensions (order, forbidden, politeness, fluency) are multiplied by
coverage/100: they are earned in proportion to what was performed, so an
unanswered question or a lone 你好 scores (nearly) 0, not the 服务忌语 points.

Passed = total >= pass mark, no required step missed (a partial one does not
fail: it costs coverage), no major or critical forbidden phrase (a minor one costs
points), no amount mismatch (and in exam mode, no forbidden phrase at all).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from trainer.phrasebook.model import ForbiddenEntry, Lexicon, Scenario
from trainer.text.normalize import to_simplified
from trainer.scoring.align import align_steps
from trainer.scoring.amounts import check_amounts
from trainer.scoring.document import Doc, TurnText, build_doc
from trainer.scoring.feedback import short_title, build_feedback, fill_slots
from trainer.scoring.fluency import fluency_score, measure_fluency
from trainer.scoring.forbidden import find_forbidden
from trainer.scoring.match import StepCandidate, match_steps
from trainer.scoring.politeness import measure_politeness
from trainer.scoring.result import HIT, MISSED, PARTIAL, AmountCheck, ForbiddenHit, Score, ScoreResult, StepResult, TurnInfo

# Coverage dominates: a performance that leaves out a required step of a short
# scenario (one of three) falls below the default pass mark of 80.
DEFAULT_WEIGHTS: dict[str, float] = {
    "coverage": 60.0,
    "order": 10.0,
    "forbidden": 15.0,
    "politeness": 5.0,
    "amounts": 10.0,
    "fluency": 5.0,
}
# Dimensions about how the steps were performed, scaled by coverage (nothing performed -> 0).
CONDUCT_DIMENSIONS = ("order", "forbidden", "politeness", "fluency")
SEVERITY_PENALTY = {"minor": 20.0, "major": 40.0, "critical": 100.0}
# A 服务忌语 of these severities fails the performance even in practice (an instructor would not
# pass a trainee who said it to a customer); a minor one costs points only, except in exams.
FAILING_SEVERITIES = frozenset({"major", "critical"})
PARTIAL_CREDIT = 0.5


def _step_results(scenario: Scenario, doc: Doc, candidates: list[list[StepCandidate]]) -> tuple[list[StepResult], list[StepCandidate | None]]:
    assignments = align_steps(candidates, [s.weight for s in scenario.steps])
    results: list[StepResult] = []
    chosen: list[StepCandidate | None] = []
    for step, assignment in zip(scenario.steps, assignments):
        sc = assignment.candidate
        chosen.append(sc)
        if sc is None:
            results.append(
                StepResult(step.id, MISSED, 0.0, "", None, None, None, step.expected, step.title, step.required, tip=step.tip)
            )
            continue
        start, end = doc.span_times(sc.start, sc.end)
        results.append(
            StepResult(
                id=step.id,
                status=sc.status,
                similarity=sc.similarity,
                matched_text=to_simplified(doc.span_text(sc.start, sc.end)),
                turn=doc.turn_at(sc.start, sc.end) + 1,
                start=start,
                end=end,
                expected=step.expected,
                title=step.title,
                required=step.required,
                out_of_order=assignment.out_of_order,
                missing_keywords=sc.missing_keywords,
                tip=step.tip,
            )
        )
    return results, chosen


def _amount_sources(doc: Doc, candidates: list[list[StepCandidate]], chosen: list[StepCandidate | None]) -> list[StepCandidate | None]:
    """The candidate to read each step's amounts from.

    A step performed by a cue (底码, 一共…) has no slot to align the amount with:
    its amount is read from the step's best phrasing candidate in the same turn
    that has the slot (even a partial one), else left to the cue-word fallback.
    """
    sources: list[StepCandidate | None] = []
    for per_step, sc in zip(candidates, chosen):
        if sc is not None and sc.cue:
            turn = doc.turn_at(sc.start, sc.end)
            with_slots = [c for c in per_step if c.candidate.pattern.slots and doc.turn_at(c.start, c.end) == turn]
            if with_slots:
                sc = max(with_slots, key=lambda c: c.similarity)
        sources.append(sc)
    return sources


AMOUNT_STATED_SIMILARITY = 0.9


def _bill_stated(scenario: Scenario, doc: Doc, steps: list[StepResult], amounts: AmountCheck | None) -> list[StepResult]:
    """四总 is performed by saying the bill, however it is worded: "您这个月一百三十四块五。"

    A missed or partial step whose slot is the bill counts as hit when the amount check read
    a bill amount (said with 元/块, before the money was received, or after 电费/一共…).
    """
    where = dict(amounts.positions) if amounts is not None else {}
    if "bill" not in where:
        return steps
    out = []
    for step, result in zip(scenario.steps, steps):
        if result.status != HIT and any(slot.name == "bill" for slot in step.slots):
            start, end = doc.clause_bounds(where["bill"])
            t0, t1 = doc.span_times(start, end)
            result = dataclasses.replace(
                result,
                status=HIT,
                similarity=max(result.similarity, AMOUNT_STATED_SIMILARITY),
                matched_text=to_simplified(doc.span_text(start, end)),
                turn=doc.turn_at(start, end) + 1,
                start=t0,
                end=t1,
                missing_keywords=(),
            )
        out.append(result)
    return out


def _coverage(scenario: Scenario, steps: Sequence[StepResult]) -> float:
    credit = {HIT: 1.0, PARTIAL: PARTIAL_CREDIT, MISSED: 0.0}
    required = [(s, r) for s, r in zip(scenario.steps, steps) if s.required]
    optional = [(s, r) for s, r in zip(scenario.steps, steps) if not s.required]
    total = sum(s.weight for s, _ in required)
    got = sum(s.weight * credit[r.status] for s, r in required) + sum(s.weight * credit[r.status] for s, r in optional)
    if total <= 0:
        return 100.0
    return min(100.0, 100.0 * got / total)


def _order(steps: Sequence[StepResult]) -> float:
    performed = [s for s in steps if s.status == HIT]
    if len(performed) <= 1:
        return 100.0
    return 100.0 * sum(not s.out_of_order for s in performed) / len(performed)


def _forbidden_hits(entries: Sequence[ForbiddenEntry], doc: Doc, scenario: Scenario, fillers: Sequence[str]) -> list[ForbiddenHit]:
    polite = [text for step in scenario.steps for text in step.all_phrasings]
    hits = []
    for m in find_forbidden(entries, doc, polite, fillers):
        start, end = doc.span_times(m.start, m.end)
        hits.append(
            ForbiddenHit(
                id=m.entry.id,
                phrase=m.entry.phrase,
                matched_text=to_simplified(doc.span_text(m.start, m.end)),
                turn=doc.turn_at(m.start, m.end) + 1,
                start=start,
                severity=m.entry.severity,
                suggestion=m.entry.replacement,
                end=end,
                similarity=m.similarity,
                reason=m.entry.reason,
            )
        )
    return hits


def score_doc(
    doc: Doc,
    scenario: Scenario,
    forbidden: Sequence[ForbiddenEntry],
    lexicon: Lexicon,
    *,
    weights: Mapping[str, float] | None = None,
    pass_mark: float = 80.0,
    exam: bool = False,
    engine: str = "",
    library_version: str = "",
) -> ScoreResult:
    candidates = match_steps(scenario.steps, doc, lexicon.fillers)
    steps, chosen = _step_results(scenario, doc, candidates)
    hits = _forbidden_hits(forbidden, doc, scenario, lexicon.fillers)
    amounts = check_amounts(scenario, doc, _amount_sources(doc, candidates, chosen))
    steps = _bill_stated(scenario, doc, steps, amounts)
    # show the standard phrase with this performance's amounts in its slots (找您{change}元 -> 找您48元)
    steps = [dataclasses.replace(s, expected=fill_slots(s.expected, amounts)) for s in steps]
    fluency = measure_fluency(doc, lexicon)
    politeness = measure_politeness(doc, lexicon)

    dimensions: dict[str, float] = {"coverage": _coverage(scenario, steps)}
    if sum(s.status == HIT for s in steps) >= 2:  # order means something only with two steps done
        dimensions["order"] = _order(steps)
    dimensions["forbidden"] = max(0.0, 100.0 - sum(SEVERITY_PENALTY.get(h.severity, 40.0) for h in hits))
    if any(turn.norm.text for turn in doc.turns):
        dimensions["politeness"] = politeness.score
    if amounts is not None:
        dimensions["amounts"] = 100.0 if amounts.consistent else 0.0
    fluency_value = fluency_score(fluency, lexicon)
    if fluency_value is not None:
        dimensions["fluency"] = fluency_value
    # Conduct is earned by performing: silence or a lone 你好 must not collect the
    # forbidden/politeness/fluency/order points, so they count in proportion to coverage.
    performed = min(1.0, dimensions["coverage"] / 100.0)
    for key in CONDUCT_DIMENSIONS:
        if key in dimensions:
            dimensions[key] *= performed
    all_weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    weight_sum = sum(max(0.0, all_weights.get(k, 0.0)) for k in dimensions)
    total = sum(v * max(0.0, all_weights.get(k, 0.0)) for k, v in dimensions.items()) / weight_sum if weight_sum > 0 else 0.0

    fail_reasons: list[str] = []
    if total < pass_mark:
        fail_reasons.append(f"总分 {total:.0f} 低于及格线 {pass_mark:.0f}")
    for step, result in zip(scenario.steps, steps):
        if step.required and result.status == MISSED:
            fail_reasons.append(f"漏掉必做步骤「{short_title(step.title) or step.id}」")
    failing = [h for h in hits if h.severity in FAILING_SEVERITIES]
    if failing:
        worst = max(failing, key=lambda h: SEVERITY_PENALTY.get(h.severity, 0.0))
        fail_reasons.append(f"使用了{'严重' if worst.severity == 'critical' else ''}服务忌语「{worst.phrase}」")
    elif exam and hits:
        fail_reasons.append(f"考试中使用了服务忌语「{hits[0].phrase}」")
    if amounts is not None and not amounts.consistent:
        fail_reasons.append("唱收唱付金额不符或没有唱收唱付")

    feedback = build_feedback(scenario, steps, hits, amounts, fluency, politeness, lexicon)
    turns = tuple(
        TurnInfo(
            file=t.file,
            text=t.text,
            start=t.offset if doc.timed else None,
            end=(t.offset + t.duration) if doc.timed else None,
        )
        for t in doc.turns
    )
    return ScoreResult(
        scenario=scenario.id,
        engine=engine,
        # user-facing text in simplified characters (Whisper writes traditional); turns[].text stays raw
        transcript=to_simplified(" ".join(t.text.strip() for t in doc.turns if t.text.strip())),
        turns=turns,
        steps=tuple(steps),
        forbidden=tuple(hits),
        amounts=amounts,
        fluency=fluency,
        score=Score(total=total, dimensions=dimensions),
        passed=not fail_reasons,
        feedback=feedback,
        scenario_title=scenario.title,
        library_version=library_version,
        fail_reasons=tuple(fail_reasons),
    )


def score_turn_texts(
    turns: Sequence[TurnText],
    scenario: Scenario,
    forbidden: Sequence[ForbiddenEntry],
    lexicon: Lexicon,
    **options: object,
) -> ScoreResult:
    """Build the document from transcribed turns and score it (see `score_doc` for options)."""
    doc = build_doc(turns, lexicon.fillers)
    return score_doc(doc, scenario, forbidden, lexicon, **options)  # type: ignore[arg-type]
