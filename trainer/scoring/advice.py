"""The advice of a scored performance, grouped by turn: each piece once, one severity vocabulary.

`build_advice` gives, for each turn (1-based) the advice about that turn — a step missed or said
only in part with the standard phrasing to use, a 服务忌语 with its severity (轻微/严重/极严重),
reason and exact replacement, a politeness note, "可能没听清" when the recogniser may have misheard
(never a phrasing taken from what was heard) — and then, as the group with turn None, the advice
about the whole performance (step order, 唱收唱付 amounts, politeness overall, fluency).

A missed step belongs to the turn whose customer line asked for it (`expected_turns`); without a
dialogue (typed text scored as one performance) it belongs to the whole performance.

`advice_of` reads the groups from a score dict (`trainer score --json`, stored sessions, exams);
a score stored before the `advice` field existed gets groups derived from its other fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from trainer.phrasebook.model import SEVERITY_LABELS, Lexicon, Scenario
from trainer.scoring.display import UNSURE_FORBIDDEN_NOTE, forbidden_name, forbidden_quote
from trainer.scoring.feedback import (
    amount_feedback,
    doubtful_forbidden_line,
    fluency_feedback,
    politeness_feedback,
    scenario_titles,
    step_notes,
)
from trainer.scoring.politeness import Politeness
from trainer.scoring.result import (
    ADVICE_AMOUNTS,
    ADVICE_FLUENCY,
    ADVICE_FORBIDDEN,
    ADVICE_FORBIDDEN_DOUBTFUL,
    ADVICE_KINDS,
    ADVICE_MISSED,
    ADVICE_ORDER,
    ADVICE_OTHER,
    ADVICE_PARTIAL,
    ADVICE_POLITENESS,
    ADVICE_UNSURE,
    AdviceItem,
    AmountCheck,
    Fluency,
    ForbiddenHit,
    ScoreResult,
    StepResult,
    TurnAdvice,
)

# Kinds that are about the whole performance even when a step's turn is known.
WHOLE_PERFORMANCE_KINDS = (ADVICE_ORDER, ADVICE_AMOUNTS, ADVICE_POLITENESS, ADVICE_FLUENCY)


def forbidden_advice(phrase: str, heard: str, severity: str, reason: str, suggestion: str, certain: bool = True) -> str:
    """服务忌语「不知道」（严重）：推诿客户……。应改说：“……”  — the list's phrase (and what was heard,
    when it differs), exactly one severity word, the reason and the exact replacement. A hit the machine
    is not sure of reads 可能是服务忌语…：…。机器不能确定，请教师复核；如确实这样说了，应改说：“……”."""
    label = SEVERITY_LABELS.get(severity, "")
    text = f"{forbidden_name(certain)}{forbidden_quote(phrase, heard)}"
    if label:
        text += f"（{label}）"
    if reason:
        text += f"：{reason.rstrip('。')}"
    if not certain:
        text += f"。{UNSURE_FORBIDDEN_NOTE}"
    if suggestion:
        text += f"。应改说：“{suggestion}”" if certain else f"；如确实这样说了，应改说：“{suggestion}”"
    return text


def _with_tip(text: str, step: StepResult) -> str:
    return f"{text}；提示：{step.tip}" if step.tip else text


def _step_turn(step: StepResult, kind: str, expected_turns: Mapping[str, int]) -> int | None:
    """The turn a piece of step advice belongs to: where the step was said, else the turn whose customer
    line asked for it (0-based in `expected_turns`), else the whole performance."""
    if kind in WHOLE_PERFORMANCE_KINDS:
        return None
    if step.turn is not None and kind != ADVICE_MISSED:
        return step.turn
    expected = expected_turns.get(step.id)
    return expected + 1 if expected is not None else None


def build_advice(
    scenario: Scenario,
    steps: Sequence[StepResult],
    hits: Sequence[ForbiddenHit],
    doubtful_hits: Sequence[ForbiddenHit],
    amounts: AmountCheck | None,
    fluency: Fluency,
    politeness: Politeness,
    lexicon: Lexicon,
    expected_turns: Mapping[str, int],
) -> tuple[TurnAdvice, ...]:
    """The advice of one performance grouped by turn, the whole-performance group (turn None) last."""
    placed: list[tuple[int | None, AdviceItem]] = []
    for kind, step, line in step_notes(steps, *scenario_titles(scenario), amounts):
        text = _with_tip(line, step) if kind in (ADVICE_MISSED, ADVICE_PARTIAL) else line
        placed.append((_step_turn(step, kind, expected_turns), AdviceItem(kind, text, step.id)))
    for hit in hits:
        text = forbidden_advice(hit.phrase, hit.matched_text, hit.severity, hit.reason, hit.suggestion, hit.certain)
        placed.append((hit.turn, AdviceItem(ADVICE_FORBIDDEN, text, severity=SEVERITY_LABELS.get(hit.severity, ""))))
    for hit in doubtful_hits:
        placed.append((hit.turn, AdviceItem(ADVICE_FORBIDDEN_DOUBTFUL, doubtful_forbidden_line(hit, with_turn=False))))
    placed += [(None, AdviceItem(ADVICE_AMOUNTS, line)) for line in amount_feedback(amounts)]
    placed += [(None, AdviceItem(ADVICE_POLITENESS, line)) for line in politeness_feedback(politeness)]
    placed += [(None, AdviceItem(ADVICE_FLUENCY, line)) for line in fluency_feedback(fluency, lexicon)]
    return group_advice(placed)


def group_advice(placed: Sequence[tuple[int | None, AdviceItem]]) -> tuple[TurnAdvice, ...]:
    """Items grouped by turn in turn order, the whole-performance group last; within a group 忌语 first,
    then steps (ADVICE_KINDS order); a piece of advice said twice in one group is kept once."""
    groups: dict[int | None, list[AdviceItem]] = {}
    for turn, item in placed:
        items = groups.setdefault(turn, [])
        if all((item.kind, item.text) != (kept.kind, kept.text) for kept in items):
            items.append(item)
    rank = {kind: index for index, kind in enumerate(ADVICE_KINDS)}
    turns = sorted(t for t in groups if t is not None) + ([None] if None in groups else [])
    return tuple(
        TurnAdvice(turn, tuple(sorted(groups[turn], key=lambda item: rank.get(item.kind, len(rank))))) for turn in turns
    )


# ---------------------------------------------------------------------------------- from a score dict

_WHOLE_PREFIXES = (
    ("唱收唱付", ADVICE_AMOUNTS),
    ("称呼客户", ADVICE_POLITENESS),
    ("没有听到文明用语", ADVICE_POLITENESS),
    ("礼貌：", ADVICE_POLITENESS),
    ("语速 ", ADVICE_FLUENCY),
    ("口头语 ", ADVICE_FLUENCY),
)


def _whole_kind(line: str) -> str:
    """The kind of a stored whole-performance feedback line ("" when it is about a step or a 忌语)."""
    for prefix, kind in _WHOLE_PREFIXES:
        if line.startswith(prefix):
            return kind
    if line.startswith("有 ") and "处停顿" in line:
        return ADVICE_FLUENCY
    if "顺序不对" in line:
        return ADVICE_ORDER
    return ""


_STEP_LINE = re.compile(r"^(?:缺少步骤|步骤)「([^」]*)」")
# stored lines about 忌语 (rebuilt from the stored hits) and the all-good line (the pages say it when nothing is left)
_COVERED = re.compile(r"^使用了服务忌语|^考试中使用了服务忌语|含有服务忌语「.*」的字样|^表现很好")


def _legacy_advice(score: Mapping[str, object], scenario: Scenario | None, reasons: Mapping[str, str]) -> tuple[TurnAdvice, ...]:
    """Groups for a score stored before `advice` existed: its stored feedback lines (the truth of that
    scoring, not recomputed), a step line placed at the turn the step was said in (a missed step's turn
    is not stored: it goes with the whole performance), and its 忌语 with their reasons from `reasons`."""
    result = ScoreResult.from_dict(dict(score))
    titles = scenario_titles(scenario)[0] if scenario is not None else {}
    by_title = {titles.get(step.id, step.id): step for step in result.steps}
    placed: list[tuple[int | None, AdviceItem]] = []
    for line in result.feedback:
        kind = _whole_kind(line)
        if kind:
            placed.append((None, AdviceItem(kind, line)))
            continue
        named = _STEP_LINE.match(line)
        if named is None:
            if not _COVERED.search(line):  # 忌语 lines come from the stored 忌语 below
                placed.append((None, AdviceItem(ADVICE_OTHER, line)))
            continue
        step = by_title.get(named.group(1))
        kind = ADVICE_MISSED if line.startswith("缺少步骤") else ADVICE_UNSURE if "可能没听清" in line else ADVICE_PARTIAL
        turn = step.turn if step is not None and kind != ADVICE_MISSED else None
        placed.append((turn, AdviceItem(kind, line, step.id if step is not None else "")))
    for raw, hit in zip(score.get("forbidden") or (), result.forbidden):  # type: ignore[call-overload]
        reason = reasons.get(str(raw.get("id", "")), "")
        text = forbidden_advice(hit.phrase, hit.matched_text, hit.severity, reason, hit.suggestion, hit.certain)
        placed.append((hit.turn, AdviceItem(ADVICE_FORBIDDEN, text, severity=SEVERITY_LABELS.get(hit.severity, ""))))
    for hit in result.forbidden_doubtful:
        placed.append((hit.turn, AdviceItem(ADVICE_FORBIDDEN_DOUBTFUL, doubtful_forbidden_line(hit, with_turn=False))))
    return group_advice(placed)


def advice_of(score: Mapping[str, object], scenario: Scenario | None = None, reasons: Mapping[str, str] | None = None) -> tuple[TurnAdvice, ...]:
    """The advice groups of a score dict: its `advice` field, or (stored before it existed) derived."""
    stored = score.get("advice")
    if isinstance(stored, list):
        return tuple(TurnAdvice.from_dict(group) for group in stored if isinstance(group, Mapping))
    return _legacy_advice(score, scenario, reasons or {})


def advice_lines(groups: Sequence[TurnAdvice]) -> list[str]:
    """The advice as plain text lines for the command line: '第 1 轮：' / '整体：' headings, items indented."""
    lines: list[str] = []
    for group in groups:
        lines.append(f"第 {group.turn} 轮：" if group.turn is not None else "整体：")
        lines.extend(f"  • {item.text}" for item in group.items)
    return lines
