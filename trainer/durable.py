"""Writing files so that a crash never leaves half of one: a synced temporary file beside the
target (then linked or renamed into place by the caller) and an fsync of the folder after."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a new or renamed entry of `folder` durable (no-op where folders cannot be opened, e.g. Windows)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def synced_temp(folder: Path, data: bytes, *, prefix: str = ".tmp-", suffix: str = ".json") -> Path:
    """A new temporary file in `folder` holding `data`, flushed and fsynced; removed again if writing fails."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
