"""The customer reacts: `reactions` in scenario YAML (validation) and `trainer.dialogue` (the next line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.config import load_settings
from trainer.dialogue import (
    Cue,
    first_cue,
    line_parts,
    next_cue,
    played_scenario,
    reaction_kind,
    remaining_turns,
    spoken_text,
)
from trainer.phrasebook import library_from_settings, load_library
from trainer.phrasebook.model import PhrasebookProblem, Scenario

PLACEHOLDERS = {"company": "测试供电公司", "hotline": "95598"}


def step(sid: str, customer: str = "", extra: bool = False, reactions: str = "") -> str:
    text = f"""\
      - id: {sid}
        title: 步骤{sid}
        customer: {customer or '（无）'}
        phrases:
          - 您好，{sid}。
"""
    if extra:
        text += "        extra: true\n"
    if reactions:
        text += "        reactions:\n" + "".join(f"          {line}\n" for line in reactions.strip("\n").split("\n"))
    return text


def book(*steps: str) -> str:
    return """\
scenarios:
  - id: demo
    title: 演示
    role: counter
    brief: 演示场景。
    steps:
""" + "".join(steps)


GOOD = book(
    step("greet", "（客户走来）", reactions="forbidden:\n  customer: 你这什么态度！\n  insert: calm\nmissed: 有人吗？\nwell: （客户点头）"),
    step("ask", "我来交电费。", reactions="forbidden: {customer: 你怎么说话的！, insert: calm}"),
    step("bye", "谢谢。", reactions="forbidden:\n  insert: calm"),
    step("calm", "（客户很生气）", extra=True, reactions="well: （客户消了气）好吧。\nmissed: 连句道歉都没有？"),
)


def load(tmp_path: Path, text: str):
    (tmp_path / "book.yaml").write_text(text, encoding="utf-8")
    return load_library([tmp_path], PLACEHOLDERS)


def problems(tmp_path: Path, text: str) -> list[PhrasebookProblem]:
    library = load(tmp_path, text)
    assert not library.scenarios, "a file with errors is skipped"
    return list(library.problems)


@pytest.fixture()
def demo(tmp_path: Path) -> Scenario:
    library = load(tmp_path, GOOD)
    assert library.problems == ()
    return library.scenario("demo")


# --------------------------------------------------------------------------- parsing and validation


def test_reactions_are_parsed_and_extra_steps_kept_apart(demo: Scenario) -> None:
    assert [s.id for s in demo.steps] == ["greet", "ask", "bye"]
    assert [s.id for s in demo.extra_steps] == ["calm"]
    greet = demo.step("greet")
    assert greet.reactions.forbidden is not None and greet.reactions.forbidden.insert == "calm"
    assert greet.reactions.forbidden.line == "你这什么态度！"
    assert greet.reactions.missed is not None and greet.reactions.missed.line == "有人吗？" and not greet.reactions.missed.insert
    assert demo.step("calm").extra and demo.reacts


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), start=1) if needle in line)


def test_unknown_insert_is_named_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("insert: calm", "insert: clam", 1)
    (problem,) = problems(tmp_path, text)
    assert problem.line == _line_of(text, "insert: clam")
    assert problem.field == "scenarios[demo].steps[greet].reactions.forbidden.insert"
    assert "未知的步骤 id“clam”" in problem.message and "calm" in problem.message


def test_insert_of_a_script_step_is_refused(tmp_path: Path) -> None:
    text = book(step("greet", "（来）", reactions="forbidden: {insert: ask}"), step("ask", "交费。"))
    (problem,) = problems(tmp_path, text)
    assert problem.field.endswith("[greet].reactions.forbidden.insert")
    assert "本来就有的步骤" in problem.message and problem.line == _line_of(text, "insert: ask")


def test_a_loop_of_inserted_steps_is_refused(tmp_path: Path) -> None:
    text = book(
        step("greet", "（来）", reactions="forbidden: {insert: calm}"),
        step("ask", "交费。"),
        step("calm", "（生气）", extra=True, reactions="missed: {insert: sorry}"),
        step("sorry", "（更生气）", extra=True, reactions="missed: {customer: 还不道歉？, insert: calm}"),
    )
    (problem,) = problems(tmp_path, text)
    assert "循环" in problem.message and "calm → sorry → calm" in problem.message
    assert problem.field == "scenarios[demo].steps[sorry].reactions.missed.insert"
    assert problem.line == _line_of(text, "还不道歉")


def test_a_step_inserting_itself_is_a_loop(tmp_path: Path) -> None:
    text = book(
        step("greet", "（来）", reactions="forbidden: {insert: calm}"),
        step("ask", "交费。"),
        step("calm", "（生气）", extra=True, reactions="missed: {customer: 道歉！, insert: calm}"),
    )
    (problem,) = problems(tmp_path, text)
    assert "循环（calm → calm）" in problem.message


def test_an_extra_step_nobody_inserts_is_unreachable(tmp_path: Path) -> None:
    text = book(step("greet", "（来）"), step("ask", "交费。"), step("calm", "（生气）", extra=True))
    (problem,) = problems(tmp_path, text)
    assert problem.field.endswith("[calm].extra") and "不会出现在对话里" in problem.message
    assert problem.line == _line_of(text, "- id: calm")


def test_an_extra_step_inserted_only_by_an_unreachable_one_is_unreachable(tmp_path: Path) -> None:
    text = book(
        step("greet", "（来）"),
        step("ask", "交费。"),
        step("calm", "（生气）", extra=True, reactions="missed: {insert: sorry}"),
        step("sorry", "（更生气）", extra=True),
    )
    found = problems(tmp_path, text)
    assert {p.field.split(".")[-2].split("[")[-1].rstrip("]") for p in found} == {"calm", "sorry"}


def test_a_line_after_the_last_step_is_unreachable(tmp_path: Path) -> None:
    text = book(step("greet", "（来）"), step("bye", "谢谢。", reactions="well: （客户笑了）"))
    (problem,) = problems(tmp_path, text)
    assert problem.field.endswith("[bye].reactions.well") and "永远不会说出来" in problem.message
    assert problem.line == _line_of(text, "well: （客户笑了）")


def test_an_extra_steps_own_line_replaced_by_every_insert_is_unreachable(tmp_path: Path) -> None:
    text = book(
        step("greet", "（来）", reactions="forbidden: {customer: 什么态度！, insert: calm}"),
        step("ask", "交费。"),
        step("calm", "（生气）", extra=True),
    )
    (problem,) = problems(tmp_path, text)
    assert problem.field.endswith("[calm].customer") and "永远不会说出来" in problem.message


@pytest.mark.parametrize(
    ("reactions", "message"),
    [
        ("angry: 哼", "未知字段“angry”"),
        ("missed: {}", "至少写 customer"),
        ("missed:", "不能为空"),
        ("well: {customer: 好, jump: greet}", "未知字段“jump”"),
        ("missed: {insert: 不对}", "id“不对”无效"),
    ],
)
def test_malformed_reactions_are_reported(tmp_path: Path, reactions: str, message: str) -> None:
    text = book(step("greet", "（来）", reactions=reactions), step("ask", "交费。"))
    found = problems(tmp_path, text)
    assert any(message in p.message for p in found), found


def test_shipped_library_has_reactions_in_at_least_six_scenarios() -> None:
    library = library_from_settings(load_settings())
    assert library.problems == ()
    reacting = {sid for sid, s in library.scenarios.items() if s.reacts}
    assert {"complaint", "wrong_number", "payment", "fault_report"} <= reacting
    assert len(reacting) >= 6
    # the complaint escalation inserts an apology step
    complaint = library.scenario("complaint")
    forbidden = complaint.step("soothe").reactions.forbidden
    assert forbidden is not None and complaint.step(forbidden.insert).extra


# --------------------------------------------------------------------------- the next line


def score(steps: dict[str, tuple[str, int | None]], forbidden_turns: tuple[int, ...] = ()) -> dict:
    return {
        "steps": [{"id": sid, "status": status, "turn": turn} for sid, (status, turn) in steps.items()],
        "forbidden": [{"id": "x", "turn": t} for t in forbidden_turns],
    }


def test_reaction_kind_order(demo: Scenario) -> None:
    assert reaction_kind("greet", 1, score({"greet": ("hit", 1)}, (1,))) == "forbidden"
    assert reaction_kind("greet", 1, score({"greet": ("missed", None)})) == "missed"
    assert reaction_kind("greet", 1, score({"greet": ("hit", 1)})) == "well"
    assert reaction_kind("greet", 2, score({"greet": ("hit", 1)})) == ""  # done earlier, not in this turn
    assert reaction_kind("greet", 1, score({"greet": ("partial", 1)})) == ""
    assert reaction_kind("greet", 2, score({"greet": ("hit", 2)}, (1,))) == "well"  # a 忌语 of another turn


def test_scripted_path_without_reactions(demo: Scenario) -> None:
    cue = first_cue(demo)
    assert cue == Cue("greet", "（客户走来）")
    after = next_cue(demo, [cue], score({"greet": ("partial", 1)}))
    assert after == Cue("ask", "我来交电费。")
    last = next_cue(demo, [cue, after], score({"greet": ("partial", 1), "ask": ("partial", 2)}))
    assert last == Cue("bye", "谢谢。")
    assert next_cue(demo, [cue, after, last], score({"bye": ("hit", 3)})) is None


def test_missed_and_well_lines_come_before_the_next_steps_line(demo: Scenario) -> None:
    cue = first_cue(demo)
    assert next_cue(demo, [cue], score({"greet": ("missed", None)})) == Cue("ask", "有人吗？我来交电费。", "greet.missed")
    assert next_cue(demo, [cue], score({"greet": ("hit", 1)})) == Cue("ask", "（客户点头）我来交电费。", "greet.well")


def test_forbidden_inserts_the_extra_step_then_the_script_goes_on(demo: Scenario) -> None:
    cues = [first_cue(demo)]
    escalated = next_cue(demo, cues, score({"greet": ("hit", 1)}, (1,)))
    assert escalated == Cue("calm", "你这什么态度！", "greet.forbidden")
    cues.append(escalated)
    calmed = next_cue(demo, cues, score({"greet": ("hit", 1), "calm": ("hit", 2)}, (1,)))
    assert calmed == Cue("ask", "（客户消了气）好吧。我来交电费。", "calm.well")
    cues.append(calmed)
    # the played scenario scores the inserted step, in the order it was asked
    played = played_scenario(demo, cues)
    assert [s.id for s in played.steps] == ["greet", "calm", "ask", "bye"]
    assert remaining_turns(demo, cues[:2], calmed) == 4


def test_insert_without_a_line_uses_the_extra_steps_own_line(demo: Scenario) -> None:
    cues = [Cue("greet", ""), Cue("ask", ""), Cue("bye", "谢谢。")]
    escalated = next_cue(demo, cues, score({"bye": ("hit", 3)}, (3,)))
    assert escalated == Cue("calm", "（客户很生气）", "bye.forbidden")
    # after an extra step inserted after the last step the dialogue ends
    assert next_cue(demo, [*cues, escalated], score({"calm": ("hit", 4)})) is None


def test_the_same_extra_step_asked_twice_is_scored_once(demo: Scenario) -> None:
    cues = [Cue("greet", ""), Cue("calm", ""), Cue("ask", ""), Cue("calm", "")]
    assert [s.id for s in played_scenario(demo, cues).steps] == ["greet", "calm", "ask", "bye"]


def test_stage_directions_are_shown_not_spoken() -> None:
    line = "（客户冷笑一声）连句对不起都没有？（转身）算了。"
    assert line_parts(line) == [("（客户冷笑一声）", True), ("连句对不起都没有？", False), ("（转身）", True), ("算了。", False)]
    assert spoken_text(line) == "连句对不起都没有？算了。"
    assert spoken_text("（递上客户服务卡）") == ""


def test_record_dialogue_reads_the_stored_path() -> None:
    from trainer.dialogue import record_dialogue

    extra = {"dialogue": [Cue("greet", "（来）").to_dict(), Cue("calm", "什么态度！", "greet.forbidden").to_dict()]}
    assert record_dialogue(extra, 2) == [("greet", ""), ("calm", "greet.forbidden")]
    assert record_dialogue(extra, 3) == []  # does not match the turns: not shown
    assert record_dialogue({}, 2) == [] and record_dialogue({"dialogue": "x"}, 1) == []


def test_phrasebook_show_lists_the_reactions_and_extra_steps(capsys: pytest.CaptureFixture[str]) -> None:
    from trainer.cli import main

    assert main(["phrasebook", "show", "complaint"]) == 0
    out = capsys.readouterr().out.replace("\n", "")
    assert "客户反应（说了忌语）：“你这什么态度！我要找你们领导！”，并要求先做「再次致歉安抚（客户被激怒后）」" in out.replace(" ", "")
    assert "补救步骤" in out and "（deescalate）" in out
