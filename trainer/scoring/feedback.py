"""Short, concrete feedback lines in Chinese: what was wrong and what to say instead."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from trainer.phrasebook.model import SEVERITY_LABELS, Lexicon, Scenario
from trainer.scoring.display import UNSURE_FORBIDDEN_NOTE
from trainer.scoring.politeness import Politeness
from trainer.scoring.result import (
    ADVICE_MANNER,
    ADVICE_MISSED,
    ADVICE_ORDER,
    ADVICE_PARTIAL,
    ADVICE_UNSURE,
    EVIDENCE_BRUSH_OFF,
    HIT,
    MISSED,
    PARTIAL,
    WHY_ASR,
    AmountCheck,
    Fluency,
    ForbiddenHit,
    StepResult,
)

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_FILLER_PER_MINUTE = 4.0


def _yuan(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def fill_slots(text: str, amounts: AmountCheck | None) -> str:
    """Put the amounts of this performance into a phrasing's slots ({change} -> 48); unknown ones become ××."""
    values: dict[str, float] = {}
    if amounts is not None:
        bill, received, change = amounts.bill, amounts.received, amounts.change
        if bill is not None and received is not None and received >= bill:
            change = received - bill  # the change that should have been given
        for name, value in (("bill", bill), ("received", received), ("change", change)):
            if value is not None:
                values[name] = value
    return _PLACEHOLDER.sub(lambda m: _yuan(values[m.group(1)]) if m.group(1) in values else "××", text)


def short_title(title: str) -> str:
    """'五处：唱付——找零并递交发票' -> '唱付'; titles without a prefix stay as they are."""
    if "：" in title:
        title = title.split("：", 1)[1]
    return title.split("——", 1)[0].strip() or title


def scenario_titles(scenario: Scenario) -> tuple[dict[str, str], list[str]]:
    """The short titles of a scenario's steps by id, and the ids in the scenario's order."""
    return {s.id: short_title(s.title) for s in scenario.steps}, [s.id for s in scenario.steps]


def step_notes(
    steps: Sequence[StepResult], titles: Mapping[str, str], order: Sequence[str], amounts: AmountCheck | None
) -> list[tuple[str, StepResult, str]]:
    """What to say about each step, as (kind, step, Chinese line); kinds are result.ADVICE_* (unsure,
    missed, partial, order, manner). `titles`/`order`: see `scenario_titles`. `step_feedback` and the
    advice grouped by turn (scoring/advice.py) both read these."""
    notes: list[tuple[str, StepResult, str]] = []
    order = list(order)
    for result in steps:
        title = titles.get(result.id, result.id)
        expected = fill_slots(result.expected, amounts)
        if not result.certain and (result.required or result.status == HIT) and result.evidence != EVIDENCE_BRUSH_OFF:
            notes.append((ADVICE_UNSURE, result, _doubt_line(result, title)))
        elif result.status == MISSED and result.required:
            notes.append((ADVICE_MISSED, result, f"缺少步骤「{title}」：应说“{expected}”"))
        elif result.status == PARTIAL:
            line = f"步骤「{title}」不完整：听到“{result.matched_text}”，标准说法是“{expected}”"
            if result.missing_keywords:
                line += f"（缺少关键词：{'、'.join(result.missing_keywords)}）"
            notes.append((ADVICE_PARTIAL, result, line))
        elif result.status == HIT and result.out_of_order:
            index = order.index(result.id) if result.id in order else -1
            previous = titles.get(order[index - 1], "") if index > 0 else ""
            where = f"应在「{previous}」之后" if previous else "应放在最前面"
            notes.append((ADVICE_ORDER, result, f"步骤「{title}」顺序不对：{where}"))
        if result.status == HIT and result.manner:
            notes.append((ADVICE_MANNER, result, f"礼貌：{result.manner}"))
    return notes


def step_feedback(steps: Sequence[StepResult], scenario: Scenario, amounts: AmountCheck | None) -> list[str]:
    return [line for _, _, line in step_notes(steps, *scenario_titles(scenario), amounts)]


def _doubt_line(result: StepResult, title: str) -> str:
    """An uncertain step: never taught as a mistake (the machine may have misheard); replay, re-record or ask an instructor."""
    heard = f"听到“{result.matched_text}”，" if result.matched_text else ""
    if result.doubt == WHY_ASR:
        return f"步骤「{title}」可能没听清：识别结果不可靠，{heard}请回放录音确认，需要时重录这一句"
    if result.status == HIT:
        return f"步骤「{title}」可能没听清：{heard}看起来做到了，但机器不能确定，请教师复核"
    return f"步骤「{title}」可能没听清：{heard}机器不能确定是否做到，请回放录音或请教师复核"


