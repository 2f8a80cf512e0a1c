"""Rendering smoke tests: the practice display renders with the documented colours and marks."""

from __future__ import annotations

from rich.console import Console

from trainer.endpoint import EndReason
from trainer.practice.ui import (
    AdviceTurn,
    FinalView,
    ForbiddenLine,
    LiveState,
    PracticeUI,
    StepLine,
    TurnView,
    render_final,
    render_live,
    render_turn_result,
)

# SGR codes as rich emits them with the standard colour system
GREEN, YELLOW, RED = "\x1b[1;32m", "\x1b[1;33m", "\x1b[1;31m"
WHITE_ON_RED = "\x1b[1;37;41m"


def console() -> Console:
    return Console(record=True, width=110, force_terminal=True, color_system="standard", legacy_windows=False)


def exported(renderable: object) -> tuple[str, str]:
    c = console()
    c.print(renderable)
    styled = c.export_text(styles=True, clear=False)
    return styled, c.export_text()


def test_turn_result_colours_hit_partial_missed_and_forbidden() -> None:
    view = TurnView(
        index=2,
        total=4,
        text="喂你找谁啊您好",
        end_reason=EndReason.PAUSE,
        seconds=2.4,
        steps=(
            StepLine("问候", "hit", expected="您好", said="您好"),
            StepLine("询问需求", "partial", expected="请问您办理什么业务？", said="办理什么"),
        ),
        forbidden=(ForbiddenLine("你找谁", "你找谁", "major", "生硬、不礼貌", "请问您找哪位？"),),
    )
    styled, plain = exported(render_turn_result(view))
    assert "✓ 问候" in plain and "◐ 询问需求" in plain
    assert "⚠ 服务忌语：「你找谁」" in plain and "应改说：“请问您找哪位？”" in plain
    assert "检测到停顿" in plain
    assert GREEN + "✓ 问候" in styled
    assert YELLOW + "◐ 询问需求" in styled
    assert WHITE_ON_RED + "⚠ 服务忌语" in styled


def test_turn_without_matches_says_so() -> None:
    _, plain = exported(render_turn_result(TurnView(1, 3, "", EndReason.NO_SPEECH, 15.0)))
    assert "没有识别到内容" in plain and "没有检测到说话" in plain and "本轮没有对上任何标准步骤" in plain


def test_final_panel_shows_score_verdict_steps_and_advice_by_turn() -> None:
    view = FinalView(
        total=62.5,
        passed=False,
        pass_mark=80.0,
        steps=(StepLine("问候", "hit", said="您好"), StepLine("唱收", "missed", expected="收您一百元。", tip="收钱时要唱收金额")),
        advice=(
            AdviceTurn(2, "给你一百。", "不知道", (
                ("forbidden", "服务忌语「不知道」（严重）：推诿。应改说：“我帮您查询一下”"),
                ("missed", "缺少步骤「唱收」：应说“收您一百元。”；提示：收钱时要唱收金额"),
            )),
            AdviceTurn(None, items=(("amounts", "唱收唱付没有做到位"),)),
        ),
        dimensions={"coverage": 50.0, "politeness": 45.0},
        completed_turns=3,
        total_turns=10,
    )
    styled, plain = exported(render_final(view))
    assert "总分 62.5" in plain and "合格线 80" in plain and "不合格" in plain
    assert "只完成了 3/10 轮" in plain
    # the standard phrasing once (in the advice of its turn), not again under the checklist
    assert plain.count("收您一百元。") == 1 and "提示：收钱时要唱收金额" in plain
    assert plain.index("逐轮建议") < plain.index("第 2 轮") < plain.index("顾客：给你一百。") < plain.index("你说：“不知道”")
    assert plain.index("你说：“不知道”") < plain.index("整体建议") < plain.index("唱收唱付没有做到位")
    assert plain.count("不知道」") == 1 and "改进建议" not in plain
    assert "用语覆盖" in plain and "礼貌用语" in plain and "coverage" not in plain and "politeness" not in plain
    assert "45（90 × 50%）" in plain and "按完成的用语比例折算" in plain
    assert RED + "✗ 唱收" in styled and RED + "不合格" in styled
    assert WHITE_ON_RED + "⚠ 服务忌语「不知道」（严重）" in styled

    passed, plain = exported(render_final(FinalView(91.0, True, 80.0, (StepLine("问候", "hit"),))))
    assert GREEN + "合格" in passed and "表现很好" in plain


def test_live_panel_meter_and_partial_text() -> None:
    state = LiveState(3, 10, live_input=True, level_dbfs=-20.0, speaking=True, speech_started=True, elapsed=2.3,
                      final_text="您好请问", partial_text="您是来交")  # fmt: skip
    styled, plain = exported(render_live(state))
    assert "第 3/10 轮" in plain and "正在说话" in plain and "您好请问您是来交" in plain
    assert "按 Enter 结束本轮回答" in plain
    assert "━" in plain  # the level meter bar
    assert "\x1b[32m━" in styled  # green while speaking
    assert "\x1b[1;37m您好请问" in styled  # settled text bold white
    assert "\x1b[3;" in styled  # the still-changing text is italic

    quiet = LiveState(1, 2, live_input=False, level_dbfs=-80.0, speech_started=True, silence=0.6, pause_seconds=1.0)
    _, plain = exported(render_live(quiet))
    assert "停顿 0.6 / 1.0 秒" in plain and "按 Enter" not in plain

    loud, _ = exported(render_live(LiveState(1, 2, live_input=True, level_dbfs=-0.5, speaking=True)))
    assert "\x1b[31m━" in loud  # clipping: red meter


def test_practice_ui_prints_through_a_recording_console() -> None:
    c = console()
    ui = PracticeUI(c)
    ui.show_brief("收费", "顾客来交电费。", "麦克风：USB", 10, 1.0)
    ui.show_customer(1, 10, "我来交电费。", "问候")
    with ui.recording(LiveState(1, 10, live_input=True)) as live:
        live.update(final_text="您好", partial_text="")
        live.recognising()
    ui.notice("已保存")
    text = c.export_text()
    assert "场景：收费" in text and "共 10 轮" in text and "麦克风：USB" in text
    assert "顾客：“我来交电费。”" in text and "已保存" in text
