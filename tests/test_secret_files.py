"""Secrets and data files other local accounts must not read (issue 13 item 4)."""

from __future__ import annotations

import dataclasses
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from exam_support import FakeMarker, settings_for, small_library, wav_bytes
from trainer.cli import main
from trainer.config import Settings, default_exam_key_file, load_settings, secret_file_warnings
from trainer.exam.paper import parse_paper
from trainer.exam.runner import run_exam
from trainer.exam.seal import LEDGER_NAME, ExamKeyError, exam_key, exam_key_if_available
from trainer.sessions.model import SessionRecord
from trainer.sessions.review import Review
from trainer.sessions.store import INDEX_FILE, SessionStore, turn_records

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
REPO = Path(__file__).resolve().parent.parent
PAPER = "id: unit_secret\ntitle: 密钥测试\nquestions: [payment]\nattempts: 5\npass_mark: 80\nfeedback: end\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def exam(settings: Settings, candidate: str = "S1"):
    answers = [[wav_bytes(1), wav_bytes(2)]]
    return run_exam(parse_paper(PAPER), candidate, "", answers, settings, small_library(), FakeMarker(), SessionStore(settings.sessions_dir))


# --- the exam key -----------------------------------------------------------------------------------


def test_key_is_generated_on_first_use_into_an_owner_only_file(tmp_path):
    key_file = tmp_path / "conf" / "trainer" / "exam.key"
    settings = dataclasses.replace(settings_for(tmp_path / "sessions", key=""), exam_key_file=key_file)
    assert exam_key_if_available(settings) is None  # looking never creates one
    key = exam_key(settings)
    assert len(key) == 64 and key_file.read_text().strip() == key.decode()
    assert mode(key_file) == 0o600 and mode(key_file.parent) == 0o700
    assert exam_key(settings) == key  # the same key from then on
    exam(settings)
    assert (tmp_path / "sessions" / LEDGER_NAME).exists()


def test_default_key_file_is_in_the_users_config_folder(tmp_path):
    settings = load_settings({"TRAINER_SESSIONS_DIR": str(tmp_path / "s"), "TRAINER_CONFIG": ""})
    assert settings.key_file == default_exam_key_file()
    assert default_exam_key_file({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "trainer" / "exam.key"
    assert load_settings({"TRAINER_EXAM_KEY_FILE": str(tmp_path / "k"), "TRAINER_CONFIG": ""}).key_file == tmp_path / "k"


def test_key_file_readable_by_others_is_refused(tmp_path):
    key_file = tmp_path / "exam.key"
    settings = dataclasses.replace(settings_for(tmp_path / "sessions", key=""), exam_key_file=key_file)
    exam_key(settings)
    key_file.chmod(0o644)
    with pytest.raises(ExamKeyError) as err:
        exam_key(settings)
    assert "chmod 600" in err.value.user_message and str(key_file) in err.value.user_message


def test_key_file_inside_the_sessions_folder_is_refused(tmp_path):
    settings = dataclasses.replace(settings_for(tmp_path / "sessions", key=""), exam_key_file=tmp_path / "sessions" / "exam.key")
    with pytest.raises(ExamKeyError) as err:
        exam_key(settings)
    assert "会话目录" in err.value.user_message
    assert not (tmp_path / "sessions" / "exam.key").exists()


def test_no_new_key_once_the_ledger_has_entries(tmp_path):
    settings = settings_for(tmp_path / "sessions")
    exam(settings)  # sealed with the configured key
    keyless = dataclasses.replace(settings, exam_key="", exam_key_file=tmp_path / "lost.key")
    with pytest.raises(ExamKeyError) as err:
        exam_key(keyless)
    assert "备份" in err.value.user_message and not (tmp_path / "lost.key").exists()


# --- files holding secrets ------------------------------------------------------------------------


def test_config_file_with_a_secret_readable_by_others_is_warned_about(tmp_path):
    config = tmp_path / "trainer.toml"
    config.write_text('exam_key = "0123456789abcdef0123"\n', encoding="utf-8")
    config.chmod(0o644)
    env = {**os.environ, "TRAINER_CONFIG": str(config), "TRAINER_SESSIONS_DIR": str(tmp_path / "s")}
    done = subprocess.run([sys.executable, "-m", "trainer", "exam", "list"], capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert "警告" in done.stderr and "chmod 600" in done.stderr and "exam_key" in done.stderr
    config.chmod(0o600)
    assert secret_file_warnings(load_settings({"TRAINER_CONFIG": str(config)})) == []
    config.chmod(0o644)
    config.write_text('engine = "vosk"\n', encoding="utf-8")  # no secret in it: nothing to say
    assert secret_file_warnings(load_settings({"TRAINER_CONFIG": str(config)})) == []


def test_set_password_makes_an_existing_config_owner_only(tmp_path, monkeypatch):
    config = tmp_path / "trainer.toml"
    config.write_text('engine = "vosk"\n', encoding="utf-8")
    config.chmod(0o644)
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret-pass\n"))
    assert main(["admin", "set-password", "--config", str(config), "--password-stdin"]) == 0
    assert mode(config) == 0o600 and "instructor_password_hash" in config.read_text(encoding="utf-8")


# --- data files -------------------------------------------------------------------------------------


def test_data_files_are_0600_and_folders_0700(tmp_path):
    settings = settings_for(tmp_path / "sessions")
    store = SessionStore(settings.sessions_dir)
    record = SessionRecord(
        id="", kind="practice", trainee_id="T1", trainee_name="", scenario_id="payment", scenario_title="收费",
        phrasebook_version="v", engine="test", model="m", started_at="2026-11-23T08:00:00Z", finished_at="2026-11-23T08:01:00Z",
        turns=turn_records(["您好"], [{"text": "您好", "words": [], "duration": 0.5, "engine": "test", "model": "m"}]),
        score={"steps": [{"id": "greet", "status": "hit"}], "score": {"total": 90.0}, "passed": True},
    )
    saved = store.save(record, [wav_bytes(3)])
    store.add_review(saved.id, Review(session_id=saved.id, reviewer="王老师"))
    store.list()
    exam(settings)
    root = settings.sessions_dir
    folder = store.session_dir(saved.id)
    files = [root / LEDGER_NAME, root / INDEX_FILE, folder / "session.json", folder / "turn01.wav", *(folder / "reviews").glob("*.json")]
    files += [p for p in (root / f"{INDEX_FILE}-wal", root / f"{INDEX_FILE}-shm") if p.exists()]
    assert len(files) >= 5
    assert {str(p.relative_to(root)): oct(mode(p)) for p in files} == {str(p.relative_to(root)): oct(0o600) for p in files}
    folders = [root, folder, folder.parent, folder.parent.parent, folder / "reviews", root / ".tmp"]
    assert {str(p): oct(mode(p)) for p in folders} == {str(p): oct(0o700) for p in folders}


def test_a_0644_ledger_from_an_older_version_is_tightened(tmp_path):
    settings = settings_for(tmp_path / "sessions")
    exam(settings)
    ledger = settings.sessions_dir / LEDGER_NAME
    ledger.chmod(0o644)
    exam(settings, "S2")
    assert mode(ledger) == 0o600
