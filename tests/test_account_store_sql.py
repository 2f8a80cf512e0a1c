"""The one SQL account store (SQLAlchemy Core) on the embedded SQLite file: files written by the
earlier raw-SQL store open with every field intact, foreign keys cascade, the file stays usable by
the session index and by the earlier store, and failed logins from several processes at once are
all counted, also while another connection holds the write lock."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from test_sessions_support import audio_for, make_record
from trainer.accounts import Account, AccountError, SqliteAccountStore
from trainer.accounts.store import LoginSession
from trainer.sessions import SessionStore
from trainer.storage.schema import account_groups, accounts, login_sessions

# The schema as the earlier raw-SQL store (trainer/accounts/store.py MIGRATIONS, account_schema
# version 1) created it, copied here as a fixture: the new store must open such files as they are.
OLD_DDL = (
    "CREATE TABLE IF NOT EXISTS account_schema (component VARCHAR(32) PRIMARY KEY, version INTEGER NOT NULL)",
    "CREATE TABLE accounts ("
    " user_id VARCHAR(64) PRIMARY KEY,"
    " name VARCHAR(80) NOT NULL,"
    " role VARCHAR(16) NOT NULL,"
    " email VARCHAR(254) NOT NULL DEFAULT '',"
    " password_hash VARCHAR(255) NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " must_change_password INTEGER NOT NULL DEFAULT 1,"
    " created_at VARCHAR(32) NOT NULL,"
    " updated_at VARCHAR(32) NOT NULL)",
    "CREATE TABLE account_groups ("
    " user_id VARCHAR(64) NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE,"
    " group_name VARCHAR(80) NOT NULL,"
    " PRIMARY KEY (user_id, group_name))",
    "CREATE INDEX account_groups_group ON account_groups (group_name)",
    "CREATE TABLE login_attempts ("
    " login_key VARCHAR(64) PRIMARY KEY,"
    " failures INTEGER NOT NULL,"
    " last_failure_at DOUBLE PRECISION NOT NULL,"
    " locked_until DOUBLE PRECISION NOT NULL DEFAULT 0)",
    "CREATE TABLE login_sessions ("
    " token_hash VARCHAR(64) PRIMARY KEY,"
    " user_id VARCHAR(64) NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE,"
    " method VARCHAR(16) NOT NULL,"
    " created_at DOUBLE PRECISION NOT NULL,"
    " last_seen_at DOUBLE PRECISION NOT NULL,"
    " expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX login_sessions_user ON login_sessions (user_id)",
    "INSERT INTO account_schema (component, version) VALUES ('accounts', 1)",
)
OLD_ACCOUNT_QUERY = ("SELECT user_id, name, role, email, disabled, must_change_password, created_at, updated_at, password_hash"
                     " FROM accounts ORDER BY user_id")

ADMIN = Account("A1", "管理员", "admin", (), "admin@example.cn", False, False, "2026-01-02T03:04:05Z", "2026-02-03T04:05:06Z")
TRAINEE = Account("E1024", "张三", "trainee", ("95598 一班", "城东营业厅"), "", True, True,
                  "2026-03-01T08:00:00Z", "2026-03-02T09:30:00Z")


def _old_file(path: Path) -> None:
    """An index.sqlite3 as the earlier code left it: the session index's tables (written by the
    index), then the account tables and rows by the old raw SQL."""
    store = SessionStore(path.parent)
    store.save(make_record(), audio_for(make_record()))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for statement in OLD_DDL:
            conn.execute(statement)
        for account, password_hash in ((ADMIN, "scrypt$admin-hash"), (TRAINEE, "scrypt$trainee-hash")):
            conn.execute(
                "INSERT INTO accounts (user_id, name, role, email, disabled, must_change_password, created_at, updated_at,"
                " password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (account.user_id, account.name, account.role, account.email, int(account.disabled),
                 int(account.must_change_password), account.created_at, account.updated_at, password_hash),
            )
            for group in account.groups:
                conn.execute("INSERT INTO account_groups (user_id, group_name) VALUES (?, ?)", (account.user_id, group))
        conn.execute("INSERT INTO login_attempts (login_key, failures, last_failure_at) VALUES ('e1024', 3, 1700000000.25)")
        conn.execute("INSERT INTO login_attempts VALUES ('nobody', 5, 1700000100.5, 1700000700.75)")
        conn.execute("INSERT INTO login_sessions VALUES (?, 'A1', 'password', 10.5, 20.25, 43210.0)", ("a" * 64,))
        conn.execute("INSERT INTO login_sessions VALUES (?, 'E1024', 'oidc', 1.0, 2.0, 3.0)", ("b" * 64,))


def test_a_file_of_the_earlier_store_opens_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "index.sqlite3"
    _old_file(path)
    with sqlite3.connect(path) as conn:
        ddl_before = sorted(conn.execute("SELECT name, sql FROM sqlite_master").fetchall(), key=str)

    store = SqliteAccountStore(path)
    assert store.accounts() == [ADMIN, TRAINEE] and store.count() == 2
    assert store.get("E1024") == TRAINEE and store.get("A1") == ADMIN
    assert store.password_hash("A1") == "scrypt$admin-hash" and store.password_hash("E1024") == "scrypt$trainee-hash"
    assert store.members(["城东营业厅"]) == {"E1024"} and store.members(["95598 一班", "无此班组"]) == {"E1024"}
    attempts = store.attempts("e1024")
    assert (attempts.failures, attempts.last_failure_at, attempts.locked_until) == (3, 1700000000.25, 0.0)
    assert store.attempts("nobody") == type(attempts)(5, 1700000100.5, 1700000700.75)
    assert store.session("a" * 64) == LoginSession("a" * 64, "A1", "password", 10.5, 20.25, 43210.0)
    assert store.session("b" * 64) == LoginSession("b" * 64, "E1024", "oidc", 1.0, 2.0, 3.0)

    # opening changed no table, index or version; the session index is untouched
    with sqlite3.connect(path) as conn:
        assert sorted(conn.execute("SELECT name, sql FROM sqlite_master").fetchall(), key=str) == ddl_before
        assert conn.execute("SELECT component, version FROM account_schema").fetchall() == [("accounts", 1)]
    assert len(SessionStore(path.parent).list()) == 1

    # writes through the new store are read back by the earlier raw SQL, booleans as 0/1
    assert store.record_failure("e1024", 1700000001.0).failures == 4
    store.update(Account(**{**TRAINEE.__dict__, "disabled": False, "groups": ("城西营业厅",)}))
    with sqlite3.connect(path) as conn:
        rows = conn.execute(OLD_ACCOUNT_QUERY).fetchall()
        assert rows[1][:6] == ("E1024", "张三", "trainee", "", 0, 1) and rows[1][8] == "scrypt$trainee-hash"
        assert conn.execute("SELECT group_name FROM account_groups WHERE user_id = 'E1024'").fetchall() == [("城西营业厅",)]
        assert conn.execute("SELECT failures FROM login_attempts WHERE login_key = 'e1024'").fetchone() == (4,)


def test_a_new_file_is_private_and_readable_by_the_earlier_store(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "index.sqlite3"
    store = SqliteAccountStore(path)
    store.create(TRAINEE, "scrypt$x")
    store.record_failure("e1024", 5.0)
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if part.exists():
            assert stat.S_IMODE(part.stat().st_mode) == 0o600, part
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute(OLD_ACCOUNT_QUERY).fetchall() == [
            ("E1024", "张三", "trainee", "", 1, 1, "2026-03-01T08:00:00Z", "2026-03-02T09:30:00Z", "scrypt$x")
        ]
        assert conn.execute("SELECT failures, last_failure_at, locked_until FROM login_attempts").fetchall() == [(1, 5.0, 0.0)]
        assert conn.execute("SELECT version FROM account_schema WHERE component = 'accounts'").fetchone() == (1,)


def test_deleting_an_account_cascades_to_groups_and_login_sessions(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    _old_file(path)
    store = SqliteAccountStore(path)
    with store.engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        conn.execute(delete(accounts).where(accounts.c.user_id == "E1024"))
        assert conn.execute(select(func.count()).select_from(account_groups)).scalar() == 0
        assert conn.execute(select(login_sessions.c.user_id)).scalars().all() == ["A1"]
    assert store.get("E1024") is None and store.session("b" * 64) is None and store.session("a" * 64) is not None


def _fail_many(path: str, start: multiprocessing.synchronize.Event, count: int) -> None:
    store = SqliteAccountStore(Path(path))
    start.wait()
    for n in range(count):
        store.record_failure("someone", float(n))


def test_failures_from_several_processes_at_once_are_all_counted(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteAccountStore(path)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_fail_many, args=(str(path), start, 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    assert SqliteAccountStore(path).attempts("someone").failures == 100


def test_a_write_waits_while_another_connection_holds_the_file(tmp_path: Path) -> None:
    """Another connection holds the write lock for a while (as the session index does while it
    saves); the store waits on the busy timeout and then writes, instead of failing."""
    path = tmp_path / "index.sqlite3"
    store = SqliteAccountStore(path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO login_attempts VALUES ('held', 1, 1.0, 0)")
    release = threading.Timer(0.8, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        assert store.record_failure("held", 2.0).failures == 2  # saw the holder's committed row
    finally:
        release.join()
        holder.close()
    assert time.monotonic() - started >= 0.7


def test_a_damaged_file_is_reported_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(AccountError) as caught:
        SqliteAccountStore(path)
    assert str(path) in caught.value.user_message and "备份" in caught.value.user_message
