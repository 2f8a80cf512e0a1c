"""The SQLite index of stored sessions: fast listing, filtering and statistics.

The folders are the source of truth; this index can always be rebuilt from them
(`SessionStore.reindex`). WAL mode and a busy timeout let several processes save and list
at once; every operation opens its own short-lived connection and is retried when the
database is locked.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from trainer.durable import open_private, private_file
from trainer.errors import SessionStoreError
from trainer.sessions.model import SessionFilter, SessionRecord, SessionSummary, StepRow, StepStat, local_day_start_utc
from trainer.sessions.review import Review
from trainer.usertext import printable

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEX_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
RETRIES = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    trainee_id TEXT NOT NULL,
    trainee_name TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_title TEXT NOT NULL,
    phrasebook_version TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    turns INTEGER NOT NULL,
    total REAL,
    passed INTEGER,
    review_count INTEGER NOT NULL DEFAULT 0,
    last_reviewer TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT NOT NULL DEFAULT '',
    review_overall TEXT NOT NULL DEFAULT '',
    override_total REAL,
    override_passed INTEGER,
    effective_total REAL,
    effective_passed INTEGER
);
CREATE INDEX IF NOT EXISTS sessions_trainee ON sessions (trainee_id, started_at);
CREATE INDEX IF NOT EXISTS sessions_scenario ON sessions (scenario_id, started_at);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_at);
CREATE TABLE IF NOT EXISTS steps (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    expected TEXT NOT NULL,
    status TEXT NOT NULL,
    similarity REAL,
    matched_text TEXT NOT NULL,
    turn INTEGER,
    review_verdict TEXT NOT NULL DEFAULT '',
    review_comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, position)
);
CREATE INDEX IF NOT EXISTS steps_scenario ON steps (step_id);
"""

