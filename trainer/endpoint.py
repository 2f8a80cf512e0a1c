"""End-of-answer detection: pure logic over 16 kHz int16 chunks.

An answer ends when, after the trainee has started speaking, there is a pause of
`pause_seconds`; or when it reaches `max_answer_seconds`; or when nobody speaks for
`no_speech_seconds`; or when the stop key is pressed. Speech is found with an energy
VAD: a chunk is speech when its level is `margin_db` above the noise floor (the
quietest chunk of the last `floor_window_seconds`, digital silence not counted),
with the threshold kept between `min_speech_dbfs` and `max_threshold_dbfs` (in a
recording without any background noise the quietest chunk is quiet speech).

The noise floor lives in a `NoiseFloor` object that the caller keeps across the
turns of one recording, so the second answer starts with a floor already learnt.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

import numpy as np

from trainer.audio import SAMPLE_RATE

SILENCE_DBFS = -100.0  # level reported for digital silence
DIGITAL_SILENCE_DBFS = -90.0  # at or below: no microphone noise at all (muted input, padding in a file)


class EndReason(str, Enum):
    PAUSE = "pause"  # a pause after speech
    MAX_LENGTH = "max_length"  # the answer reached the length limit
    NO_SPEECH = "no_speech"  # nobody spoke within the waiting time
    KEY = "key"  # the trainee pressed the stop key
    END_OF_INPUT = "end_of_input"  # the recording (file) ended
    DEVICE_LOST = "device_lost"  # the microphone stopped delivering audio
    INTERRUPTED = "interrupted"  # Ctrl-C


@dataclass(frozen=True)
class EndpointConfig:
    pause_seconds: float = 1.0
    max_answer_seconds: float = 60.0
    no_speech_seconds: float = 15.0
    min_speech_seconds: float = 0.2  # total speech before a pause can end the answer (ignores clicks)
    margin_db: float = 10.0
    min_speech_dbfs: float = -55.0  # the threshold never goes below this ...
    max_threshold_dbfs: float = -30.0  # ... nor above this (when there is no noise, the floor is quiet speech)
    floor_window_seconds: float = 10.0

    def __post_init__(self) -> None:
        for name in ("pause_seconds", "max_answer_seconds", "no_speech_seconds", "floor_window_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.min_speech_seconds < 0:
            raise ValueError("min_speech_seconds must be >= 0")


def level_dbfs(chunk: np.ndarray) -> float:
    """RMS level of an int16 chunk in dBFS (0 = full scale), `SILENCE_DBFS` for digital silence."""
    if chunk.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(chunk.astype(np.float64)))))
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms / 32768.0))


class NoiseFloor:
    """The quietest chunk level seen over a sliding window (seconds of audio, not wall time)."""

    def __init__(self, window_seconds: float = 10.0) -> None:
        self.window_seconds = window_seconds
        self._levels: deque[tuple[float, float]] = deque()  # (duration, level)
        self._span = 0.0

    def add(self, level: float, duration: float) -> None:
        if level <= DIGITAL_SILENCE_DBFS:
            return  # digital silence says nothing about the room's noise
        self._levels.append((duration, level))
        self._span += duration
        while len(self._levels) > 1 and self._span - self._levels[0][0] >= self.window_seconds:
            self._span -= self._levels.popleft()[0]

    @property
    def value(self) -> float | None:
        return min(level for _, level in self._levels) if self._levels else None


@dataclass(frozen=True)
class ChunkVerdict:
    """What the detector concluded after one chunk."""

    level_dbfs: float
    threshold_dbfs: float
    is_speech: bool
    speech_started: bool
    elapsed: float  # seconds of audio in this answer so far
    silence: float  # seconds of silence since the last speech chunk (or since the start)
    ended: EndReason | None


class EndpointDetector:
    """Decides, chunk by chunk, when one answer is over. One detector per answer."""

    def __init__(self, config: EndpointConfig | None = None, floor: NoiseFloor | None = None, sample_rate: int = SAMPLE_RATE) -> None:
        self.config = config or EndpointConfig()
        self.floor = floor or NoiseFloor(self.config.floor_window_seconds)
        self.sample_rate = sample_rate
        self.elapsed = 0.0
        self.speech_seconds = 0.0
        self.silence = 0.0
        self.ended: EndReason | None = None

    @property
    def speech_started(self) -> bool:
        return self.speech_seconds >= self.config.min_speech_seconds and self.speech_seconds > 0

    def threshold(self) -> float:
        floor = self.floor.value
        base = self.config.min_speech_dbfs
        if floor is None:
            return base
        return min(self.config.max_threshold_dbfs, max(base, floor + self.config.margin_db))

    def push(self, chunk: np.ndarray) -> ChunkVerdict:
        """Account for one chunk; `ended` is set on the chunk that ends the answer (and stays set)."""
        duration = len(chunk) / self.sample_rate
        level = level_dbfs(chunk)
        self.floor.add(level, duration)
        threshold = self.threshold()
        is_speech = level > threshold
        self.elapsed += duration
        if is_speech:
            self.speech_seconds += duration
            self.silence = 0.0
        else:
            self.silence += duration
        if self.ended is None:
            cfg = self.config
            # a small epsilon: chunk durations are sums of floats
            if self.speech_started and not is_speech and self.silence >= cfg.pause_seconds - 1e-9:
                self.ended = EndReason.PAUSE
            elif self.elapsed >= cfg.max_answer_seconds - 1e-9:
                self.ended = EndReason.MAX_LENGTH
            elif not self.speech_started and self.elapsed >= cfg.no_speech_seconds - 1e-9:
                self.ended = EndReason.NO_SPEECH
        return ChunkVerdict(level, threshold, is_speech, self.speech_started, self.elapsed, self.silence, self.ended)

    def stop(self, reason: EndReason = EndReason.KEY) -> None:
        """End the answer from outside (stop key, end of input, lost device, Ctrl-C)."""
        if self.ended is None:
            self.ended = reason
