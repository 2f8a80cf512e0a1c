"""Where accounts, login attempts and login sessions are kept.

`AccountStore` is the interface: plain methods, no policy (the rules live in `login.py`).
`SqlAccountStore` is its one implementation, on SQLAlchemy Core over the tables of
trainer/storage/schema.py, for both backends:

- embedded (`SqliteAccountStore(path)`): the tables live in the SQLite file of the session index
  (<sessions>/index.sqlite3), so a training room needs no database server. The file is private
  (0600), in WAL mode with a busy timeout and foreign keys on, writes retried while it is locked
  (trainer/storage/sqlite.py). The account tables are versioned in their own table
  (`account_schema`, component "accounts") and created or migrated when the store is opened; a
  file written by the earlier raw-SQL store (same tables, version 1) opens as it is.
- PostgreSQL (`trainer.storage.factory.account_store`): the shared database of several app
  servers, its schema created by trainer/storage/schema.py `open_schema`.

Counting a failed login is one atomic upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) on both,
so concurrent logins from several processes or servers never lose a failure.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite as sqlite_dialect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from trainer.accounts.model import Account, AccountError, utc_now
from trainer.storage import engine as engines
from trainer.storage.schema import (
    ACCOUNT_TABLES,
    account_groups,
    account_versions,
    accounts,
    login_attempts,
    login_sessions,
    metadata,
)
from trainer.storage.sqlite import make_private, sqlite_engine

T = TypeVar("T")

SCHEMA_COMPONENT = "accounts"
# The version of the account tables in the embedded file (version 1: ACCOUNT_TABLES as first
# shipped). A change of those tables raises it and adds the step from the old version to
# `SqliteAccountStore._open_schema` (PostgreSQL: trainer/storage/schema.py `_migrate`).
SCHEMA_VERSION = 1

_COLUMNS = (
    accounts.c.user_id, accounts.c.name, accounts.c.role, accounts.c.email, accounts.c.disabled,
    accounts.c.must_change_password, accounts.c.created_at, accounts.c.updated_at,
)
_SESSION_COLUMNS = (
    login_sessions.c.token_hash, login_sessions.c.user_id, login_sessions.c.method,
    login_sessions.c.created_at, login_sessions.c.last_seen_at, login_sessions.c.expires_at,
)
_ATTEMPT_COLUMNS = (login_attempts.c.failures, login_attempts.c.last_failure_at, login_attempts.c.locked_until)


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


class SqlAccountStore(AccountStore):
    """Accounts, login attempts and login sessions in a SQL database (SQLite file or PostgreSQL).
    `where` names the database in messages (a file path, or the URL with its password hidden)."""

    def __init__(self, engine: Engine, where: str = "") -> None:
        self.engine = engine
        self.where = where

    def _run(self, action: Callable[[Connection], T], write: bool = False) -> T:
        return engines.run(self.engine, action, write=write, url=self.where, error=AccountError)  # type: ignore[no-any-return]

    @staticmethod
    def _groups(conn: Connection, user_id: str) -> tuple[str, ...]:
        rows = conn.execute(select(account_groups.c.group_name).where(account_groups.c.user_id == user_id).order_by(account_groups.c.group_name))
        return tuple(r[0] for r in rows)

    @staticmethod
    def _account(row: Any, groups: tuple[str, ...]) -> Account:
        user_id, name, role, email, disabled, must_change, created, updated = row
        return Account(user_id, name, role, groups, email, bool(disabled), bool(must_change), created, updated)

    @staticmethod
    def _put_groups(conn: Connection, account: Account) -> None:
        conn.execute(delete(account_groups).where(account_groups.c.user_id == account.user_id))
        if account.groups:
            conn.execute(insert(account_groups), [{"user_id": account.user_id, "group_name": g} for g in account.groups])

    # --- accounts ------------------------------------------------------------------------------
    def get(self, user_id: str) -> Account | None:
        def read(conn: Connection) -> Account | None:
            row = conn.execute(select(*_COLUMNS).where(accounts.c.user_id == user_id)).first()
            return self._account(row, self._groups(conn, user_id)) if row else None

        return self._run(read)

    def password_hash(self, user_id: str) -> str | None:
        return self._run(lambda conn: conn.execute(select(accounts.c.password_hash).where(accounts.c.user_id == user_id)).scalar())

    def accounts(self) -> list[Account]:
        def read(conn: Connection) -> list[Account]:
            groups: dict[str, list[str]] = {}
            for user_id, group in conn.execute(select(account_groups.c.user_id, account_groups.c.group_name).order_by(account_groups.c.group_name)):
                groups.setdefault(user_id, []).append(group)
            rows = conn.execute(select(*_COLUMNS).order_by(accounts.c.user_id)).all()
            return [self._account(row, tuple(groups.get(row[0], ()))) for row in rows]

        return self._run(read)

    def count(self) -> int:
        return int(self._run(lambda conn: conn.execute(select(func.count()).select_from(accounts)).scalar_one()))

    def create(self, account: Account, password_hash: str) -> Account:
        def write(conn: Connection) -> Account:
            conn.execute(insert(accounts).values(
                user_id=account.user_id, name=account.name, role=account.role, email=account.email,
                disabled=account.disabled, must_change_password=account.must_change_password,
                created_at=account.created_at, updated_at=account.updated_at, password_hash=password_hash,
            ))
            self._put_groups(conn, account)
            return account

        try:
            return self._run(write, write=True)
        except AccountError as exc:
            if isinstance(exc.__cause__, IntegrityError):  # the user id is taken (rolled back)
                raise AccountError(f"工号 {account.user_id} 的账号已经存在。", f"account {account.user_id} exists") from exc
            raise

    def update(self, account: Account) -> Account:
        saved = replace(account, updated_at=utc_now())

        def write(conn: Connection) -> Account:
            changed = conn.execute(update(accounts).where(accounts.c.user_id == saved.user_id).values(
                name=saved.name, role=saved.role, email=saved.email, disabled=saved.disabled,
                must_change_password=saved.must_change_password, updated_at=saved.updated_at,
            )).rowcount
            if not changed:
                raise AccountError(f"没有工号为 {saved.user_id} 的账号。", f"no account {saved.user_id}")
            self._put_groups(conn, saved)
            return saved

        return self._run(write, write=True)

    def set_password(self, user_id: str, password_hash: str, must_change: bool) -> None:
        def write(conn: Connection) -> None:
            changed = conn.execute(update(accounts).where(accounts.c.user_id == user_id).values(
                password_hash=password_hash, must_change_password=must_change, updated_at=utc_now(),
            )).rowcount
            if not changed:
                raise AccountError(f"没有工号为 {user_id} 的账号。", f"no account {user_id}")

        self._run(write, write=True)

    def members(self, groups: Iterable[str]) -> set[str]:
        wanted = sorted(set(groups))
        if not wanted:
            return set()
        query = select(account_groups.c.user_id).where(account_groups.c.group_name.in_(wanted)).distinct()
        return self._run(lambda conn: {row[0] for row in conn.execute(query)})

    # --- login attempts ------------------------------------------------------------------------
    def attempts(self, login_key: str) -> Attempts | None:
        def read(conn: Connection) -> Attempts | None:
            row = conn.execute(select(*_ATTEMPT_COLUMNS).where(login_attempts.c.login_key == login_key)).first()
            return Attempts(int(row[0]), float(row[1]), float(row[2])) if row else None

        return self._run(read)

    def record_failure(self, login_key: str, now: float) -> Attempts:
        dialect = sqlite_dialect if self.engine.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(login_attempts).values(login_key=login_key, failures=1, last_failure_at=now, locked_until=0)
        statement = statement.on_conflict_do_update(
            index_elements=[login_attempts.c.login_key],
            set_={"failures": login_attempts.c.failures + 1, "last_failure_at": now},
        ).returning(*_ATTEMPT_COLUMNS)

        def write(conn: Connection) -> Attempts:
            row = conn.execute(statement).one()
            return Attempts(int(row[0]), float(row[1]), float(row[2]))

        return self._run(write, write=True)

    def lock(self, login_key: str, until: float) -> None:
        self._run(lambda conn: conn.execute(update(login_attempts).where(login_attempts.c.login_key == login_key).values(locked_until=until)), write=True)

    def clear_attempts(self, login_key: str) -> None:
        self._run(lambda conn: conn.execute(delete(login_attempts).where(login_attempts.c.login_key == login_key)), write=True)

    def prune_attempts(self, older_than: float) -> int:
        query = delete(login_attempts).where(login_attempts.c.last_failure_at < older_than, login_attempts.c.locked_until < older_than)
        return int(self._run(lambda conn: conn.execute(query).rowcount, write=True))

    # --- login sessions ------------------------------------------------------------------------
    def add_session(self, session: LoginSession) -> None:
        self._run(lambda conn: conn.execute(insert(login_sessions).values(
            token_hash=session.token_hash, user_id=session.user_id, method=session.method,
            created_at=session.created_at, last_seen_at=session.last_seen_at, expires_at=session.expires_at,
        )), write=True)

    def session(self, token_hash: str) -> LoginSession | None:
        def read(conn: Connection) -> LoginSession | None:
            row = conn.execute(select(*_SESSION_COLUMNS).where(login_sessions.c.token_hash == token_hash)).first()
            return LoginSession(row[0], row[1], row[2], float(row[3]), float(row[4]), float(row[5])) if row else None

        return self._run(read)

    def touch_session(self, token_hash: str, now: float) -> None:
        self._run(lambda conn: conn.execute(update(login_sessions).where(login_sessions.c.token_hash == token_hash).values(last_seen_at=now)), write=True)

    def end_session(self, token_hash: str) -> None:
        self._run(lambda conn: conn.execute(delete(login_sessions).where(login_sessions.c.token_hash == token_hash)), write=True)

    def end_sessions_of(self, user_id: str) -> int:
        return int(self._run(lambda conn: conn.execute(delete(login_sessions).where(login_sessions.c.user_id == user_id)).rowcount, write=True))

    def prune_sessions(self, now: float, idle_seconds: float) -> int:
        query = delete(login_sessions).where((login_sessions.c.expires_at < now) | (login_sessions.c.last_seen_at < now - idle_seconds))
        return int(self._run(lambda conn: conn.execute(query).rowcount, write=True))


class SqliteAccountStore(SqlAccountStore):
    """The account tables in the embedded SQLite file at `path` (see module doc), created or
    migrated on open."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:  # password hashes: owner-only folder and file
            make_private(self.path)
        except OSError as exc:
            raise AccountError(f"无法创建账号数据库 {self.path}：{exc.strerror or exc}。请检查文件夹权限。", f"create {self.path}: {exc}") from exc
        super().__init__(sqlite_engine(self.path), str(self.path))
        self._run(self._open_schema, write=True)

    def _open_schema(self, conn: Connection) -> None:
        account_versions.create(conn, checkfirst=True)
        version = conn.execute(select(account_versions.c.version).where(account_versions.c.component == SCHEMA_COMPONENT)).scalar()
        if version is not None and version > SCHEMA_VERSION:
            raise AccountError(
                f"账号数据库 {self.path} 来自更新的版本（结构版本 {version}），本程序只认识到版本 {SCHEMA_VERSION}。请升级本程序。",
                f"account schema {version} newer than {SCHEMA_VERSION}",
            )
        if version is None:  # a new file: the tables as they are now (an existing file keeps its own)
            metadata.create_all(conn, tables=list(ACCOUNT_TABLES))
            conn.execute(insert(account_versions).values(component=SCHEMA_COMPONENT, version=SCHEMA_VERSION))
