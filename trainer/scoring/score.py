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

How the evidence for each step becomes a decision (hit / partial / missed, with how sure
it is) and how the decisions become a verdict (pass / fail / review) is in decide.py.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from trainer.phrasebook.model import ForbiddenEntry, Lexicon, Scenario, Step
from trainer.text.normalize import to_simplified
from trainer.scoring.align import align_steps
from trainer.scoring.amounts import amounts_misheard, check_amounts
from trainer.scoring.document import NUMBER, Doc, TurnText, build_doc, cached_form
from trainer.scoring.advice import build_advice
from trainer.scoring.feedback import build_feedback, doubtful_forbidden_line, fill_slots, short_title
from trainer.scoring.fluency import fluency_score, measure_fluency
from trainer.scoring.forbidden import find_forbidden, hit_evidence
from trainer.scoring import decide
from trainer.scoring.decide import SEVERITY_PENALTY, StepEvidence
from trainer.scoring.match import StepCandidate, answering_clauses, contains_word, find_word, keyword_clauses, match_steps
from trainer.scoring.politeness import measure_politeness
from trainer.scoring.restate import restatement_spans
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
PARTIAL_CREDIT = 0.5


def _step_results(scenario: Scenario, doc: Doc, candidates: list[list[StepCandidate]]) -> tuple[list[StepResult], list[StepCandidate | None]]:
    clause_starts = [k for k, starts in enumerate(doc.clause_start) if starts]
    assignments = align_steps(candidates, [s.weight for s in scenario.steps], clause_starts)
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


def _bill_stated(scenario: Scenario, doc: Doc, steps: list[StepResult], amounts: AmountCheck | None) -> tuple[list[StepResult], list[bool]]:
    """四总 is performed by saying the bill, however it is worded: "您这个月一百三十四块五。"

    A missed or partial step whose slot is the bill counts as hit when the amount check read
    a bill amount (said with 元/块, before the money was received, or after 电费/一共…).
    """
    where = dict(amounts.positions) if amounts is not None else {}
    if "bill" not in where:
        return steps, [False] * len(steps)
    out = []
    flags = []
    for step, result in zip(scenario.steps, steps):
        stated = result.status != HIT and any(slot.name == "bill" for slot in step.slots)
        flags.append(stated)
        if stated:
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
    return out, flags


def _evidence_kind(result: StepResult, candidate: StepCandidate | None, bill_stated: bool) -> str:
    if result.status == HIT:
        if bill_stated:
            return decide.AMOUNT
        return decide.CUE if candidate is not None and candidate.cue else decide.PHRASING
    return decide.PARTIAL_MATCH if result.status == PARTIAL else decide.NONE


def _turn_confidence(doc: Doc, turn: int) -> float:
    """Mean word confidence of a 0-based turn (1.0 for typed text or a recogniser without confidences)."""
    words = doc.turns[turn].transcript.words if 0 <= turn < len(doc.turns) else ()
    return sum(w.confidence for w in words) / len(words) if words else 1.0


def _near_homophone(step: Step, doc: Doc, start: int, end: int) -> bool:
    """A key word heard only as a near-homophone in form[start:end] (交贴费 for 交电费)."""
    for group in step.keywords:
        if any(contains_word(doc, start, end, w) for w in group):
            continue
        if any(contains_word(doc, start, end, w, fuzzy=True) for w in group):
            return True
    return False


def _neighbours(spans: Sequence[tuple[int, int] | None], index: int) -> tuple[int | None, int | None]:
    """Where the evidence of the steps performed before step `index` (in the scenario's order) ends at
    the latest, and where that of the steps after it starts at the earliest (None: no such step). Taking
    only the nearest step on each side instead was tried (2026-12-06): on audio O-AD it added a few
    reviews and changed no agreement."""
    before = [span[1] for span in spans[:index] if span is not None]
    after = [span[0] for span in spans[index + 1 :] if span is not None]
    return (max(before) if before else None, min(after) if after else None)


def _place_span(spans: Sequence[tuple[int, int] | None], index: int, length: int) -> tuple[int, int]:
    """The words where step `index` belongs: between the evidence of its neighbours (see `_neighbours`)."""
    lo, hi = _neighbours(spans, index)
    lo, hi = (0 if lo is None else lo), (length if hi is None else hi)
    return (min(lo, hi), max(lo, hi))


