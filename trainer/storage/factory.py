"""The one place that picks the storage backend from the settings.

    store = session_store(settings)      # SessionStore (folders + SQLite) or PostgresSessionStore
    ledger = ledger_for(store)           # the exam ledger kept with that store
    overlay = overlay_for(settings)      # the centre's phrasing proposals: a folder or a table
    accounts = account_store(settings)   # SqlAccountStore on the SQLite file or on PostgreSQL (no first admin:
                                         # `trainer.accounts.manage.open_accounts` adds that)

Both session stores have the same methods (save, load, audio_bytes, iter_audio, list, summary,
reviews, add_review, delete, verify_audio, …); pages and the CLI use only those and never branch
on the backend. PostgreSQL modules are imported only when PostgreSQL is configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from trainer.sessions.store import INDEX_FILE, SessionStore

if TYPE_CHECKING:
    from trainer.accounts.store import AccountStore
    from trainer.exam.seal import Ledger
    from trainer.phrasebook.overlay import Overlay
    from trainer.storage.pg_ledger import PostgresLedger
    from trainer.storage.pg_sessions import PostgresSessionStore

    AnySessionStore = Union[SessionStore, PostgresSessionStore]
    AnyLedger = Union[Ledger, PostgresLedger]


def uses_database(settings: Any) -> bool:
    return getattr(settings, "storage", "embedded") == "postgres"


def storage_label(settings: Any) -> str:
    """Where the data lives, for people (the database password hidden)."""
    if not uses_database(settings):
        return f"本机文件夹 {settings.sessions_dir}"
    from trainer.storage.engine import safe_url

    audio_dir = getattr(settings, "audio_dir", None)
    audio = f"（录音在共享文件夹 {audio_dir}）" if audio_dir else ""
    return f"PostgreSQL 数据库 {safe_url(settings.database_url)}{audio}"


def session_store(settings: Any) -> "AnySessionStore":
    """The session store the settings choose."""
    if not uses_database(settings):
        return SessionStore(Path(settings.sessions_dir))
    from trainer.storage.engine import engine_for
    from trainer.storage.pg_sessions import PostgresSessionStore

    return PostgresSessionStore(engine_for(settings.database_url), settings.database_url, getattr(settings, "audio_dir", None))


def ledger_for(store: "AnySessionStore | Path") -> "AnyLedger":
    """The exam ledger kept with a session store (a sessions folder: its ledger file)."""
    from trainer.exam.seal import Ledger  # imported here: the exam package itself uses this factory

    if isinstance(store, (str, Path)):
        return Ledger(Path(store))
    if isinstance(store, SessionStore):
        return Ledger(store.root)
    from trainer.storage.pg_ledger import PostgresLedger

    return PostgresLedger(store.engine, store.url)


def overlay_for(settings: Any) -> "Overlay":
    """The centre's phrasebook overlay (proposals and approved phrasings) the settings choose."""
    from trainer.phrasebook.overlay import Overlay

    if not uses_database(settings):
        return Overlay(settings.overlay_dir)
    from trainer.storage.engine import engine_for
    from trainer.storage.pg_overlay import PostgresOverlay

    return PostgresOverlay(engine_for(settings.database_url), settings.database_url)


def account_store(settings: Any) -> "AccountStore":
    """The account store the settings choose (embedded: the SQLite file of the session index)."""
    from trainer.accounts.store import SqlAccountStore, SqliteAccountStore

    if not uses_database(settings):
        return SqliteAccountStore(Path(settings.sessions_dir) / INDEX_FILE)
    from trainer.storage.engine import engine_for

    return SqlAccountStore(engine_for(settings.database_url), settings.database_url)