def forbidden_feedback(hits: Sequence[ForbiddenHit]) -> list[str]:
    lines = []
    for hit in hits:
        label = SEVERITY_LABELS.get(hit.severity, "")
        severity = f"（{label}）" if label else ""
        if hit.certain:
            lines.append(f"使用了服务忌语「{hit.phrase}」{severity}（第 {hit.turn} 句），应改为：“{hit.suggestion}”")
        else:
            lines.append(
                f"可能使用了服务忌语「{hit.phrase}」{severity}（第 {hit.turn} 句），{UNSURE_FORBIDDEN_NOTE}；"
                f"如确实这样说了，应改为：“{hit.suggestion}”"
            )
    return lines


def doubtful_forbidden_line(hit: ForbiddenHit, *, with_turn: bool = True) -> str:
    """Words of a 服务忌语 that probably mean something else here: not counted, an instructor may decide."""
    where = f"第 {hit.turn} 轮" if with_turn else ""
    return f"{where}“{hit.matched_text}”含有服务忌语「{hit.phrase}」的字样，但在这里可能是别的意思，没有扣分；需要时由教师判断。"


MISHEARD_AMOUNTS = "金额可能没听清（可能是识别不准），请回放录音核对，由教师复核"


def amount_feedback(amounts: AmountCheck | None) -> list[str]:
    if amounts is None or amounts.consistent:
        return []
    if amounts.misheard:  # a recognition doubt is not the trainee's fault: never teach them what the machine heard
        return [f"唱收唱付：{MISHEARD_AMOUNTS}"]
    return [f"唱收唱付：{problem}" for problem in amounts.problems] or ["唱收唱付没有做到位"]


def fluency_feedback(fluency: Fluency, lexicon: Lexicon) -> list[str]:
    lines = []
    if fluency.timed and fluency.speaking_seconds > 0:
        rate = round(fluency.chars_per_min)
        band = f"（标准 {lexicon.rate_min:.0f}–{lexicon.rate_max:.0f} 字/分钟）"
        if rate > lexicon.rate_max:
            lines.append(f"语速 {rate} 字/分钟，偏快{band}")
        elif rate < lexicon.rate_min:
            lines.append(f"语速 {rate} 字/分钟，偏慢{band}")
        minutes = max(fluency.speaking_seconds / 60.0, 0.25)
        if fluency.fillers and fluency.fillers / minutes > MAX_FILLER_PER_MINUTE:
            words = "、".join(dict.fromkeys(fluency.filler_words))
            lines.append(f"口头语 {fluency.fillers} 次（{words}），每分钟 {fluency.fillers / minutes:.1f} 次，请减少")
        if fluency.long_pauses:
            lines.append(f"有 {fluency.long_pauses} 处停顿超过 {lexicon.long_pause_seconds:g} 秒，回答要连贯")
    return lines


def politeness_feedback(politeness: Politeness) -> list[str]:
    lines = []
    if politeness.says_ni_mostly:
        lines.append(f"称呼客户请用“您”：本次“你”出现 {politeness.ni} 次，“您”{politeness.nin} 次")
    if politeness.little_courtesy and politeness.words_used:
        heard = "、".join(politeness.words_used)
        lines.append(f"只听到 {len(politeness.words_used)} 个文明用语（{heard}），服务态度显得生硬；多用“您好、请、谢谢、对不起、再见”")
    elif not politeness.words_used:
        lines.append("没有听到文明用语（您好、请、谢谢、对不起、再见）")
    return lines


def build_feedback(
    scenario: Scenario,
    steps: Sequence[StepResult],
    forbidden: Sequence[ForbiddenHit],
    amounts: AmountCheck | None,
    fluency: Fluency,
    politeness: Politeness,
    lexicon: Lexicon,
) -> tuple[str, ...]:
    lines = [
        *forbidden_feedback(forbidden),
        *amount_feedback(amounts),
        *step_feedback(steps, scenario, amounts),
        *politeness_feedback(politeness),
        *fluency_feedback(fluency, lexicon),
    ]
    if not lines:
        lines.append("表现很好：步骤完整、顺序正确，没有服务忌语。")
    return tuple(lines)