def _between_neighbours(spans: Sequence[tuple[int, int] | None], index: int) -> bool:
    """Step `index`'s evidence lies after that of a step performed before it (in the scenario's order)
    and before that of a step performed after it."""
    span = spans[index]
    lo, hi = _neighbours(spans, index)
    return span is not None and lo is not None and hi is not None and lo <= span[0] and span[1] <= hi


def _in_place(kind: str, spans: Sequence[tuple[int, int] | None], index: int, candidate: StepCandidate | None) -> bool:
    """Own words (content), or a phrasing said only in part, where step `index` belongs (`_between_neighbours`)."""
    if kind == decide.CONTENT:
        return _between_neighbours(spans, index)
    if kind == decide.PARTIAL_MATCH and candidate is not None:
        return _between_neighbours([*spans[:index], (candidate.start, candidate.end), *spans[index + 1 :]], index)
    return False


def _heard_nearly(step: Step, doc: Doc, start: int, end: int) -> tuple[int, int] | None:
    """The words from the first to the last of the step's key words in form[start:end], when every
    key word group was heard there and at least one only as a near-homophone (交贴费 for 交电费)."""
    if not step.keywords or end <= start:
        return None
    where: list[tuple[int, int]] = []
    nearly = False
    for group in step.keywords:
        said = [(k, w) for w in group if (k := find_word(doc, start, end, w)) is not None]
        if not said:
            said = [(k, w) for w in group if (k := find_word(doc, start, end, w, fuzzy=True)) is not None]
            nearly = nearly or bool(said)
        if not said:
            return None
        k, word = min(said)
        where.append((k, k + len(cached_form(word))))
    if not nearly:
        return None
    return min(k for k, _ in where), max(e for _, e in where)


def _take(
    spans: Sequence[tuple[int, int]], doc: Doc, expected: int | None, taken: list[tuple[int, int]], after: int = -1
) -> tuple[int, int]:
    """The first of `spans` in the turn answering the step (0-based `expected`), else the first said after
    `after` (the end of the evidence of the steps before it: in order), else the first; added to `taken`."""
    span = min(spans, key=lambda sp: (doc.turn_at(*sp) != expected, sp[0] < after))
    taken.append(span)
    return span


def _found(result: StepResult, doc: Doc, start: int, end: int) -> StepResult:
    """`result` as a hit on the words form[start:end] (own-words evidence)."""
    t0, t1 = doc.span_times(start, end)
    return dataclasses.replace(
        result,
        status=HIT,
        matched_text=to_simplified(doc.span_text(start, end)),
        turn=doc.turn_at(start, end) + 1,
        start=t0,
        end=t1,
        missing_keywords=(),
    )


