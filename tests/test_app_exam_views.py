"""The pure helpers behind the exam pages: rules text, progress, timer, candidate result, roster,
breakdown, turn notes and the seal report."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.app import exam_views as ev
from trainer.exam import load_result, roster, run_exam
from trainer.exam.paper import parse_paper
from trainer.exam.verify import VerifyProblem, VerifyReport
from trainer.sessions import SessionStore

from exam_support import FakeMarker, score_dict, settings_for, small_library, wav_bytes

PAPER = """id: counter_check
title: 收费上岗考核
questions: [payment, reception]
time_limit_seconds: 45
attempts: 2
pass_mark: 85
feedback: end
rules:
  forbidden_fails: true
  min_dimension: {coverage: 60}
"""


def paper(text: str = PAPER):
    return parse_paper(text)


def test_rules_lines_name_every_rule() -> None:
    lines = "\n".join(ev.rules_lines(paper(), default_pass_mark=80))
    assert "共 2 道题（固定）" in lines and "时限为 45 秒" in lines and "及格线：85 分" in lines
    assert "一票否决" in lines and "用语覆盖不低于 60 分" in lines and "允许参加 2 次" in lines
    assert "显示总分" in lines and "不能重录" in lines
    drawn = paper("id: h\ntitle: 热线\npool: [a, b, c]\ndraw: 2\nfeedback: hidden\nrules: {forbidden_fails: false}\n")
    lines = "\n".join(ev.rules_lines(drawn, default_pass_mark=80))
    assert "共 2 道题（从题库中为您抽取）" in lines and "及格线：80 分" in lines and "时限为 60 秒" in lines
    assert "只显示是否通过" in lines and "一票否决" not in lines and "单项要求" not in lines
    assert ev.attempt_line(2, 3) == "这将是您第 2 次参加本考试（共可参加 3 次）。"


def test_progress_walks_questions_and_turns() -> None:
    p = ev.progress([3, 2], [0, 0])
    assert (p.question, p.turn, p.turns, p.answered, p.total_turns) == (1, 1, 3, 0, 5) and p.fraction == 0
    p = ev.progress([3, 2], [3, 1])
    assert (p.question, p.turn, p.turns, p.answered) == (2, 2, 2, 4)
    assert p.label == "第 2/2 题 · 第 2/2 轮（全卷已答 4/5 轮）"
    done = ev.progress([3, 2], [3, 2])
    assert done.fraction == 1.0 and done.answered == 5


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (0.2, "0:01"), (35.2, "0:36"), (60, "1:00"), (125, "2:05"), (-3, "0:00")]
)
def test_format_clock_rounds_up(seconds: float, text: str) -> None:
    assert ev.format_clock(seconds) == text


def test_timer_text_and_html() -> None:
    assert ev.timer_text(45, 10.5) == "剩余 0:35（时限 45 秒）"
    assert ev.timer_text(45, 50).startswith("时间到")
    assert ev.remaining_seconds(45, 50) == 0
    html = ev.timer_html(45, 10.5)
    assert '"left": 34.5' in html and '"limit": "45"' in html and "<script>" in html
    assert '"left": 0.0' in ev.timer_html(30, 99)


def test_late_and_accepted_messages() -> None:
    assert ev.late_message(3, 72.34, 60) == (
        "第 3 轮超时：从客户的话出现到提交录音用了 72.3 秒，超过时限 60 秒。按考试规则，这段录音不予采用，本轮按未作答计。"
    )
    assert ev.accepted_message(1, 4.26) == "第 1 轮已提交（录音 4.3 秒）。"


def _sealed(tmp_path: Path, text: str, candidate: str, scores: dict):
    settings = settings_for(tmp_path / "sessions")
    library = small_library()
    p = parse_paper(text, scenario_ids=library.scenarios)
    answers = [[wav_bytes(i) for i, _ in enumerate(library.scenarios[q].steps)] for q in p.questions]
    result = run_exam(p, candidate, "王小明", answers, settings, library, marker=FakeMarker(scores), store=SessionStore(settings.sessions_dir))
    return settings, load_result(SessionStore(settings.sessions_dir), result.exam_id)


def test_candidate_result_with_breakdown(tmp_path: Path) -> None:
    scores = {
        "payment": score_dict(92, dims={"coverage": 95, "order": 90, "politeness": 88}),
        "reception": score_dict(70, forbidden=["喂"], dims={"coverage": 55, "order": 80}),
    }
    _, result = _sealed(tmp_path, PAPER, "E1", scores)
    shown = ev.candidate_result(result.candidate_view())
    assert not shown.hidden and not shown.passed and shown.verdict == "未通过"
    assert shown.total == 81.0 and shown.pass_mark == 85
    assert any("一票否决" in r for r in shown.reasons) and any("用语覆盖" in r for r in shown.reasons)
    assert [r["场景"] for r in shown.questions] == ["柜台收费", "引导迎送"]
    assert list(shown.questions[0]) == ["题号", "场景", "本题总分", "用语覆盖", "顺序", "礼貌用语"]
    assert shown.questions[1]["礼貌用语"] == "—"  # not applicable: a dash, never the word None
    assert [d["维度"] for d in shown.dimensions] == ["用语覆盖", "顺序", "礼貌用语"]
    # one advice list per question (issue 14 item 3): the 忌语 in its turn with one severity word and what to say
    assert [title for title, _ in shown.advice] == ["第 1 题 · 柜台收费", "第 2 题 · 引导迎送"]
    reception = shown.advice[1][1]
    assert [t.index for t in reception.turns] == [1] and [line.text for line in reception.turns[0].items] == ["服务忌语「喂」（严重）。应改说：“您好”"]
    assert [line.text for line in shown.advice[0][1].whole] == ["总分 92"]  # a stored feedback line kept once
    assert shown.fingerprint == result.fingerprint and shown.override == ""


def test_candidate_result_hidden_shows_nothing_but_the_verdict(tmp_path: Path) -> None:
    hidden = PAPER.replace("feedback: end", "feedback: hidden")
    _, result = _sealed(tmp_path, hidden, "E2", {"payment": score_dict(95), "reception": score_dict(90)})
    shown = ev.candidate_result(result.candidate_view())
    assert shown.hidden and shown.passed and shown.verdict == "通过" and "不向考生显示评分明细" in shown.message
    assert shown.total is None and shown.pass_mark is None
    assert not (shown.questions or shown.dimensions or shown.advice or shown.reasons)


def test_roster_rows_breakdown_and_labels(tmp_path: Path) -> None:
    settings, result = _sealed(tmp_path, PAPER, "E3", {"payment": score_dict(92), "reception": score_dict(88)})
    rows = roster(settings.sessions_dir, key=settings.exam_key.encode())
    table = ev.roster_rows(rows)
    assert table[0]["考生编号"] == "E3" and table[0]["结果"] == "通过" and table[0]["封印"] == "√ 完好"
    assert table[0]["总分"] == 90.0 and table[0]["改判"] == "" and table[0]["考试编号"] == result.exam_id
    assert ev.roster_rows(roster(settings.sessions_dir))[0]["封印"] == ""  # no key given: not checked
    assert ev.roster_label(rows[0]).endswith("王小明（E3） · 收费上岗考核 · 90 分 通过")
    assert ev.roster_summary(rows) == "共 1 场考试，通过 1 场，未通过 0 场（通过率 100%）。"
    assert ev.roster_summary([]) == "没有符合条件的考试记录。"
    breakdown = ev.breakdown_rows(result)
    assert [r["题号"] for r in breakdown] == ["1", "2", "平均"]
    assert breakdown[0]["用语覆盖"] == "92" and breakdown[-1]["本题总分"] == "90"  # one rounding rule: 90, never 90.0
    assert breakdown[0]["忌语次数"] == 0
    # the forbidden-phrase dimension score is not overwritten by the count of forbidden phrases
    _, with_forbidden = _sealed(tmp_path / "f", PAPER, "E4", {"payment": score_dict(60, ["随便"], {"coverage": 90, "forbidden": 40}), "reception": score_dict(88)})
    rows = ev.breakdown_rows(with_forbidden)
    assert rows[0]["服务忌语"] == "40" and rows[0]["忌语次数"] == 1 and rows[1]["服务忌语"] == "—"
    header = dict(ev.result_header(result))
    assert header["考生"] == "王小明（E3）" and "及格线 85 分" in header["结果"] and result.fingerprint in header["封印指纹"]


def test_turn_notes_from_the_sealed_timing() -> None:
    score = {"exam_turns": [
        {"turn": 1, "status": "answered", "source": "microphone", "elapsed_seconds": 12.04},
        {"turn": 2, "status": "late", "source": "upload", "elapsed_seconds": 81.0},
        {"turn": 3, "status": "skipped", "source": "", "elapsed_seconds": 30.0},
        {"status": "answered"},
    ]}
    assert ev.turn_notes(score) == {
        1: "已作答，用时 12 秒，麦克风",
        2: "超时提交（未评分），用时 81 秒，上传文件",
        3: "未作答",
    }
    assert ev.turn_notes({}) == {}


def test_verify_report_lines() -> None:
    ok = VerifyReport(entries=4, exams=2, sessions=3, problems=(), head_seq=4, head_seal="ab" * 32, unfinished=("E9-x",))
    assert ev.verify_headline(ok).startswith("全部通过") and ev.verify_rows(ok) == []
    assert "E9-x" in ev.unfinished_line(ok)
    problem = VerifyProblem("changed", "考试 X1 第 1 题：第 2 段录音 turn02.wav 被改动。", line=3, seq=3, exam_id="X1", session_id="S1", candidate_id="E1")
    bad = VerifyReport(4, 2, 3, (problem,), 4, "cd" * 32)
    headline = ev.verify_headline(bad)
    assert headline.startswith("发现 1 处问题") and "S1" in headline and "X1" in headline
    assert ev.verify_rows(bad) == [{"问题": problem.message, "类型": "changed", "账本行": 3, "考试编号": "X1", "会话编号": "S1", "考生编号": "E1"}]
    assert ev.unfinished_line(bad) == ""
