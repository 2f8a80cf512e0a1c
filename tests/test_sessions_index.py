"""The SQLite session index file itself: waiting out another process's lock, and a clear error when
the lock is never released. (Listing and filters: tests/test_index_backends.py; old files:
tests/test_index_upgrade.py.)"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from trainer.errors import SessionStoreError
from trainer.storage import sqlite as sqlite_module
from trainer.sessions.index import SessionIndex


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 20 ms busy timeout, so that a held lock reaches the retry loop at once."""
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 20)


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@pytest.mark.parametrize("fresh_file", [False, True], ids=["built", "schema-not-yet-created"])
def test_a_write_is_retried_until_another_process_releases_its_lock(tmp_path: Path, short_timeout, fresh_file: bool) -> None:
    path = tmp_path / "index.sqlite3"
    index = SessionIndex(path)
    if fresh_file:  # e.g. the account store made the file first: the index creates its tables under the lock
        sqlite3.connect(path).close()
    else:
        index.meta_update("k", lambda _: "1")
    holder = _hold_write_lock(path)
    release = threading.Timer(0.4, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        index.meta_update("k", lambda current: f"{current}+2")
    finally:
        release.join()
        holder.close()
    assert time.monotonic() - started >= 0.35  # it did wait for the lock
    assert index.meta_get("k") == ("None+2" if fresh_file else "1+2")


def test_a_lock_never_released_gives_a_clear_error(tmp_path: Path, short_timeout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_module, "RETRIES", 2)
    path = tmp_path / "index.sqlite3"
    index = SessionIndex(path)
    index.meta_update("k", lambda _: "1")
    holder = _hold_write_lock(path)
    try:
        with pytest.raises(SessionStoreError, match="会话索引数据库.*无法使用.*database is locked.*reindex"):
            index.meta_update("k", lambda _: "2")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert index.meta_get("k") == "1"