def _decide_steps(
    scenario: Scenario,
    doc: Doc,
    steps: list[StepResult],
    chosen: list[StepCandidate | None],
    bill_stated: list[bool],
    expected_turns: Mapping[str, int],
    brush_offs: Sequence[tuple[int, int]],
    performing: Mapping[str, BrushOff],
    lexicon: Lexicon,
) -> tuple[list[StepResult], list[tuple[int, int] | None]]:
    """Attach to every step its evidence and decision (decide.py), adding own-words (content) evidence;
    with each step's evidence words (None for a miss).

    Words serve one step: a clause already holding another step's hit (or own-words evidence,
    in the scenario's order) is not evidence again, nor is a clause that says a 服务忌语. A 忌语
    that still meets a step's purpose (`performing`: 等着 for 请稍等) performs a step found nowhere else,
    and so do own words that answer the customer's line: a step's `on_handover` words (谢谢) said to a
    customer handing something over, a time said to a customer asking when (几点来电？下午五点。) for a step
    that promises one.
    """
    taken = [(c.start, c.end) for c, r in zip(chosen, steps) if c is not None and r.status == HIT] + list(brush_offs)
    kinds: list[str] = []
    found: list[StepResult] = []
    evidence_spans: list[tuple[int, int] | None] = []  # the words of each step's evidence (None for a miss)
    confirmed: set[int] = set()  # steps whose own-words clause ends in a confirming tag (新装是吧)
    answered: dict[int, str] = {}  # steps whose own words answer the customer's line: decide.HANDOVER (谢谢 for 给你), decide.WHEN (下午五点 for 几点来电)
    for step, result, candidate, by_amount in zip(scenario.steps, steps, chosen, bill_stated):
        kind = _evidence_kind(result, candidate, by_amount)
        expected = expected_turns.get(step.id)  # 0-based
        span = (candidate.start, candidate.end) if candidate is not None and result.status == HIT else None
        if kind == decide.NONE and (brush := performing.get(step.id)) is not None:
            result = _found(result, doc, brush.start, brush.end)
            kind, span = decide.BRUSH_OFF, (brush.start, brush.end)
        elif kind in (decide.PARTIAL_MATCH, decide.NONE):
            in_order_from = max((sp[1] for sp in evidence_spans if sp is not None), default=-1)
            spans, traces = keyword_clauses(step, doc, taken)
            if spans:
                start, end = _take(spans, doc, expected, taken, in_order_from)
                if doc.form[start:end].endswith(decide.CONFIRMING_TAGS):
                    confirmed.add(len(kinds))
                result = _found(result, doc, start, end)
                kind, span = decide.CONTENT, (start, end)
            elif answer := _answering(step, doc, taken, lexicon):
                start, end = _take(answer[1], doc, expected, taken, in_order_from)
                answered[len(kinds)] = answer[0]
                result = _found(result, doc, start, end)
                kind, span = decide.CONTENT, (start, end)
            elif step.restates and (restated := restatement_spans(doc, taken, numbers=step.restates_numbers)):
                start, end = _take(restated, doc, expected, taken, in_order_from)
                result = _found(result, doc, start, end)
                kind, span = decide.RESTATEMENT, (start, end)
            elif kind == decide.NONE and traces:
                kind = decide.UNTIMED if _promises_a_time(step) else decide.TRACE
                if kind == decide.TRACE and doc.timed:  # recognised speech: the rest of the step may have been misheard
                    start, end = _take(traces, doc, expected, taken, in_order_from)
                    result, span = _found(result, doc, start, end), (start, end)
            elif kind == decide.PARTIAL_MATCH and _promises_a_time(step) and candidate is not None:
                if not _says_a_time(doc, candidate.start, candidate.end):  # 会有人联系您: the promise, not its time
                    kind = decide.UNTIMED
        kinds.append(kind)
        found.append(result)
        evidence_spans.append(span if kind not in decide.MISS_KINDS else None)
    for i, step in enumerate(scenario.steps):  # 检修完了就会来电: the promise said, but no time where it was said
        span = evidence_spans[i]
        if kinds[i] in (decide.CUE, decide.CONTENT) and _promises_a_time(step) and span is not None:
            if not _says_a_time(doc, *_time_window(doc, evidence_spans, i, span)):
                kinds[i], evidence_spans[i] = decide.UNTIMED, None
    if doc.timed:  # recognised speech: a key word may have been misheard
        for i, step in enumerate(scenario.steps):
            if kinds[i] != decide.NONE:
                continue
            expected = expected_turns.get(step.id)  # 0-based
            places = [_place_span(evidence_spans, i, len(doc.form))] + ([doc.turn_range(expected)] if expected is not None else [])
            heard = next((h for place in places if (h := _heard_nearly(step, doc, *place)) is not None), None)
            if heard is not None:
                found[i], kinds[i], evidence_spans[i] = _found(found[i], doc, *heard), decide.NEAR_HEARD, heard
                taken.append(heard)
    performed_turns = [r.turn - 1 if r.turn and k not in decide.MISS_KINDS else None for r, k in zip(found, kinds)]
    claimed = taken + [(c.start, c.end) for c, r in zip(chosen, steps) if c is not None and r.status == PARTIAL]
    # required steps found nowhere (an optional one fails nothing, so it never takes a turn)
    nowhere = [i for i, (step, kind) in enumerate(zip(scenario.steps, kinds)) if kind in decide.MISS_KINDS and step.required]
    out: list[StepResult] = []
    for i, (step, result, kind) in enumerate(zip(scenario.steps, found, kinds)):
        expected = expected_turns.get(step.id)  # 0-based
        if nowhere == [i] and not _promises_a_time(step):
            free = _free_turn(doc, _place(performed_turns, i, expected, len(doc.turns)), claimed)
            if free is not None:
                result = _found(result, doc, *doc.turn_range(free))
                kind, evidence_spans[i] = decide.OWN_TURN, doc.turn_range(free)
            elif words := _free_words(doc, _place_span(evidence_spans, i, len(doc.form)), claimed):
                result = _found(result, doc, *words)  # no turn free, but words where the step belongs (decide.py)
                kind, evidence_spans[i] = decide.OWN_WORDS, words
        # the turn whose words matter: the evidence's, or for a miss the one that answers the step
        where = expected if kind in decide.MISS_KINDS else (result.turn - 1 if result.turn else None)
        heard = _turn_confidence(doc, where) if where is not None else 1.0
        near = False
        if (kind == decide.PARTIAL_MATCH or kind in decide.MISS_KINDS) and where is not None:
            near = _near_homophone(step, doc, *doc.turn_range(where))
        evidence = StepEvidence(
            kind,
            expected_turn=expected + 1 if expected is not None else None,
            turn=result.turn,
            heard=heard,
            near_homophone=near,
            confirmed=kind == decide.CONTENT and i in confirmed,
            answers=answered.get(i, "") if kind == decide.CONTENT else "",
            in_place=_in_place(kind, evidence_spans, i, chosen[i]),
            recognised=doc.timed,
        )
        decision = decide.decide_step(evidence)
        out.append(
            dataclasses.replace(
                result,
                status=decision.status,
                certain=decision.certain,
                confidence=decision.confidence,
                evidence=kind,
                doubt=decision.doubt,
            )
        )
    return out, evidence_spans


