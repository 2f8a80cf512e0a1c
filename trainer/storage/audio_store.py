"""Where the PostgreSQL session store keeps each turn's audio: in the database (`DatabaseAudio`,
table audio_chunks, the default) or in a folder that every app server mounts (`FolderAudio`, the
setting audio_dir / TRAINER_AUDIO_DIR). Either way the turn's row in session_audio (file name,
sha256, size) is written in the session's transaction, so `verify_audio` and
`trainer storage migrate` check the bytes the same way.

Folder layout: <audio_dir>/<session id>/<turnNN.ext>. A file is written to a synced temporary
file beside it and renamed into place (trainer/durable.py); folders are 0700, files 0600 (every
app server must run as the same user on the shared file system). Files are written inside the
save transaction, after the session's row is inserted, so an id that is already taken never has
its files touched; if the transaction fails afterwards, the files stay without a row and the next
save that gets that id replaces them. Audio saved in the database before audio_dir was set stays
readable from there.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Engine

from trainer.durable import fsync_dir, private_dirs, synced_temp
from trainer.errors import SessionStoreError, StorageError
from trainer.storage.schema import AUDIO_CHUNK, audio_chunks, session_audio


class AudioPlacement(ABC):
    """One turn's audio bytes: stored in a save's transaction, read back block by block."""

    def put(self, conn: Connection, session_id: str, turn: int, file_name: str, sha256: str, source: BinaryIO) -> int:
        """Store one turn's audio (and its session_audio row) in the transaction of `conn`; returns its size."""
        where = (session_audio.c.session_id == session_id, session_audio.c.turn == turn)
        conn.execute(insert(session_audio).values(session_id=session_id, turn=turn, file_name=file_name, sha256=sha256, size=0))
        size = self._write(conn, session_id, turn, file_name, source)
        conn.execute(update(session_audio).where(*where).values(size=size))
        return size

    @abstractmethod
    def _write(self, conn: Connection, session_id: str, turn: int, file_name: str, source: BinaryIO) -> int: ...

    @abstractmethod
    def read(self, session_id: str, turn: int, file_name: str) -> Iterator[bytes] | None:
        """The stored bytes in blocks of at most AUDIO_CHUNK, or None when none are stored."""

    @abstractmethod
    def location(self, session_id: str, file_name: str) -> str:
        """Where the file is, for people (Chinese)."""


class DatabaseAudio(AudioPlacement):
    """The audio in table audio_chunks, AUDIO_CHUNK bytes a row, streamed in and out."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _write(self, conn: Connection, session_id: str, turn: int, file_name: str, source: BinaryIO) -> int:
        size = 0
        for number, block in enumerate(iter(lambda: source.read(AUDIO_CHUNK), b"")):
            conn.execute(insert(audio_chunks).values(session_id=session_id, turn=turn, chunk=number, data=block))
            size += len(block)
        return size

    def read(self, session_id: str, turn: int, file_name: str) -> Iterator[bytes] | None:
        where = (audio_chunks.c.session_id == session_id, audio_chunks.c.turn == turn)
        with self.engine.connect() as conn:
            if conn.execute(select(audio_chunks.c.chunk).where(*where).limit(1)).first() is None:
                return None
        return self._stream(where)

    def _stream(self, where: tuple[Any, ...]) -> Iterator[bytes]:
        """A server-side cursor: one chunk in memory at a time."""
        with self.engine.connect() as conn:
            query = select(audio_chunks.c.data).where(*where).order_by(audio_chunks.c.chunk)
            for (chunk,) in conn.execution_options(stream_results=True, yield_per=4).execute(query):
                yield bytes(chunk)

    def location(self, session_id: str, file_name: str) -> str:
        return f"数据库（会话 {session_id}，{file_name}）"


class FolderAudio(AudioPlacement):
    """The audio as files in a shared folder (see module doc); audio saved in the database before
    the folder was configured is read from `earlier`."""

    def __init__(self, root: Path, earlier: DatabaseAudio) -> None:
        self.root = root
        self.earlier = earlier

    def path(self, session_id: str, file_name: str) -> Path:
        return self.root / session_id / file_name

    def _write(self, conn: Connection, session_id: str, turn: int, file_name: str, source: BinaryIO) -> int:
        target = self.path(session_id, file_name)
        try:
            private_dirs(target.parent)
            os.replace(synced_temp(target.parent, source, suffix=".audio"), target)
            fsync_dir(target.parent)
            return target.stat().st_size
        except OSError as exc:
            raise SessionStoreError(
                f"无法把录音写入共享文件夹 {target.parent}：{exc.strerror or exc}。请检查该文件夹是否已挂载、可写、空间是否足够（配置项 audio_dir）。",
                f"write {target}: {exc}",
            ) from exc

    def read(self, session_id: str, turn: int, file_name: str) -> Iterator[bytes] | None:
        try:
            handle = open(self.path(session_id, file_name), "rb")  # noqa: SIM115 - closed by _blocks
        except FileNotFoundError:
            return self.earlier.read(session_id, turn, file_name)
        except OSError as exc:
            raise SessionStoreError(
                f"无法读取共享文件夹中的录音 {self.path(session_id, file_name)}：{exc.strerror or exc}。请检查该文件夹是否已挂载、可读。",
                f"read {self.path(session_id, file_name)}: {exc}",
            ) from exc
        return _blocks(handle)

    def location(self, session_id: str, file_name: str) -> str:
        return f"共享文件夹 {self.path(session_id, file_name)}"


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        yield from iter(lambda: handle.read(AUDIO_CHUNK), b"")


def audio_placement(engine: Engine, audio_dir: Path | None) -> AudioPlacement:
    """The database, or the shared folder `audio_dir`, which must exist: a folder that is not
    mounted is never created on the local disk in its place (other servers would not see it)."""
    if audio_dir is None:
        return DatabaseAudio(engine)
    root = Path(audio_dir)
    if not root.is_dir():
        raise StorageError(
            f"录音文件夹 {root} 不存在。请先挂载共享文件系统并建好该文件夹（每台应用服务器的同一路径），"
            "或把配置项 audio_dir（环境变量 TRAINER_AUDIO_DIR）留空，让录音存进数据库。",
            f"audio_dir {root} missing",
        )
    return FolderAudio(root, DatabaseAudio(engine))
