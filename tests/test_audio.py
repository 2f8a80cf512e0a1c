"""Audio input: formats, conversions, every bad-input error, levels and speech detection.

Every input is generated here (numpy + soundfile / wave / ffmpeg); only the last test
reads one real recording from ../shared through the `real_audio_dir` fixture.
"""

from __future__ import annotations

import csv
import os
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import trainer.audio as audio_mod
from trainer.audio import (
    SAMPLE_RATE,
    Audio,
    AudioLevels,
    ensure_speech,
    iter_chunks,
    load_audio,
    measure_levels,
    save_wav,
    speech_segments,
)
from trainer.errors import AudioError

HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg/ffprobe not installed (apt-get install ffmpeg)")


# --------------------------------------------------------------------------- signal helpers


def sine(seconds: float, rate: int, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def bursts(pattern: list[tuple[float, bool]], rate: int = SAMPLE_RATE, amplitude: float = 0.3, noise_dbfs: float = -65.0) -> np.ndarray:
    """Tone bursts (True) and pauses (False) of the given lengths, over a faint noise floor. Float in [-1, 1]."""
    rng = np.random.default_rng(1)
    pieces = []
    for index, (seconds, on) in enumerate(pattern):
        n = round(seconds * rate)
        if on:
            t = np.arange(n) / rate
            freq = 220.0 + 60.0 * index  # a changing "voice"
            pieces.append(amplitude * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2))
        else:
            pieces.append(np.zeros(n))
    x = np.concatenate(pieces)
    return x + rng.normal(0.0, 10 ** (noise_dbfs / 20), len(x))


SPEECHLIKE = [(0.3, False), (0.5, True), (0.35, False), (0.6, True), (0.4, False), (0.4, True), (0.45, False)]  # 3.0 s


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)


def write_wav(path: Path, x: np.ndarray, rate: int, subtype: str = "PCM_16", fmt: str = "WAV") -> Path:
    sf.write(str(path), x, rate, subtype=subtype, format=fmt)
    return path


