"""Vosk (Kaldi) recogniser: the default engine, and the one used for live practice.

A Vosk model is large and slow to load, so each model folder is loaded once per
process and shared by every recognition (Streamlit reruns, concurrent users).
Each transcription gets its own lightweight `KaldiRecognizer`.

Vosk returns Chinese as space-separated words ("您好 请 坐"). Words keep their
timings; the transcript text joins them without spaces between Chinese
characters (see `join_words`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import vosk

from trainer.audio import SAMPLE_RATE, Audio
from trainer.asr.base import PartialResult, Transcript, Word, join_words
from trainer.errors import ModelNotFoundError, RecognizerError

ENGINE = "vosk"
# Samples handed to Kaldi at a time in batch mode (0.5 s); streaming uses the caller's chunks.
BATCH_CHUNK = SAMPLE_RATE // 2

vosk.SetLogLevel(-1)

_models: dict[Path, vosk.Model] = {}
_models_lock = threading.Lock()


def missing_vosk_files(model_path: Path) -> list[str]:
    """Files a usable Vosk model folder lacks (empty when it looks complete)."""
    missing = [name for name in ("am/final.mdl", "conf/mfcc.conf") if not (model_path / name).is_file()]
    graph = model_path / "graph"
    if not ((graph / "HCLG.fst").is_file() or (graph / "HCLr.fst").is_file()):
        missing.append("graph/HCLG.fst 或 graph/HCLr.fst")
    return missing


def load_model(model_path: Path) -> vosk.Model:
    """The shared `vosk.Model` for this folder, loaded on first use (thread-safe)."""
    key = Path(model_path).resolve()
    with _models_lock:
        model = _models.get(key)
        if model is None:
            if not key.is_dir():
                raise ModelNotFoundError(
                    f"找不到 Vosk 模型文件夹 {key}。请运行 trainer models fetch vosk-small-cn 安装，"
                    "或用环境变量 TRAINER_VOSK_MODEL / --model 指向已有的 Vosk 模型文件夹。",
                    f"Vosk model folder {key} does not exist",
                )
            missing = missing_vosk_files(key)
            if missing:
                raise ModelNotFoundError(
                    f"Vosk 模型文件夹 {key} 不完整（缺少 {'、'.join(missing)}）。"
                    "请删除它后运行 trainer models fetch vosk-small-cn 重新安装。",
                    f"Vosk model folder {key} is incomplete: missing {missing}",
                )
            try:
                model = vosk.Model(str(key))
            except Exception as exc:  # vosk raises a bare Exception when Kaldi cannot read the model
                raise RecognizerError(
                    f"无法加载 Vosk 模型 {key}，文件可能已损坏。请删除它后运行 trainer models fetch vosk-small-cn 重新安装。",
                    f"vosk.Model({key}) failed: {exc}",
                ) from exc
            _models[key] = model
        return model


def _words_from_result(result: dict[str, Any]) -> list[Word]:
    return [
        Word(text=item["word"], start=float(item["start"]), end=float(item["end"]), confidence=float(item.get("conf", 1.0)))
        for item in result.get("result", ())
    ]


def _as_int16(chunk: np.ndarray) -> np.ndarray:
    chunk = np.asarray(chunk)
    if chunk.dtype != np.int16 or chunk.ndim != 1:
        raise TypeError(f"expected a 1-D int16 chunk at {SAMPLE_RATE} Hz, got {chunk.dtype} with shape {chunk.shape}")
    return chunk


class VoskStream:
    """One live recognition. Feed int16 chunks; `final_text` grows at each pause Vosk detects."""

    def __init__(self, model: vosk.Model, model_name: str) -> None:
        self._recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        self._recognizer.SetWords(True)
        self._model_name = model_name
        self._words: list[Word] = []
        self._samples = 0
        self._finished = False

    def _final_text(self) -> str:
        return join_words(w.text for w in self._words)

    def accept(self, chunk: np.ndarray) -> bool:
        """Feed a chunk without asking for partial text; True when Vosk settled an utterance."""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        chunk = _as_int16(chunk)
        self._samples += len(chunk)
        if self._recognizer.AcceptWaveform(chunk.tobytes()):
            self._words.extend(_words_from_result(json.loads(self._recognizer.Result())))
            return True
        return False

    def feed(self, chunk: np.ndarray) -> PartialResult:
        if self.accept(chunk):
            partial = ""
        else:
            partial = join_words(json.loads(self._recognizer.PartialResult()).get("partial", "").split())
        return PartialResult(final_text=self._final_text(), partial_text=partial, words=tuple(self._words))

    def finish(self) -> Transcript:
        if not self._finished:
            self._words.extend(_words_from_result(json.loads(self._recognizer.FinalResult())))
            self._finished = True
        return Transcript(
            text=self._final_text(),
            words=tuple(self._words),
            duration=self._samples / SAMPLE_RATE,
            engine=ENGINE,
            model=self._model_name,
        )


def _chunks(samples: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


class VoskRecognizer:
    """`Recognizer` backed by a Vosk model folder (default: vosk-model-small-cn-0.22)."""

    engine = ENGINE

    def __init__(self, model_path: Path | str) -> None:
        self.model_path = Path(model_path).resolve()
        self.model_name = self.model_path.name
        self._model = load_model(self.model_path)

    def stream(self) -> VoskStream:
        return VoskStream(self._model, self.model_name)

    def transcribe(self, audio: Audio) -> Transcript:
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"Vosk expects {SAMPLE_RATE} Hz audio, got {audio.sample_rate} Hz (use trainer.audio.load_audio)")
        stream = self.stream()
        for chunk in _chunks(audio.samples, BATCH_CHUNK):
            stream.accept(chunk)
        return stream.finish()
