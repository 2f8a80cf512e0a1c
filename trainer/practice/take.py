"""One take: record a single utterance from an `AudioSource` until a pause, the stop key or the limit.

Used where one thing is said once and kept as a recording (an instructor recording a customer's
line), not transcribed: the same end-of-answer detection as practice (`EndpointDetector`), with
no recogniser. A `DeviceError` from the source ends the take with what was recorded so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trainer.audio import SAMPLE_RATE, Audio
from trainer.practice.capture import DeviceError
from trainer.endpoint import ChunkVerdict, EndpointConfig, EndpointDetector, EndReason, NoiseFloor
from trainer.practice.keys import KeyWatcher
from trainer.practice.source import AudioSource


@dataclass(frozen=True)
class Take:
    audio: Audio
    end_reason: EndReason
    speech_heard: bool  # the detector heard speech (a take without it is not worth checking)
    device_error: DeviceError | None = None


def read_until_end(
    source: AudioSource,
    detector: EndpointDetector,
    keys: KeyWatcher | None = None,
    on_chunk: Callable[[np.ndarray, ChunkVerdict], None] | None = None,
) -> tuple[np.ndarray, DeviceError | None]:
    """Read chunks until the detector, the source or the stop key ends the utterance.

    Returns the samples read and the `DeviceError` that ended it, if any (the detector's `ended`
    says why it ended). `on_chunk(chunk, verdict)` sees every chunk after the detector did.
    """
    chunks: list[np.ndarray] = []
    device_error: DeviceError | None = None
    while detector.ended is None:
        if keys is not None and keys.stop_pressed():
            detector.stop(EndReason.KEY)
            break
        try:
            chunk = source.read()
        except DeviceError as exc:
            device_error = exc
            detector.stop(EndReason.DEVICE_LOST)
            break
        if chunk is None:
            detector.stop(EndReason.END_OF_INPUT)
            break
        chunks.append(chunk)
        verdict = detector.push(chunk)
        if on_chunk is not None:
            on_chunk(chunk, verdict)
    return (np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)), device_error


def record_take(
    source: AudioSource,
    config: EndpointConfig,
    *,
    floor: NoiseFloor | None = None,
    keys: KeyWatcher | None = None,
    on_chunk: Callable[[ChunkVerdict], None] | None = None,
) -> Take | None:
    """Record one take from an opened source. None when the source has no audio left for one."""
    if not source.begin_turn():
        return None
    if keys is not None:
        keys.clear()
    detector = EndpointDetector(config, floor)
    samples, device_error = read_until_end(
        source, detector, keys, None if on_chunk is None else lambda _chunk, verdict: on_chunk(verdict)
    )
    assert detector.ended is not None
    return Take(Audio(samples.astype(np.int16, copy=False), SAMPLE_RATE), detector.ended, detector.speech_started, device_error)
