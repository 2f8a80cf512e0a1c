"""Tone recordings for the pause-splitting tests: one tone per answer, and a fake recogniser that
hears the text of each tone as one timed word (as a real recogniser times its words)."""

from __future__ import annotations

import numpy as np

from trainer.asr.base import Transcript, Word

SR = 16000
TONE_TEXTS = {300: "您好，请坐。", 500: "请问您办理什么业务？", 700: "请慢走，再见！"}
FRAME = 1600  # 0.1 s


def tone(freq: int, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (8000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


class ToneRecognizer:
    """Transcribes a recording as the texts of the tones in it, in order (dominant frequency per 0.1 s),
    each a word timed from its first to its last frame. `calls` holds the duration of every recording."""

    engine = "fake"
    model_name = "tones"

    def __init__(self) -> None:
        self.calls: list[float] = []

    def transcribe(self, audio) -> Transcript:  # type: ignore[no-untyped-def]
        self.calls.append(audio.duration)
        heard: list[Word] = []
        for start in range(0, len(audio.samples) - FRAME + 1, FRAME):
            frame = audio.samples[start : start + FRAME].astype(np.float64)
            if np.sqrt(np.mean(frame**2)) < 100:
                continue
            text = TONE_TEXTS.get(int(round(np.argmax(np.abs(np.fft.rfft(frame))) * SR / FRAME / 100.0) * 100))
            t0, t1 = start / SR, (start + FRAME) / SR
            if text and heard and heard[-1].text == text and t0 - heard[-1].end < 0.2:
                heard[-1] = Word(text, heard[-1].start, t1)
            elif text:
                heard.append(Word(text, t0, t1))
        return Transcript("".join(w.text for w in heard), tuple(heard), audio.duration, "fake", "tones")
