"""The SQLite index of stored sessions (<sessions>/index.sqlite3): fast listing, filtering and statistics.

The folders are the source of truth; this index can always be rebuilt from them
(`SessionStore.reindex`). Tables, filters and row mapping are SQLAlchemy Core shared with the
PostgreSQL store (`trainer/sessions/index_sql.py`); this module adds what is SQLite's: the file
(owner-only), WAL mode and a busy timeout so several processes can save and list at once, one
short-lived connection per operation, retries while the database is locked, and the `meta` table
(values kept across rebuilds, e.g. the exam ledger's anchored head).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, MetaData, Table, Text, bindparam, create_engine, delete, event, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateIndex, CreateTable

from trainer.durable import open_private, private_file
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

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEX_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
RETRIES = 8
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

_DIALECT = sqlite.dialect()
_DDL = tuple(
    str(statement.compile(dialect=_DIALECT))
    for table in metadata.sorted_tables
    for statement in (
        CreateTable(table, if_not_exists=True),
        *(CreateIndex(index, if_not_exists=True) for index in sorted(table.indexes, key=lambda i: str(i.name))),
    )
)
_WRITE = "trainer_index_write"  # execution option: begin with BEGIN IMMEDIATE (take the write lock first)


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    """Every new connection: SQLAlchemy's recipe for SQLite transactions (the driver's own BEGIN
    handling off; `_on_begin` begins writes), a busy timeout, foreign keys, and the schema.
    PRAGMA user_version marks a file that has the tables of this INDEX_VERSION (a cheap read; the
    file may have been deleted and re-created since this process last looked)."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if cursor.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
            _create_schema(cursor)
    finally:
        cursor.close()


def _create_schema(cursor: Any) -> None:
    """Create the index tables (WAL mode first). An index of another version loses its session and
    step rows (reads then find the old version in meta, raise IndexNotBuilt, and the store rebuilds
    them from the folders); meta and the account tables are never touched."""
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("BEGIN IMMEDIATE")
    try:
        found = cursor.execute("PRAGMA user_version").fetchone()[0]  # again, under the lock
        if found != INDEX_VERSION:
            if found != 0:
                for table in reversed(INDEX_TABLES):
                    cursor.execute(f"DROP TABLE IF EXISTS {table.name}")
            for ddl in _DDL:
                cursor.execute(ddl)
            cursor.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise


def _on_begin(conn: Connection) -> None:
    """A write takes the write lock at once (BEGIN IMMEDIATE), so it never fails half-way on a
    lock another process holds. A read's statements each run in SQLite's own implicit transaction
    (each sees only committed states; a rebuild is one transaction)."""
    if conn.get_execution_options().get(_WRITE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine(path: Path) -> Engine:
    """The process's engine for an index file. No pool: every operation opens its own connection,
    so a file deleted and re-created meanwhile is seen, and a forked process shares nothing."""
    key = str(path)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = create_engine(
                URL.create("sqlite", database=key), poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
            )
            event.listen(engine, "connect", _on_connect)
            event.listen(engine, "begin", _on_begin)
            _engines[key] = engine
        return engine


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
        """The index holds names and scores: owner-only (0600). SQLite gives its -wal and -shm files
        the database file's permissions, so creating it 0600 first covers them too."""
        if self._private or not self.path.parent.is_dir():
            return
        try:
            os.close(open_private(self.path, os.O_RDWR | os.O_CREAT))
            for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                if path.exists():
                    private_file(path)
        except OSError as exc:
            log.warning("cannot make %s owner-only: %s", self.path, exc)
        self._private = True

    def _retry(self, action: Callable[[Connection], T], write: bool = False) -> T:
        """Run `action` on its own connection (a write: in one transaction that takes the write lock
        first and commits at the end), retrying while another process holds the lock."""
        delay = 0.05
        for attempt in range(RETRIES):
            try:
                self._make_private()
                with _engine(self.path).connect() as conn:
                    if write:
                        conn.execution_options(**{_WRITE: True})
                    result = action(conn)
                    if write:
                        conn.commit()
                    return result
            except OperationalError as exc:
                message = str(exc.orig).lower()
                if ("locked" in message or "busy" in message) and attempt < RETRIES - 1:
                    log.info("session index busy (%s), retry %d", exc.orig, attempt + 1)
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                raise SessionStoreError(
                    f"会话索引数据库 {self.path} 无法使用：{exc.orig}。可运行 `trainer sessions reindex` 重建索引。",
                    f"sqlite error on {self.path}: {exc.orig}",
                ) from exc
            except DatabaseError as exc:
                raise SessionStoreError(
                    f"会话索引数据库 {self.path} 已损坏：{exc.orig}。该文件也保存着登录账号：请从备份恢复；"
                    "没有备份时，先另存该文件，再删除它并运行 `trainer sessions reindex` 重建会话索引（账号需重新导入）。",
                    f"sqlite database error on {self.path}: {exc.orig}",
                ) from exc
        raise AssertionError("unreachable")

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
