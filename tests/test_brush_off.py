"""A 服务忌语 that still meets a step's purpose (ForbiddenEntry.performs): the step is performed, in the
wrong manner, and the performance fails on the 忌语 — never on a "missing" step (issue: performed vs. manner)."""

from __future__ import annotations

import pytest

from trainer.pipeline import load_library, score_text
from trainer.config import load_settings
from trainer.scoring.result import EVIDENCE_BRUSH_OFF


@pytest.fixture(scope="module")
def library():  # type: ignore[no-untyped-def]
    return load_library(load_settings())


def test_a_curt_command_performs_the_step_and_fails_on_manner(library) -> None:  # type: ignore[no-untyped-def]
    result = score_text(["真整错了，对不起！我马上给您改。", "行，等着。", "改好了，请您核对一下。", "您慢走。"], "work_error", library=library)
    wait = result.step("ask_wait")
    assert (wait.status, wait.evidence, wait.turn) == ("hit", EVIDENCE_BRUSH_OFF, 2)
    assert "等着吧" in wait.manner and "请客户稍候" in wait.manner
    assert [h.id for h in result.forbidden] == ["just_wait"]
    assert result.decision == "fail"
    assert any("服务忌语「等着吧」" in r for r in result.fail_reasons)
    assert not any("漏掉" in r for r in result.fail_reasons)
    # the trainee reads the manner finding, not "the machine may have misheard"
    assert not any("可能没听清" in line for line in result.feedback)
    assert any("做到了「请客户稍候」，但说的是服务忌语「等着吧」" in line for line in result.feedback)


def test_the_same_words_inside_polite_speech_are_not_a_brush_off(library) -> None:  # type: ignore[no-untyped-def]
    for text in ("您稍等着，我马上给您改。", "让您等着急了，我马上给您改。", "您先等着，办好了叫您。"):
        result = score_text(["真整错了，对不起！", text, "改好了，请您核对一下。", "您慢走，再见。"], "work_error", library=library)
        assert result.forbidden == (), text
        assert result.step("ask_wait").evidence != EVIDENCE_BRUSH_OFF, text


def test_a_step_performed_properly_keeps_its_own_evidence(library) -> None:  # type: ignore[no-untyped-def]
    result = score_text(["您好，请坐。请问您办理什么业务？户号多少？这个月电费一百元。收您一百元，刚好。您慢走，再见。行了，走吧。"], "payment", library=library)
    farewell = result.step("farewell")
    assert farewell.evidence != EVIDENCE_BRUSH_OFF and "服务忌语" not in farewell.manner
    assert [h.id for h in result.forbidden] == ["go_away"]  # the 忌语 still counts


@pytest.mark.parametrize(
    ("turns", "scenario", "step_id", "entry"),
    [
        (["您好，请坐。请问您办理什么业务？", "户号多少？这个月电费一百元。收您一百元，刚好。", "行了，走吧。"], "payment", "farewell", "go_away"),
        (["嗯。干啥的？", "身份证给我。收到了，请您稍等。", "好了，证件还您，这里签字。您慢走。"], "business", "ask_need", "what_for"),
    ],
)
def test_each_shipped_brush_off_performs_its_step(library, turns: list[str], scenario: str, step_id: str, entry: str) -> None:  # type: ignore[no-untyped-def]
    result = score_text(turns, scenario, library=library)
    assert result.step(step_id).evidence == EVIDENCE_BRUSH_OFF
    assert entry in [h.id for h in result.forbidden]
    assert result.decision == "fail"


def test_a_brush_off_naming_a_step_the_scenario_lacks_changes_nothing(library) -> None:  # type: ignore[no-untyped-def]
    # 自己看 performs 请客户核对更正结果 (work_error); payment has no such step
    result = score_text(["您好，请坐。请问您办理什么业务？户号多少？这个月电费一百元，自己看。收您一百元，刚好。您慢走。"], "payment", library=library)
    assert "look_yourself" in [h.id for h in result.forbidden]
    assert all(s.evidence != EVIDENCE_BRUSH_OFF for s in result.steps)
