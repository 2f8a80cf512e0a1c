"""The exam ledger on PostgreSQL: the same chain, seals and checks as the ledger file
(`trainer.exam.seal.Ledger`), one row per entry holding its canonical bytes.

An append is one transaction: it takes a transaction-level advisory lock (`pg_advisory_xact_lock`),
reads the entries, runs the caller's `check` (e.g. the one-attempt rule), seals the new entry after
the last one and raises the anchored head (table `ledger_anchor`) before committing. Two servers
appending at once are serialised by the lock, so the chain never forks and a rule checked in
`check` holds across servers. A database has no torn writes: `repair` has nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from trainer.errors import ExamError
from trainer.exam.anchor import LedgerHead
from trainer.exam.seal import ENTRY_KINDS, GENESIS, LedgerReads, LedgerScan, Repair, compute_seal, key_id, parse_line
from trainer.sessions.model import canonical_json, utc_now
from trainer.storage import engine as engines
from trainer.storage.schema import LEDGER_LOCK, exam_ledger, ledger_anchor

ANCHOR_NAME = "head"


class PostgresLedger(LedgerReads):
    """The append-only chain of sealed exam entries in the shared database."""

    def __init__(self, engine: Engine, url: str = "") -> None:
        self.engine = engine
        self.url = url
        self.path = f"数据库表 exam_ledger（{engines.safe_url(url)}）" if url else "数据库表 exam_ledger"

    def _run(self, action: Any, write: bool = False) -> Any:
        return engines.run(self.engine, action, write=write, url=self.url, error=ExamError)

    @staticmethod
    def _scan(conn: Connection) -> LedgerScan:
        rows = conn.execute(select(exam_ledger.c.raw).order_by(exam_ledger.c.seq)).all()
        return LedgerScan([parse_line(number, bytes(row[0])) for number, row in enumerate(rows, 1)])

    def scan(self) -> LedgerScan:
        return self._run(self._scan)

    def read_anchor(self) -> LedgerHead | None:
        """The highest head ever appended (None: nothing appended yet)."""
        row = self._run(lambda conn: conn.execute(
            select(ledger_anchor.c.seq, ledger_anchor.c.seal).where(ledger_anchor.c.name == ANCHOR_NAME)
        ).first())
        return LedgerHead(int(row[0]), str(row[1])) if row else None

    def append(
        self,
        kind: str,
        exam_id: str,
        body: dict[str, Any],
        key: bytes,
        check: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> dict[str, Any]:
        """Seal and append one entry after the last one (see module doc); `check(entries)` may raise to refuse."""
        if kind not in ENTRY_KINDS:
            raise ValueError(f"unknown ledger entry kind {kind!r}")

        def write(conn: Connection) -> dict[str, Any]:
            conn.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCK)))
            entries = [ln.entry for ln in self._scan(conn).lines if ln.entry is not None]
            if check is not None:
                check(entries)
            last = entries[-1] if entries else None
            entry: dict[str, Any] = {
                "seq": (last["seq"] + 1) if last else 1,
                "kind": kind,
                "time": utc_now(),
                "exam_id": exam_id,
                "key_id": key_id(key),
                "body": body,
                "prev": last["seal"] if last else GENESIS,
            }
            entry["seal"] = compute_seal(entry, key)
            conn.execute(insert(exam_ledger).values(seq=entry["seq"], kind=kind, exam_id=exam_id, raw=canonical_json(entry)))
            upsert = pg_insert(ledger_anchor).values(name=ANCHOR_NAME, seq=entry["seq"], seal=entry["seal"])
            conn.execute(upsert.on_conflict_do_update(
                index_elements=[ledger_anchor.c.name],
                set_={"seq": upsert.excluded.seq, "seal": upsert.excluded.seal},
                where=ledger_anchor.c.seq < upsert.excluded.seq,  # never lowered
            ))
            return entry

        try:
            return self._run(write, write=True)
        except ExamError as exc:
            if isinstance(exc.__cause__, SQLAlchemyError):
                raise ExamError(
                    f"无法写入考试记录账本（{self.path}）：{exc.user_message} 账本未被改动。", exc.log_message
                ) from exc
            raise

    def repair(self, key: bytes) -> Repair:
        """Nothing to repair: every append is one transaction, so no entry is ever half written."""
        return Repair("none")

    def import_lines(self, lines: list[bytes], anchor: LedgerHead | None) -> int:
        """Copy the entries of a ledger file as they are (`trainer storage migrate`): the rows already
        here must be the same lines, in order; the rest are appended unchanged, and the anchored head
        raised to `anchor` (or the last line). Returns the number of rows added."""

        def write(conn: Connection) -> int:
            conn.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCK)))
            present = [bytes(row[0]) for row in conn.execute(select(exam_ledger.c.raw).order_by(exam_ledger.c.seq))]
            if present != lines[: len(present)]:
                raise ExamError(
                    "数据库中的考试账本与本机账本文件不一致（不是它的前一部分），不能合并。请换一个空数据库，或先核对两边的账本。",
                    "database ledger is not a prefix of the ledger file",
                )
            added = 0
            for raw in lines[len(present):]:
                entry = parse_line(0, raw).entry
                assert entry is not None  # the caller refuses unreadable lines
                conn.execute(insert(exam_ledger).values(seq=entry["seq"], kind=entry["kind"], exam_id=entry["exam_id"], raw=raw))
                added += 1
            heads = [h for h in (anchor, _head_of(lines)) if h is not None]
            if heads:
                head = max(heads, key=lambda h: h.seq)
                upsert = pg_insert(ledger_anchor).values(name=ANCHOR_NAME, seq=head.seq, seal=head.seal)
                conn.execute(upsert.on_conflict_do_update(
                    index_elements=[ledger_anchor.c.name],
                    set_={"seq": upsert.excluded.seq, "seal": upsert.excluded.seal},
                    where=ledger_anchor.c.seq < upsert.excluded.seq,
                ))
            return added

        return int(self._run(write, write=True))


def _head_of(lines: list[bytes]) -> LedgerHead | None:
    if not lines:
        return None
    entry = parse_line(0, lines[-1]).entry
    return LedgerHead(int(entry["seq"]), str(entry["seal"])) if entry else None
