"""Pick the recogniser from settings / environment / CLI flags, one instance per (engine, model,
worker plan); the worker plan says how many recognitions run at once and with how many threads."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from trainer.asr.base import Recognizer
from trainer.config import ENGINES, Settings
from trainer.errors import RecognizerError


def cpu_count() -> int:
    """The cores this process may run on (its affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class WorkerPlan:
    workers: int  # recognitions at once
    threads: int  # CPU threads per recognition


def worker_plan(settings: Settings, cores: int | None = None) -> WorkerPlan:
    """Recognitions at once (`asr_workers`, 0: one per core) and CPU threads for each
    (`asr_threads`, 0: cores // workers, at least 1): workers × threads ≤ cores by default.
    See trainer/recognition.py for why."""
    cores = cores or cpu_count()
    workers = settings.asr_workers or cores
    threads = settings.asr_threads or max(1, cores // workers)
    return WorkerPlan(workers, threads)


_recognizers: dict[tuple[str, Path, int, int], Recognizer] = {}
_lock = threading.Lock()


def get_recognizer(settings: Settings, engine: str | None = None, model_path: Path | None = None) -> Recognizer:
    """The recogniser for `engine` (default: settings.engine) and `model_path` (default: from settings).

    Raises ModelNotFoundError (with the command that installs the model) when the
    model folder is missing or incomplete, RecognizerError when the engine is unknown
    or not installed. Recognisers are cached, and the models inside them are shared. Whisper
    runs `worker_plan(settings)`: that many recognitions at once, each with that many threads.
    """
    engine = engine or settings.engine
    if engine not in ENGINES:
        raise RecognizerError(
            f"未知的识别引擎“{engine}”。可选：{'、'.join(ENGINES)}。",
            f"unknown engine {engine!r}; choose one of {ENGINES}",
        )
    path = Path(model_path or settings.model_path(engine)).expanduser().resolve()
    plan = worker_plan(settings)
    key = (engine, path, plan.workers, plan.threads) if engine == "whisper" else (engine, path, 0, 0)
    with _lock:
        recognizer = _recognizers.get(key)
        if recognizer is None:
            if engine == "vosk":
                from trainer.asr.vosk_engine import VoskRecognizer

                recognizer = VoskRecognizer(path)
            else:
                from trainer.asr.whisper_engine import WhisperRecognizer

                recognizer = WhisperRecognizer(path, cpu_threads=plan.threads, num_workers=plan.workers)
            _recognizers[key] = recognizer
        return recognizer
