"""Exam papers (validation with lines), the per-candidate draw and the marking rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from exam_support import score_dict
from trainer.config import Settings
from trainer.errors import ExamError
from trainer.exam.draw import check_draw, draw_questions
from trainer.exam.paper import SHIPPED_PAPERS, PaperError, load_papers, parse_paper, resolve_paper
from trainer.exam.rules import judge, overtime_turns

KEY = b"paper-test-key-0123456789"
POOL = """\
id: pool_paper
title: 抽题试卷
pool: [payment, complaint, wrong_number, business, fault_report, reception]
draw: 3
"""


def problems(text: str, scenario_ids=None) -> list[tuple[int, str, str]]:
    with pytest.raises(PaperError) as err:
        parse_paper(text, Path("p.yaml"), scenario_ids)
    assert "p.yaml:" in err.value.user_message
    return [(p.line, p.field, p.message) for p in err.value.problems]


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("id: a\ntitle: t\nquestions: [payment]\n  bad: [\n", 4, "", "YAML 语法错误"),
        ("id: a\ntitle: t\nquestions: [payment]\ntime_limit: 30\n", 4, "time_limit", "time_limit_seconds"),
        ("id: a\ntitle: t\nid: b\nquestions: [payment]\n", 3, "id", "重复的字段"),
        ("id: Bad Id\ntitle: t\nquestions: [payment]\n", 1, "id", "小写字母"),
        ("title: t\nquestions: [payment]\n", 1, "id", "缺少试卷编号"),
        ("id: a\nquestions: [payment]\n", 1, "title", "缺少试卷名称"),
        ("id: a\ntitle: t\n", 1, "questions", "缺少题目"),
        ("id: a\ntitle: t\nquestions: []\n", 3, "questions", "至少包含一个"),
        ("id: a\ntitle: t\nquestions:\n  - payment\n  - payment\n", 5, "questions", "重复出现"),
        ("id: a\ntitle: t\nquestions: [payment]\npool: [complaint]\ndraw: 1\n", 4, "pool", "二选一"),
        ("id: a\ntitle: t\npool: [payment, complaint]\n", 3, "draw", "必须写 draw"),
        ("id: a\ntitle: t\npool: [payment, complaint]\ndraw: 3\n", 4, "draw", "超过题库"),
        ("id: a\ntitle: t\npool: [payment, complaint]\ndraw: two\n", 4, "draw", "应为整数"),
        ("id: a\ntitle: t\nquestions: [payment]\nattempts: 0\n", 4, "attempts", "1 到 10"),
        ("id: a\ntitle: t\nquestions: [payment]\ntime_limit_seconds: 0\n", 4, "time_limit_seconds", "大于 0"),
        ("id: a\ntitle: t\nquestions: [payment]\npass_mark: 120\n", 4, "pass_mark", "不大于 100"),
        ("id: a\ntitle: t\nquestions: [payment]\nfeedback: later\n", 4, "feedback", "hidden"),
        ("id: a\ntitle: t\nquestions: [payment]\nrules:\n  forbidden_fails: maybe\n", 5, "rules.forbidden_fails", "true 或 false"),
        ("id: a\ntitle: t\nquestions: [payment]\nrules:\n  min_dimension:\n    coverge: 60\n", 6, "rules.min_dimension.coverge", "未知的评分维度"),
        ("id: a\ntitle: t\nquestions: [payment]\nrules:\n  min_dimension:\n    order: -5\n", 6, "rules.min_dimension.order", "不小于 0"),
        ("id: a\ntitle: t\nquestions: [payment]\nrules:\n  veto: true\n", 5, "rules.veto", "未知字段"),
    ],
)
def test_each_error_kind_names_its_line(text, line, field, words):
    found = problems(text)
    assert any(l == line and f == field and words in m for l, f, m in found), found


def test_unknown_scenario_is_reported_at_its_line_with_a_suggestion():
    text = "id: a\ntitle: t\nquestions:\n  - payment\n  - complaints\n"
    assert problems(text, ["payment", "complaint"]) == [(5, "questions", "未知的场景“complaints”，是否想写“complaint”？")]


def test_all_errors_of_a_file_are_listed_together():
    text = "id: A\ntitle: t\nquestions: [payment]\nattempts: x\nfeedback: no\n"
    assert [line for line, _, _ in problems(text)] == [1, 4, 5]


def test_shipped_papers_are_valid_against_the_shipped_phrasebooks():
    from trainer.phrasebook.loader import library_from_settings

    library = library_from_settings(Settings())
    paper_set = load_papers([SHIPPED_PAPERS], library.scenarios)
    assert paper_set.problems == ()
    assert {"counter_cashier_onboarding", "hotline_95598_refresher"} <= set(paper_set.papers)
    fixed = paper_set.get("counter_cashier_onboarding")
    drawn = paper_set.get("hotline_95598_refresher")
    assert fixed.questions[0] == "payment" and not fixed.is_drawn
    assert drawn.is_drawn and drawn.draw == 2 and drawn.rules.feedback_hidden


def test_bad_file_is_skipped_and_reported(tmp_path):
    (tmp_path / "good.yaml").write_text("id: good\ntitle: 好\nquestions: [payment]\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: 坏\nquestions: [payment]\nattempts: -1\n", encoding="utf-8")
    (tmp_path / "z_dup.yaml").write_text("id: good\ntitle: 重复\nquestions: [payment]\n", encoding="utf-8")
    paper_set = load_papers([tmp_path])
    assert list(paper_set.papers) == ["good"]
    assert sorted((p.path.name, p.line) for p in paper_set.problems) == [("bad.yaml", 4), ("z_dup.yaml", 1)]
    with pytest.raises(PaperError):
        resolve_paper("bad", [tmp_path])
    with pytest.raises(ExamError) as err:
        resolve_paper("nosuch", [tmp_path])
    assert "good" in err.value.user_message
    assert resolve_paper(str(tmp_path / "good.yaml")).id == "good"


def test_paper_round_trips_through_its_sealed_snapshot():
    paper = parse_paper(POOL + "rules:\n  min_dimension: {coverage: 60}\n")
    from trainer.exam.paper import Paper

    again = Paper.from_dict(paper.to_dict())
    assert again.to_dict() == paper.to_dict() and again.digest == paper.digest


def test_draw_is_reproducible_and_differs_across_candidates():
    paper = parse_paper(POOL)
    first = draw_questions(paper, "E1024", KEY)
    assert first == draw_questions(paper, "E1024", KEY)
    assert len(first.scenarios) == 3 and set(first.scenarios) <= set(paper.pool)
    assert list(first.scenarios) == [s for s in paper.pool if s in first.scenarios]  # asked in pool order
    draws = {draw_questions(paper, f"E{n:04d}", KEY).scenarios for n in range(40)}
    assert len(draws) >= 8  # 20 possible draws of 3 from 6
    # Another paper version or another key gives another draw for most candidates.
    bumped = parse_paper(POOL.replace("draw: 3", "draw: 3\nversion: 2"))
    changed = sum(draw_questions(paper, f"E{n}", KEY).scenarios != draw_questions(bumped, f"E{n}", KEY).scenarios for n in range(40))
    assert changed >= 20
    assert check_draw(first, paper, KEY) and not check_draw(first, paper, b"other-key-0123456789")


def test_fixed_paper_gives_everyone_the_same_questions():
    paper = parse_paper("id: f\ntitle: t\nquestions: [reception, payment]\n")
    assert draw_questions(paper, "A1", KEY).scenarios == draw_questions(paper, "B2", KEY).scenarios == ("reception", "payment")


def test_rules_pass_mark_minimums_and_forbidden():
    rules = parse_paper("id: r\ntitle: t\nquestions: [a, b]\npass_mark: 80\nrules:\n  min_dimension: {order: 50, amounts: 60}\n").rules
    ok = judge(rules, ["a", "b"], [score_dict(90), score_dict(80)], 60)
    assert ok.passed and ok.total == 85.0 and ok.reasons == () and ok.pass_mark == 80
    low = judge(rules, ["a", "b"], [score_dict(90), score_dict(60)], 60)
    assert not low.passed and "低于及格线 80" in low.reasons[0]
    weak = judge(rules, ["a", "b"], [score_dict(95, dims={"coverage": 100, "order": 40}), score_dict(95)], 60)
    assert not weak.passed and weak.questions[0].below_minimum == {"order": 40.0}
    assert any("第 1 题“顺序”得分 40" in r for r in weak.reasons)
    # amounts does not apply to a scenario without 唱收唱付: its minimum is not held against it.
    assert judge(rules, ["a", "b"], [score_dict(90), score_dict(90)], 60).passed
    veto = judge(rules, ["a", "b"], [score_dict(100), score_dict(100, forbidden=["不知道"])], 60)
    assert not veto.passed and veto.reasons == ("第 2 题使用了服务忌语 “不知道”（一票否决）",)
    lenient = parse_paper("id: r\ntitle: t\nquestions: [a]\nrules: {forbidden_fails: false}\n").rules
    assert judge(lenient, ["a"], [score_dict(100, forbidden=["喂"])], 80).passed
    default_mark = parse_paper("id: r\ntitle: t\nquestions: [a]\n").rules
    assert judge(default_mark, ["a"], [score_dict(75)], 70).passed and not judge(default_mark, ["a"], [score_dict(75)], 80).passed


def test_overtime_answers_are_flagged():
    rules = parse_paper("id: r\ntitle: t\nquestions: [a]\ntime_limit_seconds: 10\n").rules
    assert overtime_turns([5.0, 10.5, 12.0], rules) == (3,)
    assert overtime_turns([35.0], rules, steps_if_single_file=4) == ()  # one file for the whole answer
    assert overtime_turns([45.0], rules, steps_if_single_file=4) == (1,)
