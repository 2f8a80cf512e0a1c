"""The recogniser interface and its result types."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from trainer.audio import Audio


@dataclass(frozen=True)
class Word:
    """One recognised word (Vosk) or token (Whisper), times in seconds from the start of the audio."""

    text: str
    start: float
    end: float
    confidence: float = 1.0


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard. `text` is the words joined without spaces (Chinese)."""

    text: str
    words: tuple[Word, ...] = ()
    duration: float = 0.0
    engine: str = ""
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["words"] = [asdict(w) for w in self.words]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcript":
        return cls(
            text=data["text"],
            words=tuple(Word(**w) for w in data.get("words", ())),
            duration=float(data.get("duration", 0.0)),
            engine=data.get("engine", ""),
            model=data.get("model", ""),
        )


@dataclass(frozen=True)
class PartialResult:
    """Live result while streaming: `final_text` is settled, `partial_text` may still change."""

    final_text: str
    partial_text: str
    words: tuple[Word, ...] = field(default=())

    @property
    def text(self) -> str:
        return self.final_text + self.partial_text


class StreamingRecognition(Protocol):
    """One live recognition: feed int16 chunks at 16 kHz, read partial text, finish for the transcript."""

    def feed(self, chunk: np.ndarray) -> PartialResult: ...

    def finish(self) -> Transcript: ...


class Recognizer(Protocol):
    engine: str
    model_name: str

    def transcribe(self, audio: Audio) -> Transcript: ...

    def stream(self) -> StreamingRecognition: ...


def _is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK")


def join_words(words: Iterable[str]) -> str:
    """Join recognised words: no space next to a Chinese character, one space between other words.

    ["您好", "请", "坐"] -> "您好请坐"; ["打开", "wifi"] -> "打开wifi"; ["좋은", "아침"] -> "좋은 아침".
    """
    text = ""
    for word in words:
        word = word.strip()
        if not word:
            continue
        if text and not _is_han(text[-1]) and not _is_han(word[0]):
            text += " "
        text += word
    return text
