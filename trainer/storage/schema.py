"""The PostgreSQL schema: one SQLAlchemy MetaData, versioned in `trainer_schema`, created or migrated on open.

Tables:
- accounts, account_groups, login_attempts, login_sessions (ACCOUNT_TABLES): the account store
  (trainer/accounts/store.py) uses these same definitions on both backends; in the embedded SQLite
  file (<sessions>/index.sqlite3, shared with the session index) they are created alone and
  versioned in `account_schema` (`account_versions`, its own MetaData: PostgreSQL has none);
- sessions (one row per stored attempt: the canonical record bytes plus the columns the listing
  and filters need), session_steps (per-step rows for statistics), session_reviews (append-only,
  one row per review: its canonical bytes), session_audio (per turn: file name, sha256, size) and
  audio_chunks (the audio bytes in chunks of AUDIO_CHUNK bytes, streamed in and out);
- exam_ledger (append-only: one row per sealed entry, its canonical bytes) and ledger_anchor
  (the highest head ever appended, see trainer/exam/anchor.py);
- phrasebook_proposals (the centre's phrasing proposals and decisions, trainer/phrasebook/overlay.py).

A deleted session keeps its rows, marked `deleted_at` (like the embedded .trash folder).
"""

from __future__ import annotations

import json

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine

from trainer.errors import StorageError
from trainer.sessions.index_sql import index_rows, sessions_table, steps_table
from trainer.sessions.model import SessionRecord
from trainer.sessions.review import Review

COMPONENT = "trainer"
# 2: sessions.verdict and sessions.result (the machine verdict, 待复核 included, and the result shown)
SCHEMA_VERSION = 2
AUDIO_CHUNK = 256 * 1024
# pg_advisory_xact_lock keys (any two distinct 64-bit numbers of our own).
SCHEMA_LOCK = 0x7472_0001
LEDGER_LOCK = 0x7472_0002
OVERLAY_LOCK = 0x7472_0003

metadata = MetaData()

schema_versions = Table(
    "trainer_schema", metadata,
    Column("component", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("role", String(16), nullable=False),
    Column("email", String(254), nullable=False, server_default=""),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("must_change_password", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

account_groups = Table(
    "account_groups", metadata,
    Column("user_id", String(64), ForeignKey("accounts.user_id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(80), primary_key=True),
    Index("account_groups_group", "group_name"),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("login_key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", Double, nullable=False),
    Column("locked_until", Double, nullable=False, server_default=text("0")),
)

login_sessions = Table(
    "login_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("accounts.user_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("last_seen_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
)

ACCOUNT_TABLES = (accounts, account_groups, login_attempts, login_sessions)

# The embedded file's version table of the account tables (component "accounts"); the session
# index in the same file keeps its own version (PRAGMA user_version).
account_versions = Table(
    "account_schema", MetaData(),
    Column("component", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
)

# The listing columns and step rows are the session index's (trainer/sessions/index_sql.py, shared
# with the embedded SQLite index); PostgreSQL adds the record bytes and the deletion mark.
sessions = sessions_table(
    metadata,
    Column("record", LargeBinary, nullable=False),  # canonical JSON bytes of the SessionRecord
    Column("deleted_at", Text),  # set when deleted (kept, like the embedded .trash folder)
)

session_steps = steps_table(metadata, "session_steps", step_index="session_steps_step")

session_reviews = Table(
    "session_reviews", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("session_id", String(160), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),  # canonical JSON bytes of the Review
)

session_audio = Table(
    "session_audio", metadata,
    Column("session_id", String(160), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("turn", Integer, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
)

audio_chunks = Table(
    "audio_chunks", metadata,
    Column("session_id", String(160), primary_key=True),
    Column("turn", Integer, primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
    ForeignKeyConstraint(["session_id", "turn"], ["session_audio.session_id", "session_audio.turn"], ondelete="CASCADE"),
)

exam_ledger = Table(
    "exam_ledger", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("exam_id", Text, nullable=False, index=True),
    Column("raw", LargeBinary, nullable=False),  # canonical JSON of the sealed entry (the ledger line)
)

phrasebook_proposals = Table(
    "phrasebook_proposals", metadata,
    Column("id", String(16), primary_key=True),
    Column("data", LargeBinary, nullable=False),  # canonical JSON bytes of the Proposal
    Column("revision", BigInteger, nullable=False, server_default=text("1")),  # raised by every decision
)

ledger_anchor = Table(
    "ledger_anchor", metadata,
    Column("name", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("seal", String(64), nullable=False),
)


def open_schema(engine: Engine) -> None:
    """Create the tables (first use) or refuse a database written by a newer version. Serialised
    across servers with an advisory lock, so two servers starting at once do not race."""
    with engine.begin() as conn:
        conn.execute(select(text("pg_advisory_xact_lock(:k)")), {"k": SCHEMA_LOCK})
        metadata.create_all(conn)
        version = conn.execute(select(schema_versions.c.version).where(schema_versions.c.component == COMPONENT)).scalar()
        if version is None:
            conn.execute(schema_versions.insert().values(component=COMPONENT, version=SCHEMA_VERSION))
        elif version > SCHEMA_VERSION:
            raise StorageError(
                f"数据库来自更新的版本（结构版本 {version}），本程序只认识到版本 {SCHEMA_VERSION}。请升级本程序。",
                f"database schema {version} newer than {SCHEMA_VERSION}",
            )
        _migrate(conn, version or SCHEMA_VERSION)


def _migrate(conn: Connection, version: int) -> None:
    """Bring a database of an older SCHEMA_VERSION up to date, one step at a time (version ->
    version + 1), then record the version; all in the caller's transaction under SCHEMA_LOCK."""
    if version < 2:
        _add_verdict_columns(conn)
    if version != SCHEMA_VERSION:
        conn.execute(schema_versions.update().where(schema_versions.c.component == COMPONENT).values(version=SCHEMA_VERSION))


def _add_verdict_columns(conn: Connection) -> None:
    """1 -> 2: add sessions.verdict and sessions.result and fill them for every session (deleted
    ones too) from its stored record and reviews, as the session index computes them
    (`index_sql.index_rows`); no other column changes."""
    for name in ("verdict", "result"):
        conn.execute(text(f"ALTER TABLE sessions ADD COLUMN IF NOT EXISTS {name} TEXT NOT NULL DEFAULT ''"))
    reviews: dict[str, list[Review]] = {}
    for session_id, data in conn.execute(
        select(session_reviews.c.session_id, session_reviews.c.data).order_by(session_reviews.c.created_at, session_reviews.c.id)
    ):
        reviews.setdefault(session_id, []).append(Review.from_dict(json.loads(bytes(data).decode("utf-8"))))
    for session_id, data in conn.execute(select(sessions.c.id, sessions.c.record)).all():
        record = SessionRecord.from_dict(json.loads(bytes(data).decode("utf-8")))
        row, _ = index_rows(record, reviews.get(session_id, []))
        conn.execute(update(sessions).where(sessions.c.id == session_id).values(verdict=row["verdict"], result=row["result"]))
