"""`AccountStore` on PostgreSQL (SQLAlchemy Core): the same rules as `SqliteAccountStore`, shared by
every app server. Counting a failed login is one atomic upsert, so servers never lose a failure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from trainer.accounts.model import Account, AccountError, utc_now
from trainer.accounts.store import AccountStore, Attempts, LoginSession
from trainer.storage import engine as engines
from trainer.storage.schema import account_groups, accounts, login_attempts, login_sessions

_COLUMNS = (
    accounts.c.user_id, accounts.c.name, accounts.c.role, accounts.c.email, accounts.c.disabled,
    accounts.c.must_change_password, accounts.c.created_at, accounts.c.updated_at,
)


class PostgresAccountStore(AccountStore):
    """Accounts, login attempts and login sessions in the shared database."""

    def __init__(self, engine: Engine, url: str = "") -> None:
        self.engine = engine
        self.url = url

    def _run(self, action: Any, write: bool = False) -> Any:
        return engines.run(self.engine, action, write=write, url=self.url, error=AccountError)

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
        for group in account.groups:
            conn.execute(insert(account_groups).values(user_id=account.user_id, group_name=group))

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
        return int(self._run(lambda conn: conn.execute(select(func.count()).select_from(accounts)).scalar()))

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
            if isinstance(exc.__cause__, IntegrityError):
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
            row = conn.execute(select(login_attempts.c.failures, login_attempts.c.last_failure_at, login_attempts.c.locked_until)
                               .where(login_attempts.c.login_key == login_key)).first()
            return Attempts(int(row[0]), float(row[1]), float(row[2])) if row else None

        return self._run(read)

    def record_failure(self, login_key: str, now: float) -> Attempts:
        statement = pg_insert(login_attempts).values(login_key=login_key, failures=1, last_failure_at=now, locked_until=0)
        statement = statement.on_conflict_do_update(
            index_elements=[login_attempts.c.login_key],
            set_={"failures": login_attempts.c.failures + 1, "last_failure_at": now},
        ).returning(login_attempts.c.failures, login_attempts.c.last_failure_at, login_attempts.c.locked_until)

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
            row = conn.execute(select(
                login_sessions.c.token_hash, login_sessions.c.user_id, login_sessions.c.method,
                login_sessions.c.created_at, login_sessions.c.last_seen_at, login_sessions.c.expires_at,
            ).where(login_sessions.c.token_hash == token_hash)).first()
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