def _also_heard(
    doc: Doc,
    steps: Sequence[StepResult],
    candidates: Sequence[Sequence[StepCandidate]],
    evidence_spans: Sequence[tuple[int, int] | None],
    held: Sequence[tuple[int, int]],
) -> list[StepResult]:
    """Each performed step with the other turns where its phrasing or cue was heard (a hit candidate) on
    words that no other step's evidence and no 忌语 that performs a step hold: the ID asked for in one
    turn and checked (您是本人吧) in the next. The decision and its turn are unchanged."""
    out: list[StepResult] = []
    for i, result in enumerate(steps):
        if result.status != HIT or result.turn is None:
            out.append(result)
            continue
        others = [span for j, span in enumerate(evidence_spans) if j != i and span is not None] + list(held)
        seen: dict[int, str] = {}
        for c in candidates[i]:
            turn = doc.turn_at(c.start, c.end) + 1
            if c.status != HIT or turn == result.turn or turn in seen:
                continue
            if any(c.start < end and start < c.end for start, end in others):
                continue
            seen[turn] = to_simplified(doc.span_text(c.start, c.end))
        out.append(dataclasses.replace(result, also_heard=tuple(sorted(seen.items()))) if seen else result)
    return out


OWN_TURN_MIN_CHARS = 4  # a shorter turn (好的, 嗯嗯, 是的) carries no step
# Slots that hold a time: a step that promises one (回复时限, 到达时间, 恢复送电时间) IS the time, and
# own words that hold a time are found as content already. A free turn without one (尽快处理,
# 有消息就回您) is the step not done: over sets D-I, 0 of 8 such turns were labelled the step.
TIME_SLOT_KINDS = frozenset({"days", "time"})


def _promises_a_time(step: Step) -> bool:
    return any(slot.kind in TIME_SLOT_KINDS for slot in step.slots)


def _answering(step: Step, doc: Doc, taken: Sequence[tuple[int, int]], lexicon: Lexicon) -> tuple[str, list[tuple[int, int]]] | None:
    """Own words that answer the customer's line and so perform the step (decide.HANDOVER, decide.WHEN),
    with their clauses: the step's `on_handover` words said to a customer handing something over, or for a
    step that promises a time, a time said to a customer asking when (几点来电？下午五点。)."""
    thanks = step.on_handover
    if thanks and (spans := answering_clauses(doc, taken, lexicon.handover_words, lambda s, e: any(contains_word(doc, s, e, w) for w in thanks))):
        return decide.HANDOVER, spans
    if _promises_a_time(step) and (spans := answering_clauses(doc, taken, lexicon.when_words, lambda s, e: _names_a_time(doc, s, e))):
        return decide.WHEN, spans
    return None


