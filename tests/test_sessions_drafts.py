"""The draft store: unfinished practice runs on disk, one per owner (trainer/sessions/drafts.py)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from trainer.sessions import SessionRecord, SessionStore, turn_records, utc_now
from trainer.sessions.drafts import (
    DRAFT_FILE,
    CorruptDraftError,
    Draft,
    DraftError,
    DraftStore,
    DraftTurn,
    owner_key,
)
from app_support import silence_wav


def _wav(n: int) -> bytes:
    return silence_wav(0.5 + 0.1 * n)  # distinct bytes per turn


def _turn(n: int, text: str = "您好") -> DraftTurn:
    return DraftTurn(
        index=n,
        prompt=f"客户第 {n} 句",
        audio=_wav(n),
        audio_name=f"turn{n}.wav",
        source="microphone" if n % 2 else "upload",
        transcript={"text": f"{text}{n}", "segments": [], "words": []},
        seconds=1.5 + n,
        warnings=("声音偏小",) if n == 2 else (),
        processing_seconds=0.25 * n,
    )


def _draft(owner: str = "E1024", turns: int = 2, run_id: str = "run1") -> Draft:
    return Draft(
        owner=owner,
        run_id=run_id,
        scenario_id="payment",
        scenario_title="柜台收费",
        steps_total=10,
        trainee_id=owner,
        trainee_name="张三",
        started_at="2026-12-05T00:00:00Z",
        phrasebook_version="abc123",
        turns=tuple(_turn(n) for n in range(1, turns + 1)),
        score={"total": 20.0, "steps": [{"id": "greet", "status": "hit", "turn": 1}]},
        retries=1,
        last_turn=1,
    )


@pytest.fixture
def store(tmp_path: Path) -> DraftStore:
    return DraftStore(tmp_path / "sessions" / "drafts")


def test_round_trip_keeps_every_field_and_the_audio_bytes(store: DraftStore) -> None:
    draft = _draft()
    store.save(draft)
    loaded = store.load("E1024")
    assert loaded == draft
    assert [t.audio for t in loaded.turns] == [_wav(1), _wav(2)]
    assert loaded.turns[1].warnings == ("声音偏小",) and loaded.turns[1].source == "upload"
    assert store.load("E2048") is None


def test_a_later_save_replaces_the_draft_and_drops_audio_no_longer_used(store: DraftStore) -> None:
    store.save(_draft(turns=2))
    retried = replace(_draft(turns=3), turns=(_turn(1, "重录"), *_draft(turns=3).turns[1:]))
    retried = replace(retried, turns=(replace(retried.turns[0], audio=silence_wav(2.0)), *retried.turns[1:]))
    store.save(retried)
    loaded = store.load("E1024")
    assert loaded is not None and loaded.answered == 3
    assert loaded.turns[0].audio == silence_wav(2.0) and loaded.turns[0].transcript["text"] == "重录1"
    files = sorted(p.name for p in store.folder("E1024").iterdir())
    assert DRAFT_FILE in files and len(files) == 4  # draft.json and exactly three audio files
    assert not [name for name in files if name.startswith(".tmp-")]


def test_owner_ids_are_encoded_into_safe_fixed_length_folder_names(store: DraftStore) -> None:
    owners = ["../../etc", "张三/李四", "C:\\x", ".", "a" * 200, "E1024", "e1024"]
    for n, owner in enumerate(owners):
        store.save(_draft(owner=owner, run_id=f"r{n}"))
    folders = sorted(p for p in store.root.iterdir() if p.is_dir())
    assert len(folders) == len(owners)  # case matters: E1024 and e1024 are two owners
    assert all(p.parent == store.root and len(p.name) == 32 and p.name.isalnum() for p in folders)
    for n, owner in enumerate(owners):
        loaded = store.load(owner)
        assert loaded is not None and loaded.owner == owner and loaded.run_id == f"r{n}"
    assert owner_key("E1024") != owner_key("e1024")
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(DraftError) as info:
            owner_key(bad)
        assert "用户编号" in info.value.user_message


def test_a_draft_of_another_owner_under_this_owners_key_is_refused(store: DraftStore) -> None:
    store.save(_draft(owner="E1024"))
    target = store.folder("E2048")
    os.replace(store.folder("E1024"), target)  # e.g. folders copied between servers by hand
    with pytest.raises(CorruptDraftError):
        store.load("E2048")


def test_crash_before_the_rename_leaves_the_previous_draft(store: DraftStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save(_draft(turns=1))
    real_replace = os.replace

    def crash(src: str | os.PathLike, dst: str | os.PathLike) -> None:
        if Path(dst).name == DRAFT_FILE:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DraftError) as info:
        store.save(_draft(turns=2))
    assert "保存练习进度失败" in info.value.user_message
    monkeypatch.setattr(os, "replace", real_replace)
    loaded = store.load("E1024")
    assert loaded is not None and loaded.answered == 1 and loaded.turns[0].audio == _wav(1)
    assert not [p for p in store.folder("E1024").iterdir() if p.name.startswith(".tmp-")]


def test_killed_between_audio_and_draft_file_still_reads_the_previous_draft(store: DraftStore) -> None:
    store.save(_draft(turns=1))
    folder = store.folder("E1024")
    (folder / "audio-0123456789abcdef01234567.wav").write_bytes(_wav(2))  # a new turn's audio, draft.json not yet replaced
    (folder / ".tmp-half.json").write_bytes(b'{"form')
    loaded = store.load("E1024")
    assert loaded is not None and loaded.answered == 1
    store.save(_draft(turns=2))  # the next save tidies the leftovers
    assert len(list(folder.glob("audio-*"))) == 2
    assert not (folder / ".tmp-half.json").exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / DRAFT_FILE).write_bytes(b'{"format": 1, "turns": ['),
        lambda folder: (folder / DRAFT_FILE).write_bytes(b"\xff\xfe not utf-8"),
        lambda folder: (folder / DRAFT_FILE).write_text('{"format": 99}', encoding="utf-8"),
        lambda folder: (folder / DRAFT_FILE).write_text("[1, 2]", encoding="utf-8"),
        lambda folder: next(folder.glob("audio-*")).unlink(),
        lambda folder: next(folder.glob("audio-*")).write_bytes(b"RIFF changed"),
        lambda folder: _edit(folder, lambda d: d["turns"][0].update(index=2)),
        lambda folder: _edit(folder, lambda d: d["turns"][0].update(audio_file="../../x.wav")),
        lambda folder: _edit(folder, lambda d: d.update(steps_total="ten")),
        lambda folder: _edit(folder, lambda d: d.update(turns=[])),
        lambda folder: _edit(folder, lambda d: d.update(last_turn=3)),
    ],
    ids=["truncated", "not-utf8", "format", "not-object", "audio-missing", "audio-changed", "index", "path", "type", "no-turns", "last-turn"],
)
def test_a_corrupt_draft_is_moved_aside_with_a_chinese_message_and_sessions_untouched(store: DraftStore, damage) -> None:  # type: ignore[no-untyped-def]
    saved = _stored_session(store.root.parent)
    before = _files_outside(store)
    store.save(_draft())
    damage(store.folder("E1024"))
    with pytest.raises(CorruptDraftError) as info:
        store.load("E1024")
    message = info.value.user_message
    assert "已损坏" in message and "已保存的练习记录不受影响" in message and str(store.corrupt_dir) in message
    assert not store.folder("E1024").exists()
    assert len(list(store.corrupt_dir.iterdir())) == 1
    assert store.load("E1024") is None  # skipped from now on
    assert _files_outside(store) == before
    assert SessionStore(store.root.parent).load(saved.id).turns == saved.turns
    store.save(_draft())  # and the owner can practise again
    assert store.load("E1024") is not None


def _stored_session(root: Path) -> SessionRecord:
    record = SessionRecord(
        kind="practice", trainee_id="E1024", trainee_name="张三", scenario_id="payment", scenario_title="柜台收费",
        started_at=utc_now(), finished_at=utc_now(), turns=turn_records(["你好。"], [{"text": "您好"}]),
        score={"score": {"total": 10.0}, "passed": False, "steps": []}, phrasebook_version="test", engine="text", model="",
    )
    return SessionStore(root).save(record, [_wav(9)])


def _files_outside(store: DraftStore) -> dict[Path, bytes]:
    base = store.root.parent
    return {
        p.relative_to(base): p.read_bytes()
        for p in base.rglob("*")
        if p.is_file() and store.root not in p.parents and p.name != "index.sqlite3-wal" and p.name != "index.sqlite3-shm"
    }


def _edit(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((folder / DRAFT_FILE).read_text(encoding="utf-8"))
    change(data)
    (folder / DRAFT_FILE).write_text(json.dumps(data), encoding="utf-8")


def test_another_runs_draft_is_not_overwritten_unless_asked(store: DraftStore) -> None:
    store.save(_draft(run_id="tab-a"))
    with pytest.raises(DraftError) as info:
        store.save(_draft(run_id="tab-b", turns=1))
    assert "另一个浏览器窗口" in info.value.user_message and "柜台收费" in info.value.user_message
    assert store.load("E1024").run_id == "tab-a"  # type: ignore[union-attr]
    store.save(_draft(run_id="tab-b", turns=1), replace_other_run=True)
    assert store.load("E1024").run_id == "tab-b"  # type: ignore[union-attr]


def test_delete_removes_the_draft_but_only_of_the_given_run(store: DraftStore) -> None:
    store.save(_draft(run_id="run1"))
    assert store.delete("E1024", "other-run") is False
    assert store.load("E1024") is not None
    assert store.delete("E1024", "run1") is True
    assert store.load("E1024") is None and not store.folder("E1024").exists()
    assert store.delete("E1024") is False
    store.save(_draft(run_id="run2"))
    assert store.delete("E1024") is True and store.load("E1024") is None


def test_concurrent_saves_of_one_owner_always_leave_a_readable_draft(store: DraftStore) -> None:
    """Two tabs of one trainee saving at once: every save is whole (no audio removed under another save)."""
    import threading

    drafts = [replace(_draft(turns=1 + n % 4), turns=tuple(replace(t, audio=silence_wav(0.3 + 0.01 * n + 0.1 * t.index)) for t in _draft(turns=1 + n % 4).turns)) for n in range(12)]
    errors: list[BaseException] = []

    def save(draft: Draft) -> None:
        try:
            for _ in range(3):
                store.save(draft)
                assert store.load("E1024") in drafts
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert store.load("E1024") in drafts


def test_an_empty_or_inconsistent_draft_is_refused(store: DraftStore) -> None:
    for bad in (_draft(turns=0), replace(_draft(turns=2), last_turn=3), replace(_draft(turns=2), turns=(_turn(2), _turn(1)))):
        with pytest.raises(DraftError):
            store.save(bad)
    assert store.load("E1024") is None


def test_cleanup_removes_drafts_older_than_the_limit_only(store: DraftStore) -> None:
    store.save(_draft(owner="old"))
    store.save(_draft(owner="new"))
    store.save(_draft(owner="broken"))
    (store.folder("broken") / DRAFT_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(CorruptDraftError):
        store.load("broken")
    [quarantined] = list(store.corrupt_dir.iterdir())
    ten_days_ago = time.time() - 10 * 86400
    os.utime(store.folder("old") / DRAFT_FILE, (ten_days_ago, ten_days_ago))
    os.utime(quarantined, (ten_days_ago, ten_days_ago))

    assert store.cleanup(0).removed == ()  # 0 keeps everything
    assert store.cleanup(14).removed == ()
    report = store.cleanup(7)
    assert sorted(report.removed) == sorted([store.folder("old"), quarantined]) and report.kept == 1
    assert store.load("old") is None and store.load("new") is not None
    assert store.corrupt_dir.is_dir() and not list(store.corrupt_dir.iterdir())
    assert DraftStore(store.root.parent / "nowhere").cleanup(7).removed == ()


def test_draft_folders_and_files_are_owner_only(tmp_path: Path) -> None:
    import stat

    store = DraftStore(tmp_path / "sessions" / "drafts")
    saved = store.save(_draft())
    folder = store.folder(saved.owner)
    for path in (tmp_path / "sessions" / "drafts", folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for file in folder.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
