"""A throw-away PostgreSQL cluster for the storage tests (a real server, not a mock).

`TRAINER_TEST_DATABASE_URL` (a server CI provides; the tests create and drop databases on it)
wins; else Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin) start a cluster in a
temporary folder, listening on a Unix socket only. As root the cluster runs as the `postgres`
account (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path | None:
    """The newest Debian PostgreSQL bin folder with initdb, or the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Cluster:
    """A PostgreSQL cluster in a temporary folder; `url(db)` addresses a database on it."""

    def __init__(self, bindir: Path, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # False: fsync off (tests); True: PostgreSQL's defaults (benchmarks)
        self.folder = Path(tempfile.mkdtemp(prefix="trainer-pg-"))
        self.data = self.folder / "data"
        self.socket = self.folder / "sock"
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.port = 5432

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> "Cluster":
        self.socket.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.socket, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8", "--no-locale")
        options = f"-k {self.socket} -c listen_addresses='' -p {self.port} -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket}&port={self.port}"


class Server:
    """Creates and drops test databases on a cluster (ours or one CI provides)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        name = f"trainer_test_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return _with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = _database_of(url)
        for _ in range(20):
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except Exception:  # noqa: BLE001 - a connection still closing; retry briefly
                time.sleep(0.1)


def _database_of(url: str) -> str:
    rest = url.partition("://")[2]
    return rest.partition("/")[2].partition("?")[0]


def _with_database(url: str, name: str) -> str:
    scheme, _, rest = url.partition("://")
    authority, _, path = rest.partition("/")
    query = path.partition("?")[2]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


@contextmanager
def benchmark_server() -> Iterator[Server | None]:
    """For the benchmarks: a throw-away cluster with PostgreSQL's defaults (fsync on, like the
    embedded store), or None when PostgreSQL is not installed; stopped and removed afterwards."""
    bindir = pg_bin()
    if bindir is None:
        yield None
        return
    cluster = Cluster(bindir, durable=True).start()
    try:
        yield Server(cluster.url())
    finally:
        from trainer.storage.engine import dispose_all

        dispose_all()
        cluster.stop()
