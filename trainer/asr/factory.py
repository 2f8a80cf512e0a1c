"""Pick the recogniser from settings / environment / CLI flags, one instance per (engine, model)."""

from __future__ import annotations

import threading
from pathlib import Path

from trainer.asr.base import Recognizer
from trainer.config import ENGINES, Settings
from trainer.errors import RecognizerError

_recognizers: dict[tuple[str, Path], Recognizer] = {}
_lock = threading.Lock()


def get_recognizer(settings: Settings, engine: str | None = None, model_path: Path | None = None) -> Recognizer:
    """The recogniser for `engine` (default: settings.engine) and `model_path` (default: from settings).

    Raises ModelNotFoundError (with the command that installs the model) when the
    model folder is missing or incomplete, RecognizerError when the engine is unknown
    or not installed. Recognisers are cached, and the models inside them are shared.
    """
    engine = engine or settings.engine
    if engine not in ENGINES:
        raise RecognizerError(
            f"未知的识别引擎“{engine}”。可选：{'、'.join(ENGINES)}。",
            f"unknown engine {engine!r}; choose one of {ENGINES}",
        )
    path = Path(model_path or settings.model_path(engine)).expanduser().resolve()
    key = (engine, path)
    with _lock:
        recognizer = _recognizers.get(key)
        if recognizer is None:
            if engine == "vosk":
                from trainer.asr.vosk_engine import VoskRecognizer

                recognizer = VoskRecognizer(path)
            else:
                from trainer.asr.whisper_engine import WhisperRecognizer

                recognizer = WhisperRecognizer(path)
            _recognizers[key] = recognizer
        return recognizer
