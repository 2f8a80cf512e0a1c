"""Writing files so that a crash never leaves half of one: a synced temporary file beside the
target (then linked or renamed into place by the caller) and an fsync of the folder after.

Files and folders the product creates for its data (sessions, reviews, the exam ledger, the index)
are owner-only: 0600 files, 0700 folders (`private_file`, `private_dirs`); other local accounts
have no business reading trainees' recordings or exam records."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_file(target: int | Path) -> None:
    """Take group/other access off a file (an open descriptor or a path); no-op off POSIX."""
    if os.name != "posix":
        return
    mode = os.fstat(target).st_mode if isinstance(target, int) else os.stat(target).st_mode
    if mode & 0o077:
        if isinstance(target, int):
            os.fchmod(target, mode & 0o700)
        else:
            os.chmod(target, mode & 0o700)


def private_dirs(folder: Path) -> None:
    """Create `folder` and its missing parents as 0700 folders (existing ones are left as they are;
    `Path.mkdir(parents=True)` would give the parents the default mode)."""
    folder = Path(folder)
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)


def open_private(path: Path, flags: int) -> int:
    """os.open with an owner-only mode for a file it creates."""
    return os.open(path, flags, PRIVATE_FILE_MODE)


def fsync_dir(folder: Path) -> None:
    """Make a new or renamed entry of `folder` durable (no-op where folders cannot be opened, e.g. Windows)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def synced_temp(folder: Path, data: bytes | BinaryIO, *, prefix: str = ".tmp-", suffix: str = ".json") -> Path:
    """A new temporary file in `folder` holding `data` (bytes, or everything left in a binary
    stream, copied block by block), flushed and fsynced; removed again if writing fails."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, (bytes, bytearray, memoryview)):
                fh.write(data)
            else:
                shutil.copyfileobj(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
