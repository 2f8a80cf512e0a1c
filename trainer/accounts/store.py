"""Where accounts, login attempts and login sessions are kept.

`AccountStore` is the interface: plain methods, no policy (the rules live in `login.py`).
`SqliteAccountStore` keeps its tables in the SQLite file of the session index
(<sessions>/index.sqlite3), so a training room needs no database server. The SQL is kept
portable (no INSERT OR REPLACE, no JSON columns, times as DOUBLE PRECISION seconds since
1970, ISO text for created/updated) so that a PostgreSQL backend can implement the same
interface (it does: trainer/storage/pg_accounts.py). The schema is versioned in its own table
(`account_schema`) and migrated when the store is opened.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from trainer.accounts.model import Account, AccountError, utc_now
from trainer.durable import open_private, private_dirs, private_file

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_COMPONENT = "accounts"
# MIGRATIONS[i] takes the schema from version i to version i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
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
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

BUSY_TIMEOUT_MS = 30_000
RETRIES = 8
_ACCOUNT_COLUMNS = "user_id, name, role, email, disabled, must_change_password, created_at, updated_at"


@dataclass(frozen=True)
class Attempts:
    """Failed logins in a row for one typed user id (known or not)."""

    failures: int
    last_failure_at: float
    locked_until: float = 0.0


@dataclass(frozen=True)
class LoginSession:
    token_hash: str  # sha256 of the token; the token itself is never stored
    user_id: str
    method: str  # "password" | "oidc"
    created_at: float
    last_seen_at: float
    expires_at: float


class AccountStore(ABC):
    """Storage of accounts, login attempts and login sessions (see module doc)."""

    # --- accounts
    @abstractmethod
    def get(self, user_id: str) -> Account | None: ...

    @abstractmethod
    def password_hash(self, user_id: str) -> str | None: ...

    @abstractmethod
    def accounts(self) -> list[Account]:
        """Every account, ordered by user id."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def create(self, account: Account, password_hash: str) -> Account:
        """Add a new account; AccountError when the user id exists."""

    @abstractmethod
    def update(self, account: Account) -> Account:
        """Save name, role, groups, email, disabled and must_change_password (updated_at set now)."""

    @abstractmethod
    def set_password(self, user_id: str, password_hash: str, must_change: bool) -> None: ...

    @abstractmethod
    def members(self, groups: Iterable[str]) -> set[str]:
        """User ids of the accounts in any of `groups`."""

    # --- login attempts
    @abstractmethod
    def attempts(self, login_key: str) -> Attempts | None: ...

    @abstractmethod
    def record_failure(self, login_key: str, now: float) -> Attempts:
        """Count one more failure (atomically) and return the new state."""

    @abstractmethod
    def lock(self, login_key: str, until: float) -> None: ...

    @abstractmethod
    def clear_attempts(self, login_key: str) -> None: ...

    @abstractmethod
    def prune_attempts(self, older_than: float) -> int:
        """Forget failures last seen before `older_than` that hold no running lock."""

    # --- login sessions
    @abstractmethod
    def add_session(self, session: LoginSession) -> None: ...

    @abstractmethod
    def session(self, token_hash: str) -> LoginSession | None: ...

    @abstractmethod
    def touch_session(self, token_hash: str, now: float) -> None: ...

    @abstractmethod
    def end_session(self, token_hash: str) -> None: ...

    @abstractmethod
    def end_sessions_of(self, user_id: str) -> int: ...

    @abstractmethod
    def prune_sessions(self, now: float, idle_seconds: float) -> int: ...


