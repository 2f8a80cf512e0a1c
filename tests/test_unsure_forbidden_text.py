"""A counted 服务忌语 the machine is not sure of (ForbiddenHit.certain False) sends the verdict to 待复核;
no text a person reads states it as certain: 可能是服务忌语 … 机器不能确定，请教师复核 on every builder."""

from __future__ import annotations

import pytest
from rich.console import Console

from trainer.app import highlight, views
from trainer.config import load_settings
from trainer.endpoint import EndReason
from trainer.phrasebook.model import SEVERITY_LABELS
from trainer.pipeline import load_library, score_text
from trainer.practice.ui import ForbiddenLine as TerminalForbiddenLine
from trainer.practice.ui import TurnView, render_turn_result
from trainer.scoring.advice import advice_lines, advice_of, forbidden_advice
from trainer.scoring.feedback import forbidden_feedback
from trainer.scoring.result import REVIEW, ForbiddenHit

# 我们也没有办法 with its words reordered (evidence "reordered"): counted, not sure.
REORDERED = (
    "您好，系统慢，办法嘛，我们也没有，您多担待。请问您办理什么业务？您请坐。请问您的户号是多少？"
    "您本月的电费是52元。收您100元。这是您的发票和找您的48元，请点清收好。请慢走，再见！"
)
NOTE = "机器不能确定，请教师复核"


@pytest.fixture(scope="module")
def scored():  # type: ignore[no-untyped-def]
    settings = load_settings()
    return score_text(REORDERED, "payment", settings, library=load_library(settings))


def _hit(certain: bool) -> ForbiddenHit:
    return ForbiddenHit("x", "不知道", "不知道", 2, None, "major", "请稍等，我帮您查一下。", reason="推诿客户。", certain=certain)


def test_the_reordered_hit_is_counted_uncertain_and_the_verdict_is_review(scored) -> None:  # type: ignore[no-untyped-def]
    [hit] = [h for h in scored.forbidden if "办法" in h.matched_text]
    assert not hit.certain and scored.verdict == REVIEW


def test_advice_says_possibly_and_asks_an_instructor(scored) -> None:  # type: ignore[no-untyped-def]
    lines = [line.strip(" •") for line in advice_lines(scored.advice) if "办法" in line]
    assert lines and all(line.startswith("可能是服务忌语「") and NOTE in line for line in lines)
    assert all("如确实这样说了，应改说：“" in line for line in lines)
    # the severity is still the one vocabulary, said once
    assert all(sum(word in line for word in ("轻微", "极严重")) == 0 and line.count("严重") == 1 for line in lines)
    # a stored score reads the same
    assert advice_lines(advice_of(scored.to_dict())) == advice_lines(scored.advice)


def test_a_certain_hit_reads_as_before() -> None:
    certain = forbidden_advice("不知道", "不知道", "major", "推诿客户。", "请稍等，我帮您查一下。", True)
    assert certain == "服务忌语「不知道」（严重）：推诿客户。应改说：“请稍等，我帮您查一下。”"
    unsure = forbidden_advice("不知道", "不知道", "major", "推诿客户。", "请稍等，我帮您查一下。", False)
    assert unsure == f"可能是服务忌语「不知道」（严重）：推诿客户。{NOTE}；如确实这样说了，应改说：“请稍等，我帮您查一下。”"


def test_feedback_line_tooltip_and_page_line_say_possibly() -> None:
    [certain], [unsure] = forbidden_feedback([_hit(True)]), forbidden_feedback([_hit(False)])
    assert certain.startswith("使用了服务忌语") and NOTE not in certain
    assert unsure.startswith("可能使用了服务忌语") and NOTE in unsure
    stored = _hit(False).to_dict()
    assert stored["certain"] is False
    tooltip = highlight.forbidden_tooltip(stored)
    assert tooltip.startswith("可能是服务忌语“不知道”（严重）") and NOTE in tooltip
    assert highlight.forbidden_tooltip(_hit(True).to_dict()).startswith("服务忌语“不知道”（严重）")
    line = views.forbidden_line(stored, {})
    assert not line.certain and line.name == "可能是服务忌语" and line.severity == SEVERITY_LABELS["major"]
    assert views.forbidden_line({**stored, "certain": True}, {}).name == "服务忌语"
    # a score stored before the field existed is certain, as it was shown then
    assert views.forbidden_line({k: v for k, v in stored.items() if k != "certain"}, {}).certain


def test_terminal_practice_says_possibly() -> None:
    console = Console(record=True, width=110, force_terminal=True, color_system="standard", legacy_windows=False)
    entry = TerminalForbiddenLine("不知道", "不知道", "major", "推诿客户", "请稍等，我帮您查一下。", certain=False)
    console.print(render_turn_result(TurnView(1, 3, "我也不知道", EndReason.PAUSE, 2.0, forbidden=(entry,))))
    plain = console.export_text()
    assert "⚠ 可能是服务忌语：「不知道」" in plain and NOTE in plain
