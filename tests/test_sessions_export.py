"""Export of stored sessions to CSV and Excel, read back and checked."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from trainer.errors import SessionStoreError
from trainer.sessions import Review, SessionFilter, SessionStore, StepVerdict
from trainer.sessions.export import export_sessions, local_time, steps_csv_path

from test_sessions_support import PAYMENT_STEPS, audio_for, make_record, make_score


@pytest.fixture
def filled(tmp_path: Path) -> tuple[SessionStore, dict[str, str]]:
    store = SessionStore(tmp_path / "sessions")
    a = store.save(make_record("E1", "张三", "2026-11-20T02:00:00Z", score=make_score({"seat": "missed", "confirm": "partial"}, total=64, passed=False)), audio_for(make_record()))
    b = store.save(make_record("E2", "=HYPERLINK(\"x\")", "2026-11-21T02:00:00Z", kind="exam", score=make_score(total=91, passed=True)), audio_for(make_record()))
    store.add_review(a.id, Review(session_id=a.id, reviewer="王老师", overall="override", override_total=81, override_passed=True,
                                  comment="录音中说了“请坐”", steps={"seat": StepVerdict("disagree", "说了请坐")}))
    return store, {"a": a.id, "b": b.id}


def test_xlsx_has_one_row_per_session_and_per_step(filled, tmp_path: Path) -> None:
    store, ids = filled
    path = tmp_path / "out" / "记录.xlsx"
    path.parent.mkdir()
    report = export_sessions(store, None, path)
    assert (report.sessions, report.steps, report.paths, report.warnings) == (2, 12, (path,), ())

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["会话", "步骤"]
    rows = list(book["会话"].iter_rows(values_only=True))
    header = rows[0]
    by_id = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert set(by_id) == set(ids.values())
    a = by_id[ids["a"]]
    assert (a["工号"], a["姓名"], a["类型"], a["场景编号"]) == ("E1", "张三", "练习", "payment")
    assert (a["机评总分"], a["机评结果"]) == (64, "未通过")
    assert (a["复核次数"], a["最近复核人"], a["复核结论"], a["改判分数"], a["改判结果"]) == (1, "王老师", "改判", 81, "通过")
    assert (a["复核意见"], a["最终分数"], a["最终结果"]) == ("录音中说了“请坐”", 81, "通过")
    assert a["开始时间"] == local_time("2026-11-20T02:00:00Z")
    assert (a["识别引擎"], a["模型"], a["话术库版本"], a["轮数"]) == ("whisper", "whisper-base", "2026.11-test", 3)
    assert a["维度：用语覆盖"] == 90 and a["维度：流利度"] == 75
    b = by_id[ids["b"]]
    assert (b["类型"], b["最终分数"], b["最终结果"], b["复核次数"], b["复核结论"]) == ("考试", 91, "通过", 0, None)
    assert b["姓名"] == "=HYPERLINK(\"x\")"  # stored as text, not turned into a formula
    name_cell = book["会话"].cell(row=[r[0] for r in rows].index(ids["b"]) + 1, column=header.index("姓名") + 1)
    assert name_cell.data_type == "s"

    steps = list(book["步骤"].iter_rows(values_only=True))
    step_header = steps[0]
    step_rows = [dict(zip(step_header, row)) for row in steps[1:]]
    assert len(step_rows) == 12
    mine = [r for r in step_rows if r["会话编号"] == ids["a"]]
    assert [r["步骤"] for r in mine] == [s[0] for s in PAYMENT_STEPS]
    assert [r["序号"] for r in mine] == [1, 2, 3, 4, 5, 6]
    seat = next(r for r in mine if r["步骤"] == "seat")
    assert (seat["结果"], seat["标准用语"], seat["复核意见"], seat["复核备注"]) == ("遗漏", "请坐。", "不同意", "说了请坐")
    confirm = next(r for r in mine if r["步骤"] == "confirm")
    assert (confirm["结果"], confirm["相似度"], confirm["轮次"]) == ("部分", 0.71, 2)


def test_csv_writes_two_files_with_bom_and_respects_filters(filled, tmp_path: Path) -> None:
    store, ids = filled
    path = tmp_path / "records.csv"
    report = export_sessions(store, SessionFilter(trainee="E1"), path)
    assert report.paths == (path, steps_csv_path(path)) and steps_csv_path(path).name == "records_steps.csv"
    assert path.read_bytes().startswith("\ufeff".encode())
    with open(path, encoding="utf-8-sig", newline="") as fh:
        sessions = list(csv.DictReader(fh))
    assert [row["会话编号"] for row in sessions] == [ids["a"]]
    assert (sessions[0]["姓名"], sessions[0]["最终分数"], sessions[0]["最终结果"], sessions[0]["改判分数"]) == ("张三", "81.0", "通过", "81.0")
    with open(steps_csv_path(path), encoding="utf-8-sig", newline="") as fh:
        steps = list(csv.DictReader(fh))
    assert len(steps) == 6 and {row["会话编号"] for row in steps} == {ids["a"]}
    assert [row["结果"] for row in steps].count("遗漏") == 1


def test_export_limit_and_failed_filter(filled, tmp_path: Path) -> None:
    store, ids = filled
    # the override made session a pass: nothing failed any more
    assert export_sessions(store, SessionFilter(result="fail"), tmp_path / "f.csv").sessions == 0
    report = export_sessions(store, SessionFilter(limit=1), tmp_path / "l.csv")
    assert (report.sessions, report.steps) == (1, 6)


def test_export_errors(filled, tmp_path: Path) -> None:
    store, _ = filled
    with pytest.raises(SessionStoreError, match=r"\.csv 或 \.xlsx"):
        export_sessions(store, None, tmp_path / "out.pdf")
    with pytest.raises(SessionStoreError, match="不存在"):
        export_sessions(store, None, tmp_path / "missing" / "out.xlsx")


def test_session_unreadable_after_indexing_is_exported_from_the_index_with_a_warning(filled, tmp_path: Path) -> None:
    store, ids = filled
    store.reindex()
    (store.session_dir(ids["b"]) / "session.json").write_text("{", encoding="utf-8")
    report = export_sessions(store, None, tmp_path / "w.xlsx")
    assert report.sessions == 2 and len(report.warnings) == 1 and ids["b"] in report.warnings[0]


def test_step_sheet_has_titles_beside_ids_with_the_library(filled, tmp_path: Path) -> None:
    from trainer.config import Settings
    from trainer.phrasebook.loader import library_from_settings

    store, ids = filled
    library = library_from_settings(Settings(phrasebook_overlay_dir=tmp_path / "overlay"))
    path = tmp_path / "titles.xlsx"
    export_sessions(store, None, path, library)
    steps = list(openpyxl.load_workbook(path)["步骤"].iter_rows(values_only=True))
    rows = [dict(zip(steps[0], row)) for row in steps[1:]]
    greet = next(r for r in rows if r["步骤"] == "greet")
    assert greet["步骤名称"] == library.scenarios["payment"].step("greet").title == "一笑：起身微笑问候"
    seat = next(r for r in rows if r["步骤"] == "seat")  # not a step of the current library: no title invented
    assert seat["步骤名称"] in (None, "")
