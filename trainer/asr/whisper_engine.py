"""faster-whisper recogniser: more accurate than Vosk, for users with a stronger CPU.

Optional: `pip install '.[whisper]'`. The model folder must be in faster-whisper
(CTranslate2) format, e.g. whisper-base converted with ct2-transformers-converter.
It runs on the CPU with int8 weights, `language="zh"` and word timestamps on.
Whisper writes punctuation, Arabic digits and sometimes traditional characters:
normalise before matching (see trainer.text). Its word start times swallow the pause before a
word; they are settled on the audio (trainer.asr.word_times) before the transcript is returned.

Vosk is the live engine. Whisper is not a streaming model: `stream()` buffers the
audio, re-transcribes the whole buffer for a partial at most every
`PARTIAL_EVERY_SECONDS` of new audio (so `feed` occasionally blocks for a
moment), and transcribes everything once more on `finish()`.

Threads: `cpu_threads` is CTranslate2's intra-op (OpenMP) team per recognition and
`num_workers` the number of recognitions it runs at once (model replicas sharing the
weights). Keep workers × threads ≤ cores: on a busy 2-core machine a team of 2 spent
3–11× the CPU of a single thread on the same turn, spinning at its barriers while a
teammate was descheduled (benchmarks/README.md, "Many trainees"). trainer/recognition.py
picks the numbers.

The VAD filter is off: on the real recordings in ../shared it did not lower the
CER (see benchmarks/README.md), and it can cut quiet sentence ends.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trainer.audio import SAMPLE_RATE, Audio
from trainer.asr.base import PartialResult, Transcript, Word
from trainer.asr.base import join_words
from trainer.asr.word_times import settle_word_starts
from trainer.errors import ModelNotFoundError, RecognizerError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ENGINE = "whisper"
LANGUAGE = "zh"
PARTIAL_EVERY_SECONDS = 2.0
REQUIRED_FILES = ("model.bin", "config.json")

_models: dict[tuple[Path, int, int], "WhisperModel"] = {}
_models_lock = threading.Lock()


def _import_faster_whisper() -> Any:
    try:
        import faster_whisper
    except ImportError as exc:
        raise RecognizerError(
            "未安装 Whisper 识别引擎。请运行 pip install '.[whisper]'（或 pip install faster-whisper），或改用 --engine vosk。",
            f"faster_whisper is not importable: {exc}",
        ) from exc
    return faster_whisper


def _model_not_found(path: Path, detail: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"找不到可用的 Whisper 模型：{path}（{detail}）。请把环境变量 TRAINER_WHISPER_MODEL 或 --model "
        "设为一个 faster-whisper 模型文件夹（含 model.bin 和 config.json），详见 models/README.md。",
        f"whisper model folder {path} unusable: {detail}",
    )


def load_model(model_path: Path, cpu_threads: int = 0, num_workers: int = 1) -> "WhisperModel":
    """The shared faster-whisper model for this folder and thread plan, loaded on first use
    (thread-safe). `cpu_threads` 0 is CTranslate2's default (up to 4 threads)."""
    key = Path(model_path).resolve()
    with _models_lock:
        model = _models.get((key, cpu_threads, num_workers))
        if model is None:
            if not key.is_dir():
                raise _model_not_found(key, "文件夹不存在")
            missing = [name for name in REQUIRED_FILES if not (key / name).is_file()]
            if missing:
                raise _model_not_found(key, f"缺少 {'、'.join(missing)}")
            faster_whisper = _import_faster_whisper()
            try:
                model = faster_whisper.WhisperModel(
                    str(key), device="cpu", compute_type="int8", cpu_threads=cpu_threads, num_workers=num_workers
                )
            except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for unreadable models
                raise RecognizerError(
                    f"无法加载 Whisper 模型 {key}，文件可能已损坏或不是 faster-whisper 格式：{exc}",
                    f"WhisperModel({key}) failed: {exc}",
                ) from exc
            _models[(key, cpu_threads, num_workers)] = model
        return model


def _to_float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0


class WhisperRecognizer:
    """`Recognizer` backed by a faster-whisper model folder."""

    engine = ENGINE

    def __init__(self, model_path: Path | str, *, vad_filter: bool = False, cpu_threads: int = 0, num_workers: int = 1) -> None:
        self.model_path = Path(model_path).resolve()
        self.model_name = self.model_path.name
        self.vad_filter = vad_filter
        self._model = load_model(self.model_path, cpu_threads, num_workers)

    def transcribe_samples(self, samples: np.ndarray) -> Transcript:
        """Transcribe 16 kHz mono int16 samples."""
        if len(samples) == 0:
            return Transcript(text="", duration=0.0, engine=ENGINE, model=self.model_name)
        segments, _info = self._model.transcribe(
            _to_float(samples), language=LANGUAGE, word_timestamps=True, vad_filter=self.vad_filter
        )
        texts: list[str] = []
        words: list[Word] = []
        for segment in segments:
            texts.append(segment.text)
            for word in segment.words or ():
                if word.word.strip():
                    words.append(
                        Word(text=word.word.strip(), start=float(word.start), end=float(word.end), confidence=float(word.probability))
                    )
        transcript = Transcript(
            text=join_words(texts),
            words=tuple(words),
            duration=len(samples) / SAMPLE_RATE,
            engine=ENGINE,
            model=self.model_name,
        )
        return settle_word_starts(transcript, Audio(samples))  # whisper times a word from the end of the pause before it

    def transcribe(self, audio: Audio) -> Transcript:
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"expected {SAMPLE_RATE} Hz audio, got {audio.sample_rate} Hz (use trainer.audio.load_audio)")
        return self.transcribe_samples(audio.samples)

    def stream(self) -> "WhisperStream":
        return WhisperStream(self)


class WhisperStream:
    """Buffering pseudo-stream: partial text from re-transcribing the buffer every ~2 s of new audio."""

    def __init__(self, recognizer: WhisperRecognizer, partial_every: float = PARTIAL_EVERY_SECONDS) -> None:
        self._recognizer = recognizer
        self._partial_every = int(partial_every * SAMPLE_RATE)
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._samples_at_partial = 0
        self._partial = ""
        self._result: Transcript | None = None

    def _buffer(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)

    def feed(self, chunk: np.ndarray) -> PartialResult:
        if self._result is not None:
            raise RuntimeError("feed() after finish()")
        chunk = np.asarray(chunk)
        if chunk.dtype != np.int16 or chunk.ndim != 1:
            raise TypeError(f"expected a 1-D int16 chunk at {SAMPLE_RATE} Hz, got {chunk.dtype} with shape {chunk.shape}")
        self._chunks.append(chunk.copy())
        self._samples += len(chunk)
        if self._samples - self._samples_at_partial >= self._partial_every:
            self._partial = self._recognizer.transcribe_samples(self._buffer()).text
            self._samples_at_partial = self._samples
        return PartialResult(final_text="", partial_text=self._partial)

    def finish(self) -> Transcript:
        if self._result is None:
            self._result = self._recognizer.transcribe_samples(self._buffer())
            self._chunks = []
        return self._result
