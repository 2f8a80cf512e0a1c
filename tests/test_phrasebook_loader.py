"""Loader validation: one broken file per error kind, each reported with its file, line and field."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from trainer.config import Settings
from trainer.phrasebook import check_paths, library_from_settings, load_library
from trainer.phrasebook.model import PhrasebookProblem

PLACEHOLDERS = {"company": "测试供电公司", "hotline": "95598"}

VALID = """\
scenarios:
  - id: demo
    title: 演示收费
    role: counter
    domain: power
    difficulty: 1
    brief: 在{company}收费。
    steps:
      - id: greet
        title: 问候
        customer: （客户走来）
        phrases:
          - 您好！
        keywords:
          - [您好, 你好]
        tip: 先问好。
      - id: sing_receive
        title: 唱收
        weight: 2
        slots:
          - name: received
            kind: amount
        phrases:
          - 收您{received}元。
        variants:
          - 收到您{received}元。
        keywords:
          - 收
"""

FORBIDDEN = """\
forbidden:
  - id: wei
    phrase: 喂
    severity: major
    reason: 不礼貌
    replacement: 您好，{company}
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def marked(text: str) -> tuple[str, int]:
    """Remove the `#<` marker and return the 1-based line it was on."""
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if "#<" in line:
            lines[number - 1] = line.replace("#<", "").rstrip()
            return "\n".join(lines) + "\n", number
    raise AssertionError("no #< marker in test YAML")


def only_problem(tmp_path: Path, text: str | bytes) -> PhrasebookProblem:
    write(tmp_path, "book.yaml", text)
    library = load_library([tmp_path], PLACEHOLDERS)
    assert library.scenarios == {}, "a file with problems must be skipped as a whole"
    assert len(library.problems) >= 1
    return library.problems[0]


