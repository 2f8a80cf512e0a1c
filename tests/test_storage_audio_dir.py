"""PostgreSQL with the turn audio in a shared folder (setting audio_dir / TRAINER_AUDIO_DIR):
files written atomically per session folder, sha256 and size still in the database, read back
streamed by any server, checked by verify_audio and by `trainer storage migrate`."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from exam_support import settings_for, wav_bytes as exam_wav
from test_sessions_support import audio_for, make_record, wav_bytes
from trainer.config import load_settings
from trainer.errors import SessionStoreError, StorageError
from trainer.sessions import Review
from trainer.sessions.store import SessionStore
from trainer.storage.engine import driver_url
from trainer.storage.factory import session_store, storage_label
from trainer.storage.migrate import migrate
from trainer.storage.pg_sessions import PostgresSessionStore
from trainer.storage.schema import audio_chunks, session_audio

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    folder = tmp_path / "mnt-shared" / "trainer-audio"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def settings(pg_url: str, tmp_path: Path, shared: Path):
    return dataclasses.replace(settings_for(tmp_path / "sessions"), storage="postgres", database_url=pg_url, audio_dir=shared)


def _chunk_rows(store: PostgresSessionStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audio_chunks)).scalar_one())


@pytest.mark.postgres
def test_a_long_turn_round_trips_through_the_folder_and_another_server_reads_it(settings, shared: Path) -> None:
    store = session_store(settings)
    long_audio = exam_wav(7, 20.0)  # ~640 KB
    assert len(long_audio) > 600_000
    audio = [wav_bytes(0.2, 300), long_audio, None]
    saved = store.save(make_record(turns=3), audio)

    folder = shared / saved.id
    assert sorted(p.name for p in folder.iterdir()) == ["turn01.wav", "turn02.wav"]  # no temporary file left
    assert (folder / "turn02.wav").read_bytes() == long_audio
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE((folder / "turn02.wav").stat().st_mode) == 0o600
    assert _chunk_rows(store) == 0  # nothing of the audio in the database
    with store.engine.connect() as conn:
        rows = conn.execute(select(session_audio.c.turn, session_audio.c.sha256, session_audio.c.size).order_by(session_audio.c.turn)).all()
    assert [tuple(r) for r in rows] == [(1, hashlib.sha256(audio[0]).hexdigest(), len(audio[0])),
                                         (2, hashlib.sha256(long_audio).hexdigest(), len(long_audio))]

    chunks = list(store.iter_audio(saved.id, 2))
    assert len(chunks) == 3 and all(len(c) <= 256 * 1024 for c in chunks) and b"".join(chunks) == long_audio
    assert store.audio_location(saved.id, "turn02.wav") == f"共享文件夹 {folder / 'turn02.wav'}"
    assert "录音在共享文件夹" in storage_label(settings)

    other = PostgresSessionStore(create_engine(driver_url(settings.database_url)), settings.database_url, settings.audio_dir)
    assert other.load(saved.id) == saved
    assert other.audio_bytes(saved.id, 2) == long_audio and other.audio_bytes(saved.id, 1) == audio[0]
    assert other.verify_audio(saved.id) == []
    with pytest.raises(SessionStoreError, match="没有录音"):
        other.audio_bytes(saved.id, 3)


@pytest.mark.postgres
def test_verify_audio_finds_a_changed_or_missing_file(settings, shared: Path) -> None:
    store = session_store(settings)
    saved = store.save(make_record(turns=2), [wav_bytes(0.3, 300), wav_bytes(0.3, 400)])
    first, second = shared / saved.id / "turn01.wav", shared / saved.id / "turn02.wav"
    data = bytearray(first.read_bytes())
    data[100] ^= 0xFF
    first.write_bytes(bytes(data))
    second.unlink()
    assert store.verify_audio(saved.id) == [
        "第 1 轮录音 turn01.wav 的内容已被改动（校验值不符）",
        "第 2 轮录音 turn02.wav 不见了",
    ]
    with pytest.raises(SessionStoreError, match="turn02.wav 找不到（共享文件夹"):
        store.audio_bytes(saved.id, 2)


@pytest.mark.postgres
def test_a_taken_id_leaves_the_existing_files_alone(settings, shared: Path) -> None:
    store = session_store(settings)
    saved = store.save(make_record(turns=1), [wav_bytes(0.3, 300)])
    before = (shared / saved.id / "turn01.wav").read_bytes()
    with pytest.raises(SessionStoreError, match="已存在"):
        store.save(dataclasses.replace(make_record(turns=1), id=saved.id), [wav_bytes(0.5, 500)])
    assert (shared / saved.id / "turn01.wav").read_bytes() == before and store.verify_audio(saved.id) == []


@pytest.mark.postgres
def test_audio_saved_in_the_database_before_the_folder_stays_readable(settings, shared: Path) -> None:
    in_database = session_store(dataclasses.replace(settings, audio_dir=None))
    old = in_database.save(make_record(turns=1), [wav_bytes(0.3, 300)])
    assert _chunk_rows(in_database) == 1
    store = session_store(settings)
    new = store.save(make_record(turns=1), [wav_bytes(0.3, 400)])
    assert store.audio_bytes(old.id, 1) == in_database.audio_bytes(old.id, 1) and store.verify_audio(old.id) == []
    assert not (shared / old.id).exists() and (shared / new.id / "turn01.wav").is_file()


@pytest.mark.postgres
def test_a_folder_that_is_not_mounted_is_refused(settings, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="录音文件夹 .* 不存在"):
        session_store(dataclasses.replace(settings, audio_dir=tmp_path / "not-mounted"))
    assert not (tmp_path / "not-mounted").exists()


@pytest.mark.postgres
def test_migrate_into_postgres_with_the_audio_in_the_folder(settings, shared: Path) -> None:
    embedded = SessionStore(settings.sessions_dir)
    ids = []
    for n in range(3):
        record = make_record(trainee_id=f"E10{n}", started_at=f"2026-11-2{n}T06:30:15Z")
        ids.append(embedded.save(record, audio_for(record, 300.0 + n)).id)
    embedded.add_review(ids[0], Review(session_id=ids[0], reviewer="李老师", comment="好"))

    report = migrate(dataclasses.replace(settings, storage="embedded", database_url=""), settings.database_url)
    assert report.ok, report.problems
    assert report.sessions_copied == 3 and report.audio_files == sum(len(embedded.load(i).turns) for i in ids)
    target = session_store(settings)
    assert _chunk_rows(target) == 0
    for session_id in ids:
        for turn in embedded.load(session_id).turns:
            copied = (shared / session_id / turn.audio_file).read_bytes()
            assert copied == embedded.audio_bytes(session_id, turn.index) == target.audio_bytes(session_id, turn.index)
        assert target.verify_audio(session_id) == []

    # the command line, with the folder from TRAINER_AUDIO_DIR: a re-run finds everything in place
    env = {**os.environ, "TRAINER_SESSIONS_DIR": str(settings.sessions_dir), "TRAINER_AUDIO_DIR": str(shared),
           "TRAINER_CONFIG": str(shared.parent / "none.toml")}
    (shared.parent / "none.toml").write_text("", encoding="utf-8")
    env.pop("TRAINER_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "trainer", "storage", "migrate", "--to", settings.database_url], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "迁移完成，核对无误" in done.stdout


def test_audio_dir_setting(tmp_path: Path) -> None:
    config = tmp_path / "trainer.toml"
    config.write_text('storage = "postgres"\ndatabase_url = "postgresql://u@h/db"\naudio_dir = "/mnt/shared/trainer-audio"\n', encoding="utf-8")
    env = {"TRAINER_CONFIG": str(config)}
    assert load_settings(env).audio_dir == Path("/mnt/shared/trainer-audio")
    assert load_settings({**env, "TRAINER_AUDIO_DIR": "/srv/audio"}).audio_dir == Path("/srv/audio")
    assert load_settings({**env, "TRAINER_AUDIO_DIR": ""}).audio_dir is None  # empty: in the database
    config.write_text('audio_dir = ""\n', encoding="utf-8")
    assert load_settings(env).audio_dir is None
    config.write_text('audio_dir = "audio"\n', encoding="utf-8")
    assert load_settings(env).audio_dir == (tmp_path / "audio").resolve()