_SUMMARY_COLUMNS = (
    "id, kind, trainee_id, trainee_name, scenario_id, scenario_title, phrasebook_version, engine, model, "
    "started_at, finished_at, turns, total, passed, review_count, last_reviewer, reviewed_at, review_overall, "
    "override_total, override_passed"
)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self._make_private()
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            # user_version marks a file that has the schema (cheap read; the file may have been
            # deleted and re-created since this object last looked).
            if conn.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(_SCHEMA + f"PRAGMA user_version = {INDEX_VERSION};")
            yield conn
        finally:
            conn.close()

    def _retry(self, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run `action` in its own connection, retrying while another process holds the lock."""
        delay = 0.05
        for attempt in range(RETRIES):
            try:
                with self._connect() as conn:
                    return action(conn)
            except sqlite3.OperationalError as exc:
                message = str(exc).lower()
                if ("locked" in message or "busy" in message) and attempt < RETRIES - 1:
                    log.info("session index busy (%s), retry %d", exc, attempt + 1)
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                raise SessionStoreError(
                    f"会话索引数据库 {self.path} 无法使用：{exc}。可运行 `trainer sessions reindex` 重建索引。",
                    f"sqlite error on {self.path}: {exc}",
                ) from exc
            except sqlite3.DatabaseError as exc:
                raise SessionStoreError(
                    f"会话索引数据库 {self.path} 已损坏：{exc}。该文件也保存着登录账号：请从备份恢复；"
                    "没有备份时，先另存该文件，再删除它并运行 `trainer sessions reindex` 重建会话索引（账号需重新导入）。",
                    f"sqlite database error on {self.path}: {exc}",
                ) from exc
        raise AssertionError("unreachable")

    @staticmethod
    @contextmanager
    def _write(conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # --- state -------------------------------------------------------------------------------
    def is_built(self) -> bool:
        """True once a full rebuild has completed on this index file."""
        if not self.path.exists():
            return False

        def read(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            return row is not None and row[0] == str(INDEX_VERSION)

        return self._retry(read)

    # --- meta values (kept across rebuilds; e.g. the exam ledger's anchored head) --------------
    def meta_get(self, key: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

        return self._retry(read)

    def meta_update(self, key: str, update: Callable[[str | None], str | None]) -> None:
        """Set `key` to `update(current value)` in one write transaction (None: leave it as it is)."""

        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn):
                row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                value = update(None if row is None else str(row[0]))
                if value is not None:
                    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

        self._retry(action)

    # --- writes ------------------------------------------------------------------------------
    def upsert(self, record: SessionRecord, reviews: Callable[[], list[Review]]) -> None:
        """Insert or replace a session's rows. `reviews` is called inside the write lock, so two
        reviewers saving at once cannot leave the index with a stale review list."""

        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn):
                _upsert(conn, record, reviews())

        self._retry(action)

    def remove(self, session_id: str) -> None:
        def action(conn: sqlite3.Connection) -> None:
            with self._write(conn):
                conn.execute("DELETE FROM steps WHERE session_id = ?", (session_id,))
                conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

        self._retry(action)

    def rebuild(self, scan: Callable[[], Iterable[tuple[SessionRecord, list[Review]]]]) -> int:
        """Replace every row with what `scan()` yields. The write lock is taken *before* scanning, so a
        save that lands during the rebuild is either scanned or re-indexed right after (never lost)."""

        def action(conn: sqlite3.Connection) -> int:
            count = 0
            with self._write(conn):
                conn.execute("DELETE FROM steps")
                conn.execute("DELETE FROM sessions")
                for record, reviews in scan():
                    _upsert(conn, record, reviews)
                    count += 1
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", (str(INDEX_VERSION),))
            return count

        return self._retry(action)

    # --- reads -------------------------------------------------------------------------------
    def query(self, flt: SessionFilter, newest_first: bool = True) -> list[SessionSummary]:
        where, params = _where(flt)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {_SUMMARY_COLUMNS} FROM sessions s {where} ORDER BY started_at {order}, id {order}"
        if flt.limit is not None:
            sql += " LIMIT ?"
            params.append(int(flt.limit))

        def read(conn: sqlite3.Connection) -> list[SessionSummary]:
            return [_summary(row) for row in conn.execute(sql, params)]

        return self._retry(read)

    def get(self, session_id: str) -> SessionSummary | None:
        def read(conn: sqlite3.Connection) -> SessionSummary | None:
            row = conn.execute(f"SELECT {_SUMMARY_COLUMNS} FROM sessions WHERE id = ?", (session_id,)).fetchone()
            return _summary(row) if row else None

        return self._retry(read)

    def step_rows(self, flt: SessionFilter) -> list[StepRow]:
        where, params = _where(flt)
        sql = (
            "SELECT s.id, s.kind, s.trainee_id, s.trainee_name, s.scenario_id, s.started_at, t.position, t.step_id, "
            "t.expected, t.status, t.similarity, t.matched_text, t.turn, t.review_verdict, t.review_comment "
            f"FROM steps t JOIN sessions s ON s.id = t.session_id {where} "
            "ORDER BY s.started_at DESC, s.id DESC, t.position"
        )

        def read(conn: sqlite3.Connection) -> list[StepRow]:
            return [StepRow(*row) for row in conn.execute(sql, params)]

        return self._retry(read)

    def step_stats(self, flt: SessionFilter) -> list[StepStat]:
        where, params = _where(flt)
        sql = (
            "SELECT s.scenario_id, t.step_id, MAX(t.expected), COUNT(*), "
            "SUM(t.status = 'hit'), SUM(t.status = 'partial'), SUM(t.status = 'missed') "
            f"FROM steps t JOIN sessions s ON s.id = t.session_id {where} "
            "GROUP BY s.scenario_id, t.step_id"
        )

        def read(conn: sqlite3.Connection) -> list[StepStat]:
            stats = [StepStat(*row) for row in conn.execute(sql, params)]
            return sorted(stats, key=lambda s: (-s.miss_rate, -s.weak_rate, s.scenario_id, s.step_id))

        return self._retry(read)


def _where(flt: SessionFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.trainee:
        clauses.append("(s.trainee_id = ? OR instr(s.trainee_name, ?) > 0)")
        params += [flt.trainee, flt.trainee]
    if flt.trainee_ids is not None:
        if not flt.trainee_ids:
            clauses.append("1 = 0")
        else:
            ids = sorted(flt.trainee_ids)
            clauses.append(f"s.trainee_id IN ({', '.join('?' for _ in ids)})")
            params += ids
    if flt.scenario_id:
        clauses.append("s.scenario_id = ?")
        params.append(flt.scenario_id)
    if flt.kind:
        clauses.append("s.kind = ?")
        params.append(flt.kind)
    if flt.since is not None:
        clauses.append("s.started_at >= ?")
        params.append(local_day_start_utc(flt.since))
    if flt.until is not None:
        clauses.append("s.started_at < ?")
        params.append(local_day_start_utc(flt.until + timedelta(days=1)))
    if flt.min_total is not None:
        clauses.append("s.effective_total >= ?")
        params.append(float(flt.min_total))
    if flt.max_total is not None:
        clauses.append("s.effective_total <= ?")
        params.append(float(flt.max_total))
    if flt.passed is not None:
        clauses.append("s.effective_passed = ?")
        params.append(int(flt.passed))
    if flt.reviewed is not None:
        clauses.append("s.review_count > 0" if flt.reviewed else "s.review_count = 0")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _summary(row: tuple[Any, ...]) -> SessionSummary:
    values = list(row)
    values[13] = _bool(values[13])  # passed
    values[19] = _bool(values[19])  # override_passed
    return SessionSummary(*values)


def _printable(*values: Any) -> tuple[Any, ...]:
    """Index text without control characters or lone surrogates (SQLite refuses the latter: one
    hand-edited session.json must not stop a reindex); the session folder keeps the original."""
    return tuple(printable(v) if isinstance(v, str) else v for v in values)


def index_rows(record: SessionRecord, reviews: list[Review]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The index row of a session and its per-step rows (column -> value), text made printable.
    Shared by the SQLite index and the PostgreSQL store, so both list and filter alike."""
    last = reviews[-1] if reviews else None
    overriding = last is not None and last.overall == "override"
    effective_total = last.override_total if overriding else record.total
    effective_passed = last.override_passed if overriding else record.passed
    values = _printable(
        record.id, record.kind, record.trainee_id, record.trainee_name, record.scenario_id, record.scenario_title,
        record.phrasebook_version, record.engine, record.model, record.started_at, record.finished_at,
        len(record.turns), record.total, record.passed,
        len(reviews), last.reviewer if last else "", last.created_at if last else "", last.overall if last else "",
        last.override_total if overriding else None,
        last.override_passed if overriding and last.override_passed is not None else None,
        effective_total, effective_passed,
    )
    row = dict(zip(_ROW_COLUMNS, values))
    # Per-step verdicts: the latest review that mentions the step decides.
    verdicts: dict[str, tuple[str, str]] = {}
    for review in reviews:
        for step_id, verdict in review.steps.items():
            verdicts[step_id] = (verdict.verdict, verdict.comment)
    steps = []
    for position, step in enumerate(record.steps, start=1):
        verdict, comment = verdicts.get(step["id"], ("", ""))
        steps.append(dict(zip(_STEP_COLUMNS, _printable(
            record.id, position, step["id"], str(step.get("expected") or ""), step["status"],
            _num(step.get("similarity")), str(step.get("matched_text") or ""), _int(step.get("turn")),
            verdict, comment,
        ))))
    return row, steps


_ROW_COLUMNS = (
    "id", "kind", "trainee_id", "trainee_name", "scenario_id", "scenario_title", "phrasebook_version", "engine", "model",
    "started_at", "finished_at", "turns", "total", "passed", "review_count", "last_reviewer", "reviewed_at",
    "review_overall", "override_total", "override_passed", "effective_total", "effective_passed",
)
_STEP_COLUMNS = (
    "session_id", "position", "step_id", "expected", "status", "similarity", "matched_text", "turn", "review_verdict", "review_comment",
)


def _sqlite_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _upsert(conn: sqlite3.Connection, record: SessionRecord, reviews: list[Review]) -> None:
    row, steps = index_rows(record, reviews)
    conn.execute("DELETE FROM steps WHERE session_id = ?", (record.id,))
    conn.execute("DELETE FROM sessions WHERE id = ?", (record.id,))
    conn.execute(
        f"INSERT INTO sessions ({', '.join(_ROW_COLUMNS)}) VALUES ({', '.join('?' for _ in _ROW_COLUMNS)})",
        tuple(_sqlite_value(row[c]) for c in _ROW_COLUMNS),
    )
    for step in steps:
        conn.execute(
            f"INSERT INTO steps ({', '.join(_STEP_COLUMNS)}) VALUES ({', '.join('?' for _ in _STEP_COLUMNS)})",
            tuple(step[c] for c in _STEP_COLUMNS),
        )
