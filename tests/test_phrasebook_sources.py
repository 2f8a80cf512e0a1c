"""Content true to the seeds: every required step of the shipped library names the norm clause it comes
from (`source:`), and a bad `source:` value is reported with its file, line and field."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from trainer.cli.phrasebook import render_scenario
from trainer.config import SHIPPED_PHRASEBOOKS, Settings
from trainer.phrasebook import Library, load_library

# The service norms the shipped phrasebooks cite, by the short name of each document (phrasebooks/README.md).
NORMS = (
    "供电营业厅窗口服务礼仪实训",
    "示范化供电营业厅管理组织标准规定",
    "供电客户现场服务的有关规定",
    "供水营业窗口仪表举止规范",
    "营业厅服务工作简要",
    "现场业务受理服务规范",
    "窗口服务管理制度",
    "营业厅标准化建设课纲",
    "燃气客服中心管理办法",
)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library([SHIPPED_PHRASEBOOKS], Settings().placeholders)


def test_every_required_step_names_its_source(library: Library) -> None:
    assert library.problems == (), "\n".join(map(str, library.problems))
    missing = [f"{s.id}.{step.id}" for s in library.scenarios.values() for step in s.steps if step.required and not step.source.strip()]
    assert not missing, f"required steps without source: {missing} — write the norm clause, or make the step required: false"


def test_sources_name_a_norm_document_not_a_file(library: Library) -> None:
    for scenario in library.scenarios.values():
        for step in scenario.steps:
            if not step.source:
                continue
            where = f"{scenario.id}.{step.id}: {step.source}"
            assert step.source.startswith(NORMS), where
            assert not re.search(r"[0-9a-f]{12}|\.txt\b", step.source), where


def test_the_six_steps_of_payment_are_required_and_the_payment_method_is_not(library: Library) -> None:
    payment = library.scenario("payment")
    six = {"greet": "一笑", "ask_business": "二问", "offer_seat": "三请坐", "state_bill": "四总", "sing_receive": "五处", "farewell": "六相送"}
    for step_id, name in six.items():
        step = payment.step(step_id)
        assert step.required and f"收费六步“{name}”" in step.source, step.source
    method = payment.step("ask_payment_method")  # not one of 收费六步: optional (issue 11, item 7)
    assert not method.required and method.source


VALID = """\
scenarios:
  - id: demo
    title: 演示收费
    role: counter
    brief: 收费。
    steps:
      - id: greet
        title: 问候
        source: 供电营业厅窗口服务礼仪实训·收费六步“一笑”
        phrases:
          - 您好！
      - id: bye
        title: 道别
        required: false
        phrases:
          - 再见！
"""
SOURCE_LINE = "        source: 供电营业厅窗口服务礼仪实训·收费六步“一笑”"


def load(tmp_path: Path, text: str) -> Library:
    (tmp_path / "book.yaml").write_text(text, encoding="utf-8")
    return load_library([tmp_path], {})


def test_source_is_read_and_defaults_to_empty(tmp_path: Path) -> None:
    library = load(tmp_path, VALID)
    assert library.problems == ()
    scenario = library.scenario("demo")
    assert scenario.step("greet").source == "供电营业厅窗口服务礼仪实训·收费六步“一笑”"
    assert scenario.step("greet").file == tmp_path / "book.yaml" and scenario.step("greet").line == 7
    assert scenario.step("bye").source == ""


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        pytest.param("\n          - 收费六步\n          - 一笑", "应为文字，实际是列表", id="list"),
        pytest.param(" [收费六步, 一笑]", "应为文字，实际是列表", id="flow-list"),
        pytest.param(" {文件: 实训, 条款: 一笑}", "应为文字，实际是映射", id="mapping"),
        pytest.param("", "不能为空", id="empty"),
        pytest.param(" 见{compnay}规定", "未知的占位符", id="unknown-placeholder"),
    ],
)
def test_bad_source_is_reported_with_its_line(tmp_path: Path, value: str, needle: str) -> None:
    text = VALID.replace(SOURCE_LINE, "        source:" + value)
    library = load(tmp_path, text)
    assert library.scenarios == {}, "a file with problems must be skipped as a whole"
    problem = library.problems[0]
    assert problem.path == tmp_path / "book.yaml"
    expected_line = 10 if value.startswith("\n") else 9  # a block list starts on the line after `source:`
    assert (problem.line, problem.field) == (expected_line, "scenarios[demo].steps[greet].source"), str(problem)
    assert needle in problem.message, problem.message


def test_show_prints_the_source_under_the_step(library: Library) -> None:
    out = io.StringIO()
    render_scenario(library.scenario("payment"), Console(file=out, width=400, highlight=False, color_system=None))
    text = out.getvalue()
    assert "依据：供电营业厅窗口服务礼仪实训·收费六步“二问”" in text
    assert text.count("依据：") == sum(1 for s in library.scenario("payment").steps if s.source)


def test_lexicon_synonyms_widen_key_words_and_cues_but_not_phrasings() -> None:
    from trainer.phrasebook.loader import expand_synonyms
    from trainer.phrasebook.model import Scenario, Step

    step = Step("sorry", "致歉", ("对不起，需要核实一下。",), keywords=(("对不起",), ("核实",)), cues=("暂时+无法",))
    widened = expand_synonyms(Scenario("s", "场景", "counter", "", (step,)), (("对不起", "不好意思"), ("无法", "没办法")))
    [out] = widened.steps
    assert out.keywords == (("对不起", "不好意思"), ("核实",))
    assert set(out.cues) == {"暂时+无法", "暂时+没办法"}
    assert out.all_phrasings == step.all_phrasings


def test_the_shipped_lexicon_says_sorry_in_everyday_words() -> None:
    from trainer.phrasebook.loader import library_from_settings

    library = library_from_settings(Settings())
    groups = [set(g) for g in library.lexicon.synonyms]
    assert any({"对不起", "抱歉", "不好意思"} <= g for g in groups)
    apology = library.scenario("hotline_callback").steps
    assert any("不好意思" in group for step in apology for group in step.keywords)