class SqliteAccountStore(AccountStore):
    """The accounts tables in a SQLite file (one short connection per call; WAL; retried when busy)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._migrate()

    # --- plumbing ------------------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        finally:
            conn.close()

    def _run(self, action: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        delay = 0.05
        for attempt in range(RETRIES):
            try:
                with self._connect() as conn:
                    if not write:
                        return action(conn)
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result = action(conn)
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                    return result
            except sqlite3.OperationalError as exc:
                message = str(exc).lower()
                if ("locked" in message or "busy" in message) and attempt < RETRIES - 1:
                    log.info("account store busy (%s), retry %d", exc, attempt + 1)
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                raise AccountError(f"账号数据库 {self.path} 无法使用：{exc}。请检查文件权限和磁盘空间。", f"sqlite error on {self.path}: {exc}") from exc
            except sqlite3.DatabaseError as exc:
                raise AccountError(
                    f"账号数据库 {self.path} 已损坏：{exc}。请从备份恢复该文件。", f"sqlite database error on {self.path}: {exc}"
                ) from exc
        raise AssertionError("unreachable")

    def _migrate(self) -> None:
        try:  # password hashes: owner-only folder and file (SQLite gives -wal/-shm the file's mode)
            private_dirs(self.path.parent)
            os.close(open_private(self.path, os.O_RDWR | os.O_CREAT))
            for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                if path.exists():
                    private_file(path)
        except OSError as exc:
            raise AccountError(f"无法创建账号数据库 {self.path}：{exc.strerror or exc}。请检查文件夹权限。", f"create {self.path}: {exc}") from exc

        def action(conn: sqlite3.Connection) -> None:
            conn.execute("CREATE TABLE IF NOT EXISTS account_schema (component VARCHAR(32) PRIMARY KEY, version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM account_schema WHERE component = ?", (SCHEMA_COMPONENT,)).fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise AccountError(
                    f"账号数据库 {self.path} 来自更新的版本（结构版本 {version}），本程序只认识到版本 {SCHEMA_VERSION}。请升级本程序。",
                    f"account schema {version} newer than {SCHEMA_VERSION}",
                )
            for target in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[target]:
                    conn.execute(statement)
                log.info("account schema migrated to version %d", target + 1)
            if row is None:
                conn.execute("INSERT INTO account_schema (component, version) VALUES (?, ?)", (SCHEMA_COMPONENT, SCHEMA_VERSION))
            elif version != SCHEMA_VERSION:
                conn.execute("UPDATE account_schema SET version = ? WHERE component = ?", (SCHEMA_VERSION, SCHEMA_COMPONENT))

        with self._connect() as conn:  # WAL lets the app and the CLI use the file at once (SQLite only)
            conn.execute("PRAGMA journal_mode = WAL")
        self._run(action, write=True)

    @staticmethod
    def _groups(conn: sqlite3.Connection, user_id: str) -> tuple[str, ...]:
        rows = conn.execute("SELECT group_name FROM account_groups WHERE user_id = ? ORDER BY group_name", (user_id,))
        return tuple(r[0] for r in rows)

    @staticmethod
    def _account(row: tuple[Any, ...], groups: tuple[str, ...]) -> Account:
        user_id, name, role, email, disabled, must_change, created, updated = row
        return Account(user_id, name, role, groups, email, bool(disabled), bool(must_change), created, updated)

    @staticmethod
    def _put_groups(conn: sqlite3.Connection, account: Account) -> None:
        conn.execute("DELETE FROM account_groups WHERE user_id = ?", (account.user_id,))
        for group in account.groups:
            conn.execute("INSERT INTO account_groups (user_id, group_name) VALUES (?, ?)", (account.user_id, group))

    # --- accounts ------------------------------------------------------------------------------
    def get(self, user_id: str) -> Account | None:
        def read(conn: sqlite3.Connection) -> Account | None:
            row = conn.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE user_id = ?", (user_id,)).fetchone()
            return self._account(row, self._groups(conn, user_id)) if row else None

        return self._run(read)

    def password_hash(self, user_id: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT password_hash FROM accounts WHERE user_id = ?", (user_id,)).fetchone()
            return row[0] if row else None

        return self._run(read)

    def accounts(self) -> list[Account]:
        def read(conn: sqlite3.Connection) -> list[Account]:
            groups: dict[str, list[str]] = {}
            for user_id, group in conn.execute("SELECT user_id, group_name FROM account_groups ORDER BY group_name"):
                groups.setdefault(user_id, []).append(group)
            rows = conn.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY user_id").fetchall()
            return [self._account(row, tuple(groups.get(row[0], ()))) for row in rows]

        return self._run(read)

    def count(self) -> int:
        return self._run(lambda conn: int(conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]))

    def create(self, account: Account, password_hash: str) -> Account:
        def write(conn: sqlite3.Connection) -> Account:
            if conn.execute("SELECT 1 FROM accounts WHERE user_id = ?", (account.user_id,)).fetchone():
                raise AccountError(f"工号 {account.user_id} 的账号已经存在。", f"account {account.user_id} exists")
            conn.execute(
                f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (account.user_id, account.name, account.role, account.email, int(account.disabled),
                 int(account.must_change_password), account.created_at, account.updated_at, password_hash),
            )
            self._put_groups(conn, account)
            return account

        return self._run(write, write=True)

    def update(self, account: Account) -> Account:
        saved = replace(account, updated_at=utc_now())

        def write(conn: sqlite3.Connection) -> Account:
            changed = conn.execute(
                "UPDATE accounts SET name = ?, role = ?, email = ?, disabled = ?, must_change_password = ?, updated_at = ? WHERE user_id = ?",
                (saved.name, saved.role, saved.email, int(saved.disabled), int(saved.must_change_password), saved.updated_at, saved.user_id),
            ).rowcount
            if not changed:
                raise AccountError(f"没有工号为 {saved.user_id} 的账号。", f"no account {saved.user_id}")
            self._put_groups(conn, saved)
            return saved

        return self._run(write, write=True)

    def set_password(self, user_id: str, password_hash: str, must_change: bool) -> None:
        def write(conn: sqlite3.Connection) -> None:
            changed = conn.execute(
                "UPDATE accounts SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE user_id = ?",
                (password_hash, int(must_change), utc_now(), user_id),
            ).rowcount
            if not changed:
                raise AccountError(f"没有工号为 {user_id} 的账号。", f"no account {user_id}")

        self._run(write, write=True)

    def members(self, groups: Iterable[str]) -> set[str]:
        wanted = sorted(set(groups))
        if not wanted:
            return set()
        marks = ", ".join("?" for _ in wanted)
        sql = f"SELECT DISTINCT user_id FROM account_groups WHERE group_name IN ({marks})"
        return self._run(lambda conn: {row[0] for row in conn.execute(sql, wanted)})

    # --- login attempts ------------------------------------------------------------------------
    def attempts(self, login_key: str) -> Attempts | None:
        def read(conn: sqlite3.Connection) -> Attempts | None:
            row = conn.execute(
                "SELECT failures, last_failure_at, locked_until FROM login_attempts WHERE login_key = ?", (login_key,)
            ).fetchone()
            return Attempts(int(row[0]), float(row[1]), float(row[2])) if row else None

        return self._run(read)

    def record_failure(self, login_key: str, now: float) -> Attempts:
        def write(conn: sqlite3.Connection) -> Attempts:
            changed = conn.execute(
                "UPDATE login_attempts SET failures = failures + 1, last_failure_at = ? WHERE login_key = ?", (now, login_key)
            ).rowcount
            if not changed:
                conn.execute(
                    "INSERT INTO login_attempts (login_key, failures, last_failure_at, locked_until) VALUES (?, 1, ?, 0)", (login_key, now)
                )
            row = conn.execute("SELECT failures, last_failure_at, locked_until FROM login_attempts WHERE login_key = ?", (login_key,)).fetchone()
            return Attempts(int(row[0]), float(row[1]), float(row[2]))

        return self._run(write, write=True)

    def lock(self, login_key: str, until: float) -> None:
        self._run(lambda conn: conn.execute("UPDATE login_attempts SET locked_until = ? WHERE login_key = ?", (until, login_key)), write=True)

    def clear_attempts(self, login_key: str) -> None:
        self._run(lambda conn: conn.execute("DELETE FROM login_attempts WHERE login_key = ?", (login_key,)), write=True)

    def prune_attempts(self, older_than: float) -> int:
        return self._run(
            lambda conn: conn.execute(
                "DELETE FROM login_attempts WHERE last_failure_at < ? AND locked_until < ?", (older_than, older_than)
            ).rowcount,
            write=True,
        )

    # --- login sessions ------------------------------------------------------------------------
    def add_session(self, session: LoginSession) -> None:
        self._run(
            lambda conn: conn.execute(
                "INSERT INTO login_sessions (token_hash, user_id, method, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (session.token_hash, session.user_id, session.method, session.created_at, session.last_seen_at, session.expires_at),
            ),
            write=True,
        )

    def session(self, token_hash: str) -> LoginSession | None:
        def read(conn: sqlite3.Connection) -> LoginSession | None:
            row = conn.execute(
                "SELECT token_hash, user_id, method, created_at, last_seen_at, expires_at FROM login_sessions WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
            return LoginSession(row[0], row[1], row[2], float(row[3]), float(row[4]), float(row[5])) if row else None

        return self._run(read)

    def touch_session(self, token_hash: str, now: float) -> None:
        self._run(lambda conn: conn.execute("UPDATE login_sessions SET last_seen_at = ? WHERE token_hash = ?", (now, token_hash)), write=True)

    def end_session(self, token_hash: str) -> None:
        self._run(lambda conn: conn.execute("DELETE FROM login_sessions WHERE token_hash = ?", (token_hash,)), write=True)

    def end_sessions_of(self, user_id: str) -> int:
        return self._run(lambda conn: conn.execute("DELETE FROM login_sessions WHERE user_id = ?", (user_id,)).rowcount, write=True)

    def prune_sessions(self, now: float, idle_seconds: float) -> int:
        return self._run(
            lambda conn: conn.execute(
                "DELETE FROM login_sessions WHERE expires_at < ? OR last_seen_at < ?", (now, now - idle_seconds)
            ).rowcount,
            write=True,
        )
