"""One SQLAlchemy engine per database URL and process, with the schema created or migrated on first use.

`postgresql://…` and `postgres://…` URLs are driven by psycopg 3 (`postgresql+psycopg://`).
Connection failures become `StorageError` with a Chinese message that names the database
(password hidden) and the fix.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from trainer.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
_engines: dict[str, "Engine"] = {}
_lock = threading.Lock()

INSTALL_HINT = '请安装 PostgreSQL 支持：python3 -m pip install "trainer[postgres]"（即 psycopg[binary]，PostgreSQL 的驱动）。'


def driver_url(url: str) -> str:
    """The SQLAlchemy URL for a postgresql:// address (psycopg 3 as the driver)."""
    text = url.strip()
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix):]
    raise StorageError(
        f"数据库地址“{safe_url(text)}”无效：应以 postgresql:// 开头，例如 postgresql://trainer:密码@db.example/trainer。",
        f"unsupported database url scheme in {safe_url(text)!r}",
    )


def safe_url(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def engine_for(url: str) -> "Engine":
    """The process's engine for `url`, its schema created or migrated (thread-safe, cached)."""
    key = driver_url(url)
    with _lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        try:
            from sqlalchemy import create_engine
            from sqlalchemy.exc import SQLAlchemyError
        except ImportError as exc:
            raise StorageError("未安装 SQLAlchemy（本程序的依赖）。请重新安装本程序：python3 -m pip install -e .", f"sqlalchemy missing: {exc}") from exc
        from trainer.storage.schema import open_schema

        try:
            engine = create_engine(key, pool_pre_ping=True, pool_size=5, max_overflow=10)
            open_schema(engine)
        except ImportError as exc:
            raise StorageError(f"未安装 psycopg。{INSTALL_HINT}", f"psycopg missing: {exc}") from exc
        except SQLAlchemyError as exc:
            raise database_error(exc, url) from exc
        _engines[key] = engine
        return engine


def database_error(exc: Exception, url: str = "") -> StorageError:
    """A database failure as a StorageError (Chinese: what failed and what to check)."""
    where = f" {safe_url(url)}" if url else ""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return StorageError(
        f"无法使用数据库{where}：{first}。请检查数据库服务是否运行、地址（主机、端口、库名）、用户名和密码"
        "（配置项 database_url 或环境变量 TRAINER_DATABASE_URL）。",
        f"database error{where}: {exc}",
    )


def dispose_all() -> None:
    """Close every cached engine (tests; a process about to fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def run(engine: "Engine", action, *, write: bool = False, url: str = "", error=StorageError, describe=None):  # type: ignore[no-untyped-def]
    """Run `action(connection)` in one transaction (committed when `write`) and return its result.
    Database failures become `error` (a TrainerError subclass) with the Chinese message of
    `database_error` (a SQLite file: `sqlite.file_error`), or whatever `describe(exc)` returns when
    given; TrainerErrors raised by `action` pass through (and roll back). On SQLite a write takes
    the write lock when it begins (BEGIN IMMEDIATE) and the whole action is retried while the file
    stays locked past the busy timeout."""
    from sqlalchemy.exc import SQLAlchemyError

    from trainer.storage import sqlite

    embedded = engine.dialect.name == "sqlite"
    delay = 0.05
    for attempt in range(sqlite.RETRIES if embedded else 1):
        try:
            with engine.connect() as conn:
                if not write:
                    return action(conn)
                with conn.execution_options(**{sqlite.WRITE_OPTION: True}).begin():
                    return action(conn)
        except SQLAlchemyError as exc:
            if embedded and sqlite.is_busy(exc) and attempt < sqlite.RETRIES - 1:
                log.info("database file busy (%s), retry %d", exc, attempt + 1)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if describe is not None:
                raise describe(exc) from exc
            problem = sqlite.file_error(exc, url or str(engine.url.database)) if embedded else database_error(exc, url)
            raise error(problem.user_message, problem.log_message) from exc
    raise AssertionError("unreachable")
