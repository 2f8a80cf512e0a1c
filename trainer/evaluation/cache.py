"""Transcript cache: one JSON file per (audio content, engine, model), outside the repository.

Re-running `trainer eval` during development then costs no recognition time.
Location: $TRAINER_CACHE_DIR, else ~/.cache/trainer, under `transcripts/`.
The key is the SHA-256 of the 16 kHz int16 samples plus the engine and the
model (the SHA-256 of its main file's content), so a changed recording or a
replaced model is never served a stale transcript, while the same model copied
or unpacked again elsewhere keeps its transcripts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from trainer.asr.base import Transcript

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    base = os.environ.get("TRAINER_CACHE_DIR")
    return Path(base).expanduser() if base else Path.home() / ".cache" / "trainer"


MODEL_MAIN_FILES = ("model.bin", "am/final.mdl")  # faster-whisper, Vosk


@functools.lru_cache(maxsize=8)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's content, read once per process for each (size, mtime) it has."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _model_fingerprint(model_path: Path | None) -> str:
    if model_path is None:
        return ""
    path = Path(model_path).expanduser().resolve()
    for name in MODEL_MAIN_FILES:
        main = path / name
        if main.is_file():
            stat = main.stat()
            return f"{name}:{stat.st_size}:{_file_digest(str(main), stat.st_size, stat.st_mtime_ns)}"
    return str(path)


class TranscriptCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory or default_cache_dir()) / "transcripts"

    def key(self, samples: np.ndarray, engine: str, model_path: Path | None) -> str:
        digest = hashlib.sha256(np.ascontiguousarray(samples, dtype="<i2").tobytes())
        digest.update(f"|{engine}|{_model_fingerprint(model_path)}".encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Transcript | None:
        path = self._path(key)
        try:
            return Transcript.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged entry is a miss, not an error
            log.warning("ignoring unreadable transcript cache entry %s: %s", path, exc)
            return None

    def put(self, key: str, transcript: Transcript) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as fh:
                json.dump(transcript.to_dict(), fh, ensure_ascii=False)
                tmp = Path(fh.name)
            os.replace(tmp, path)
        except OSError as exc:  # the cache is an optimisation: never fail scoring because of it
            log.warning("cannot write transcript cache %s: %s", path, exc)
