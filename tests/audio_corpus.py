"""A corpus of malformed and misleading recordings, generated on the fly (no binaries in the repo).

Each `Case` writes one input into a folder and says what `load_audio` must do with it: load it
(`expect="ok"`, with an optional check of the result), or refuse it with an `AudioError` whose
Chinese message contains every one of `says` and none of `not_says`. "Handled cleanly" means
exactly that; any other exception, or a wrong message, is a failure.

The first cases are the ones a fault review found (issue 13 item 9); the rest are older malformed
inputs kept here so the whole family is run in one place.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from trainer.audio import SAMPLE_RATE, Audio, speech_segments

RATE = SAMPLE_RATE


def speechlike(seconds: float, rate: int = RATE, seed: int = 1) -> np.ndarray:
    """Voiced bursts with pauses over a faint noise floor (float in [-1, 1]); the energy VAD hears speech."""
    rng = np.random.default_rng(seed)
    x = np.zeros(round(seconds * rate))
    t0, index = 0.3, 0
    while t0 + 0.5 < seconds:
        n0, n = round(t0 * rate), round(0.5 * rate)
        t = np.arange(n) / rate
        x[n0 : n0 + n] = 0.3 * np.sin(2 * np.pi * (220.0 + 40.0 * (index % 5)) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2)
        t0 += 0.9
        index += 1
    return x + rng.normal(0.0, 10 ** (-65 / 20), len(x))


def _wav(path: Path, x: np.ndarray, rate: int = RATE) -> Path:
    sf.write(str(path), x, rate, subtype="PCM_16", format="WAV")
    return path


def _ffmpeg(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", "-i", str(src), *args, str(dst)], check=True)
    return dst


def _cut(path: Path, keep: int, name: str) -> Path:
    out = path.with_name(name)
    out.write_bytes(path.read_bytes()[:keep])
    return out


# --- the inputs ----------------------------------------------------------------------------------


def wav_header_declares_shorter_data(folder: Path) -> Path:
    """8.6 s of samples, but the data chunk's size field says 2.1 s (the rest was silently dropped)."""
    data = bytearray(_wav(folder / "full.wav", speechlike(8.6)).read_bytes())
    pos = data.index(b"data")
    data[pos + 4 : pos + 8] = struct.pack("<I", round(2.1 * RATE) * 2)
    out = folder / "lying-header.wav"
    out.write_bytes(bytes(data))
    return out


def webm_cut_to_4kb(folder: Path) -> Path:
    src = _ffmpeg(_wav(folder / "s.wav", speechlike(9.0)), folder / "full.webm", "-c:a", "libopus", "-b:a", "24k")
    return _cut(src, 4096, "cut.webm")


def live_webm_cut_to_4kb(folder: Path) -> Path:
    """As a browser's MediaRecorder writes it: no duration in the header."""
    src = _ffmpeg(_wav(folder / "s.wav", speechlike(9.0)), folder / "live.webm", "-c:a", "libopus", "-b:a", "24k", "-live", "1", "-f", "webm")
    return _cut(src, 4096, "live-cut.webm")


def mp3_truncated(folder: Path) -> Path:
    src = _ffmpeg(_wav(folder / "s.wav", speechlike(9.0)), folder / "full.mp3", "-c:a", "libmp3lame", "-b:a", "64k")
    return _cut(src, 4096, "cut.mp3")