def ffmpeg_encode(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", "-i", str(src), *args, str(dst)], check=True)
    return dst


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def load_error(*args, **kwargs) -> AudioError:
    with pytest.raises(AudioError) as info:
        load_audio(*args, **kwargs)
    err = info.value
    assert err.user_message and err.log_message and err.user_message != err.log_message
    return err


# --------------------------------------------------------------------------- WAV formats


@pytest.mark.parametrize(
    ("subtype", "tolerance"),
    [("PCM_U8", 260), ("PCM_16", 1), ("PCM_24", 1), ("PCM_32", 1), ("FLOAT", 1), ("DOUBLE", 1)],
)
def test_wav_sample_formats_at_16k_keep_values(tmp_path: Path, subtype: str, tolerance: int) -> None:
    x = sine(1.0, SAMPLE_RATE, amplitude=0.5)
    path = write_wav(tmp_path / f"{subtype}.wav", x, SAMPLE_RATE, subtype)
    audio = load_audio(path, require_speech=False)
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.dtype == np.int16 and audio.samples.ndim == 1
    assert len(audio.samples) == SAMPLE_RATE
    diff = np.abs(audio.samples.astype(np.int32) - to_int16(x).astype(np.int32)).max()
    assert diff <= tolerance, f"{subtype}: max deviation {diff} LSB"


def test_16k_mono_pcm16_is_bit_exact_and_bytes_equal_path(tmp_path: Path) -> None:
    x = to_int16(bursts(SPEECHLIKE))
    path = tmp_path / "exact.wav"
    with wave.open(str(path), "wb") as w:  # written by the stdlib, not soundfile
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(x.tobytes())
    from_path = load_audio(path)
    from_bytes = load_audio(path.read_bytes(), name="upload.wav")
    np.testing.assert_array_equal(from_path.samples, x)
    np.testing.assert_array_equal(from_bytes.samples, x)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_wav_other_rates_are_resampled_to_16k(tmp_path: Path, rate: int) -> None:
    x = sine(2.0, rate, freq=440.0, amplitude=0.5)
    audio = load_audio(write_wav(tmp_path / f"r{rate}.wav", x, rate), require_speech=False)
    assert abs(len(audio.samples) - 2 * SAMPLE_RATE) <= 1
    middle = audio.samples[SAMPLE_RATE // 2 : SAMPLE_RATE // 2 + SAMPLE_RATE]
    assert abs(dominant_frequency(middle, SAMPLE_RATE) - 440.0) < 2.0
    assert abs(np.abs(middle).max() / 32768 - 0.5) < 0.01
    # Against an ideal 440 Hz sine at 16 kHz (resampler delay is compensated by soxr).
    ideal = to_int16(sine(2.0, SAMPLE_RATE, amplitude=0.5))[SAMPLE_RATE // 2 : SAMPLE_RATE // 2 + SAMPLE_RATE]
    assert np.abs(middle.astype(np.int32) - ideal).max() < 0.01 * 32768


def test_stereo_downmix_is_channel_mean(tmp_path: Path) -> None:
    left = sine(1.0, SAMPLE_RATE, freq=300.0, amplitude=0.6)
    right = sine(1.0, SAMPLE_RATE, freq=500.0, amplitude=0.2)
    path = write_wav(tmp_path / "stereo.wav", np.column_stack([left, right]), SAMPLE_RATE)
    audio = load_audio(path, require_speech=False)
    stored = sf.read(str(path), dtype="int16")[0].astype(np.int32)  # the exact integers in the file
    expected = (stored[:, 0] + stored[:, 1]) / 2
    assert np.abs(audio.samples - expected).max() <= 0.5
    assert abs(np.abs(audio.samples).max() / 32768 - np.abs((left + right) / 2).max()) < 0.001
    # Opposite-phase channels would cancel in the mean (a miswired microphone heard as silence):
    # the loudest channel is taken instead (issue 13 item 9).
    path2 = write_wav(tmp_path / "anti.wav", np.column_stack([left, -0.9 * left]), SAMPLE_RATE)
    anti = load_audio(path2, require_speech=False).samples
    assert abs(np.abs(anti).max() / 32768 - 0.6) < 0.001


def test_multichannel_extensible_wav_at_48k(tmp_path: Path) -> None:
    channels = [sine(1.0, 48000, freq=440.0, amplitude=0.3) if c == 0 else np.zeros(48000) for c in range(6)]
    path = write_wav(tmp_path / "six.wav", np.column_stack(channels), 48000, "PCM_24", fmt="WAVEX")
    assert path.read_bytes()[20:22] == struct.pack("<H", 0xFFFE)  # really WAVE_FORMAT_EXTENSIBLE
    audio = load_audio(path, require_speech=False)
    assert abs(len(audio.samples) - SAMPLE_RATE) <= 1
    middle = audio.samples[4000:12000]
    assert abs(np.abs(middle).max() / 32768 - 0.3 / 6) < 0.002
    assert abs(dominant_frequency(middle, SAMPLE_RATE) - 440.0) < 3.0


def test_float_wav_over_full_scale_is_clipped_not_wrapped(tmp_path: Path) -> None:
    x = sine(1.0, SAMPLE_RATE, amplitude=2.0)
    audio = load_audio(write_wav(tmp_path / "hot.wav", x, SAMPLE_RATE, "FLOAT"), require_speech=False)
    assert audio.samples.max() == 32767 and audio.samples.min() == -32768
    assert np.all(np.sign(audio.samples[1:200].astype(int)) == np.sign(to_int16(x)[1:200].astype(int)))


def test_flac_is_read_without_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio_mod.shutil, "which", lambda name: None)
    x = bursts(SPEECHLIKE, rate=44100)
    audio = load_audio(write_wav(tmp_path / "a.flac", x, 44100, "PCM_16", fmt="FLAC"))
    assert abs(audio.duration - len(x) / 44100) < 0.001


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nope.wav")
    assert "找不到音频文件" in err.user_message and "nope.wav" in err.user_message


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    assert "不是音频文件" in load_error(tmp_path).user_message


def test_empty_file_and_empty_upload(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    err = load_error(path)
    assert "空文件" in err.user_message and "0 字节" in err.user_message and "empty.wav" in err.user_message
    err = load_error(b"", name="录音.webm")
    assert "空文件" in err.user_message and "录音.webm" in err.user_message


@pytest.mark.parametrize("keep", [12, 20, 36, 40])
def test_truncated_header(tmp_path: Path, keep: int) -> None:
    full = write_wav(tmp_path / "full.wav", sine(1.0, SAMPLE_RATE), SAMPLE_RATE).read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(full[:keep])
    err = load_error(path)
    assert "文件头不完整或已损坏" in err.user_message, err.user_message
    assert "corrupt or truncated WAV header" in err.log_message


def test_data_truncated_after_valid_header(tmp_path: Path) -> None:
    full = write_wav(tmp_path / "full.wav", sine(3.0, SAMPLE_RATE), SAMPLE_RATE).read_bytes()
    err = load_error(full[: 44 + 32000], name="cut.wav")  # 1 s of the 3 s the header announces
    assert "不完整" in err.user_message and "3.0秒" in err.user_message and "1.0秒" in err.user_message
    assert "cut.wav" in err.user_message
    assert "declares 96000 bytes, file holds 32000" in err.log_message


@pytest.mark.parametrize("placeholder", [0xFFFFFFFF, 0x7FFFF000])
def test_streamed_wav_with_unknown_length_loads(tmp_path: Path, placeholder: int) -> None:
    """Writers that cannot seek leave placeholder sizes: 0xFFFFFFFF (ffmpeg to a pipe, browsers),
    0x7FFFF000 (sox, espeak-ng --stdout). That is not truncation."""
    data = bytearray(write_wav(tmp_path / "s.wav", bursts(SPEECHLIKE), SAMPLE_RATE).read_bytes())
    data[4:8] = data[40:44] = struct.pack("<I", placeholder)
    audio = load_audio(bytes(data))
    assert abs(audio.duration - sum(s for s, _ in SPEECHLIKE)) < 0.001


@pytest.mark.parametrize("ffmpeg_installed", [True, False])
def test_random_bytes(ffmpeg_installed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if ffmpeg_installed and not HAVE_FFMPEG:
        pytest.skip("ffmpeg not installed")
    if not ffmpeg_installed:
        monkeypatch.setattr(audio_mod.shutil, "which", lambda name: None)
    noise = bytes(range(7, 256, 3)) * 40 + np.random.default_rng(0).bytes(20000)
    err = load_error(noise, name="photo.dat")
    assert "无法识别" in err.user_message and "photo.dat" in err.user_message
    if not ffmpeg_installed:
        assert "ffmpeg" in err.user_message


def _wav_with_format_tag(tmp_path: Path, tag: int) -> bytes:
    data = bytearray(write_wav(tmp_path / "x.wav", sine(1.0, SAMPLE_RATE), SAMPLE_RATE).read_bytes())
    data[20:22] = struct.pack("<H", tag)
    return bytes(data)


@needs_ffmpeg
def test_unsupported_codec_with_ffmpeg(tmp_path: Path) -> None:
    err = load_error(_wav_with_format_tag(tmp_path, 0x7777), name="odd.wav")
    assert "编码不受支持" in err.user_message and "odd.wav" in err.user_message
    assert "unsupported codec" in err.log_message


def test_unsupported_codec_without_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio_mod.shutil, "which", lambda name: None)
    err = load_error(_wav_with_format_tag(tmp_path, 0x0055), name="mp3inside.wav")
    assert "MP3" in err.user_message and "不受支持" in err.user_message and "ffmpeg" in err.user_message
    assert "0x0055" in err.log_message


@needs_ffmpeg
def test_video_without_audio_track(tmp_path: Path) -> None:
    path = tmp_path / "video.mkv"
    subprocess.run(
        ["ffmpeg", "-y", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5:duration=1", "-c:v", "ffv1", str(path)],
        check=True,
    )
    assert "没有音频" in load_error(path).user_message


def test_too_long_wav_checked_from_header(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", bursts(SPEECHLIKE * 2), SAMPLE_RATE)
    err = load_error(path, max_seconds=2.0)
    assert "太长" in err.user_message and "6.0秒" in err.user_message and "2.0秒" in err.user_message
    assert "分成几段" in err.user_message and "更短" in err.user_message
    assert load_audio(path, max_seconds=6.0).duration == pytest.approx(6.0, abs=0.001)


@pytest.mark.timeout(20)
def test_huge_wav_is_rejected_before_reading(tmp_path: Path) -> None:
    """A 1 GB (sparse) WAV is refused from its header; nothing is decoded."""
    path = tmp_path / "huge.wav"
    header = bytearray(write_wav(tmp_path / "h.wav", np.zeros(0), SAMPLE_RATE).read_bytes())
    size = 1_000_000_000
    header[4:8] = struct.pack("<I", 36 + size)
    header[40:44] = struct.pack("<I", size)
    with path.open("wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + size)
    err = load_error(path)
    assert "太长" in err.user_message and "520分50秒" in err.user_message and "10分钟" in err.user_message


def test_pure_silence(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "silence.wav", np.zeros(3 * SAMPLE_RATE), SAMPLE_RATE)
    err = load_error(path)
    assert err.user_message.startswith("没有检测到说话声") and "完全是静音" in err.user_message
    assert load_audio(path, require_speech=False).duration == 3.0


def test_near_silence_noise_at_minus_70_dbfs(tmp_path: Path) -> None:
    noise = np.random.default_rng(3).normal(0, 10 ** (-70 / 20), 3 * SAMPLE_RATE)
    path = write_wav(tmp_path / "hiss.wav", noise, SAMPLE_RATE)
    err = load_error(path)
    assert err.user_message.startswith("没有检测到说话声") and "麦克风" in err.user_message
    levels = measure_levels(load_audio(path, require_speech=False))
    assert levels.speech_duration == 0.0
    assert levels.rms_dbfs == pytest.approx(-70.0, abs=0.5)


def test_steady_hum_is_not_speech() -> None:
    audio = Audio(to_int16(sine(3.0, SAMPLE_RATE, freq=50.0, amplitude=0.1)))
    assert speech_segments(audio) == []
    with pytest.raises(AudioError, match="没有检测到说话声"):
        ensure_speech(audio)


# --------------------------------------------------------------------------- ffmpeg formats


@needs_ffmpeg
@pytest.mark.parametrize(
    ("suffix", "codec_args"),
    [
        ("webm", ["-c:a", "libopus", "-b:a", "64k"]),
        ("ogg", ["-c:a", "libvorbis"]),
        ("mp3", ["-c:a", "libmp3lame", "-b:a", "128k"]),
        ("m4a", ["-c:a", "aac", "-b:a", "128k"]),
    ],
)
def test_compressed_formats_through_ffmpeg(tmp_path: Path, suffix: str, codec_args: list[str]) -> None:
    x = bursts(SPEECHLIKE, rate=48000)
    src = write_wav(tmp_path / "src.wav", np.column_stack([x, x]), 48000)
    encoded = ffmpeg_encode(src, tmp_path / f"rec.{suffix}", *codec_args)
    for source in (encoded, encoded.read_bytes()):
        audio = load_audio(source, name=f"rec.{suffix}")
        assert abs(audio.duration - len(x) / 48000) < 0.08, audio.duration  # encoder padding only
        segments = speech_segments(audio)
        assert len(segments) == 3
        for (start, end), expected in zip(segments, [(0.3, 0.8), (1.15, 1.75), (2.15, 2.55)]):
            assert abs(start - expected[0]) < 0.07 and abs(end - expected[1]) < 0.07, segments
        peak = measure_levels(audio).peak_dbfs
        assert peak == pytest.approx(20 * np.log10(0.3), abs=1.0)


@needs_ffmpeg
def test_too_long_compressed_file_stops_decoding_at_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_wav(tmp_path / "src.wav", bursts(SPEECHLIKE * 3), SAMPLE_RATE)
    encoded = ffmpeg_encode(src, tmp_path / "long.ogg", "-c:a", "libvorbis")
    err = load_error(encoded, max_seconds=2.0)  # ffprobe knows the duration
    assert "太长" in err.user_message and "9.0秒" in err.user_message
    monkeypatch.setattr(audio_mod, "_ffprobe", lambda: None)  # no duration known up front: bounded decode
    err = load_error(encoded, max_seconds=2.0)
    assert "太长" in err.user_message and "时长超过上限 2.0秒" in err.user_message
    assert "longer than" in err.log_message


@needs_ffmpeg
def test_corrupt_webm(tmp_path: Path) -> None:
    x = bursts(SPEECHLIKE)
    src = write_wav(tmp_path / "src.wav", x, SAMPLE_RATE)
    good = ffmpeg_encode(src, tmp_path / "a.webm", "-c:a", "libopus").read_bytes()
    err = load_error(good[:4] + np.random.default_rng(5).bytes(len(good)), name="rec.webm")
    assert "WebM" in err.user_message and "损坏" in err.user_message


def test_ffmpeg_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio_mod.shutil, "which", lambda name: None)
    ogg = b"OggS\x00\x02" + bytes(200)
    webm = b"\x1a\x45\xdf\xa3" + bytes(200)
    for data, kind in ((ogg, "Ogg"), (webm, "WebM")):
        err = load_error(data, name="browser.rec")
        assert kind in err.user_message and "ffmpeg" in err.user_message
        assert "apt-get install ffmpeg" in err.user_message and "apt-get install ffmpeg" in err.log_message
        assert "browser.rec" in err.user_message


def test_ffmpeg_failure_reports_its_last_stderr_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'first line' >&2\necho 'boom: decoder exploded at frame 7' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(audio_mod.shutil, "which", lambda name: str(fake) if name == "ffmpeg" else None)
    err = load_error(b"OggS\x00\x02" + bytes(200), name="x.ogg")
    assert "ffmpeg" in err.user_message and "x.ogg" in err.user_message
    assert err.log_message.endswith("ffmpeg failed: boom: decoder exploded at frame 7")


# --------------------------------------------------------------------------- levels and VAD


def test_levels_of_a_known_sine() -> None:
    audio = Audio(to_int16(sine(2.0, SAMPLE_RATE, amplitude=0.25)))
    levels = measure_levels(audio)
    assert levels.duration == 2.0
    assert levels.peak_dbfs == pytest.approx(20 * np.log10(0.25), abs=0.5)  # -12.0
    assert levels.rms_dbfs == pytest.approx(20 * np.log10(0.25 / np.sqrt(2)), abs=0.5)  # -15.1
    assert levels.clipping_ratio == 0.0


def test_clipping_ratio_of_an_overdriven_sine() -> None:
    # |2 sin| >= 1 for two thirds of the time
    audio = Audio(to_int16(np.clip(sine(2.0, SAMPLE_RATE, amplitude=2.0), -1, 1)))
    levels = measure_levels(audio)
    assert levels.clipping_ratio == pytest.approx(2 / 3, abs=0.01)
    assert levels.peak_dbfs == pytest.approx(0.0, abs=0.01)


def test_silence_levels_are_finite() -> None:
    levels = measure_levels(Audio(np.zeros(SAMPLE_RATE, dtype=np.int16)))
    assert levels.peak_dbfs == levels.rms_dbfs == audio_mod.SILENCE_DBFS
    assert levels.speech_duration == 0.0
    assert measure_levels(Audio(np.zeros(0, dtype=np.int16))).duration == 0.0


def test_speech_segments_of_tone_bursts() -> None:
    pattern = [(0.5, False), (0.6, True), (0.7, False), (0.3, True), (0.1, False), (0.3, True), (0.5, False), (0.05, True), (0.4, False)]
    audio = Audio(to_int16(bursts(pattern)))
    segments = speech_segments(audio)
    expected = [(0.5, 1.1), (1.8, 2.5)]  # the 0.1 s pause is bridged, the 50 ms click dropped
    assert len(segments) == len(expected), segments
    for (start, end), (e_start, e_end) in zip(segments, expected):
        assert abs(start - e_start) <= 0.035 and abs(end - e_end) <= 0.035, segments
    levels = measure_levels(audio)
    assert levels.speech_duration == pytest.approx(1.3, abs=0.07)
    assert ensure_speech(audio, levels) is levels


def test_warnings_for_quiet_clipped_and_noisy_recordings() -> None:
    good = measure_levels(Audio(to_int16(bursts(SPEECHLIKE, amplitude=0.2))))
    assert good.warnings() == []
    quiet = measure_levels(Audio(to_int16(bursts(SPEECHLIKE, amplitude=0.005, noise_dbfs=-90))))
    assert quiet.speech_duration > 1.0
    assert any("音量偏小" in w for w in quiet.warnings()), quiet
    loud = measure_levels(Audio(to_int16(np.clip(bursts(SPEECHLIKE, amplitude=3.0), -1, 1))))
    assert any("削波" in w for w in loud.warnings()), loud
    noisy = measure_levels(Audio(to_int16(bursts(SPEECHLIKE, amplitude=0.1, noise_dbfs=-36))))
    assert any("背景噪音" in w for w in noisy.warnings()), noisy
    silent = measure_levels(Audio(np.zeros(SAMPLE_RATE, dtype=np.int16)))
    assert any("没有检测到说话声" in w for w in silent.warnings())
    manual = AudioLevels(duration=3.0, speech_duration=2.0, peak_dbfs=-10.0, rms_dbfs=-50.0, clipping_ratio=0.0)
    assert any("音量偏小" in w for w in manual.warnings())


# --------------------------------------------------------------------------- streaming and saving


def test_iter_chunks() -> None:
    samples = to_int16(bursts(SPEECHLIKE))
    chunks = list(iter_chunks(Audio(samples), 0.1))
    assert all(len(c) == 1600 and c.dtype == np.int16 for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= 1600
    np.testing.assert_array_equal(np.concatenate(chunks), samples)
    with pytest.raises(ValueError):
        list(iter_chunks(Audio(samples), 0))


def test_save_wav_roundtrip_and_atomicity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audio = Audio(to_int16(bursts(SPEECHLIKE)))
    target = tmp_path / "sub" / "answer.wav"
    save_wav(audio, target)
    np.testing.assert_array_equal(load_audio(target).samples, audio.samples)
    assert sorted(p.name for p in target.parent.iterdir()) == ["answer.wav"]

    before = target.read_bytes()

    def failing_replace(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audio_mod.os, "replace", failing_replace)
    with pytest.raises(AudioError, match="无法保存录音"):
        save_wav(Audio(np.zeros(10, dtype=np.int16)), target)
    assert target.read_bytes() == before  # the old file is untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["answer.wav"]  # no temp file left


# --------------------------------------------------------------------------- a real recording


def test_real_recording_levels_are_plausible(real_audio_dir: Path) -> None:
    with (real_audio_dir / "manifest.tsv").open(encoding="utf-8") as fh:
        row = next(csv.DictReader(fh, delimiter="\t"))
    audio = load_audio(real_audio_dir / row["file"])
    levels = measure_levels(audio)
    assert levels.duration == pytest.approx(float(row["duration_s"]), abs=0.01)
    assert 0.4 * levels.duration <= levels.speech_duration <= levels.duration
    assert -40.0 < levels.peak_dbfs < -0.5
    assert -50.0 < levels.speech_rms_dbfs < -15.0
    assert levels.speech_rms_dbfs > levels.rms_dbfs  # pauses pull the whole-file RMS down
    assert levels.noise_dbfs < levels.speech_rms_dbfs - 15
    assert levels.clipping_ratio < 0.001
    assert speech_segments(audio)
    assert os.fspath(real_audio_dir)  # fixture resolved through conftest, not a hard-coded path


def test_wav_with_header_but_no_samples(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "nothing.wav", np.zeros(0), SAMPLE_RATE)
    err = load_error(path, require_speech=False)
    assert "没有音频数据" in err.user_message and "nothing.wav" in err.user_message


def test_noise_only_recording_says_so() -> None:
    noise = np.random.default_rng(4).normal(0, 10 ** (-30 / 20), 3 * SAMPLE_RATE)
    with pytest.raises(AudioError) as info:
        ensure_speech(Audio(to_int16(noise)))
    assert info.value.user_message.startswith("没有检测到说话声") and "背景噪音" in info.value.user_message
