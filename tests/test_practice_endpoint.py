"""End-of-answer detection on synthetic audio (no model, no shared assets)."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.endpoint import (
    SILENCE_DBFS,
    EndpointConfig,
    EndpointDetector,
    EndReason,
    NoiseFloor,
    level_dbfs,
)

SR = 16000
CHUNK = 1600  # 0.1 s
rng = np.random.default_rng(7)


def tone(seconds: float, dbfs: float = -20.0, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    amp = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)  # sine RMS = amp / sqrt(2)
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def noise(seconds: float, dbfs: float) -> np.ndarray:
    return (rng.standard_normal(int(seconds * SR)) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), dtype=np.int16)


def run(audio: np.ndarray, config: EndpointConfig, floor: NoiseFloor | None = None) -> tuple[EndReason | None, float, EndpointDetector]:
    det = EndpointDetector(config, floor)
    for i in range(0, len(audio), CHUNK):
        verdict = det.push(audio[i : i + CHUNK])
        if verdict.ended:
            return verdict.ended, verdict.elapsed, det
    return None, det.elapsed, det


def test_level_dbfs_of_known_signals() -> None:
    assert level_dbfs(silence(0.1)) == SILENCE_DBFS
    assert level_dbfs(np.array([], dtype=np.int16)) == SILENCE_DBFS
    assert level_dbfs(tone(0.1, -20.0)) == pytest.approx(-20.0, abs=0.2)
    assert level_dbfs(np.full(1600, 32767, dtype=np.int16)) == pytest.approx(0.0, abs=0.01)


def test_pause_after_speech_ends_the_answer_after_pause_seconds() -> None:
    audio = np.concatenate([silence(0.5), tone(1.5), silence(3.0)])
    reason, elapsed, det = run(audio, EndpointConfig(pause_seconds=1.0))
    assert reason is EndReason.PAUSE
    assert elapsed == pytest.approx(0.5 + 1.5 + 1.0, abs=0.11)
    assert det.speech_seconds == pytest.approx(1.5, abs=0.11)


def test_short_pause_inside_an_answer_does_not_end_it() -> None:
    audio = np.concatenate([tone(1.0), silence(0.6), tone(1.0), silence(2.0)])
    reason, elapsed, _ = run(audio, EndpointConfig(pause_seconds=0.8))
    assert reason is EndReason.PAUSE
    assert elapsed == pytest.approx(1.0 + 0.6 + 1.0 + 0.8, abs=0.11)


def test_pause_length_is_configurable() -> None:
    audio = np.concatenate([tone(1.0), silence(5.0)])
    _, short, _ = run(audio, EndpointConfig(pause_seconds=0.5))
    _, long, _ = run(audio, EndpointConfig(pause_seconds=2.5))
    assert short == pytest.approx(1.5, abs=0.11)
    assert long == pytest.approx(3.5, abs=0.11)


def test_leading_silence_does_not_count_as_a_pause() -> None:
    audio = np.concatenate([silence(3.0), tone(1.0), silence(2.0)])
    reason, elapsed, _ = run(audio, EndpointConfig(pause_seconds=1.0))
    assert reason is EndReason.PAUSE
    assert elapsed == pytest.approx(5.0, abs=0.11)


def test_a_click_is_not_speech_start() -> None:
    audio = np.concatenate([silence(0.5), tone(0.1), silence(3.0), tone(1.0), silence(1.5)])
    reason, elapsed, _ = run(audio, EndpointConfig(pause_seconds=1.0, min_speech_seconds=0.3))
    assert reason is EndReason.PAUSE
    assert elapsed == pytest.approx(0.5 + 0.1 + 3.0 + 1.0 + 1.0, abs=0.11)


def test_max_answer_length() -> None:
    audio = tone(10.0)
    reason, elapsed, _ = run(audio, EndpointConfig(max_answer_seconds=4.0))
    assert reason is EndReason.MAX_LENGTH
    assert elapsed == pytest.approx(4.0, abs=0.11)


def test_no_speech_timeout() -> None:
    reason, elapsed, _ = run(noise(20.0, -60.0), EndpointConfig(no_speech_seconds=6.0))
    assert reason is EndReason.NO_SPEECH
    assert elapsed == pytest.approx(6.0, abs=0.11)


def test_speech_in_background_noise_uses_the_noise_floor() -> None:
    # room noise at -40 dBFS: a fixed -55 dBFS threshold would call all of it speech and never end
    audio = np.concatenate([noise(1.0, -40.0), tone(2.0, -18.0) + noise(2.0, -40.0), noise(3.0, -40.0)])
    reason, elapsed, det = run(audio, EndpointConfig(pause_seconds=1.0))
    assert reason is EndReason.PAUSE
    assert elapsed == pytest.approx(4.0, abs=0.21)
    assert det.threshold() > -40.0


def test_digital_silence_padding_does_not_lower_the_noise_floor() -> None:
    # noisy answers joined by exact zeros (as in synthetic recordings): the zeros must not make noise look like speech
    floor = NoiseFloor()
    first = np.concatenate([noise(0.5, -40.0), tone(1.0, -18.0) + noise(1.0, -40.0), noise(0.5, -40.0), silence(0.5), noise(0.5, -40.0)])
    reason, elapsed, _ = run(first, EndpointConfig(pause_seconds=1.0), floor)
    assert reason is EndReason.PAUSE
    assert elapsed == pytest.approx(2.5, abs=0.21)
    assert floor.value is not None and floor.value > -45.0


def test_clean_recording_threshold_is_capped() -> None:
    # without any noise the quietest chunks are speech; the threshold must stay low enough to hear speech
    audio = np.concatenate([tone(1.0, -22.0), tone(1.0, -28.0), silence(1.2)])  # floor+margin would be -12
    reason, elapsed, det = run(audio, EndpointConfig(pause_seconds=1.0))
    assert det.threshold() <= EndpointConfig().max_threshold_dbfs
    assert reason is EndReason.PAUSE
    assert elapsed == pytest.approx(3.0, abs=0.11)


def test_stop_key_and_end_reason_is_sticky() -> None:
    det = EndpointDetector(EndpointConfig())
    det.push(tone(0.1))
    det.stop()
    assert det.ended is EndReason.KEY
    det.stop(EndReason.END_OF_INPUT)
    assert det.ended is EndReason.KEY
    assert det.push(silence(0.1)).ended is EndReason.KEY


def test_noise_floor_window_forgets_old_levels() -> None:
    floor = NoiseFloor(window_seconds=1.0)
    floor.add(-70.0, 0.1)
    for _ in range(20):
        floor.add(-40.0, 0.1)
    assert floor.value == pytest.approx(-40.0)
    floor.add(SILENCE_DBFS, 0.1)
    assert floor.value == pytest.approx(-40.0)


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValueError):
        EndpointConfig(pause_seconds=0)
    with pytest.raises(ValueError):
        EndpointConfig(max_answer_seconds=-1)