def mp3_truncated_to_a_third(folder: Path) -> Path:
    src = _ffmpeg(_wav(folder / "s.wav", speechlike(9.0)), folder / "full.mp3", "-c:a", "libmp3lame", "-b:a", "64k")
    return _cut(src, src.stat().st_size // 3, "third.mp3")


def stereo_opposite_phase_wav(folder: Path) -> Path:
    x = speechlike(8.6)
    return _wav(folder / "anti-phase.wav", np.column_stack([x, -x]))


def stereo_opposite_phase_webm(folder: Path) -> Path:
    x = speechlike(6.0)
    return _ffmpeg(_wav(folder / "anti.wav", np.column_stack([x, -x])), folder / "anti-phase.webm", "-c:a", "libopus", "-b:a", "64k")


def stereo_one_silent_channel(folder: Path) -> Path:
    x = speechlike(4.0)
    return _wav(folder / "left-only.wav", np.column_stack([x, np.zeros_like(x)]))


def a_folder(folder: Path) -> Path:
    out = folder / "turns"
    out.mkdir()
    _wav(out / "turn01.wav", speechlike(2.0))
    return out


def empty_file(folder: Path) -> Path:
    out = folder / "empty.wav"
    out.write_bytes(b"")
    return out


def wav_header_only(folder: Path) -> Path:
    return _cut(_wav(folder / "s.wav", speechlike(2.0)), 44, "header-only.wav")


def wav_header_cut(folder: Path) -> Path:
    return _cut(_wav(folder / "s.wav", speechlike(2.0)), 20, "header-cut.wav")


def wav_data_cut(folder: Path) -> Path:
    return _cut(_wav(folder / "s.wav", speechlike(3.0)), 44 + RATE * 2, "data-cut.wav")


def text_named_wav(folder: Path) -> Path:
    out = folder / "notes.wav"
    out.write_text("这不是录音，是一段文字。\n" * 50, encoding="utf-8")
    return out


def random_bytes(folder: Path) -> Path:
    out = folder / "random.bin"
    out.write_bytes(np.random.default_rng(3).bytes(30000))
    return out


def silence(folder: Path) -> Path:
    return _wav(folder / "silence.wav", np.zeros(RATE * 3))


def m4a_cut_in_half(folder: Path) -> Path:
    src = _ffmpeg(_wav(folder / "s.wav", speechlike(6.0)), folder / "full.m4a", "-c:a", "aac", "-b:a", "48k")
    return _cut(src, src.stat().st_size // 2, "half.m4a")


def wav_with_a_trailing_list_chunk(folder: Path) -> Path:
    """A data chunk followed by a proper LIST chunk: the extra bytes are metadata, not audio."""
    data = _wav(folder / "s.wav", speechlike(3.0)).read_bytes()
    info = b"INFOISFT" + struct.pack("<I", 6) + b"tests\x00"
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    body = data[8:] + chunk
    out = folder / "with-list.wav"
    out.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return out


# --- expectations ------------------------------------------------------------------------------


def _speech_over(seconds: float) -> Callable[[Audio], bool]:
    def check(audio: Audio) -> bool:
        return abs(audio.duration - seconds) < 0.05 and sum(e - s for s, e in speech_segments(audio)) > 0.3 * seconds

    return check


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Path]
    expect: str  # "ok" | "error"
    says: tuple[str, ...] = ()
    not_says: tuple[str, ...] = ()
    check: Callable[[Audio], bool] | None = None
    needs_ffmpeg: bool = False
    from_issue: bool = False


CASES: tuple[Case, ...] = (
    Case("wav header declares 2.1 s of 8.6 s", wav_header_declares_shorter_data, "error", ("2.1秒", "8.6秒", "文件头"), from_issue=True),
    Case("webm cut to 4 KB", webm_cut_to_4kb, "error", ("不完整",), ("静音",), needs_ffmpeg=True, from_issue=True),
    Case("browser webm cut to 4 KB", live_webm_cut_to_4kb, "error", ("不完整",), ("静音",), needs_ffmpeg=True, from_issue=True),
    Case("mp3 cut to 4 KB", mp3_truncated, "error", ("不完整", "9.1秒"), ("静音",), needs_ffmpeg=True, from_issue=True),
    Case("mp3 cut to a third", mp3_truncated_to_a_third, "error", ("不完整",), ("静音",), needs_ffmpeg=True, from_issue=True),
    Case("stereo wav, channels in opposite phase", stereo_opposite_phase_wav, "ok", check=_speech_over(8.6), from_issue=True),
    Case("stereo webm, channels in opposite phase", stereo_opposite_phase_webm, "ok", check=_speech_over(6.0), needs_ffmpeg=True, from_issue=True),
    Case("a folder", a_folder, "error", ("文件夹",), ("找不到",), from_issue=True),
    Case("stereo wav, one silent channel", stereo_one_silent_channel, "ok", check=_speech_over(4.0)),
    Case("wav with a LIST chunk after the data", wav_with_a_trailing_list_chunk, "ok", check=_speech_over(3.0)),
    Case("empty file", empty_file, "error", ("空文件",)),
    Case("wav header only", wav_header_only, "error", ("没有",)),
    Case("wav header cut at 20 bytes", wav_header_cut, "error", ("文件头不完整",)),
    Case("wav data cut at 1 of 3 s", wav_data_cut, "error", ("不完整", "3.0秒", "1.0秒")),
    Case("text file named .wav", text_named_wav, "error", ("无法识别",)),
    Case("random bytes", random_bytes, "error", ("无法识别",)),
    Case("digital silence", silence, "error", ("完全是静音",)),
    Case("m4a cut in half", m4a_cut_in_half, "error", ("不完整",), needs_ffmpeg=True),
)
