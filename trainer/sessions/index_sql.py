"""The session index in SQLAlchemy Core, written once for both backends.

The embedded SQLite index (`trainer/sessions/index.py`) and the PostgreSQL store
(`trainer/storage/pg_sessions.py`) keep the same listing columns and per-step rows, filter them
with the same conditions and read them into the same objects:

- `sessions_table` / `steps_table` build the index tables on a given MetaData (PostgreSQL adds
  its own columns to `sessions`: the record bytes and `deleted_at`);
- `index_rows` turns a record and its reviews into the rows to store;
- `IndexQueries` turns a `SessionFilter` into SELECTs on a pair of those tables;
- `to_summary`, `to_step_row` and `to_step_stats` turn result rows into SessionSummary/StepRow/StepStat.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    delete,
    false,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from trainer.sessions.model import SessionFilter, SessionRecord, SessionSummary, StepRow, StepStat, local_day_start_utc, shown_result
from trainer.sessions.review import Review
from trainer.usertext import printable

SESSION_ID = String(160)


def sessions_table(metadata: MetaData, *extra: Column[Any]) -> Table:
    """The `sessions` table: one row per stored session with what listing and filters need,
    followed by the backend's `extra` columns."""
    return Table(
        "sessions", metadata,
        Column("id", SESSION_ID, primary_key=True),
        Column("kind", Text, nullable=False),
        Column("trainee_id", Text, nullable=False),
        Column("trainee_name", Text, nullable=False),
        Column("scenario_id", Text, nullable=False),
        Column("scenario_title", Text, nullable=False),
        Column("phrasebook_version", Text, nullable=False),
        Column("engine", Text, nullable=False),
        Column("model", Text, nullable=False),
        Column("started_at", Text, nullable=False),  # ISO UTC ("2026-11-23T06:30:15Z"): sorts as time
        Column("finished_at", Text, nullable=False),
        Column("turns", Integer, nullable=False),
        Column("total", Double),
        Column("passed", Boolean),
        Column("review_count", Integer, nullable=False, server_default=text("0")),
        Column("last_reviewer", Text, nullable=False, server_default=""),
        Column("reviewed_at", Text, nullable=False, server_default=""),
        Column("review_overall", Text, nullable=False, server_default=""),
        Column("override_total", Double),
        Column("override_passed", Boolean),
        Column("effective_total", Double),  # the reviewed result when there is one: what filters use
        Column("effective_passed", Boolean),
        Column("verdict", Text, nullable=False, server_default=""),  # machine: pass | fail | review ("" not scored)
        Column("result", Text, nullable=False, server_default=""),  # shown: the instructor's decision, else `verdict`
        *extra,
        Index("sessions_trainee", "trainee_id", "started_at"),
        Index("sessions_scenario", "scenario_id", "started_at"),
        Index("sessions_started", "started_at"),
    )


