"""The embedded database file (<sessions>/index.sqlite3) through SQLAlchemy.

`sqlite_engine(path)` gives the engine for one file. Every use opens its own short connection
(NullPool: nothing stays open between calls, nothing is shared across a fork), with a busy
timeout, foreign keys on and WAL (the app and the CLI use the file at once). Transactions begin
explicitly: reads with BEGIN, writes (`run(..., write=True)` in trainer/storage/engine.py) with
BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of failing when a read lock
would have to be upgraded. The file and its -wal/-shm are owner-only (trainer/durable.py): it
holds password hashes.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.durable import open_private, private_dirs, private_file
from trainer.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 30_000
RETRIES = 8  # attempts when SQLite still reports the file locked after the busy timeout
WRITE_OPTION = "trainer_write"  # execution option: this connection's transaction writes

_engines: dict[str, "Engine"] = {}
_lock = threading.Lock()


def make_private(path: Path) -> None:
    """Create the file (and its folders) owner-only if missing; take group/other access off the
    file and its -wal/-shm (SQLite gives those the file's mode). OSError when that fails."""
    private_dirs(path.parent)
    os.close(open_private(path, os.O_RDWR | os.O_CREAT))
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if part.exists():
            private_file(part)


def sqlite_engine(path: Path) -> "Engine":
    """The engine for the SQLite file at `path` (cached per file; see module doc)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    key = str(Path(path).resolve())
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = create_engine(f"sqlite+pysqlite:///{key}", poolclass=NullPool,
                                   connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _on_connect)
            event.listen(engine, "begin", _on_begin)
            _engines[key] = engine
        return engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver's own BEGIN off: _on_begin emits ours
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def is_busy(exc: BaseException) -> bool:
    """Whether a database error is SQLite's 'database is locked / busy' (worth retrying)."""
    from sqlalchemy.exc import OperationalError

    message = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and ("locked" in message or "busy" in message)


def file_error(exc: BaseException, path: str) -> StorageError:
    """A failure of the SQLite file as a StorageError (Chinese: what failed and what to do)."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    reason = str(getattr(exc, "orig", exc)).strip() or exc.__class__.__name__
    if isinstance(exc, OperationalError):
        return StorageError(f"数据库文件 {path} 无法使用：{reason}。请检查文件权限和磁盘空间。", f"sqlite error on {path}: {exc}")
    if isinstance(exc, IntegrityError):
        return StorageError(f"数据库文件 {path} 拒绝了这次写入：{reason}。", f"sqlite integrity error on {path}: {exc}")
    return StorageError(f"数据库文件 {path} 已损坏或无法读取：{reason}。请从备份恢复该文件。", f"sqlite database error on {path}: {exc}")
