"""`trainer exam …` commands, the printable report and the roster export (marks from a stand-in marker)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from exam_support import KEY, FakeMarker, score_dict, settings_for, small_library, wav_bytes
from trainer.cli import main
from trainer.cli.exam import group_audio
from trainer.errors import ExamError
from trainer.exam.paper import parse_paper
from trainer.exam.records import load_result, roster
from trainer.exam.report import export_roster, render_report
from trainer.exam.runner import run_exam
from trainer.exam.seal import LEDGER_NAME
from trainer.sessions.store import SessionStore

PAPER = "id: cli_paper\ntitle: 命令行测试试卷\nquestions: [payment, reception]\nfeedback: hidden\n"


@pytest.fixture()
def sessions(tmp_path, monkeypatch):
    root = tmp_path / "sessions"
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(root))
    monkeypatch.setenv("TRAINER_EXAM_KEY", KEY)
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = settings_for(root)
    store = SessionStore(root)
    marker = FakeMarker({"payment": score_dict(92.0), "reception": score_dict(64.0, dims={"coverage": 50.0, "order": 80.0})})
    results = [
        run_exam(parse_paper(PAPER), cid, name, [[wav_bytes(i)], [wav_bytes(i + 50), wav_bytes(i + 60)]], settings, small_library(), marker, store)
        for i, (cid, name) in enumerate([("E100", "张三"), ("E200", "李四")])
    ]
    return store, results


def test_verify_passes_then_names_the_tampered_record(sessions, capsys):
    store, results = sessions
    assert main(["exam", "verify"]) == 0
    assert "全部通过" in capsys.readouterr().out
    target = results[1].questions[0].session_id
    path = store.session_dir(target) / "session.json"
    path.write_bytes(path.read_bytes().replace("92.0".encode(), "99.0".encode(), 1))
    assert main(["exam", "verify"]) == 1
    captured = capsys.readouterr()
    assert target in captured.out and results[1].exam_id in captured.out and "评分结果被改动" in captured.out
    assert results[0].exam_id not in captured.out
    assert main(["exam", "verify", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and target in report["named"]


def test_verify_without_key_explains_how_to_set_it(sessions, monkeypatch, capsys):
    monkeypatch.delenv("TRAINER_EXAM_KEY")
    assert main(["exam", "verify"]) == 2
    err = capsys.readouterr().err
    assert "未配置考试密钥" in err and "TRAINER_EXAM_KEY" in err


def test_list_show_export_and_override(sessions, tmp_path, capsys):
    store, results = sessions
    assert main(["exam", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["candidate_id"] for r in rows] == ["E200", "E100"]
    assert all(r["seal_ok"] is True and r["passed"] is False for r in rows)  # reception coverage 50 < total mean 78
    assert main(["exam", "list", "--candidate", "张三", "--json"]) == 0
    assert [r["candidate_id"] for r in json.loads(capsys.readouterr().out)] == ["E100"]

    exam_id = results[0].exam_id
    assert main(["exam", "override", exam_id, "--instructor", "王老师", "--pass", "--total", "82", "--comment", "人工复核：识别错误"]) == 0
    assert "改判" in capsys.readouterr().out
    assert main(["exam", "show", exam_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["passed"] is True and shown["machine"]["passed"] is False and shown["overrides"][0]["instructor"] == "王老师"
    assert shown["questions"][0]["score"]["score"]["total"] == 92.0
    assert main(["exam", "verify"]) == 0

    csv_path, xlsx_path = tmp_path / "out" / "roster.csv", tmp_path / "out" / "roster.xlsx"
    assert main(["exam", "list", "--export", str(csv_path)]) == 0
    assert main(["exam", "list", "--paper", "cli_paper", "--export", str(xlsx_path)]) == 0
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][:3] == ["考试编号", "考生编号", "考生姓名"]
    by_candidate = {row[1]: dict(zip(table[0], row)) for row in table[1:]}
    assert by_candidate["E100"]["最终是否通过"] == "通过" and by_candidate["E100"]["是否改判"] == "是"
    assert by_candidate["E200"]["最终是否通过"] == "未通过" and by_candidate["E200"]["封印指纹"] == results[1].fingerprint
    sheet = load_workbook(xlsx_path).active
    assert sheet.title == "考试成绩" and sheet.max_row == 3 and sheet["B2"].value in ("E100", "E200")
    with pytest.raises(ExamError):
        export_roster(roster(store.root), tmp_path / "roster.pdf")


def test_report_is_printable_html_with_everything_the_centre_needs(sessions, tmp_path, capsys):
    store, results = sessions
    out = tmp_path / "reports" / "e100.html"
    assert main(["exam", "report", results[0].exam_id, "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    for text in ("命令行测试试卷", "E100", "张三", "柜台收费", "引导迎送", "用语覆盖", "顺序", "92", "64",
                 "未通过", "及格线 80", results[0].fingerprint, "@page", "@media print", "考评员签字"):
        assert text in html, text
    # Hidden feedback applies to the candidate's screen, not to the instructor's report.
    assert "总分 78 分，低于及格线 80 分" in html
    assert "<script" not in html
    assert main(["exam", "report", "20200101T000000Z-nobody-abcdef", "--out", str(out)]) == 2


def test_report_escapes_text(sessions):
    store, results = sessions
    result = load_result(store, results[0].exam_id)
    from dataclasses import replace

    html = render_report(replace(result, candidate_name="<b>张三</b>"))
    assert "<b>张三</b>" not in html and "&lt;b&gt;张三&lt;/b&gt;" in html


def test_papers_and_draw_commands(sessions, tmp_path, capsys):
    assert main(["exam", "papers", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {p["id"] for p in data["papers"]} >= {"counter_cashier_onboarding", "hotline_95598_refresher"}
    assert data["problems"] == []
    bad = tmp_path / "papers"
    bad.mkdir()
    (bad / "x.yaml").write_text("id: x\ntitle: 坏试卷\nquestions: [no_such_scenario]\n", encoding="utf-8")
    assert main(["exam", "papers", "--papers-dir", str(bad)]) == 1
    assert "x.yaml:3" in capsys.readouterr().err
    assert main(["exam", "draw", "hotline_95598_refresher", "--candidate", "E100", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["exam", "draw", "hotline_95598_refresher", "--candidate", "E100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first and len(first["scenarios"]) == 2


def test_audio_grouping(tmp_path):
    q1 = tmp_path / "q1"
    q1.mkdir()
    for name in ("turn02.wav", "turn01.wav", "full.wav", "labels.json"):
        (q1 / name).write_bytes(b"x")
    single = tmp_path / "answer.wav"
    single.write_bytes(b"x")
    assert group_audio([q1, single], None) == [[q1 / "turn01.wav", q1 / "turn02.wav"], [single]]
    files = [tmp_path / f"t{i}.wav" for i in range(5)]
    for f in files:
        f.write_bytes(b"x")
    assert group_audio(files, [3, 2]) == [files[:3], files[3:]]
    with pytest.raises(ExamError, match="5"):
        group_audio(files, [3, 3])
    with pytest.raises(ExamError):
        group_audio([tmp_path / "missing.wav"], None)
    with pytest.raises(ExamError):
        group_audio([q1], [1])


def test_ledger_lives_in_the_sessions_root(sessions):
    store, _ = sessions
    assert (store.root / LEDGER_NAME).is_file()