# A number that counts time (五点, 三天, 十号; 两个钟头 is a TIME_WORD); a bare number (95598, 一个电话) is none.
TIME_AFTER_NUMBER = re.compile(re.escape(NUMBER) + "(?:点|时|分|天|日|号|周|月|半)")


def _names_a_time(doc: Doc, start: int, end: int) -> bool:
    """form[start:end] names a time (下午五点, 两个钟头, 三天内): stricter than `_says_a_time`, which any number meets."""
    said = doc.form[start:end]
    return TIME_AFTER_NUMBER.search(said) is not None or any(word in said for word in TIME_WORDS)


# Words that name a time: a number (三天, 20分钟) or one of these.
TIME_WORDS = (
    "天内", "天之内", "天以内", "工作日", "小时", "分钟", "钟头", "今天", "明天", "后天", "今晚", "明早",
    "上午", "下午", "中午", "晚上", "傍晚", "礼拜", "星期", "周内", "月底", "号前", "号之前", "点前", "点之前",
    "周一", "周二", "周三", "周四", "周五", "周六", "周日", "周末", "这周", "本周", "下周", "月内", "年底",
    "早上", "凌晨", "夜里", "半夜", "今儿", "明儿", "天黑", "天亮", "午饭", "晚饭", "饭前", "饭点",
)  # fmt: skip


def _time_window(doc: Doc, spans: Sequence[tuple[int, int] | None], index: int, span: tuple[int, int]) -> tuple[int, int]:
    """Where the time of a promise (step `index`, its words `span`) may be said: its turn, and in a turn
    that holds other steps too (a whole recording), only from the evidence of the step performed before
    it to that of the step performed after it (a time said for another step is not this one's)."""
    lo, hi = doc.turn_range(doc.turn_at(*span))
    before, after = _neighbours(spans, index)
    if before is not None and before <= span[0]:
        lo = max(lo, before)
    if after is not None and after >= span[1]:
        hi = min(hi, after)
    return lo, hi


def _says_a_time(doc: Doc, start: int, end: int) -> bool:
    said = doc.form[start:end]
    return NUMBER in said or any(word in said for word in TIME_WORDS)


def _place(performed_turns: Sequence[int | None], index: int, expected: int | None, turn_count: int) -> set[int]:
    """The turns (0-based) where a step found nowhere belongs: from the turn of the nearest step
    performed before it (in the scenario's order) to that of the nearest one after it, plus the
    turn that answers its customer line."""
    before = [t for t in performed_turns[:index] if t is not None]
    after = [t for t in performed_turns[index + 1:] if t is not None]
    lo = before[-1] if before else 0
    hi = after[0] if after else turn_count - 1
    turns = set(range(min(lo, hi), max(lo, hi) + 1))
    if expected is not None:
        turns.add(expected)
    return turns


def _free_turn(doc: Doc, turns: set[int], claimed: Sequence[tuple[int, int]]) -> int | None:
    """A turn among these, heard well, with the trainee's words of which nothing serves a step, if any.
    (Words the recogniser may have garbled are no evidence: that miss is a recognition doubt.)"""
    for turn in sorted(turns):
        if not 0 <= turn < len(doc.turns) or _turn_confidence(doc, turn) < decide.LOW_HEARD:
            continue
        lo, hi = doc.turn_range(turn)
        if hi - lo >= OWN_TURN_MIN_CHARS and not any(s < hi and lo < e for s, e in claimed):
            return turn
    return None


OWN_WORDS_MIN_CHARS = 6  # inside a recording, a shorter run (好的您, 嗯对对) is a remark between steps


