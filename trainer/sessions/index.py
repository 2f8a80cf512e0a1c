"""The SQLite index of stored sessions (<sessions>/index.sqlite3): fast listing, filtering and statistics.

The folders are the source of truth; this index can always be rebuilt from them
(`SessionStore.reindex`). Tables, filters and row mapping are SQLAlchemy Core shared with the
PostgreSQL store (`trainer/sessions/index_sql.py`); the file's engine is the account store's
(`trainer/storage/sqlite.py`: owner-only file, WAL and a busy timeout so several processes can
save and list at once, one short-lived connection per operation). This module adds the index's
tables (created when the file lacks them, `INDEX_VERSION`), retries while the file is locked, the
index's own error messages, and the `meta` table (values kept across rebuilds, e.g. the exam
ledger's anchored head).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, MetaData, Table, Text, bindparam, delete, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from trainer.errors import SessionStoreError
from trainer.sessions.index_sql import (
    IndexQueries,
    index_rows,
    replace_steps,
    sessions_table,
    steps_table,
    to_step_row,
    to_step_stats,
    to_summary,
)
from trainer.sessions.model import SessionFilter, SessionRecord, SessionSummary, StepRow, StepStat
from trainer.sessions.review import Review
from trainer.storage import sqlite
from trainer.storage.engine import run

log = logging.getLogger(__name__)
T = TypeVar("T")

# 2: the machine verdict (pass | fail | review = 待复核) and the result shown (`verdict`, `result`).
# A file of another version is rebuilt from the folders on first use (`_create_schema`, IndexNotBuilt).
INDEX_VERSION = 2
REBUILD_BATCH = 500  # sessions per INSERT batch of a rebuild

metadata = MetaData()
# Values kept across rebuilds: "version" (INDEX_VERSION of the last full rebuild) and e.g. the
# exam ledger's anchored head (trainer/exam/anchor.py).
meta = Table("meta", metadata, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))
sessions = sessions_table(metadata)
steps = steps_table(metadata, "steps", step_index="steps_scenario")
QUERIES = IndexQueries(sessions, steps)
# The index's own tables; a rebuild or a version change touches nothing else in the file (the
# account tables of trainer/accounts/store.py live there too).
INDEX_TABLES = (sessions, steps)


def _has_schema(conn: Connection) -> bool:
    """PRAGMA user_version marks a file that has the tables of this INDEX_VERSION (a cheap read,
    made on every connection: the file may have been deleted and re-created meanwhile)."""
    return conn.exec_driver_sql("PRAGMA user_version").scalar() == INDEX_VERSION


def _create_schema(conn: Connection) -> None:
    """Create the index tables (in the caller's write transaction). An index of another version
    loses its session and step rows (reads then find the old version in meta, raise IndexNotBuilt,
    and the store rebuilds them from the folders); meta and the account tables are never touched."""
    found = conn.exec_driver_sql("PRAGMA user_version").scalar()  # again, under the write lock
    if found == INDEX_VERSION:
        return
    if found != 0:
        for table in reversed(INDEX_TABLES):
            table.drop(conn, checkfirst=True)
    metadata.create_all(conn)
    conn.exec_driver_sql(f"PRAGMA user_version = {INDEX_VERSION}")


class IndexNotBuilt(SessionStoreError):
    """A read found no completed rebuild of this INDEX_VERSION in the file (new, deleted, or written
    by another version): `SessionStore` rebuilds the index from the folders and reads again."""

    def __init__(self, path: Path, found: str | None) -> None:
        super().__init__(
            f"会话索引 {path} 尚未建立（或来自其他版本）。请运行 `trainer sessions reindex` 从会话文件夹重建索引。",
            f"session index {path} not built for version {INDEX_VERSION} (meta version {found!r})",
        )


class SessionIndex:
    """SQLite index file. Safe to use from several threads and processes (one connection per call)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._private = False

    # --- connections -------------------------------------------------------------------------
    def _make_private(self) -> None:
        """The index holds names and scores: owner-only (0600), like its -wal and -shm files."""
        if self._private or not self.path.parent.is_dir():
            return
        try:
            sqlite.make_private(self.path)
        except OSError as exc:
            log.warning("cannot make %s owner-only: %s", self.path, exc)
        self._private = True

    def _retry(self, action: Callable[[Connection], T], write: bool = False) -> T:
        """Run `action` on its own connection of the file's engine (trainer/storage/sqlite.py) in one
        transaction (a write takes the write lock first and commits at the end), the index tables
        created first when the file lacks them; retried while another process holds the lock
        (`trainer.storage.engine.run`)."""
        self._make_private()

        def with_schema(conn: Connection) -> T:
            if not _has_schema(conn):
                if write:
                    _create_schema(conn)
                else:  # (a read transaction has begun: end it, create the tables)
                    conn.rollback()
                    with conn.execution_options(**{sqlite.WRITE_OPTION: True}).begin():
                        _create_schema(conn)
                    conn.execution_options(**{sqlite.WRITE_OPTION: False})
            return action(conn)

        return run(sqlite.sqlite_engine(self.path), with_schema, write=write, describe=lambda exc: _index_error(self.path, exc))

    # --- meta values (kept across rebuilds; e.g. the exam ledger's anchored head) --------------
    def meta_get(self, key: str) -> str | None:
        return self._retry(lambda conn: _meta_value(conn, key))

    def meta_update(self, key: str, update: Callable[[str | None], str | None]) -> None:
        """Set `key` to `update(current value)` in one write transaction (None: leave it as it is)."""

        def action(conn: Connection) -> None:
            value = update(_meta_value(conn, key))
            if value is not None:
                _meta_set(conn, key, value)

        self._retry(action, write=True)

    # --- writes ------------------------------------------------------------------------------
    def upsert(self, record: SessionRecord, reviews: Callable[[], list[Review]]) -> None:
        """Insert or replace a session's rows. `reviews` is called inside the write lock, so two
        reviewers saving at once cannot leave the index with a stale review list."""
        self._retry(lambda conn: _upsert(conn, record, reviews()), write=True)

    def remove(self, session_id: str) -> None:
        def action(conn: Connection) -> None:
            conn.execute(delete(steps).where(steps.c.session_id == session_id))
            conn.execute(delete(sessions).where(sessions.c.id == session_id))

        self._retry(action, write=True)

    def rebuild(self, scan: Callable[[], Iterable[tuple[SessionRecord, list[Review]]]]) -> int:
        """Replace every session and step row with what `scan()` yields. The write lock is taken
        *before* scanning, so a save that lands during the rebuild is either scanned or re-indexed
        right after (never lost). Only the index tables are emptied (meta and accounts stay)."""

        def action(conn: Connection) -> int:
            conn.execute(delete(steps))
            conn.execute(delete(sessions))
            count = 0
            batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
            for record, reviews in scan():
                batch.append(index_rows(record, reviews))
                count += 1
                if len(batch) == REBUILD_BATCH:
                    _insert(conn, batch)
                    batch = []
            _insert(conn, batch)
            _meta_set(conn, "version", str(INDEX_VERSION))
            return count

        return self._retry(action, write=True)

    # --- reads ---------------------------------------------------------------------------------
    def _read(self, action: Callable[[Connection], T]) -> T:
        """Run a read; IndexNotBuilt when the file holds no completed rebuild of this INDEX_VERSION
        (checked on the same connection, so a listing costs one connection)."""

        def checked(conn: Connection) -> T:
            found = _meta_value(conn, "version")
            if found != str(INDEX_VERSION):
                raise IndexNotBuilt(self.path, found)
            return action(conn)

        return self._retry(checked)

    def query(self, flt: SessionFilter, newest_first: bool = True) -> list[SessionSummary]:
        query = QUERIES.listing(flt, newest_first)
        return self._read(lambda conn: [to_summary(row) for row in conn.execute(query)])

    def get(self, session_id: str) -> SessionSummary | None:
        row = self._read(lambda conn: conn.execute(QUERIES.one(session_id)).first())
        return None if row is None else to_summary(row)

    def step_rows(self, flt: SessionFilter) -> list[StepRow]:
        query = QUERIES.step_rows(flt)
        return self._read(lambda conn: [to_step_row(row) for row in conn.execute(query)])

    def step_stats(self, flt: SessionFilter) -> list[StepStat]:
        query = QUERIES.step_stats(flt)
        return to_step_stats(self._read(lambda conn: conn.execute(query).all()))


_META_VALUE = select(meta.c.value).where(meta.c.key == bindparam("key"))


def _meta_value(conn: Connection, key: str) -> str | None:
    value = conn.execute(_META_VALUE, {"key": key}).scalar()
    return None if value is None else str(value)


def _meta_set(conn: Connection, key: str, value: str) -> None:
    statement = sqlite_insert(meta).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": statement.excluded.value}))


def _index_error(path: Path, exc: Exception) -> SessionStoreError:
    """A failure of the index file (Chinese: what failed and what to do; the file also holds the accounts)."""
    reason = getattr(exc, "orig", exc)
    if isinstance(exc, OperationalError):  # locked, unreadable, read-only, disk full
        return SessionStoreError(
            f"会话索引数据库 {path} 无法使用：{reason}。可运行 `trainer sessions reindex` 重建索引。",
            f"sqlite error on {path}: {reason}",
        )
    return SessionStoreError(
        f"会话索引数据库 {path} 已损坏：{reason}。该文件也保存着登录账号：请从备份恢复；"
        "没有备份时，先另存该文件，再删除它并运行 `trainer sessions reindex` 重建会话索引（账号需重新导入）。",
        f"sqlite database error on {path}: {reason}",
    )


def _upsert(conn: Connection, record: SessionRecord, reviews: list[Review]) -> None:
    row, step_rows = index_rows(record, reviews)
    conn.execute(delete(sessions).where(sessions.c.id == record.id))
    conn.execute(insert(sessions), row)
    replace_steps(conn, steps, record.id, step_rows)


def _insert(conn: Connection, batch: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Insert the rows of sessions not in the index (a rebuild's batch), many per statement."""
    if batch:
        conn.execute(insert(sessions), [row for row, _ in batch])
    step_rows = [step for _, session_steps in batch for step in session_steps]
    if step_rows:
        conn.execute(insert(steps), step_rows)