def test_valid_file_loads_with_placeholders_filled(tmp_path: Path) -> None:
    write(tmp_path, "book.yaml", VALID)
    library = load_library([tmp_path], PLACEHOLDERS)
    assert library.problems == ()
    scenario = library.scenario("demo")
    assert scenario.brief == "在测试供电公司收费。"
    assert scenario.line == 2 and scenario.source == tmp_path / "book.yaml"
    receive = scenario.step("sing_receive")
    assert receive.phrases == ("收您{received}元。",)  # slot placeholders stay in the text
    assert receive.keywords == (("收",),)
    assert receive.weight == 2.0 and receive.line == 17
    assert scenario.step("greet").keywords == (("您好", "你好"),)
    assert len(library.version) == 12


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param(VALID.replace("        tip: 先问好。", "        tip: 先问好。\n        tipp: 打错字段 #<"), "scenarios[demo].steps[greet].tipp", id="unknown-field"),
        pytest.param(VALID.replace("    domain: power", "    domian: power #<"), "scenarios[demo].domian", id="unknown-field-scenario"),
        pytest.param(VALID.replace("        weight: 2", "        weight: 0 #<"), "scenarios[demo].steps[sing_receive].weight", id="weight-zero"),
        pytest.param(VALID.replace("        weight: 2", "        weight: -1.5 #<"), "scenarios[demo].steps[sing_receive].weight", id="weight-negative"),
        pytest.param(VALID.replace("        weight: 2", "        weight: 很重要 #<"), "scenarios[demo].steps[sing_receive].weight", id="weight-not-number"),
        pytest.param(VALID.replace("    role: counter", "    role: teller #<"), "scenarios[demo].role", id="bad-role"),
        pytest.param(VALID.replace("            kind: amount", "            kind: money #<"), "scenarios[demo].steps[sing_receive].slots[0].kind", id="bad-slot-kind"),
        pytest.param(VALID.replace("    difficulty: 1", "    difficulty: 5 #<"), "scenarios[demo].difficulty", id="bad-difficulty"),
        pytest.param(VALID.replace("          - 您好！", '          - "  " #<'), "scenarios[demo].steps[greet].phrases[0]", id="empty-phrase"),
        pytest.param(VALID.replace("          - 您好！", "          - #<"), "scenarios[demo].steps[greet].phrases[0]", id="null-phrase"),
        pytest.param(VALID.replace("        phrases:\n          - 您好！", "        phrases: 您好！ #<"), "scenarios[demo].steps[greet].phrases", id="phrases-not-list"),
        pytest.param(VALID.replace("        phrases:\n          - 您好！", "        phrases: [] #<"), "scenarios[demo].steps[greet].phrases", id="phrases-empty-list"),
        pytest.param(VALID.replace("      - id: greet\n        title: 问候\n", "      - id: greet #<\n"), "scenarios[demo].steps[greet].title", id="missing-title"),
        pytest.param(VALID.replace("          - 您好！", "          - 您好，{compnay}！ #<"), "scenarios[demo].steps[greet].phrases[0]", id="unknown-placeholder"),
        pytest.param(VALID.replace("          - 您好！", "          - 收您{bill}元。 #<"), "scenarios[demo].steps[greet].phrases[0]", id="undeclared-slot"),
        pytest.param(VALID.replace("    brief: 在{company}收费。", "    brief: 收您{received}元。 #<"), "scenarios[demo].brief", id="slot-outside-phrases"),
        pytest.param(VALID.replace("          - 您好！", "          - 您好{ #<"), "scenarios[demo].steps[greet].phrases[0]", id="unbalanced-brace"),
        pytest.param(VALID.replace("          - 收到您{received}元。", "          - 收到了。 #<"), "scenarios[demo].steps[sing_receive].variants[0]", id="slot-missing-in-variant"),
        pytest.param(VALID.replace("          - 收到您{received}元。", "          - 给您{received}元。 #<"), "scenarios[demo].steps[sing_receive].variants[0]", id="keyword-missing-in-variant"),
        pytest.param(VALID.replace("          - [您好, 你好]", "          - [] #<"), "scenarios[demo].steps[greet].keywords[0]", id="empty-keyword-group"),
        pytest.param(VALID.replace("          - 收到您{received}元。", "          - 收您{received}元。 #<"), "scenarios[demo].steps[sing_receive].variants[0]", id="duplicate-phrasing"),
        pytest.param(VALID.replace("        title: 唱收", "        title: 唱收\n        required: 是 #<"), "scenarios[demo].steps[sing_receive].required", id="required-not-bool"),
        pytest.param(VALID.replace("        title: 唱收", "        title: 唱收\n        restates: 对 #<"), "scenarios[demo].steps[sing_receive].restates", id="restates-not-bool"),
        pytest.param(VALID.replace("        title: 唱收", "        title: 唱收\n        restates_numbers: 对 #<"), "scenarios[demo].steps[sing_receive].restates_numbers", id="restates-numbers-not-bool"),
        pytest.param(VALID.replace("        title: 唱收", "        title: 唱收\n        on_handover: 谢谢 #<"), "scenarios[demo].steps[sing_receive].on_handover", id="on-handover-not-list"),
        pytest.param(VALID.replace("        title: 唱收", "        title: 唱收\n        on_handover: [谢谢, 谢谢] #<"), "scenarios[demo].steps[sing_receive].on_handover[1]", id="on-handover-duplicate"),
        pytest.param(VALID.replace("      - id: sing_receive", "      - id: greet #<"), "scenarios[demo].steps[greet].id", id="duplicate-step-id"),
        pytest.param(VALID.replace("      - id: sing_receive", "      - id: Sing-Receive #<"), "scenarios[demo].steps[Sing-Receive].id", id="bad-step-id"),
        pytest.param(VALID.replace("        tip: 先问好。", "        tip: 先问好。\n        tip: 再问好。 #<"), "scenarios[demo].steps[greet].tip", id="duplicate-yaml-key"),
        pytest.param(VALID.replace("          - name: received", "          - name: company #<"), "scenarios[demo].steps[sing_receive].slots[0].name", id="slot-shadows-config"),
        pytest.param(VALID + "  - id: demo #<\n    title: 又一个\n    role: counter\n    brief: 重复\n    steps:\n      - id: a\n        title: a\n        phrases: [您好]\n", "scenarios[demo].id", id="duplicate-scenario-id"),
        pytest.param("scenarioz: [] #<\n", "scenarioz", id="unknown-top-level"),
        pytest.param("- just\n- a list #<\n".replace(" #<", ""), "", id="root-not-mapping"),
    ],
)
def test_broken_file_reports_line_and_field(tmp_path: Path, text: str, field: str) -> None:
    if "#<" in text:
        text, line = marked(text)
    else:
        line = 1
    problem = only_problem(tmp_path, text)
    assert problem.path == tmp_path / "book.yaml"
    assert (problem.line, problem.field) == (line, field), str(problem)
    assert problem.message and not problem.message.isascii(), "messages are Chinese"


GREET_TIP = "        tip: 先问好。"
RECEIVE_KEYWORDS = "        keywords:\n          - 收\n"


def with_cues(step_anchor: str, *lines: str) -> str:
    """VALID with a `cues:` list added after `step_anchor` (one YAML line per item)."""
    block = "\n        cues:" + "".join("\n          - " + line for line in lines)
    return VALID.replace(step_anchor, step_anchor + block, 1)