def steps_table(metadata: MetaData, name: str, step_index: str) -> Table:
    """The per-step rows of each session (for exports and weak-step statistics), named `name`,
    with an index named `step_index` on step_id. Needs `sessions_table` on the same MetaData."""
    return Table(
        name, metadata,
        Column("session_id", SESSION_ID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
        Column("position", Integer, primary_key=True),
        Column("step_id", Text, nullable=False),
        Column("expected", Text, nullable=False),
        Column("status", Text, nullable=False),
        Column("similarity", Double),
        Column("matched_text", Text, nullable=False),
        Column("turn", Integer),
        Column("review_verdict", Text, nullable=False, server_default=""),
        Column("review_comment", Text, nullable=False, server_default=""),
        Index(step_index, "step_id"),
    )


# --- rows to store -------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _printable(row: dict[str, Any]) -> dict[str, Any]:
    """Index text without control characters or lone surrogates (SQLite refuses the latter: one
    hand-edited session.json must not stop a reindex); the session folder keeps the original."""
    return {key: printable(value) if isinstance(value, str) else value for key, value in row.items()}


def index_rows(record: SessionRecord, reviews: Sequence[Review]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `sessions` row of a session and its step rows (column -> value), text made printable."""
    last = reviews[-1] if reviews else None
    overriding = last is not None and last.overall == "override"
    # the latest review's 改判, if it is one
    override_total = last.override_total if last is not None and overriding else None
    override_passed = last.override_passed if last is not None and overriding else None
    row = _printable({
        "id": record.id,
        "kind": record.kind,
        "trainee_id": record.trainee_id,
        "trainee_name": record.trainee_name,
        "scenario_id": record.scenario_id,
        "scenario_title": record.scenario_title,
        "phrasebook_version": record.phrasebook_version,
        "engine": record.engine,
        "model": record.model,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "turns": len(record.turns),
        "total": record.total,
        "passed": record.passed,
        "review_count": len(reviews),
        "last_reviewer": last.reviewer if last else "",
        "reviewed_at": last.created_at if last else "",
        "review_overall": last.overall if last else "",
        "override_total": override_total,
        "override_passed": override_passed,
        "effective_total": override_total if overriding else record.total,
        "effective_passed": override_passed if overriding else record.passed,
        "verdict": record.verdict,
        "result": shown_result(record.verdict, override_passed),
    })
    # Per-step verdicts: the latest review that mentions the step decides.
    verdicts: dict[str, tuple[str, str]] = {}
    for review in reviews:
        for step_id, verdict in review.steps.items():
            verdicts[step_id] = (verdict.verdict, verdict.comment)
    steps = []
    for position, step in enumerate(record.steps, start=1):
        verdict, comment = verdicts.get(step["id"], ("", ""))
        steps.append(_printable({
            "session_id": record.id,
            "position": position,
            "step_id": step["id"],
            "expected": str(step.get("expected") or ""),
            "status": step["status"],
            "similarity": _num(step.get("similarity")),
            "matched_text": str(step.get("matched_text") or ""),
            "turn": _int(step.get("turn")),
            "review_verdict": verdict,
            "review_comment": comment,
        }))
    return row, steps


def replace_steps(conn: Connection, steps: Table, session_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """Replace the step rows of one session (inside the caller's transaction)."""
    conn.execute(delete(steps).where(steps.c.session_id == session_id))
    if rows:
        conn.execute(insert(steps), list(rows))


# --- queries -------------------------------------------------------------------------------------


class text_position(FunctionElement[int]):
    """Where `needle` starts in `haystack` (1-based; 0: not there), case-sensitive, no wildcards:
    SQLite's instr(haystack, needle), PostgreSQL's strpos(haystack, needle)."""

    type = Integer()
    name = "text_position"
    inherit_cache = True


@compiles(text_position)
def _instr(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(text_position, "postgresql")
def _strpos(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class IndexQueries:
    """The listing and statistics SELECTs on one backend's `sessions` and steps tables. `live`:
    conditions every read adds (PostgreSQL: the session is not marked deleted)."""

    sessions: Table
    steps: Table
    live: tuple[ColumnElement[bool], ...] = ()

    def conditions(self, flt: SessionFilter) -> list[ColumnElement[bool]]:
        """The filter as conditions; dates are local calendar days, scores and results the reviewed ones."""
        c = self.sessions.c
        where = list(self.live)
        if flt.trainee:
            where.append((c.trainee_id == flt.trainee) | (text_position(c.trainee_name, flt.trainee) > 0))
        if flt.trainee_ids is not None:
            where.append(c.trainee_id.in_(sorted(flt.trainee_ids)) if flt.trainee_ids else false())
        if flt.scenario_id:
            where.append(c.scenario_id == flt.scenario_id)
        if flt.kind:
            where.append(c.kind == flt.kind)
        if flt.since is not None:
            where.append(c.started_at >= local_day_start_utc(flt.since))
        if flt.until is not None:
            where.append(c.started_at < local_day_start_utc(flt.until + timedelta(days=1)))
        if flt.min_total is not None:
            where.append(c.effective_total >= float(flt.min_total))
        if flt.max_total is not None:
            where.append(c.effective_total <= float(flt.max_total))
        if flt.result is not None:
            where.append(c.result == flt.result)
        if flt.reviewed is not None:
            where.append(c.review_count > 0 if flt.reviewed else c.review_count == 0)
        return where

    @cached_property
    def _summaries(self) -> Select[Any]:
        """SELECT of the SessionSummary columns (built once: building a SELECT costs more than running it)."""
        c = self.sessions.c
        return select(
            c.id, c.kind, c.trainee_id, c.trainee_name, c.scenario_id, c.scenario_title, c.phrasebook_version,
            c.engine, c.model, c.started_at, c.finished_at, c.turns, c.total, c.passed, c.review_count,
            c.last_reviewer, c.reviewed_at, c.review_overall, c.override_total, c.override_passed, c.verdict,
        )

    @cached_property
    def _step_rows(self) -> Select[Any]:
        s, t = self.sessions.c, self.steps.c
        return (
            select(s.id, s.kind, s.trainee_id, s.trainee_name, s.scenario_id, s.started_at, t.position, t.step_id,
                   t.expected, t.status, t.similarity, t.matched_text, t.turn, t.review_verdict, t.review_comment)
            .select_from(self.steps.join(self.sessions, s.id == t.session_id))
            .order_by(s.started_at.desc(), s.id.desc(), t.position)
        )

    @cached_property
    def _step_stats(self) -> Select[Any]:
        s, t = self.sessions.c, self.steps.c

        def count(status: str) -> Any:
            return func.count().filter(t.status == status)

        return (
            select(s.scenario_id, t.step_id, func.max(t.expected), func.count(), count("hit"), count("partial"), count("missed"))
            .select_from(self.steps.join(self.sessions, s.id == t.session_id))
            .group_by(s.scenario_id, t.step_id)
        )

    def listing(self, flt: SessionFilter, newest_first: bool = True) -> Select[Any]:
        """Summaries of the matching sessions, by start time (then id); at most `flt.limit`."""
        c = self.sessions.c
        order = (c.started_at.desc(), c.id.desc()) if newest_first else (c.started_at.asc(), c.id.asc())
        query = self._summaries.where(*self.conditions(flt)).order_by(*order)
        return query if flt.limit is None else query.limit(int(flt.limit))

    def one(self, session_id: str) -> Select[Any]:
        """The summary of one session."""
        return self._summaries.where(self.sessions.c.id == session_id, *self.live)

    def step_rows(self, flt: SessionFilter) -> Select[Any]:
        """Every step row of the matching sessions: newest session first, steps in score order."""
        return self._step_rows.where(*self.conditions(flt))

    def step_stats(self, flt: SessionFilter) -> Select[Any]:
        """Per scenario and step of the matching sessions: attempts, hits, partials, misses."""
        return self._step_stats.where(*self.conditions(flt))


# --- result rows to objects ----------------------------------------------------------------------


def to_summary(row: Sequence[Any]) -> SessionSummary:
    """A row of `IndexQueries.listing` / `one` as a SessionSummary (the Boolean columns come back
    as bool on both backends: SQLAlchemy converts SQLite's 0/1)."""
    return SessionSummary(*row)


def to_step_row(row: Sequence[Any]) -> StepRow:
    """A row of `IndexQueries.step_rows` as a StepRow."""
    return StepRow(*row)


def to_step_stats(rows: Iterable[Sequence[Any]]) -> list[StepStat]:
    """Rows of `IndexQueries.step_stats` as StepStats, most-missed first (then weakest)."""
    stats = [StepStat(*row) for row in rows]
    return sorted(stats, key=lambda s: (-s.miss_rate, -s.weak_rate, s.scenario_id, s.step_id))
