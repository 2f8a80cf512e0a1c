"""Session store: round trip, listing and filters, reviews, deletion, corrupt folders, errors."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from trainer.errors import SessionStoreError
from trainer.sessions import Review, SessionFilter, SessionRecord, SessionStore, StepVerdict, canonical_json
from trainer.sessions import store as store_module
from trainer.sessions.model import new_session_id

from test_sessions_support import audio_for, make_record, make_score, wav_bytes


def _leftovers(store: SessionStore) -> list[Path]:
    """Temp folders and pending-index markers left behind (a finished save leaves none)."""
    return [p for p in store.temp_dir.iterdir() if p != store.pending_dir] + list(store.pending_dir.iterdir())


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def test_round_trip_keeps_record_audio_and_canonical_bytes(store: SessionStore) -> None:
    record = make_record()
    audio = audio_for(record)
    saved = store.save(record, audio)

    assert saved.id.startswith("20261123T063015Z-E1024-")
    folder = store.root / "2026" / "11" / saved.id
    assert folder.is_dir()
    assert [t.audio_file for t in saved.turns] == ["turn01.wav", "turn02.wav", "turn03.wav"]
    for turn, data in zip(saved.turns, audio):
        assert (folder / turn.audio_file).read_bytes() == data
        assert turn.audio_sha256 == hashlib.sha256(data).hexdigest()
        assert store.audio_path(saved.id, turn.index) == folder / turn.audio_file

    loaded = store.load(saved.id)
    assert loaded == saved
    assert loaded.score == record.score  # opaque score stored verbatim
    assert loaded.turns[0].transcript["words"][0]["text"] == "您好"
    # session.json holds exactly the canonical bytes, and re-serialising a loaded record reproduces them
    raw = (folder / "session.json").read_bytes()
    assert raw == loaded.canonical_bytes() == canonical_json(json.loads(raw))
    assert "张三".encode() in raw and b", " not in raw
    assert store.verify_audio(saved.id) == []
    # nothing left behind in the temp folder
    assert _leftovers(store) == []


def test_save_without_audio_for_text_scored_turns(store: SessionStore) -> None:
    record = make_record(turns=2)
    saved = store.save(record, [None, wav_bytes()])
    assert saved.turns[0].audio_file == "" and saved.turns[0].audio_sha256 == ""
    assert store.load(saved.id).turns[1].audio_file == "turn02.wav"
    with pytest.raises(SessionStoreError, match="没有录音"):
        store.audio_path(saved.id, 1)


def test_non_wav_audio_keeps_its_format(store: SessionStore) -> None:
    record = make_record(turns=1)
    ogg = b"OggS" + bytes(200)
    saved = store.save(record, [ogg])
    assert saved.turns[0].audio_file == "turn01.ogg"
    assert store.audio_path(saved.id, 1).read_bytes() == ogg


def test_save_rejects_bad_input_with_chinese_reasons(store: SessionStore) -> None:
    record = make_record(turns=2)
    with pytest.raises(SessionStoreError, match="2 轮.*1 段录音"):
        store.save(record, [wav_bytes()])
    with pytest.raises(SessionStoreError, match="录音为空"):
        store.save(record, [wav_bytes(), b""])
    with pytest.raises(SessionStoreError, match="类型"):
        store.save(replace(record, kind="quiz"), audio_for(record))
    with pytest.raises(SessionStoreError, match="UTC"):
        store.save(replace(record, started_at="2026-11-23 14:30"), audio_for(record))
    broken_score = make_score()
    del broken_score["passed"]
    with pytest.raises(SessionStoreError, match="passed"):
        store.save(replace(record, score=broken_score), audio_for(record))
    with pytest.raises(SessionStoreError, match="NaN"):
        store.save(replace(record, score={**make_score(), "fluency": {"chars_per_min": float("nan")}}), audio_for(record))
    assert store.list() == []


def test_given_id_is_kept_and_never_overwritten(store: SessionStore) -> None:
    record = make_record()
    session_id = new_session_id(record.trainee_id, record.started_at)
    first = store.save(replace(record, id=session_id), audio_for(record))
    assert first.id == session_id
    before = (store.session_dir(session_id) / "session.json").read_bytes()
    with pytest.raises(SessionStoreError, match="已存在"):
        store.save(replace(record, id=session_id, trainee_name="李四"), audio_for(record))
    assert (store.session_dir(session_id) / "session.json").read_bytes() == before
    assert _leftovers(store) == []


def test_listing_and_filters(store: SessionStore) -> None:
    a = store.save(make_record("E1", "张三", "2026-10-05T02:00:00Z", score=make_score(total=92, passed=True)), audio_for(make_record()))
    b = store.save(make_record("E1", "张三", "2026-11-20T02:00:00Z", score=make_score({"seat": "missed"}, total=64, passed=False)), audio_for(make_record()))
    c = store.save(make_record("E2", "李四", "2026-11-21T02:00:00Z", scenario_id="complaint", kind="exam", score=make_score(total=81, passed=True)), audio_for(make_record()))

    assert [s.id for s in store.list()] == [c.id, b.id, a.id]  # newest first
    assert [s.id for s in store.list(newest_first=False)] == [a.id, b.id, c.id]
    assert [s.id for s in store.list(SessionFilter(trainee="E1"))] == [b.id, a.id]
    assert [s.id for s in store.list(SessionFilter(trainee="李"))] == [c.id]  # part of the name
    assert [s.id for s in store.list(SessionFilter(scenario_id="complaint"))] == [c.id]
    assert [s.id for s in store.list(SessionFilter(kind="exam"))] == [c.id]
    assert [s.id for s in store.list(SessionFilter(result="fail"))] == [b.id]
    assert [s.id for s in store.list(SessionFilter(result="pass"))] == [c.id, a.id]
    assert [s.id for s in store.list(SessionFilter(min_total=80))] == [c.id, a.id]
    assert [s.id for s in store.list(SessionFilter(max_total=81))] == [c.id, b.id]
    assert [s.id for s in store.list(SessionFilter(since=date(2026, 11, 1)))] == [c.id, b.id]
    assert [s.id for s in store.list(SessionFilter(until=date(2026, 10, 31)))] == [a.id]
    assert [s.id for s in store.list(SessionFilter(since=date(2026, 11, 20), until=date(2026, 11, 20)))] == [b.id]
    assert [s.id for s in store.list(SessionFilter(limit=1))] == [c.id]

    summary = store.summary(b.id)
    assert (summary.trainee_name, summary.total, summary.passed, summary.turns) == ("张三", 64.0, False, 3)
    assert (summary.engine, summary.model, summary.phrasebook_version) == ("whisper", "whisper-base", "2026.11-test")

    history = store.score_history("E1")
    assert [(h.started_at, h.total) for h in history] == [("2026-10-05T02:00:00Z", 92.0), ("2026-11-20T02:00:00Z", 64.0)]

    stats = {(s.scenario_id, s.step_id): s for s in store.step_miss_rates()}
    assert stats[("payment", "seat")].attempts == 2 and stats[("payment", "seat")].misses == 1
    assert stats[("payment", "seat")].miss_rate == 0.5
    assert store.step_miss_rates()[0].step_id == "seat"  # the weakest step first
    assert stats[("complaint", "greet")].misses == 0
    rows = store.step_rows(SessionFilter(trainee="E1"))
    assert len(rows) == 12 and {r.session_id for r in rows} == {a.id, b.id}
    assert [r.status for r in rows if r.session_id == b.id and r.step_id == "seat"] == ["missed"]


def test_reviews_are_separate_files_and_never_touch_the_machine_score(store: SessionStore) -> None:
    saved = store.save(make_record(score=make_score({"seat": "missed"}, total=64, passed=False)), audio_for(make_record()))
    folder = store.session_dir(saved.id)
    record_bytes = (folder / "session.json").read_bytes()

    first = store.add_review(saved.id, Review(
        session_id=saved.id, reviewer="王老师", overall="override", override_total=82, override_passed=True,
        comment="“请坐”被识别漏掉了，录音里说了。", steps={"seat": StepVerdict("disagree", "录音里有“请坐”"), "greet": StepVerdict("agree")},
    ))
    second = store.add_review(saved.id, Review(session_id=saved.id, reviewer="刘老师", overall="agree", comment="同意机评"))

    assert (folder / "session.json").read_bytes() == record_bytes  # machine score untouched
    assert first.parent == second.parent == folder / "reviews" and first != second
    assert json.loads(first.read_bytes())["override_total"] == 82
    assert first.read_bytes() == canonical_json(json.loads(first.read_bytes()))
    reviews = store.reviews(saved.id)
    assert [r.reviewer for r in reviews] == ["王老师", "刘老师"]
    assert reviews[0].steps["seat"] == StepVerdict("disagree", "录音里有“请坐”")
    assert store.load(saved.id).total == 64.0

    # the latest review decides: 刘老师 agreed with the machine, so the machine result stands again
    summary = store.summary(saved.id)
    assert (summary.review_count, summary.last_reviewer, summary.review_overall) == (2, "刘老师", "agree")
    assert (summary.effective_total, summary.effective_passed) == (64.0, False)
    store.add_review(saved.id, Review(session_id=saved.id, reviewer="王老师", overall="override", override_total=80,
                                      override_passed=True, comment="复议后改判通过"))
    summary = store.summary(saved.id)
    assert (summary.total, summary.passed, summary.effective_total, summary.effective_passed) == (64.0, False, 80.0, True)
    assert [s.id for s in store.list(SessionFilter(result="pass"))] == [saved.id]
    seat = [r for r in store.step_rows() if r.step_id == "seat"][0]
    assert (seat.status, seat.review_verdict, seat.review_comment) == ("missed", "disagree", "录音里有“请坐”")

    # the index rebuilt from the folders knows the same
    store.reindex()
    assert store.summary(saved.id) == summary


@pytest.mark.parametrize(
    "review, message",
    [
        (dict(overall="override", override_total=120, override_passed=True, comment="x"), "0–100"),
        (dict(overall="override", override_total=70, override_passed=True, comment=""), "理由"),
        (dict(overall="override", override_total=70, comment="x"), "通过"),
        (dict(overall="agree", override_total=70), "只有改判"),
        (dict(overall="maybe"), "总体意见"),
        (dict(reviewer=" "), "复核人"),
        (dict(steps={"nonexistent": StepVerdict("agree")}), "nonexistent"),
        (dict(steps={"seat": StepVerdict("perhaps")}), "perhaps"),
    ],
)
def test_bad_reviews_are_refused(store: SessionStore, review: dict, message: str) -> None:
    saved = store.save(make_record(), audio_for(make_record()))
    fields = {"session_id": saved.id, "reviewer": "王老师", **review}
    with pytest.raises(SessionStoreError, match=message):
        store.add_review(saved.id, Review(**fields))
    assert not (store.session_dir(saved.id) / "reviews").exists() or not any((store.session_dir(saved.id) / "reviews").iterdir())


def test_review_for_another_session_is_refused(store: SessionStore) -> None:
    a = store.save(make_record(), audio_for(make_record()))
    b = store.save(make_record(), audio_for(make_record()))
    with pytest.raises(SessionStoreError, match="不一致"):
        store.add_review(b.id, Review(session_id=a.id, reviewer="王老师"))


def test_delete_moves_to_trash_and_leaves_others(store: SessionStore) -> None:
    keep = store.save(make_record("E1"), audio_for(make_record()))
    gone = store.save(make_record("E2"), audio_for(make_record()))
    trash = store.delete(gone.id)
    assert trash.parent == store.trash_dir and (trash / "session.json").is_file()
    assert [s.id for s in store.list()] == [keep.id]
    with pytest.raises(SessionStoreError, match="找不到会话"):
        store.load(gone.id)
    with pytest.raises(SessionStoreError, match="找不到会话"):
        store.delete(gone.id)
    assert store.reindex().indexed == 1  # the trash is not indexed
    assert store.load(keep.id).trainee_id == "E1"


def test_unknown_and_malformed_ids(store: SessionStore) -> None:
    with pytest.raises(SessionStoreError, match="找不到会话"):
        store.load("20261123T143015Z-E1024-abcdef")
    for bad in ("../../etc/passwd", "20261123T143015Z-E1024", ""):
        with pytest.raises(SessionStoreError, match="格式不正确"):
            store.load(bad)


def _corrupt_variants(store: SessionStore) -> dict[str, tuple[str, str]]:
    """Make several broken session folders; returns {session id: expected words in the reason}."""
    broken: dict[str, tuple[str, str]] = {}
    bad_json = store.save(make_record("BADJSON"), audio_for(make_record()))
    (store.session_dir(bad_json.id) / "session.json").write_bytes(b'{"kind": "practice", ')
    broken[bad_json.id] = ("不是有效的 JSON", "bad_json")
    missing_audio = store.save(make_record("NOAUDIO"), audio_for(make_record()))
    (store.session_dir(missing_audio.id) / "turn02.wav").unlink()
    broken[missing_audio.id] = ("turn02.wav 不见了", "missing_audio")
    no_record = store.save(make_record("NOREC"), audio_for(make_record()))
    (store.session_dir(no_record.id) / "session.json").unlink()
    broken[no_record.id] = ("缺少 session.json", "no_record")
    wrong_field = store.save(make_record("FIELD"), audio_for(make_record()))
    path = store.session_dir(wrong_field.id) / "session.json"
    data = json.loads(path.read_bytes())
    del data["trainee_id"]
    path.write_bytes(canonical_json(data))
    broken[wrong_field.id] = ("缺少字段 trainee_id", "wrong_field")
    return broken


def test_corrupt_folders_are_reported_and_skipped(store: SessionStore) -> None:
    good = store.save(make_record("GOOD"), audio_for(make_record()))
    broken = _corrupt_variants(store)
    stray = store.root / "2026" / "11" / "not-a-session"
    stray.mkdir()

    report = store.reindex()
    assert report.indexed == 1
    reasons = {item.path.name: item.reason for item in report.corrupt}
    assert set(reasons) == {*broken, "not-a-session"}
    for session_id, (words, _) in broken.items():
        assert words in reasons[session_id], reasons[session_id]
    assert "格式不正确" in reasons["not-a-session"]
    assert [s.id for s in store.list()] == [good.id]
    assert store.load(good.id).trainee_id == "GOOD"

    for session_id, (words, _) in broken.items():
        with pytest.raises(SessionStoreError, match=words.split()[0]):
            store.load(session_id)


def test_corrupt_review_file_is_reported_and_skipped(store: SessionStore) -> None:
    saved = store.save(make_record(), audio_for(make_record()))
    store.add_review(saved.id, Review(session_id=saved.id, reviewer="王老师", comment="好"))
    (store.session_dir(saved.id) / "reviews" / "20990101T000000.000000Z-x-000000.json").write_text("{oops", encoding="utf-8")
    assert [r.reviewer for r in store.reviews(saved.id)] == ["王老师"]
    report = store.reindex()
    assert report.indexed == 1
    assert len(report.corrupt) == 1 and "复核文件" in report.corrupt[0].reason
    assert store.summary(saved.id).review_count == 1


def test_changed_audio_bytes_are_detected(store: SessionStore) -> None:
    saved = store.save(make_record(), audio_for(make_record()))
    path = store.audio_path(saved.id, 2)
    path.write_bytes(path.read_bytes()[:-2] + b"\x01\x02")
    assert store.verify_audio(saved.id) == ["第 2 轮录音 turn02.wav 的内容已被改动（校验值不符）"]


def test_missing_index_is_rebuilt_on_first_read(store: SessionStore) -> None:
    saved = [store.save(make_record(f"E{i}"), audio_for(make_record())) for i in range(3)]
    for suffix in ("", "-wal", "-shm"):
        Path(str(store.index.path) + suffix).unlink(missing_ok=True)
    assert sorted(s.id for s in store.list()) == sorted(s.id for s in saved)


def test_broken_index_file_gives_a_clear_error_and_reindex_fixes_after_removal(store: SessionStore) -> None:
    saved = store.save(make_record(), audio_for(make_record()))
    store.index.path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(str(store.index.path) + suffix).unlink(missing_ok=True)
    fresh = SessionStore(store.root)
    with pytest.raises(SessionStoreError, match="reindex"):
        fresh.list()
    store.index.path.unlink()
    assert [s.id for s in SessionStore(store.root).list()] == [saved.id]


def test_index_failure_keeps_the_saved_folder(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_upsert(record, reviews):
        raise SessionStoreError("索引坏了", "index down")

    earlier = store.save(make_record("E0"), audio_for(make_record()))
    monkeypatch.setattr(store.index, "upsert", broken_upsert)
    saved = store.save(make_record("E1"), audio_for(make_record()))
    assert store.load(saved.id).trainee_id == "E1"
    assert (store.root / ".index-stale").exists()
    monkeypatch.undo()
    # the next read notices the stale marker and rebuilds
    assert sorted(s.id for s in store.list()) == sorted([earlier.id, saved.id])
    assert not (store.root / ".index-stale").exists()


def test_disk_full_during_save_leaves_nothing_and_keeps_old_sessions(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = store.save(make_record("E0"), audio_for(make_record()))
    before = {p: p.read_bytes() for p in store.session_dir(earlier.id).rglob("*") if p.is_file()}
    real_write = store_module._write_synced
    calls = {"n": 0}

    def write_then_fail(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(store_module, "_write_synced", write_then_fail)
    with pytest.raises(SessionStoreError, match="磁盘空间不足"):
        store.save(make_record("E1"), audio_for(make_record()))
    monkeypatch.undo()
    assert _leftovers(store) == []
    assert [s.id for s in store.list()] == [earlier.id]
    assert {p: p.read_bytes() for p in store.session_dir(earlier.id).rglob("*") if p.is_file()} == before
    assert store.reindex().indexed == 1


def test_unwritable_root(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "sessions"
    not_a_dir.write_text("oops", encoding="utf-8")
    store = SessionStore(not_a_dir)
    with pytest.raises(SessionStoreError, match="不是文件夹"):
        store.save(make_record(), audio_for(make_record()))

    if os.geteuid() != 0:  # root ignores permission bits
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            with pytest.raises(SessionStoreError, match="没有写入权限"):
                SessionStore(locked / "sessions").save(make_record(), audio_for(make_record()))
        finally:
            locked.chmod(0o700)


def test_reindex_of_missing_root_is_a_clear_error(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "nowhere")
    assert store.list() == []
    with pytest.raises(SessionStoreError, match="不存在"):
        store.reindex()


def test_loaded_record_rejects_unknown_fields(store: SessionStore) -> None:
    saved = store.save(make_record(), audio_for(make_record()))
    path = store.session_dir(saved.id) / "session.json"
    data = json.loads(path.read_bytes())
    data["seal"] = "abc"
    path.write_bytes(canonical_json(data))
    with pytest.raises(SessionStoreError, match="未知字段 seal"):
        store.load(saved.id)


def test_index_uses_wal(store: SessionStore) -> None:
    store.save(make_record(), audio_for(make_record()))
    with sqlite3.connect(store.index.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_record_from_dict_round_trip_is_exact() -> None:
    record = replace(make_record(extra={"exam_paper": "P-2026-01", "draw_seed": 12345}), id="20261123T063015Z-E1024-a1b2c3")
    record = replace(record, turns=tuple(replace(t, audio_file=f"turn{t.index:02d}.wav", audio_sha256="0" * 64) for t in record.turns))
    again = SessionRecord.from_dict(json.loads(record.canonical_bytes()))
    assert again == record and again.canonical_bytes() == record.canonical_bytes()


def test_exam_sessions_refuse_plain_override_and_casual_delete(store: SessionStore) -> None:
    """Exam results are changed only by sealed ledger entries (trainer exam override), never by a review."""
    exam = store.save(make_record("X1", kind="exam"), audio_for(make_record()))
    override = Review(session_id=exam.id, reviewer="王老师", overall="override", override_total=90.0, override_passed=True, comment="复核")
    with pytest.raises(SessionStoreError, match="考试成绩不能在这里改判"):
        store.add_review(exam.id, override)
    store.add_review(exam.id, Review(session_id=exam.id, reviewer="王老师", comment="同意"))  # an agreeing note is fine
    assert store.summary(exam.id).effective_total == exam.total

    with pytest.raises(SessionStoreError, match="--force"):
        store.delete(exam.id)
    assert store.load(exam.id).kind == "exam"
    assert store.delete(exam.id, allow_exam=True).parent == store.trash_dir