def test_cues_load_with_placeholders_filled(tmp_path: Path) -> None:
    write(tmp_path, "book.yaml", with_cues(GREET_TIP, "您好", "欢迎+来到+{company}", '" 办 + 什么 "', "= 再会", "… 好"))
    library = load_library([tmp_path], PLACEHOLDERS)
    assert library.problems == ()
    greet = library.scenario("demo").step("greet")
    assert greet.cues == ("您好", "欢迎+来到+测试供电公司", "办+什么", "=再会", "…好")
    assert greet.cue_words[2] == ("办", "什么")
    assert library.scenario("demo").step("sing_receive").cues == ()


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        pytest.param(VALID.replace(GREET_TIP, GREET_TIP + "\n        cues: 办+什么 #<"), "scenarios[demo].steps[greet].cues", "列表", id="cues-not-list"),
        pytest.param(with_cues(GREET_TIP, "[办, 什么] #<"), "scenarios[demo].steps[greet].cues[0]", "文字", id="cue-not-text"),
        pytest.param(with_cues(GREET_TIP, '"" #<'), "scenarios[demo].steps[greet].cues[0]", "空", id="empty-cue"),
        pytest.param(with_cues(GREET_TIP, "办++什么 #<"), "scenarios[demo].steps[greet].cues[0]", "空词", id="cue-empty-word"),
        pytest.param(with_cues(GREET_TIP, "+办+什么 #<"), "scenarios[demo].steps[greet].cues[0]", "空词", id="cue-leading-plus"),
        pytest.param(with_cues(GREET_TIP, "办+什么+ #<"), "scenarios[demo].steps[greet].cues[0]", "空词", id="cue-trailing-plus"),
        pytest.param(with_cues(GREET_TIP, "请问您今天来办理什么业务 #<"), "scenarios[demo].steps[greet].cues[0]", "太长", id="cue-word-too-long"),
        pytest.param(with_cues(RECEIVE_KEYWORDS.rstrip("\n"), "收您+{received} #<"), "scenarios[demo].steps[sing_receive].cues[0]", "空位", id="cue-slot-placeholder"),
        pytest.param(with_cues(GREET_TIP, "欢迎+{compnay} #<"), "scenarios[demo].steps[greet].cues[0]", "未知的占位符", id="cue-unknown-placeholder"),
        pytest.param(with_cues(GREET_TIP, "办+什么", "办 + 什么 #<"), "scenarios[demo].steps[greet].cues[1]", "重复", id="duplicate-cue"),
        pytest.param(with_cues(GREET_TIP, "好+= #<"), "scenarios[demo].steps[greet].cues[0]", "后面没有词", id="cue-exact-mark-alone"),
        pytest.param(with_cues(GREET_TIP, "… #<"), "scenarios[demo].steps[greet].cues[0]", "称呼", id="cue-address-alone"),
        pytest.param(with_cues(GREET_TIP, "好… #<"), "scenarios[demo].steps[greet].cues[0]", "只能写在开头", id="cue-address-at-end"),
        pytest.param(with_cues(GREET_TIP, "…请+坐 #<"), "scenarios[demo].steps[greet].cues[0]", "后面跟一个词", id="cue-address-two-words"),
    ],
)
def test_broken_cues_report_line_and_field(tmp_path: Path, text: str, field: str, needle: str) -> None:
    text, line = marked(text)
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.field) == (line, field), str(problem)
    assert needle in problem.message, problem.message


def test_missing_required_field_is_reported_at_the_mapping(tmp_path: Path) -> None:
    text, line = marked(VALID.replace("  - id: demo\n    title: 演示收费\n", "  - id: demo #<\n"))
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.field) == (line, "scenarios[demo].title")
    assert "缺少必填字段" in problem.message


def test_unknown_field_suggests_the_close_name(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, VALID.replace("        tip: 先问好。", "        tipp: 先问好。"))
    assert "tip" in problem.message and "是不是想写" in problem.message


def test_unknown_placeholder_message_lists_known_ones(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, VALID.replace("          - 您好！", "          - 您好，{compnay}！"))
    assert "{compnay}" in problem.message and "{company}" in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("scenarios:\n  - id: demo\n    title: 演示: 收费\n", 3, id="colon-in-plain-text"),
        pytest.param("scenarios:\n  - id: demo\n\ttitle: tab\n", 3, id="tab-indent"),
        pytest.param('forbidden:\n  - id: "wei\n    phrase: 喂\n', 2, id="unclosed-quote"),
        pytest.param("scenarios: []\n---\nforbidden: []\n", 2, id="two-documents"),
    ],
)
def test_yaml_syntax_error_reports_the_marked_line(tmp_path: Path, text: str, line: int) -> None:
    problem = only_problem(tmp_path, text)
    assert problem.line == line, str(problem)
    assert problem.message.startswith("YAML 语法错误")


