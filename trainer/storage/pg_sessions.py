"""The session store on PostgreSQL: the same methods as `trainer.sessions.store.SessionStore`, one
database shared by every app server.

A save is one transaction (record, index columns, step rows and every turn's audio in chunks of
`AUDIO_CHUNK` bytes): another server sees the whole session or nothing. Audio is read back one
turn at a time, chunk by chunk (`iter_audio`); no query loads the audio of more than one turn.
With `audio_dir` (a folder every server mounts) the audio files go there instead, their sha256
and size still in the database (trainer/storage/audio_store.py).
Reviews are append-only rows; adding one locks the session row, so two reviewers on two servers
cannot leave the listing columns with a stale review. Deleting marks the session deleted (its
rows stay, like the embedded .trash folder).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from trainer.errors import SessionStoreError
from trainer.sessions.index_sql import IndexQueries, index_rows, replace_steps, to_step_row, to_step_stats, to_summary
from trainer.sessions.model import (
    SessionFilter,
    SessionRecord,
    SessionSummary,
    StepRow,
    StepStat,
    check_session_id,
    new_session_id,
)
from trainer.sessions.review import Review
from trainer.sessions.store import MAX_ID_ATTEMPTS, Leftovers, ReindexReport, check_review, prepare_save
from trainer.storage import engine as engines
from trainer.storage.audio_store import audio_placement
from trainer.storage.schema import session_audio, session_reviews, session_steps, sessions

_LIVE = sessions.c.deleted_at.is_(None)
QUERIES = IndexQueries(sessions, session_steps, live=(_LIVE,))


def _missing(session_id: str) -> SessionStoreError:
    return SessionStoreError(
        f"找不到会话 {session_id}。请用 `trainer sessions list` 查看已保存的会话。", f"no session {session_id} in the database"
    )


class PostgresSessionStore:
    """Stores practice and exam sessions in PostgreSQL. Safe for many threads, processes and servers."""

    backend = "postgres"

    def __init__(self, engine: Engine, url: str = "", audio_dir: Path | None = None) -> None:
        self.engine = engine
        self.url = url
        self.audio = audio_placement(engine, audio_dir)  # the database, or a shared folder

    def _run(self, action: Any, write: bool = False) -> Any:
        return engines.run(self.engine, action, write=write, url=self.url, error=SessionStoreError)

    # --- save --------------------------------------------------------------------------------
    def save(self, record: SessionRecord, turn_audio: Sequence[bytes | None]) -> SessionRecord:
        """Store a finished attempt with each turn's audio, in one transaction (see module doc)."""
        record, fixed_id = prepare_save(record, turn_audio)
        for _ in range(MAX_ID_ATTEMPTS):
            if self._run(lambda conn: self._insert(conn, record, turn_audio), write=True):
                return record
            if fixed_id:
                raise SessionStoreError(f"会话编号 {record.id} 已存在，不能覆盖已保存的会话。", f"session {record.id} exists")
            record = replace(record, id=new_session_id(record.trainee_id, record.started_at))
        raise SessionStoreError("无法生成唯一的会话编号，请重试。", "id collisions exhausted")

    def _insert(self, conn: Connection, record: SessionRecord, turn_audio: Sequence[bytes | None]) -> bool:
        """Insert everything; False (nothing written) when the id is taken."""
        row, steps = index_rows(record, [])
        added = conn.execute(
            pg_insert(sessions).values(**row, record=record.canonical_bytes()).on_conflict_do_nothing().returning(sessions.c.id)
        ).first()
        if added is None:
            return False
        if steps:
            conn.execute(insert(session_steps), steps)
        for turn, audio in zip(record.turns, turn_audio):
            if audio is not None:
                self.audio.put(conn, record.id, turn.index, turn.audio_file, turn.audio_sha256, io.BytesIO(audio))
        return True

    def import_session(self, record_bytes: bytes, record: SessionRecord, audio: dict[int, Path], reviews: Sequence[Review]) -> None:
        """Copy a session from the embedded store as it is (`trainer storage migrate`): the record's
        bytes unchanged (exam seals cover them), each turn's audio file read and written in chunks,
        the reviews as rows. One transaction; SessionStoreError when the id exists."""

        def write(conn: Connection) -> None:
            row, steps = index_rows(record, list(reviews))
            added = conn.execute(
                pg_insert(sessions).values(**row, record=record_bytes).on_conflict_do_nothing().returning(sessions.c.id)
            ).first()
            if added is None:
                raise SessionStoreError(f"数据库中已有会话 {record.id}。", f"session {record.id} exists")
            if steps:
                conn.execute(insert(session_steps), steps)
            for turn in record.turns:
                if turn.audio_file:
                    with open(audio[turn.index], "rb") as fh:
                        self.audio.put(conn, record.id, turn.index, turn.audio_file, turn.audio_sha256, fh)
            for review in reviews:
                conn.execute(insert(session_reviews).values(session_id=record.id, created_at=review.created_at, data=review.canonical_bytes()))

        self._run(write, write=True)

    # --- read --------------------------------------------------------------------------------
    def exists(self, session_id: str) -> bool:
        check_session_id(session_id)
        return self._run(lambda conn: conn.execute(select(sessions.c.id).where(sessions.c.id == session_id, _LIVE)).first()) is not None

    def record_bytes(self, session_id: str) -> bytes:
        check_session_id(session_id)
        data = self._run(lambda conn: conn.execute(select(sessions.c.record).where(sessions.c.id == session_id, _LIVE)).scalar())
        if data is None:
            raise _missing(session_id)
        return bytes(data)

    def load(self, session_id: str, check_audio: bool = True) -> SessionRecord:
        """Read a stored session. With check_audio, every turn's audio must be stored."""
        data = self.record_bytes(session_id)
        try:
            record = SessionRecord.from_dict(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SessionStoreError(f"数据库中会话 {session_id} 的记录已损坏（{exc}）。请从备份恢复。", f"bad record {session_id}: {exc}") from exc
        if record.id != session_id:
            raise SessionStoreError(f"数据库中会话 {session_id} 的记录编号是 {record.id}，二者不符。", f"id mismatch {session_id}: {record.id}")
        if check_audio:
            stored = self._audio_rows(session_id)
            for turn in record.turns:
                if turn.audio_file and stored.get(turn.index, ("",))[0] != turn.audio_file:
                    raise SessionStoreError(
                        f"会话 {record.id} 第 {turn.index} 轮的录音 {turn.audio_file} 不在数据库中，会话不完整。请从备份恢复。",
                        f"audio of {record.id} turn {turn.index} missing",
                    )
        return record

    def _audio_rows(self, session_id: str) -> dict[int, tuple[str, str, int]]:
        query = select(session_audio.c.turn, session_audio.c.file_name, session_audio.c.sha256, session_audio.c.size).where(
            session_audio.c.session_id == session_id
        )
        return {row[0]: (row[1], row[2], int(row[3])) for row in self._run(lambda conn: conn.execute(query).all())}

    def _turn_file(self, session_id: str, turn: int) -> str:
        record = self.load(session_id, check_audio=False)
        if not 1 <= turn <= len(record.turns):
            raise SessionStoreError(f"会话 {session_id} 没有第 {turn} 轮（共 {len(record.turns)} 轮）。", f"session {session_id} has no turn {turn}")
        name = record.turns[turn - 1].audio_file
        if not name:
            raise SessionStoreError(f"会话 {session_id} 的第 {turn} 轮没有录音（按文字评分）。", f"turn {turn} has no audio")
        return name

    def iter_audio(self, session_id: str, turn: int) -> Iterator[bytes]:
        """The audio of one turn, block by block (one block in memory at a time)."""
        name = self._turn_file(session_id, turn)
        blocks = self.audio.read(session_id, turn, name)
        if blocks is None:
            raise SessionStoreError(
                f"会话 {session_id} 第 {turn} 轮的录音 {name} 找不到（{self.audio.location(session_id, name)}）。该会话已不完整，请从备份恢复。",
                f"audio of {session_id} turn {turn} missing",
            )
        yield from blocks

    def audio_bytes(self, session_id: str, turn: int) -> bytes:
        """The audio of one turn (1-based) exactly as recorded."""
        return b"".join(self.iter_audio(session_id, turn))

    def stored_audio_sha256(self, session_id: str, file_name: str) -> str | None:
        """sha256 of the stored bytes of an audio file of a session (streamed); None when missing."""
        turns = [turn for turn, row in self._audio_rows(session_id).items() if row[0] == file_name]
        blocks = self.audio.read(session_id, turns[0], file_name) if turns else None
        if blocks is None:
            return None
        digest = hashlib.sha256()
        for block in blocks:
            digest.update(block)
        return digest.hexdigest()

    def audio_location(self, session_id: str, file_name: str) -> str:
        return self.audio.location(session_id, file_name)

    def verify_audio(self, session_id: str) -> list[str]:
        """Problems (Chinese) with the stored audio of a session: missing or changed bytes."""
        record = self.load(session_id, check_audio=False)
        problems = []
        for turn in record.turns:
            if not turn.audio_file:
                continue
            found = self.stored_audio_sha256(session_id, turn.audio_file)
            if found is None:
                problems.append(f"第 {turn.index} 轮录音 {turn.audio_file} 不见了")
            elif found != turn.audio_sha256:
                problems.append(f"第 {turn.index} 轮录音 {turn.audio_file} 的内容已被改动（校验值不符）")
        return problems

    # --- listing and statistics ---------------------------------------------------------------
    def list(self, flt: SessionFilter | None = None, newest_first: bool = True) -> list[SessionSummary]:
        query = QUERIES.listing(flt or SessionFilter(), newest_first)
        return self._run(lambda conn: [to_summary(row) for row in conn.execute(query)])

    def summary(self, session_id: str) -> SessionSummary:
        check_session_id(session_id)
        row = self._run(lambda conn: conn.execute(QUERIES.one(session_id)).first())
        if row is None:
            raise _missing(session_id)
        return to_summary(row)

    def score_history(self, trainee_id: str, scenario_id: str | None = None) -> list[SessionSummary]:
        """A trainee's sessions, oldest first (for progress charts)."""
        rows = self.list(SessionFilter(scenario_id=scenario_id), newest_first=False)
        return [row for row in rows if row.trainee_id == trainee_id]

    def step_rows(self, flt: SessionFilter | None = None) -> list[StepRow]:
        query = QUERIES.step_rows(flt or SessionFilter())
        return self._run(lambda conn: [to_step_row(row) for row in conn.execute(query)])

    def step_miss_rates(self, flt: SessionFilter | None = None) -> list[StepStat]:
        """Per scenario and step: how often it was missed; most-missed first."""
        query = QUERIES.step_stats(flt or SessionFilter())
        return to_step_stats(self._run(lambda conn: conn.execute(query).all()))

    # --- delete ------------------------------------------------------------------------------
    def delete(self, session_id: str, *, allow_exam: bool = False) -> str:
        """Mark a session deleted (its rows stay, recoverable by clearing deleted_at). Exam sessions
        are sealed in the exam ledger, so deleting one takes `allow_exam=True`."""
        record = self.load(session_id, check_audio=False)
        if not allow_exam and record.kind == "exam":
            raise SessionStoreError(
                f"会话 {session_id} 是密封的考试记录，删除后 `trainer exam verify` 会报告它缺失。"
                "确需删除（例如按档案制度到期清理）请加 --force。",
                f"refusing to delete exam session {session_id} without allow_exam",
            )
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self._run(lambda conn: conn.execute(update(sessions).where(sessions.c.id == session_id, _LIVE).values(deleted_at=stamp)), write=True)
        return f"数据库（会话 {session_id} 已标记删除，时间 {stamp}）"

    # --- reviews -----------------------------------------------------------------------------
    def add_review(self, session_id: str, review: Review) -> str:
        """Append a review; the listing columns follow the latest review (same transaction)."""
        record = self.load(session_id, check_audio=False)
        check_review(record, review)

        def write(conn: Connection) -> int:
            conn.execute(select(sessions.c.id).where(sessions.c.id == session_id).with_for_update())
            new_id = conn.execute(insert(session_reviews).values(
                session_id=session_id, created_at=review.created_at, data=review.canonical_bytes(),
            ).returning(session_reviews.c.id)).scalar_one()
            self._reindex_one(conn, record, self._reviews(conn, session_id))
            return int(new_id)

        return f"数据库（会话 {session_id} 的第 {self._run(write, write=True)} 号复核记录）"

    @staticmethod
    def _reindex_one(conn: Connection, record: SessionRecord, reviews: list[Review]) -> None:
        row, steps = index_rows(record, reviews)
        conn.execute(update(sessions).where(sessions.c.id == record.id).values(**{k: v for k, v in row.items() if k != "id"}))
        replace_steps(conn, session_steps, record.id, steps)

    @staticmethod
    def _reviews(conn: Connection, session_id: str) -> list[Review]:
        rows = conn.execute(
            select(session_reviews.c.data).where(session_reviews.c.session_id == session_id)
            .order_by(session_reviews.c.created_at, session_reviews.c.id)
        )
        return [Review.from_dict(json.loads(bytes(row[0]).decode("utf-8"))) for row in rows]

    def reviews(self, session_id: str) -> list[Review]:
        """All reviews of a session, oldest first."""
        check_session_id(session_id)
        return self._run(lambda conn: self._reviews(conn, session_id))

    # --- maintenance -------------------------------------------------------------------------
    def reindex(self, temp_max_age: float = 0.0) -> ReindexReport:
        """Recompute the listing columns and step rows of every session from its record and reviews."""
        started = time.monotonic()

        def write(conn: Connection) -> int:
            ids = [row[0] for row in conn.execute(select(sessions.c.id).where(_LIVE).order_by(sessions.c.id))]
            for session_id in ids:
                data = conn.execute(select(sessions.c.record).where(sessions.c.id == session_id)).scalar_one()
                record = SessionRecord.from_dict(json.loads(bytes(data).decode("utf-8")))
                self._reindex_one(conn, record, self._reviews(conn, session_id))
            return len(ids)

        count = self._run(write, write=True)
        return ReindexReport(indexed=count, seconds=time.monotonic() - started)

    def cleanup_leftovers(self, temp_max_age: float = 0.0) -> Leftovers:
        """Nothing to clean: a save that dies is rolled back by the database."""
        return Leftovers()
