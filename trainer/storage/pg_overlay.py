"""The centre's phrasebook overlay (phrasing proposals and decisions) on PostgreSQL: the same rules as
the overlay folder (`trainer.phrasebook.overlay.Overlay`), one row per proposal holding its canonical
bytes. Only the storage primitives differ: a new proposal is an INSERT that never replaces one, a
decision an UPDATE, and decisions are serialised across servers by an advisory lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from trainer.phrasebook.model import PhrasebookProblem
from trainer.phrasebook.overlay import Overlay, OverlayError, OverlayState, Proposal, check_proposal_id, parse_proposal
from trainer.storage import engine as engines
from trainer.storage.schema import OVERLAY_LOCK, phrasebook_proposals

TABLE = phrasebook_proposals


class PostgresOverlay(Overlay):
    """The proposals in the shared database (see module doc)."""

    def __init__(self, engine: Engine, url: str = "") -> None:
        super().__init__(Path("数据库表 phrasebook_proposals"))  # `root` names the place in messages
        self.engine = engine
        self.url = url

    def _run(self, action: Any, write: bool = False) -> Any:
        return engines.run(self.engine, action, write=write, url=self.url, error=OverlayError)

    # --- read --------------------------------------------------------------------------------
    def stamp(self) -> tuple[tuple[str, int, int], ...]:
        """(id, revision, size) of every proposal: changes with every write."""
        query = select(TABLE.c.id, TABLE.c.revision, func.length(TABLE.c.data)).order_by(TABLE.c.id)
        return tuple((str(r[0]), int(r[1]), int(r[2])) for r in self._run(lambda conn: conn.execute(query).all()))

    def read(self) -> OverlayState:
        rows = self._run(lambda conn: conn.execute(select(TABLE.c.id, TABLE.c.revision, TABLE.c.data).order_by(TABLE.c.id)).all())
        proposals: list[Proposal] = []
        problems: list[PhrasebookProblem] = []
        for proposal_id, revision, data in rows:
            try:
                proposals.append(self._checked(proposal_id, bytes(data)))
            except ValueError as exc:
                problems.append(PhrasebookProblem(self.path(proposal_id), 0, "", f"本中心新增说法记录有误：{exc}。已跳过；请从备份恢复或删除它"))
        proposals.sort(key=lambda p: (p.created_at, p.id))
        stamp = tuple((str(r[0]), int(r[1]), len(r[2])) for r in rows)
        return OverlayState(tuple(proposals), tuple(problems), stamp)

    @staticmethod
    def _checked(proposal_id: str, data: bytes) -> Proposal:
        proposal = parse_proposal(data)
        if proposal.id != proposal_id:
            raise ValueError(f"记录编号 {proposal_id} 与其中的编号“{proposal.id}”不符")
        return proposal

    def get(self, proposal_id: str) -> Proposal:
        proposal_id = check_proposal_id(proposal_id)
        data = self._run(lambda conn: conn.execute(select(TABLE.c.data).where(TABLE.c.id == proposal_id)).scalar())
        if data is None:
            raise OverlayError(f"找不到编号为 {proposal_id} 的建议。请用 `trainer phrasebook proposals` 查看编号。", f"no proposal {proposal_id}")
        try:
            return self._checked(proposal_id, bytes(data))
        except ValueError as exc:
            raise OverlayError(f"建议 {proposal_id} 的记录有误：{exc}。", f"malformed proposal {proposal_id}: {exc}") from exc

    def _existing(self, pid: str) -> Proposal | None:
        found = self._run(lambda conn: conn.execute(select(TABLE.c.id).where(TABLE.c.id == pid)).first())
        return None if found is None else self.get(pid)

    # --- write -------------------------------------------------------------------------------
    def _create(self, proposal: Proposal) -> bool:
        statement = pg_insert(TABLE).values(id=proposal.id, data=proposal.canonical_bytes()).on_conflict_do_nothing().returning(TABLE.c.id)
        return self._run(lambda conn: conn.execute(statement).first(), write=True) is not None

    def _replace(self, proposal: Proposal) -> None:
        statement = update(TABLE).where(TABLE.c.id == proposal.id).values(data=proposal.canonical_bytes(), revision=TABLE.c.revision + 1)
        self._run(lambda conn: conn.execute(statement), write=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Decisions one at a time across servers (a session-level advisory lock on its own connection)."""
        try:
            conn = self.engine.connect()
            conn.execute(select(func.pg_advisory_lock(OVERLAY_LOCK)))
            conn.commit()
        except SQLAlchemyError as exc:
            problem = engines.database_error(exc, self.url)
            raise OverlayError(problem.user_message, problem.log_message) from exc
        try:
            yield
        finally:
            try:
                conn.execute(select(func.pg_advisory_unlock(OVERLAY_LOCK)))
                conn.commit()
            finally:
                conn.close()