def test_empty_file_and_non_utf8_file(tmp_path: Path) -> None:
    assert "空" in only_problem(tmp_path / "a", "# 只有注释\n").message
    problem = only_problem(tmp_path / "b", "scenarios: []\n# 注释\n".encode() + "title: 你好\n".encode("gbk"))
    assert problem.line == 3 and "UTF-8" in problem.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param(FORBIDDEN.replace("    severity: major", "    severity: fatal #<"), "forbidden[wei].severity", id="bad-severity"),
        pytest.param(FORBIDDEN.replace("    reason: 不礼貌\n", "") .replace("  - id: wei", "  - id: wei #<"), "forbidden[wei].reason", id="missing-reason"),
        pytest.param(FORBIDDEN + "    exceptions: [您好呀] #<\n", "forbidden[wei].exceptions[0]", id="exception-without-phrase"),
        pytest.param(FORBIDDEN + "  - id: wei #<\n    phrase: 喂喂\n    severity: minor\n    reason: x\n    replacement: 您好\n", "forbidden[wei].id", id="duplicate-forbidden-id"),
        pytest.param(FORBIDDEN.replace("    phrase: 喂", "    phrase: '' #<"), "forbidden[wei].phrase", id="empty-forbidden-phrase"),
        pytest.param(FORBIDDEN.replace("    replacement: 您好，{company}", "    replacement: 您好，{boss} #<"), "forbidden[wei].replacement", id="forbidden-unknown-placeholder"),
    ],
)
def test_broken_forbidden_entry(tmp_path: Path, text: str, field: str) -> None:
    text, line = marked(text)
    write(tmp_path, "book.yaml", text)
    library = load_library([tmp_path], PLACEHOLDERS)
    assert library.forbidden == ()
    problem = library.problems[0]
    assert (problem.line, problem.field) == (line, field), str(problem)


def test_forbidden_entry_naming_unknown_scenario_is_checked_after_all_files(tmp_path: Path) -> None:
    # forbidden file sorts before the scenario file: the reference to "demo" must still resolve.
    text = FORBIDDEN + "    scenarios: [demo, nosuch] #<\n"
    text, line = marked(text)
    write(tmp_path, "a_forbidden.yaml", text)
    write(tmp_path, "b_scenarios.yaml", VALID)
    library = load_library([tmp_path], PLACEHOLDERS)
    assert "demo" in library.scenarios  # the good file still loads
    assert library.forbidden == ()  # the file with the bad reference is skipped
    [problem] = library.problems
    assert (problem.path.name, problem.line, problem.field) == ("a_forbidden.yaml", line, "forbidden[wei].scenarios")
    assert "nosuch" in problem.message

    write(tmp_path, "a_forbidden.yaml", FORBIDDEN + "    scenarios: [demo]\n")
    library = load_library([tmp_path], PLACEHOLDERS)
    assert library.problems == () and library.forbidden[0].scenarios == ("demo",)
    assert library.forbidden_for("demo") and not library.forbidden_for("other")


def test_forbidden_entry_performing_an_unknown_step_is_checked_after_all_files(tmp_path: Path) -> None:
    # performs names step ids of any file's scenarios: "greet" is in the later file, "nosuch" nowhere
    text, line = marked(FORBIDDEN + "    performs: [greet, nosuch] #<\n")
    write(tmp_path, "a_forbidden.yaml", text)
    write(tmp_path, "b_scenarios.yaml", VALID)
    library = load_library([tmp_path], PLACEHOLDERS)
    assert "demo" in library.scenarios and library.forbidden == ()
    [problem] = library.problems
    assert (problem.path.name, problem.line, problem.field) == ("a_forbidden.yaml", line, "forbidden[wei].performs")
    assert "nosuch" in problem.message and "步骤" in problem.message

    write(tmp_path, "a_forbidden.yaml", FORBIDDEN + "    performs: [greet]\n")
    library = load_library([tmp_path], PLACEHOLDERS)
    assert library.problems == () and library.forbidden[0].performs == ("greet",)


