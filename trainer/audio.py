"""Audio input: load what trainees and browsers produce as 16 kHz mono int16.

(Skeleton: the `Audio` type is fixed here; loading, validation and level
statistics are implemented in this module by the foundation work.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Audio:
    """Mono 16-bit PCM at SAMPLE_RATE. `samples` is a 1-D np.int16 array."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def to_wav_bytes(self) -> bytes:
        import io
        import wave

        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
            wav.writeframes(self.samples.astype("<i2").tobytes())
        return buf.getvalue()
