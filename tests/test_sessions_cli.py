"""`trainer sessions list|show|export|delete|reindex` end to end through trainer.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from trainer.cli import main
from trainer.sessions import Review, SessionStore

from test_sessions_support import audio_for, make_record, make_score


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SessionStore:
    monkeypatch.chdir(tmp_path)  # no trainer.toml here
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    return SessionStore(tmp_path / "sessions")


@pytest.fixture
def two(store: SessionStore) -> tuple[str, str]:
    a = store.save(make_record("E1", "张三", "2026-11-20T02:00:00Z", score=make_score({"seat": "missed"}, total=64, passed=False)), audio_for(make_record()))
    b = store.save(make_record("E2", "李四", "2026-11-21T02:00:00Z", scenario_id="complaint", score=make_score(total=93, passed=True)), audio_for(make_record()))
    return a.id, b.id


def test_list_text_and_json_with_filters(two, capsys) -> None:
    a, b = two
    assert main(["sessions", "list"]) == 0
    out = capsys.readouterr().out
    assert a in out and b in out and "张三" in out and "未通过" in out and "共 2 条" in out

    assert main(["sessions", "list", "--json", "--failed"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [a]
    assert rows[0]["effective_total"] == 64.0 and rows[0]["trainee_name"] == "张三"

    assert main(["sessions", "list", "--json", "--scenario", "complaint"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [b]
    assert main(["sessions", "list", "--json", "--trainee", "张", "--since", "2026-11-19", "--until", "2026-11-20"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [a]
    assert main(["sessions", "list", "--json", "--min-score", "90"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [b]
    assert main(["sessions", "list", "--passed", "--trainee", "E1"]) == 0
    assert "没有符合条件的会话" in capsys.readouterr().out


def test_list_rejects_bad_dates(store, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sessions", "list", "--since", "23/11/2026"])
    assert "2026-11-23" in capsys.readouterr().err


def test_show_text_and_json(two, store: SessionStore, capsys) -> None:
    a, _ = two
    store.add_review(a, Review(session_id=a, reviewer="王老师", overall="override", override_total=80, override_passed=True, comment="说了请坐"))
    assert main(["sessions", "show", a]) == 0
    out = capsys.readouterr().out
    assert "张三" in out and "seat" in out and "遗漏" in out and "王老师" in out and "改判" in out and "turn01.wav" in out
    assert main(["sessions", "show", a, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["record"]["id"] == a and data["record"]["score"]["score"]["total"] == 64
    assert data["reviews"][0]["override_total"] == 80 and data["audio_problems"] == []


def test_show_unknown_id_is_a_one_line_chinese_error(store, capsys) -> None:
    store.root.mkdir(parents=True)
    assert main(["sessions", "show", "20261123T143015Z-E9-abcdef"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：找不到会话 20261123T143015Z-E9-abcdef") and len(err.strip().splitlines()) == 1


def test_export_xlsx_and_csv(two, tmp_path: Path, capsys) -> None:
    a, b = two
    assert main(["sessions", "export", str(tmp_path / "out.xlsx"), "--trainee", "E2"]) == 0
    assert "已导出 1 次会话、6 个步骤" in capsys.readouterr().out
    rows = list(openpyxl.load_workbook(tmp_path / "out.xlsx")["会话"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [b]
    assert main(["sessions", "export", str(tmp_path / "out.csv")]) == 0
    assert (tmp_path / "out.csv").is_file() and (tmp_path / "out_steps.csv").is_file()
    assert main(["sessions", "export", str(tmp_path / "out.txt")]) == 2
    assert ".xlsx" in capsys.readouterr().err


def test_delete_needs_yes_when_not_interactive(two, store: SessionStore, capsys, monkeypatch) -> None:
    a, b = two
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["sessions", "delete", a]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["sessions", "delete", a, "--yes"]) == 0
    assert "已删除" in capsys.readouterr().out
    assert [s.id for s in store.list()] == [b]
    assert main(["sessions", "delete", a, "--yes"]) == 2


def test_delete_asks_and_can_be_cancelled(two, store: SessionStore, capsys, monkeypatch) -> None:
    a, _ = two
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["sessions", "delete", a]) == 1
    assert store.load(a).id == a
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["sessions", "delete", a]) == 0
    assert a not in {s.id for s in store.list()}


def test_reindex_reports_corrupt_folders(two, store: SessionStore, capsys) -> None:
    a, b = two
    (store.session_dir(a) / "session.json").write_text("not json", encoding="utf-8")
    assert main(["sessions", "reindex"]) == 0
    out = capsys.readouterr().out
    assert "已重建索引：1 次会话" in out and f"跳过 {store.session_dir(a)}" in out and "不是有效的 JSON" in out
    assert main(["sessions", "list", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [b]


def test_show_prints_simplified_chinese_titles_and_both_scores(store: SessionStore, capsys) -> None:
    score = make_score({"seat": "missed"}, total=64.04, passed=False)
    score["steps"][0]["matched_text"] = "請問您是來交貼費的嗎"  # stored as the recogniser wrote it (traditional)
    score["feedback"] = ["第 1 輪說得很好"]
    score["score"]["dimensions"] = {"coverage": 68.0, "forbidden": 68.0}
    record = store.save(make_record("E1", "张三", "2026-11-20T02:00:00Z", score=score), audio_for(make_record()))
    store.add_review(record.id, Review(session_id=record.id, reviewer="王老师", overall="override", override_total=80, override_passed=True, comment="说了"))
    assert main(["sessions", "show", record.id]) == 0
    out = capsys.readouterr().out
    assert "请问您是来交贴费的吗" in out and "請問" not in out and "第 1 轮说得很好" in out
    assert "一笑：起身微笑问候（greet）" in out  # the title beside the id
    assert "机评 64 分 · 教师改判 80 分" in out
    assert "服务忌语：68（100 × 68%）" in out


def test_list_shows_machine_score_and_override_side_by_side(two, store: SessionStore, capsys) -> None:
    a, _ = two
    store.add_review(a, Review(session_id=a, reviewer="王老师", overall="override", override_total=80.04, override_passed=True, comment="说了"))
    assert main(["sessions", "list", "--trainee", "E1"]) == 0
    out = capsys.readouterr().out
    assert "机评" in out and "教师改判" in out
    line = next(line for line in out.splitlines() if a in line)
    assert " 64 " in f"{line} " and " 80 " in f"{line} " and "通过" in line


def test_a_session_sent_to_review_lists_as_review_until_decided(store: SessionStore, tmp_path: Path, capsys) -> None:
    """One vocabulary in the CLI: 待复核 (not 未通过/通过) in list, show and export, and --review selects it;
    an instructor's decision replaces it."""
    score = {**make_score(total=90.5, passed=True), "verdict": "review"}  # the machine's best guess: passed
    r = store.save(make_record("E1", "张三", "2026-11-20T02:00:00Z", score=score), audio_for(make_record())).id
    old = store.save(make_record("E2", "李四", "2026-11-21T02:00:00Z", score=make_score(total=64, passed=False)), audio_for(make_record())).id
    assert main(["sessions", "list"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if r in l)
    assert "待复核" in line and "通过" not in line
    assert "未通过" in next(l for l in out.splitlines() if old in l)  # saved before scores had a verdict
    assert main(["sessions", "list", "--json", "--review"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["id"], row["verdict"], row["result"], row["passed"]) for row in rows] == [(r, "review", "review", True)]
    assert main(["sessions", "list", "--json", "--passed"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["sessions", "show", r]) == 0
    assert "机评结果：待复核，最终结果：待复核" in capsys.readouterr().out
    assert main(["sessions", "export", str(tmp_path / "r.xlsx")]) == 0
    assert "已导出 2 次会话" in capsys.readouterr().out
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["会话"]
    header = [c.value for c in sheet[1]]
    mine = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert (mine[r]["机评结果"], mine[r]["最终结果"]) == ("待复核", "待复核")
    assert (mine[old]["机评结果"], mine[old]["最终结果"]) == ("未通过", "未通过")

    store.add_review(r, Review(session_id=r, reviewer="王老师", overall="override", override_total=72, override_passed=False, comment="找零没说"))
    assert main(["sessions", "list", "--json", "--failed"]) == 0
    assert {row["id"] for row in json.loads(capsys.readouterr().out)} == {r, old}
    assert main(["sessions", "show", r]) == 0
    out = capsys.readouterr().out
    assert "机评结果：待复核，最终结果：未通过" in out
    assert "复核结论：未通过（72 分）。找零没说" in out  # the words of the 教师 page


def test_review_from_the_command_line_decides_a_session_sent_to_review(store: SessionStore, capsys) -> None:
    """`trainer sessions review`: a 待复核 session needs 通过 or 未通过 and a reason; 同意机评 decides nothing."""
    score = {**make_score(total=90.5, passed=True), "verdict": "review"}
    r = store.save(make_record("E1", "张三", "2026-11-20T02:00:00Z", score=score), audio_for(make_record())).id
    assert main(["sessions", "review", r, "--reviewer", "王老师", "--agree"]) == 2
    assert "待复核" in capsys.readouterr().err and store.reviews(r) == []
    assert main(["sessions", "review", r, "--reviewer", "王老师", "--fail"]) == 2
    assert "复核意见" in capsys.readouterr().err and store.reviews(r) == []
    assert main(["sessions", "review", r, "--reviewer", "王老师", "--fail", "--comment", "找零没说出来", "--step", "change=disagree:没唱付"]) == 0
    assert "复核结论：未通过（90.5 分）" in capsys.readouterr().out
    (review,) = store.reviews(r)
    assert (review.overall, review.override_passed, review.override_total, review.comment) == ("override", False, 90.5, "找零没说出来")
    assert review.steps["change"].verdict == "disagree" and review.steps["change"].comment == "没唱付"
    assert main(["sessions", "list", "--json", "--failed"]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == [r]


def test_review_from_the_command_line_agrees_or_overrides_a_decided_session(two, store: SessionStore, capsys) -> None:
    a, b = two
    assert main(["sessions", "review", b, "--reviewer", "李老师", "--agree"]) == 0
    assert "同意机评" in capsys.readouterr().out
    assert store.reviews(b)[-1].overall == "agree"
    assert main(["sessions", "review", a, "--reviewer", "李老师", "--pass", "--total", "82", "--comment", "请坐说了，识别没听清"]) == 0
    assert "改判为 82 分（通过）" in capsys.readouterr().out
    assert main(["sessions", "list", "--json", "--passed"]) == 0
    assert {row["id"] for row in json.loads(capsys.readouterr().out)} == {a, b}
    with pytest.raises(SystemExit):
        main(["sessions", "review", a, "--reviewer", "李老师", "--agree", "--step", "greet=maybe"])
    assert "格式有误" in capsys.readouterr().err
    assert main(["sessions", "review", a, "--reviewer", "李老师", "--agree", "--step", "nosuch=agree"]) == 2
    assert "nosuch" in capsys.readouterr().err