def test_forbidden_performs_must_list_step_ids(tmp_path: Path) -> None:
    text, line = marked(FORBIDDEN + "    performs: [请稍等] #<\n")
    write(tmp_path, "book.yaml", text)
    library = load_library([tmp_path], PLACEHOLDERS)
    assert library.forbidden == ()
    problem = library.problems[0]
    assert (problem.line, problem.field) == (line, "forbidden[wei].performs[0]"), str(problem)


def test_bad_file_is_skipped_and_the_rest_loads(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", VALID)
    write(tmp_path, "bad.yaml", VALID.replace("demo", "other").replace("    role: counter", "    role: boss"))
    write(tmp_path, "forbidden.yaml", FORBIDDEN)
    write(tmp_path, "README.md", "# not a phrasebook")
    library = load_library([tmp_path], PLACEHOLDERS)
    assert list(library.scenarios) == ["demo"]
    assert [e.id for e in library.forbidden] == ["wei"]
    assert [p.path.name for p in library.problems] == ["bad.yaml"]


def test_extra_dir_adds_scenarios_and_duplicates_are_reported_on_the_later_file(tmp_path: Path) -> None:
    shipped, extra = tmp_path / "shipped", tmp_path / "extra"
    write(shipped, "book.yaml", VALID)
    write(extra, "more.yaml", VALID.replace("id: demo", "id: extra_demo"))
    text, line = marked(VALID.replace("  - id: demo", "  - id: demo #<").replace("演示收费", "培训中心版收费"))
    write(extra, "override.yaml", text)
    library = load_library([shipped, extra], PLACEHOLDERS)
    assert list(library.scenarios) == ["demo", "extra_demo"]
    assert library.scenario("demo").title == "演示收费", "a later folder never silently replaces a scenario"
    [problem] = library.problems
    assert (problem.path, problem.line, problem.field) == (extra / "override.yaml", line, "scenarios[demo].id")
    assert "book.yaml:2" in problem.message


def test_missing_dir_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path / "ok", "book.yaml", VALID)
    library = load_library([tmp_path / "ok", tmp_path / "missing"], PLACEHOLDERS)
    assert "demo" in library.scenarios
    [problem] = library.problems
    assert problem.path == tmp_path / "missing" and problem.line == 0


def test_lexicon_overrides_field_by_field_and_is_validated(tmp_path: Path) -> None:
    write(tmp_path / "a", "lexicon.yaml", "lexicon:\n  rate_min: 140\n  rate_max: 200\n  fillers: [嗯]\n")
    write(tmp_path / "b", "lexicon.yaml", "lexicon:\n  long_pause_seconds: 2.5\n")
    library = load_library([tmp_path / "a", tmp_path / "b"], PLACEHOLDERS)
    assert (library.lexicon.rate_min, library.lexicon.rate_max, library.lexicon.long_pause_seconds) == (140, 200, 2.5)
    assert library.lexicon.fillers == ("嗯",)
    assert library.lexicon.politeness_words  # untouched default

    text, line = marked("lexicon:\n  rate_min: 220\n  rate_max: 150 #<\n")
    write(tmp_path / "c", "lexicon.yaml", text)
    [problem] = load_library([tmp_path / "c"], PLACEHOLDERS).problems
    assert (problem.line, problem.field) == (line, "lexicon.rate_max")


def test_version_is_a_content_hash(tmp_path: Path) -> None:
    write(tmp_path, "book.yaml", VALID)
    first = load_library([tmp_path], PLACEHOLDERS).version
    assert first == load_library([tmp_path], PLACEHOLDERS).version
    write(tmp_path, "book.yaml", VALID.replace("先问好。", "先问好！"))
    assert load_library([tmp_path], PLACEHOLDERS).version != first


def test_placeholders_come_from_settings(tmp_path: Path) -> None:
    write(tmp_path, "book.yaml", VALID)
    settings = dataclasses.replace(Settings(), phrasebook_dirs=(tmp_path,), placeholders={"company": "城东供电营业厅", "hotline": "95598"})
    library = library_from_settings(settings)
    assert library.scenario("demo").brief == "在城东供电营业厅收费。"
    assert "payment" in library.scenarios, "the shipped phrasebooks load first"


def test_check_paths_judges_files_against_the_context(tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    write(shipped, "book.yaml", VALID)
    mine = write(tmp_path / "mine", "mine.yaml", FORBIDDEN + "    scenarios: [demo]\n")
    assert check_paths([mine], PLACEHOLDERS, context=[shipped]) == []
    problems = check_paths([mine], PLACEHOLDERS)  # without the context "demo" is unknown
    assert [p.field for p in problems] == ["forbidden[wei].scenarios"]
    assert check_paths([tmp_path / "nope.yaml"], PLACEHOLDERS)[0].line == 0