def _free_words(doc: Doc, place: tuple[int, int], claimed: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The longest run of words in form[place] (within one turn) of which nothing serves a step, if it
    holds at least OWN_WORDS_MIN_CHARS characters."""
    lo, hi = place
    best: tuple[int, int] | None = None
    k = lo
    while k < hi:
        j = k
        while j < hi and doc.turn_of[j] == doc.turn_of[k] >= 0 and not any(s <= j < e for s, e in claimed):
            j += 1
        if j - k >= OWN_WORDS_MIN_CHARS and (best is None or j - k > best[1] - best[0]):
            best = (k, j)
        k = j + 1
    return best


COURTESY_MARKS = ("您", "请", "麻烦", "劳驾", "谢谢")


def _manner(scenario: Scenario, doc: Doc, steps: list[StepResult], performing: Mapping[str, BrushOff]) -> list[StepResult]:
    """A step performed without 请/您 although its standard phrasing has them, or performed by a 服务忌语
    (等着): a politeness finding, not a miss."""
    out = []
    for step, result in zip(scenario.steps, steps):
        wanted = [m for m in ("请", "您") if m in step.expected]
        said = to_simplified(doc.turns[result.turn - 1].text) if result.turn else ""
        if result.status == HIT and result.evidence == decide.BRUSH_OFF:
            result = dataclasses.replace(result, manner=f"做到了「{short_title(step.title) or step.id}」，但说的是服务忌语「{performing[step.id].phrase}」")
        elif result.status == HIT and wanted and said and not any(m in said for m in COURTESY_MARKS):
            marks = "/".join(f"‘{m}’" for m in wanted)
            result = dataclasses.replace(result, manner=f"做到了「{short_title(step.title) or step.id}」，但没有用{marks}")
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


@dataclasses.dataclass(frozen=True)
class BrushOff:
    """A counted 服务忌语 that still meets a step's purpose (ForbiddenEntry.performs): 等着 for 请稍等."""

    start: int  # Doc.form span of the 忌语's words
    end: int
    phrase: str  # the entry's canonical text, as shown to the trainee


def _forbidden_hits(
    entries: Sequence[ForbiddenEntry], doc: Doc, scenario: Scenario, fillers: Sequence[str]
) -> tuple[list[ForbiddenHit], list[ForbiddenHit], list[tuple[int, int]], dict[str, BrushOff]]:
    """The 服务忌语 said (counted), the doubtful ones (decide.decide_forbidden), the clauses of
    the counted ones and of those an instructor decides (no step's own words are found in a brush-off or a
    possible one: 按钟点是该下班了 is no 询问需求), and by step id the counted ones that still perform a step
    (the first said)."""
    polite = [text for step in scenario.steps for text in step.all_phrasings]
    counted: list[ForbiddenHit] = []
    doubtful: list[ForbiddenHit] = []
    clauses = []
    performing: dict[str, BrushOff] = {}
    matches = find_forbidden(entries, doc, polite, fillers)
    for m in matches:
        start, end = doc.span_times(m.start, m.end)
        evidence = hit_evidence(m, doc, matches)
        decision = decide.decide_forbidden(evidence)
        hit = ForbiddenHit(
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
            evidence=evidence,
            confidence=decision.confidence,
            certain=decision.certain,
        )
        if decision.counted or not decision.certain:  # a possible 忌语 is no step's own words either
            clauses.append((doc.clause_bounds(m.start)[0], doc.clause_bounds(max(m.start, m.end - 1))[1]))
        if decision.counted:
            counted.append(hit)
            for step_id in m.entry.performs:
                performing.setdefault(step_id, BrushOff(m.start, m.end, m.entry.phrase))
        else:
            doubtful.append(hit)
    return counted, doubtful, clauses, performing


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
    expected_turns: Mapping[str, int] | None = None,
) -> ScoreResult:
    """Score one performance. `expected_turns`: step id -> 0-based turn that answers its customer line."""
    candidates = match_steps(scenario.steps, doc, lexicon.fillers)
    steps, chosen = _step_results(scenario, doc, candidates)
    hits, doubtful_hits, brush_offs, performing = _forbidden_hits(forbidden, doc, scenario, lexicon.fillers)
    amounts = check_amounts(scenario, doc, _amount_sources(doc, candidates, chosen))
    steps, by_amount = _bill_stated(scenario, doc, steps, amounts)
    steps, evidence_spans = _decide_steps(scenario, doc, steps, chosen, by_amount, expected_turns or {}, brush_offs, performing, lexicon)
    steps = _also_heard(doc, steps, candidates, evidence_spans, brush_offs)
    steps = _manner(scenario, doc, steps, performing)
    if amounts is not None and not amounts.consistent:
        performed = {slot.name: r.status == HIT for s, r in zip(scenario.steps, steps) for slot in s.slots if slot.kind == "amount"}
        amounts = dataclasses.replace(amounts, misheard=amounts_misheard(doc, amounts, performed))
    # show the standard phrase with this performance's amounts in its slots (找您{change}元 -> 找您48元)
    steps = [dataclasses.replace(s, expected=fill_slots(s.expected, amounts)) for s in steps]
    fluency = measure_fluency(doc, lexicon)
    politeness = measure_politeness(doc, lexicon)
    all_weights = {**DEFAULT_WEIGHTS, **(weights or {})}

    def dimensions_of(
        statuses: Sequence[StepResult], hits: Sequence[ForbiddenHit] = hits, checked: AmountCheck | None = amounts
    ) -> tuple[dict[str, float], float]:
        dims: dict[str, float] = {"coverage": _coverage(scenario, statuses)}
        if sum(s.status == HIT for s in statuses) >= 2:  # order means something only with two steps done
            dims["order"] = _order(statuses)
        dims["forbidden"] = max(0.0, 100.0 - sum(SEVERITY_PENALTY.get(h.severity, 40.0) for h in hits))
        if any(turn.norm.text for turn in doc.turns):
            dims["politeness"] = politeness.score
        if checked is not None:
            dims["amounts"] = 100.0 if checked.consistent else 0.0
        fluency_value = fluency_score(fluency, lexicon)
        if fluency_value is not None:
            dims["fluency"] = fluency_value
        # Conduct is earned by performing: silence or a lone 你好 must not collect the
        # forbidden/politeness/fluency/order points, so they count in proportion to coverage.
        performed = min(1.0, dims["coverage"] / 100.0)
        for key in CONDUCT_DIMENSIONS:
            if key in dims:
                dims[key] *= performed
        weight_sum = sum(max(0.0, all_weights.get(k, 0.0)) for k in dims)
        total = sum(v * max(0.0, all_weights.get(k, 0.0)) for k, v in dims.items()) / weight_sum if weight_sum > 0 else 0.0
        return dims, total

    def judge(statuses: Sequence[StepResult], hits: Sequence[ForbiddenHit], amounts_ok: bool | None = None) -> tuple[str, ...]:
        """Fail reasons; `amounts_ok` overrides the 唱收唱付 check as read (the best case when it may be misheard)."""
        checked = amounts if amounts is None or amounts_ok is None else dataclasses.replace(amounts, consistent=amounts_ok)
        return decide.fail_reasons(statuses, dimensions_of(statuses, hits, checked)[1], pass_mark, hits, checked, exam=exam)

    dimensions, total = dimensions_of(steps)
    amounts_doubt = amounts is not None and amounts.misheard
    verdict = decide.decide_verdict(steps, hits, doubtful_hits, judge, amounts_doubt=amounts_doubt, little_courtesy=politeness.little_courtesy)

    feedback = build_feedback(scenario, steps, hits, amounts, fluency, politeness, lexicon) + tuple(
        doubtful_forbidden_line(h) for h in doubtful_hits
    )
    advice = build_advice(scenario, steps, hits, doubtful_hits, amounts, fluency, politeness, lexicon, expected_turns or {})
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
        passed=verdict.passed,
        feedback=feedback,
        scenario_title=scenario.title,
        library_version=library_version,
        fail_reasons=verdict.fail_reasons,
        verdict=verdict.verdict,
        forbidden_doubtful=tuple(doubtful_hits),
        advice=advice,
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
    expected_turns = {step_id: index for index, turn in reversed(list(enumerate(turns))) for step_id in turn.expects}
    return score_doc(doc, scenario, forbidden, lexicon, expected_turns=expected_turns, **options)  # type: ignore[arg-type]
