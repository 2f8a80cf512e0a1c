"""Leftovers of killed saves and killed reviews are cleaned at start-up and on reindex, but never
one that may still be in progress (issue 13 item 10)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_sessions_support import audio_for, make_record
from trainer.durable import synced_temp
from trainer.sessions import Review, SessionStore
from trainer.sessions.store import REVIEW_TEMP_MAX_AGE

TESTS_DIR = Path(__file__).resolve().parent

_CHILD = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from test_sessions_support import audio_for, make_record
from trainer.sessions import store as store_module

def hook(point, path):
    if point == sys.argv[2]:
        print("PAUSED", path, flush=True)
        time.sleep(120)

store_module._save_hook = hook
record = make_record("KILLED", "被中断")
store_module.SessionStore(Path(sys.argv[1])).save(record, audio_for(record))
"""


def _paused_save(store: SessionStore) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(store.root), "audio-written", str(TESTS_DIR)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = child.stdout.readline()
    assert line.startswith("PAUSED"), (line, child.stderr.read() if child.poll() is not None else "")
    return child


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _temp_folders(store: SessionStore) -> list[Path]:
    return [p for p in store.temp_dir.iterdir() if p != store.pending_dir]


@pytest.mark.timeout(60)
def test_killed_save_is_cleaned_by_the_next_reindex_not_an_hour_later(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    store.save(make_record("E0"), audio_for(make_record()))
    child = _paused_save(store)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    [leftover] = _temp_folders(store)
    _age(leftover, 60)  # a minute later, not an hour
    report = store.reindex()  # the default age limit
    assert report.removed_temp == (leftover,) and not leftover.exists()


@pytest.mark.timeout(60)
def test_a_save_in_progress_is_never_removed_however_old(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    child = _paused_save(store)
    try:
        [in_progress] = _temp_folders(store)
        _age(in_progress, 7200)
        report = store.reindex()
        assert report.kept_temp == (in_progress,) and in_progress.is_dir()
        assert store.cleanup_leftovers().removed == ()
    finally:
        child.kill()
        child.wait()
    assert store.cleanup_leftovers().removed == (in_progress,)  # its saver is gone now


def test_a_just_created_temp_folder_is_kept(tmp_path: Path) -> None:
    """Between creating its folder and locking it, a save is only protected by the folder's age."""
    store = SessionStore(tmp_path / "sessions")
    store.save(make_record(), audio_for(make_record()))
    fresh = store.temp_dir / "20261123T063015Z-E1-abcdef.123.xyz"
    fresh.mkdir()
    assert store.reindex().kept_temp == (fresh,)
    assert store.reindex(temp_max_age=0).removed_temp == (fresh,)


def test_killed_review_temp_files_are_removed_on_reindex_and_start_up(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    saved = store.save(make_record(), audio_for(make_record()))
    store.add_review(saved.id, Review(session_id=saved.id, reviewer="王老师"))
    reviews = store.session_dir(saved.id) / "reviews"
    old = synced_temp(reviews, b'{"half": ')  # what a review killed before its link leaves
    young = synced_temp(reviews, b'{"half": ')
    _age(old, REVIEW_TEMP_MAX_AGE + 10)
    report = store.reindex()
    assert report.removed_review_temp == (old,) and not old.exists() and young.exists()
    assert report.corrupt == () and len(store.reviews(saved.id)) == 1
    _age(young, REVIEW_TEMP_MAX_AGE + 10)
    cleaned = store.cleanup_leftovers()
    assert cleaned.removed == (young,) and not young.exists()


def test_trainer_app_start_up_cleans_leftovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer.cli import app as app_cli
    from trainer.cli import main

    store = SessionStore(tmp_path / "sessions")
    saved = store.save(make_record(), audio_for(make_record()))
    dead = store.temp_dir / "20261123T063015Z-E1-abcdef.99999.xyz"
    dead.mkdir()
    (dead / "turn01.wav").write_bytes(b"RIFF")
    _age(dead, 120)
    (store.session_dir(saved.id) / "reviews").mkdir()
    review_tmp = synced_temp(store.session_dir(saved.id) / "reviews", b"x")
    _age(review_tmp, REVIEW_TEMP_MAX_AGE + 1)
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(store.root))
    monkeypatch.setenv("TRAINER_CONFIG", "")
    monkeypatch.setattr(app_cli, "launch_streamlit", lambda command, env=None: 0)
    monkeypatch.setattr(app_cli, "check_model", lambda settings, fetch_allowed: None)
    assert main(["app", "--no-fetch"]) == 0
    assert not dead.exists() and not review_tmp.exists()
