"""Audio input: load what trainees and browsers produce as 16 kHz mono int16.

- WAV (any rate; 8/16/24/32-bit PCM, 32/64-bit float, WAVE_FORMAT_EXTENSIBLE, any
  channel count) and FLAC are parsed by libsndfile (`soundfile`), downmixed to mono
  and resampled with `soxr`, block by block, so a long file never sits in memory at
  its original rate and channel count.
- Everything else (WebM/Opus from browsers, Ogg, MP3, M4A/AAC from phones, ...)
  is decoded by an `ffmpeg` subprocess straight to 16 kHz mono s16le, with the
  output read in bounded pieces so an over-long file is stopped at the limit.
- Every failure raises `AudioError` with a Chinese message that names the problem
  and the fix, and an English log message.

Levels (`measure_levels`) and speech detection (`speech_segments`) use a simple
energy VAD over 30 ms frames with an adaptive threshold (noise floor + margin).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.errors import AudioError

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


# --------------------------------------------------------------------------- constants

DEFAULT_MAX_SECONDS = 600.0
SILENCE_DBFS = -120.0  # floor for levels of digital silence (keeps values finite / JSON-safe)
FULL_SCALE = 32768.0  # dBFS reference: a full-scale square wave is 0 dBFS RMS, a full-scale sine -3.01
CLIP_LEVEL = 32734  # |sample| at or above 99.9 % of full scale counts as clipped

VAD_FRAME_SECONDS = 0.03
VAD_ABS_MIN_DBFS = -55.0  # frames quieter than this are never speech
VAD_MARGIN_DB = 10.0  # minimum distance above the noise floor
VAD_MIN_SPREAD_DB = 6.0  # a recording whose loud and quiet frames differ less is stationary (hum, fan, tone): no speech
VAD_MAX_GAP_SECONDS = 0.25  # pauses shorter than this are part of the same segment
VAD_MIN_SEGMENT_SECONDS = 0.09  # shorter bursts are clicks, not speech
MIN_SPEECH_SECONDS = 0.2  # ensure_speech: less detected speech than this counts as "no speech"

# Coaching thresholds (warnings()).
QUIET_SPEECH_DBFS = -40.0
CLIPPING_WARN_RATIO = 0.001
NOISY_FLOOR_DBFS = -45.0
NOISY_SNR_DB = 15.0

_READ_BLOCK_FRAMES = 1 << 16
_FFMPEG_READ_BYTES = 1 << 16
_SNIFF_BYTES = 65536  # enough to reach the data chunk of a WAV with metadata in front
_MIN_RATE, _MAX_RATE = 4000, 768000
_INSTALL_FFMPEG = "请安装 ffmpeg（Debian/Ubuntu：sudo apt-get install ffmpeg；Windows/macOS：从 ffmpeg.org 下载并加入 PATH），或改用 WAV 格式的录音"


# --------------------------------------------------------------------------- levels


@dataclass(frozen=True)
class AudioLevels:
    """Level statistics a coach needs. dBFS: 0 = int16 full scale; SILENCE_DBFS for silence."""

    duration: float
    speech_duration: float
    peak_dbfs: float
    rms_dbfs: float  # over the whole recording (a full-scale sine is -3.01 dBFS)
    clipping_ratio: float  # fraction of samples at (>= 99.9 %) full scale
    speech_rms_dbfs: float | None = None  # RMS over detected speech only (None: not measured)
    noise_dbfs: float | None = None  # background level: 10th percentile of 30 ms frame levels

    def warnings(self) -> list[str]:
        """Chinese coaching warnings about the recording itself (not the content)."""
        out: list[str] = []
        if self.speech_duration < MIN_SPEECH_SECONDS:
            out.append("没有检测到说话声：请检查麦克风是否打开、是否选对了输入设备，然后靠近麦克风重新录制。")
            return out
        speech_level = self.speech_rms_dbfs if self.speech_rms_dbfs is not None else self.rms_dbfs
        if self.clipping_ratio >= CLIPPING_WARN_RATIO:
            out.append(
                f"音量过大，声音已失真（{self.clipping_ratio:.1%} 的采样点被削波）："
                "请离麦克风远一点、说话别贴着麦克风，或调低麦克风输入音量。"
            )
        elif speech_level < QUIET_SPEECH_DBFS:
            out.append(
                f"音量偏小（说话平均电平 {speech_level:.0f} dBFS）：请靠近麦克风、提高音量，或调高麦克风输入音量。"
                "柜台和电话服务要求吐字清晰、音量适中。"
            )
        if (
            self.noise_dbfs is not None
            and self.noise_dbfs > NOISY_FLOOR_DBFS
            and speech_level - self.noise_dbfs < NOISY_SNR_DB
        ):
            out.append(
                f"背景噪音较大（约 {self.noise_dbfs:.0f} dBFS，说话声只比噪音高 {speech_level - self.noise_dbfs:.0f} dB）："
                "请换到安静的地方或关闭风扇等噪音源后重新录制，否则识别可能不准。"
            )
        return out


def _dbfs_amplitude(value: float) -> float:
    if value <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * float(np.log10(value / FULL_SCALE)))


def _frame_ms(samples: np.ndarray, frame_len: int) -> np.ndarray:
    """Mean square of consecutive frames (the last, partial frame included), without full-size float64 copies."""
    x = np.asarray(samples, dtype=np.float32)  # int16 is exact in float32; sums are taken in float64
    n_full = len(x) // frame_len
    frames = x[: n_full * frame_len].reshape(n_full, frame_len)
    ms = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frame_len
    if len(x) > n_full * frame_len:
        tail = x[n_full * frame_len :].astype(np.float64)
        ms = np.append(ms, np.dot(tail, tail) / len(tail))
    return ms


def _to_dbfs(ms: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(ms / FULL_SCALE**2)
    return np.maximum(db, SILENCE_DBFS)


def _frame_len(audio: Audio, frame_seconds: float = VAD_FRAME_SECONDS) -> int:
    return max(1, round(frame_seconds * audio.sample_rate))


def frame_levels(audio: Audio, frame_seconds: float) -> np.ndarray:
    """The level (dBFS) of each consecutive `frame_seconds` frame of `audio`, the last, partial one included."""
    return _to_dbfs(_frame_ms(audio.samples, _frame_len(audio, frame_seconds)))


def _vad(audio: Audio, frame_ms: np.ndarray) -> tuple[list[tuple[float, float]], np.ndarray, np.ndarray, float]:
    """Energy VAD. Returns (segments in seconds, per-frame speech mask, frame dBFS, noise floor dBFS)."""
    frame_len = _frame_len(audio)
    db = _to_dbfs(frame_ms)
    if len(db) == 0:
        return [], np.zeros(0, dtype=bool), db, SILENCE_DBFS
    noise = float(np.percentile(db, 10))
    loud = float(np.percentile(db, 95))
    threshold = max(VAD_ABS_MIN_DBFS, noise + max(VAD_MARGIN_DB, 0.25 * (loud - noise)))
    if loud - noise < VAD_MIN_SPREAD_DB:
        threshold = np.inf  # stationary signal: nothing rises above its own background
    active = db >= threshold

    frame_seconds = frame_len / audio.sample_rate
    max_gap_frames = VAD_MAX_GAP_SECONDS / frame_seconds
    min_frames = round(VAD_MIN_SEGMENT_SECONDS / frame_seconds)
    runs: list[list[int]] = []  # [first_frame, end_frame)
    for index in map(int, np.flatnonzero(active)):
        if runs and index - runs[-1][1] < max_gap_frames:
            runs[-1][1] = index + 1
        else:
            runs.append([index, index + 1])
    mask = np.zeros(len(db), dtype=bool)
    segments: list[tuple[float, float]] = []
    for start, end in runs:
        if end - start < min_frames:
            continue
        mask[start:end] = True
        segments.append((round(start * frame_seconds, 3), round(min(end * frame_seconds, audio.duration), 3)))
    return segments, mask, db, noise


def speech_segments(audio: Audio) -> list[tuple[float, float]]:
    """(start, end) seconds of detected speech, in order; pauses < 0.25 s are bridged."""
    return _vad(audio, _frame_ms(audio.samples, _frame_len(audio)))[0]


def measure_levels(audio: Audio) -> AudioLevels:
    """Duration, speech duration, peak/RMS level (dBFS), clipping ratio. Pure function."""
    samples = np.asarray(audio.samples)
    if len(samples) == 0:
        return AudioLevels(0.0, 0.0, SILENCE_DBFS, SILENCE_DBFS, 0.0, SILENCE_DBFS, SILENCE_DBFS)
    peak = float(max(int(samples.max()), -int(samples.min())))
    clipping = float(np.count_nonzero((samples >= CLIP_LEVEL) | (samples <= -CLIP_LEVEL))) / len(samples)
    frame_len = _frame_len(audio)
    frame_ms = _frame_ms(samples, frame_len)
    segments, mask, db, noise = _vad(audio, frame_ms)
    weights = np.full(len(db), frame_len, dtype=np.float64)
    weights[-1] = len(samples) - frame_len * (len(db) - 1)
    rms = float(np.sqrt(np.dot(frame_ms, weights) / len(samples)))
    speech_rms = float(_to_dbfs(np.array([frame_ms[mask].mean()]))[0]) if mask.any() else SILENCE_DBFS
    return AudioLevels(
        duration=audio.duration,
        speech_duration=round(sum(end - start for start, end in segments), 3),
        peak_dbfs=_dbfs_amplitude(peak),
        rms_dbfs=_dbfs_amplitude(rms),
        clipping_ratio=clipping,
        speech_rms_dbfs=speech_rms,
        noise_dbfs=noise,
    )


def ensure_speech(audio: Audio, levels: AudioLevels | None = None) -> AudioLevels:
    """Return the levels, or raise AudioError when the recording holds no speech."""
    levels = levels if levels is not None else measure_levels(audio)
    if levels.speech_duration >= MIN_SPEECH_SECONDS:
        return levels
    fix = "请检查麦克风是否打开、是否选对了输入设备、系统是否给了麦克风权限，然后靠近麦克风重新录制。"
    if levels.peak_dbfs <= SILENCE_DBFS:
        what = "录音完全是静音"
    elif levels.peak_dbfs < VAD_ABS_MIN_DBFS + 10:
        what = f"录音几乎是静音（最大音量 {levels.peak_dbfs:.0f} dBFS）"
    elif levels.noise_dbfs is not None and levels.noise_dbfs > NOISY_FLOOR_DBFS:
        what = f"录音里只有持续的背景噪音（约 {levels.noise_dbfs:.0f} dBFS），听不出说话声"
        fix = "请换到安静的地方，靠近麦克风清楚地说，然后重新录制。"
    else:
        what = "录音里只有零星的杂音，听不出说话声"
    raise AudioError(
        f"没有检测到说话声：{what}，时长 {_format_seconds(levels.duration)}。{fix}",
        f"no speech detected: duration {levels.duration:.2f}s, speech {levels.speech_duration:.2f}s, "
        f"peak {levels.peak_dbfs:.1f} dBFS, rms {levels.rms_dbfs:.1f} dBFS",
    )


# --------------------------------------------------------------------------- streaming and saving


def iter_chunks(audio: Audio, chunk_seconds: float = 0.1) -> Iterator[np.ndarray]:
    """Consecutive int16 chunks of `chunk_seconds` (the last one may be shorter)."""
    if chunk_seconds <= 0:
        raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds}")
    size = max(1, round(chunk_seconds * audio.sample_rate))
    samples = np.asarray(audio.samples, dtype=np.int16)
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def save_wav(audio: Audio, path: Path) -> None:
    """Write a 16-bit mono WAV atomically: a temp file in the same folder, then os.replace.

    The bytes come from `Audio.to_wav_bytes` (stdlib `wave`): writing plain 16-bit
    mono PCM needs no codec library.
    """
    path = Path(path)
    tmp_name: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(audio.to_wav_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        raise AudioError(
            f"无法保存录音到 {path}：{exc.strerror or exc}。请检查磁盘空间和文件夹写入权限。",
            f"cannot write WAV {path}: {exc}",
        ) from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Source:
    label: str  # shown to the user
    path: Path | None
    data: bytes | None
    head: bytes  # first bytes, for format sniffing


def _format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}秒"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}分{rest}秒" if rest else f"{minutes}分钟"


def _open_source(source: str | Path | bytes, name: str | None) -> _Source:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = f"“{name}”" if name else "上传的录音"
        if not data:
            raise AudioError(
                f"{label}是空文件（0 字节），里面没有录音。请重新录制或重新上传。",
                f"empty audio upload {name or '<bytes>'} (0 bytes)",
            )
        return _Source(label, None, data, data[:_SNIFF_BYTES])
    path = Path(source).expanduser()
    label = f"“{name or path.name}”"
    try:
        if not path.exists():
            raise AudioError(f"找不到音频文件：{path}。请检查文件路径和文件名是否正确。", f"audio file not found: {path}")
        if not path.is_file():
            raise AudioError(f"{path} 不是音频文件（它是一个文件夹或特殊文件）。请选择一个录音文件。", f"not a regular file: {path}")
        if path.stat().st_size == 0:
            raise AudioError(
                f"音频文件 {label} 是空文件（0 字节），里面没有录音。可能录音没有保存成功，请重新录制。",
                f"empty audio file (0 bytes): {path}",
            )
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise AudioError(
            f"无法读取音频文件 {path}：{exc.strerror or exc}。请检查文件权限。", f"cannot read audio file {path}: {exc}"
        ) from exc
    return _Source(label, path, None, head)


def _sniff(head: bytes) -> str | None:
    """Container family from the magic bytes: 'wav', 'flac' (read natively) or a display name for ffmpeg."""
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and len(head) < 12:
        return "wav"  # too short to be sure, but it starts like a WAV: report it as a broken WAV
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "WebM/Matroska"
    if head[:4] == b"OggS":
        return "Ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3/AAC"
    if head[4:8] == b"ftyp":
        return "MP4/M4A"
    if head[:5] == b"#!AMR":
        return "AMR"
    if head[:4] == b"FORM":
        return "AIFF"
    if head[:4] == b"caff":
        return "CAF"
    if head[:16] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c":
        return "WMA/ASF"
    return None


def load_audio(
    source: str | Path | bytes,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    require_speech: bool = True,
    name: str | None = None,
) -> Audio:
    """Load a recording as 16 kHz mono int16.

    `source` is a file path or the file's bytes (a browser upload; `name` is then
    used in error messages). Raises AudioError for anything unusable, including
    recordings longer than `max_seconds` and, when `require_speech`, recordings
    without detectable speech.
    """
    src = _open_source(source, name)
    kind = _sniff(src.head)
    if kind in ("wav", "flac"):
        samples = _load_with_soundfile(src, kind, max_seconds)
    else:
        samples = _load_with_ffmpeg(src, kind, max_seconds)
    if len(samples) == 0:
        raise AudioError(
            f"{src.label} 里没有音频数据（时长 0 秒）。可能录音没有保存成功，请重新录制。",
            f"{src.path or name or '<bytes>'}: decoded to 0 samples",
        )
    _check_length(src, len(samples) / SAMPLE_RATE, max_seconds)
    audio = Audio(np.ascontiguousarray(samples, dtype=np.int16))
    if require_speech:
        ensure_speech(audio)
    return audio


def _check_length(src: _Source, seconds: float | None, max_seconds: float, *, at_least: bool = False) -> None:
    if seconds is None or seconds <= max_seconds:
        return
    length = "" if at_least else f" {_format_seconds(seconds)}，"
    raise AudioError(
        f"{src.label} 太长：时长{length}超过上限 {_format_seconds(max_seconds)}。"
        "请录一段更短的回答，或把录音分成几段分别上传。",
        f"{src.path or '<bytes>'}: audio {'longer than ' if at_least else ''}{seconds:.1f}s exceeds limit {max_seconds:.1f}s",
    )


# Channels that do not cancel give a mean whose energy is at least about sum(channel energies) / n²
# (the value for unrelated channels; more when they agree). Far less means they cancel.
CANCEL_RATIO = 0.2


def downmix(block: np.ndarray) -> np.ndarray:
    """Frames x channels -> mono. The mean of the channels, unless they cancel (opposite phase, as
    from a miswired stereo microphone): then the loudest channel, so speech does not vanish."""
    if block.ndim == 1 or block.shape[1] == 1:
        return block.reshape(len(block), -1)[:, 0]
    mono = block.mean(axis=1, dtype=np.float32)
    energy = np.einsum("ij,ij->j", block, block, dtype=np.float64)
    loudest = int(energy.argmax())
    unrelated = float(energy.sum()) / block.shape[1] ** 2
    if unrelated > 0 and float(np.dot(mono, mono)) < CANCEL_RATIO * unrelated:
        return np.ascontiguousarray(block[:, loudest], dtype=np.float32)
    return mono


def _to_int16(x: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(np.rint(x * FULL_SCALE), -32768, 32767).astype(np.int16)


# ---- WAV / FLAC through libsndfile


_WAV_FORMAT_NAMES = {
    0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "μ-law", 0x0011: "IMA ADPCM", 0x0031: "GSM 6.10",
    0x0050: "MPEG", 0x0055: "MP3", 0x00FF: "AAC", 0x0160: "WMA", 0x0161: "WMA", 0x1610: "AAC",
}  # fmt: skip


def _wav_header(head: bytes) -> tuple[int | None, int | None, int | None]:
    """(format tag, declared data bytes, data offset) from a RIFF/WAVE header, None where absent.

    libsndfile clamps a data chunk that runs past the end of the file and reports
    every fmt-chunk problem with the same error code, so the few header fields that
    tell "cut-off file" and "unknown codec" apart are read here.
    """
    fmt_tag = None
    if head[:4] != b"RIFF":  # RIFX / RF64 / BW64: leave to libsndfile
        return None, None, None
    pos = 12
    while pos + 8 <= len(head):
        chunk_id, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt " and pos + 8 + 2 <= len(head):
            fmt_tag = struct.unpack("<H", head[pos + 8 : pos + 10])[0]
            if fmt_tag == 0xFFFE and size >= 40 and pos + 8 + 26 <= len(head):  # WAVE_FORMAT_EXTENSIBLE sub-format
                fmt_tag = struct.unpack("<H", head[pos + 8 + 24 : pos + 8 + 26])[0]
        if chunk_id == b"data":
            return fmt_tag, size, pos + 8
        pos += 8 + size + (size & 1)
    return fmt_tag, None, None


def _load_with_soundfile(src: _Source, kind: str, max_seconds: float) -> np.ndarray:
    import soundfile as sf
    import soxr

    what = "WAV" if kind == "wav" else "FLAC"
    try:
        handle = sf.SoundFile(src.path if src.path is not None else io.BytesIO(src.data or b""))
    except sf.LibsndfileError as exc:
        return _soundfile_open_failed(src, kind, exc, max_seconds)
    with handle as f:
        rate, channels, frames = f.samplerate, f.channels, f.frames
        if not (_MIN_RATE <= rate <= _MAX_RATE) or channels < 1:
            raise AudioError(
                f"{src.label} 的文件头已损坏（采样率 {rate} Hz、{channels} 个声道，不是正常录音的数值）。请重新导出或重新录制。",
                f"{src.path or '<bytes>'}: implausible {what} header: rate={rate} channels={channels}",
            )
        if kind == "wav":
            _check_wav_truncated(src, f, frames)
        _check_length(src, frames / rate, max_seconds)

        if rate == SAMPLE_RATE and channels == 1 and f.subtype == "PCM_16":
            return f.read(dtype="int16")  # already the target format: exact copy
        resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ") if rate != SAMPLE_RATE else None
        pieces: list[np.ndarray] = []
        try:
            for block in f.blocks(blocksize=_READ_BLOCK_FRAMES, dtype="float32", always_2d=True):
                mono = downmix(block)
                pieces.append(_to_int16(resampler.resample_chunk(mono) if resampler else mono))
            if resampler is not None:
                pieces.append(_to_int16(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)))
        except sf.LibsndfileError as exc:
            raise AudioError(
                f"{src.label} 的音频数据已损坏，无法读取。请重新导出或重新录制。",
                f"{src.path or '<bytes>'}: libsndfile read error: {exc.error_string}",
            ) from exc
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)


# Writers that stream a WAV to a pipe put a placeholder this large (or 0) in the length fields.
STREAMED_WAV_LENGTH = 0x7FFF0000


_MAX_TRAILING_CHUNKS = 1000


def _unaccounted_after_data(src: _Source, data_end: int, total: int) -> int:
    """Bytes after the data chunk that are no well-formed RIFF chunk (LIST, id3, cue, ...): the
    header's data length does not cover them. Zero padding is not counted."""
    with (src.path.open("rb") if src.path is not None else io.BytesIO(src.data or b"")) as fh:
        pos = data_end + (data_end & 1)
        for _ in range(_MAX_TRAILING_CHUNKS):
            if pos + 8 > total:
                break
            fh.seek(pos)
            head = fh.read(8)
            chunk_id, size = head[:4], struct.unpack("<I", head[4:8])[0]
            if not all(0x20 <= b <= 0x7E for b in chunk_id) or pos + 8 + size > total + 1:
                break
            pos += 8 + size + (size & 1)
        rest = max(0, total - pos)
        fh.seek(pos)
        if rest < 8 or not fh.read(1 << 16).strip(b"\x00"):
            return 0
    return rest


def _check_wav_truncated(src: _Source, f: object, frames: int) -> None:
    """A WAV whose data chunk is shorter than its header says was cut off (interrupted copy/upload);
    one whose header declares less data than the file holds would silently lose the rest."""
    _, declared, offset = _wav_header(src.head)
    if declared is None or offset is None or declared == 0 or declared >= STREAMED_WAV_LENGTH:
        return  # length unknown: written to a pipe (0, 0xFFFFFFFF from ffmpeg, 0x7FFFF000 from sox/espeak-ng)
    total = src.path.stat().st_size if src.path is not None else len(src.data or b"")
    present = total - offset
    if present >= declared:
        extra = _unaccounted_after_data(src, offset + declared, total)
        if extra and frames:
            rate = getattr(f, "samplerate", SAMPLE_RATE)
            frame_bytes = declared / frames
            raise AudioError(
                f"{src.label} 的文件头与内容不符：文件头写明录音只有 {_format_seconds(frames / rate)}，"
                f"但文件里有约 {_format_seconds((declared + extra) / frame_bytes / rate)} 的录音数据。"
                "按文件头读取会丢掉后面的录音，因此没有使用它。文件头可能在录音程序异常退出或拼接文件时写错了："
                "请用录音软件重新导出，或重新录制。",
                f"{src.path or '<bytes>'}: WAV data chunk declares {declared} bytes but {extra} more unaccounted bytes follow it",
            )
        return
    rate = getattr(f, "samplerate", SAMPLE_RATE)
    if frames:
        declared_seconds = declared / (present / frames) / rate
        lengths = f"文件头写明时长约 {_format_seconds(declared_seconds)}，实际只有 {_format_seconds(frames / rate)} 的数据"
    else:
        lengths = "文件头里写明有录音数据，但文件里几乎没有"
    raise AudioError(
        f"{src.label} 不完整：{lengths}，"
        "文件在复制或上传时被截断了。请重新上传完整的文件，或重新录制。",
        f"{src.path or '<bytes>'}: WAV data chunk truncated: header declares {declared} bytes, file holds {present}",
    )


def _soundfile_open_failed(src: _Source, kind: str, exc: Exception, max_seconds: float) -> np.ndarray:
    detail = getattr(exc, "error_string", str(exc))
    if kind == "wav":
        fmt_tag, _, _ = _wav_header(src.head)
        header_complete = fmt_tag is not None and b"data" in src.head
        if header_complete and fmt_tag not in (0x0001, 0x0003):
            # A well-formed WAV with a codec libsndfile lacks (e.g. MP3 inside WAV): ffmpeg may know it.
            if _ffmpeg() is not None:
                return _load_with_ffmpeg(src, "WAV", max_seconds)
            codec = _WAV_FORMAT_NAMES.get(fmt_tag, f"格式代码 0x{fmt_tag:04X}")
            raise AudioError(
                f"{src.label} 是 WAV 文件，但里面的编码（{codec}）不受支持。"
                f"请导出为普通 PCM WAV（16 位），或{_INSTALL_FFMPEG.removeprefix('请')}后再试。",
                f"{src.path or '<bytes>'}: unsupported WAV codec 0x{fmt_tag:04X} ({detail}); ffmpeg not installed",
            )
        raise AudioError(
            f"{src.label} 的 WAV 文件头不完整或已损坏，无法读取。文件可能只保存了一部分，请重新录制或重新导出。",
            f"{src.path or '<bytes>'}: corrupt or truncated WAV header: {detail}",
        )
    raise AudioError(
        f"{src.label} 的 FLAC 文件已损坏，无法读取。请重新导出或重新录制。",
        f"{src.path or '<bytes>'}: corrupt FLAC: {detail}",
    )


# ---- everything else through ffmpeg


def _ffmpeg() -> str | None:
    """Path of the ffmpeg executable, or None when it is not installed."""
    return shutil.which("ffmpeg")


def _ffprobe() -> str | None:
    return shutil.which("ffprobe")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _load_with_ffmpeg(src: _Source, kind: str | None, max_seconds: float) -> np.ndarray:
    ffmpeg = _ffmpeg()
    if ffmpeg is None:
        if kind is not None:
            raise AudioError(
                f"{src.label} 是 {kind} 格式的录音，需要 ffmpeg 才能解码，但本机没有安装 ffmpeg。{_INSTALL_FFMPEG}。",
                f"{src.path or '<bytes>'}: {kind} audio needs ffmpeg, which is not installed (apt-get install ffmpeg)",
            )
        raise AudioError(
            f"无法识别 {src.label} 的文件格式：它不是 WAV/FLAC，也不像常见的录音格式（可能不是音频文件，或已损坏）。"
            f"请上传 WAV 录音；如果是手机或浏览器录的 WebM/Ogg/MP3/M4A，{_INSTALL_FFMPEG.removeprefix('请')}后再试。",
            f"{src.path or '<bytes>'}: unrecognised format (magic {src.head[:8]!r}) and ffmpeg is not installed",
        )
    with tempfile.TemporaryDirectory(prefix="trainer-audio-") as tmp:
        if src.path is not None:
            input_path = src.path
        else:
            input_path = Path(tmp) / "upload"  # ffmpeg needs a seekable file for MP4/M4A
            input_path.write_bytes(src.data or b"")
        probed_seconds, channels = _probe(src, kind, input_path)
        if probed_seconds is not None and probed_seconds > max_seconds + 0.5:  # container durations can be estimates
            _check_length(src, probed_seconds, max_seconds)
        return _decode(src, kind, ffmpeg, input_path, max_seconds, probed_seconds, channels)


def _ffmpeg_failure(src: _Source, kind: str | None, stderr: str, tool: str) -> AudioError:
    """Turn an ffmpeg/ffprobe error output into a specific AudioError."""
    last = _last_line(stderr)
    where = f"{src.path or '<bytes>'}"
    if "Invalid data found when processing input" in stderr or "could not find codec parameters" in stderr.lower():
        if kind is None:
            return AudioError(
                f"无法识别 {src.label} 的文件格式：它不是音频文件，或者文件已损坏。请上传 WAV、WebM、Ogg、MP3 或 M4A 格式的录音。",
                f"{where}: {tool} cannot recognise the input: {last}",
            )
        return AudioError(
            f"{src.label} 看起来是 {kind} 格式，但文件已损坏或不完整，无法解码。请重新上传完整的文件，或重新录制。",
            f"{where}: {tool} cannot parse {kind} input: {last}",
        )
    if "Decoder (codec" in stderr or "unknown codec" in stderr.lower():
        return AudioError(
            f"{src.label} 里的音频编码不受支持，无法解码。请导出为 WAV（16 位 PCM）或 MP3 后再上传。",
            f"{where}: unsupported codec: {last}",
        )
    if "matches no streams" in stderr or "does not contain any stream" in stderr:
        return AudioError(
            f"{src.label} 里没有音频（可能是只有画面的视频或图片）。请上传带声音的录音。",
            f"{where}: no audio stream: {last}",
        )
    return AudioError(
        f"用 ffmpeg 解码 {src.label} 失败，文件可能已损坏或格式不受支持。请重新录制，或转换成 WAV 格式后再上传。",
        f"{where}: {tool} failed: {last}",
    )


MAX_DECODE_CHANNELS = 8  # more are mixed down to mono by ffmpeg itself


def _probe(src: _Source, kind: str | None, input_path: Path) -> tuple[float | None, int]:
    """Check the file with ffprobe before decoding; return its duration in seconds (None when not
    known) and the audio stream's channel count (1 when not known: ffmpeg then mixes down)."""
    ffprobe = _ffprobe()
    if ffprobe is None:
        return None, 1  # ffmpeg alone still decodes (bounded); errors are classified from its output
    cmd = [ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name,duration,channels", "-of", "json", str(input_path)]
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(
            f"检查 {src.label} 时 ffprobe 运行失败。请确认 ffmpeg 安装完整，或改用 WAV 格式的录音。",
            f"{src.path or '<bytes>'}: ffprobe failed to run: {exc}",
        ) from exc
    stderr = result.stderr.decode("utf-8", errors="replace")
    if result.returncode != 0:
        raise _ffmpeg_failure(src, kind, stderr, "ffprobe")
    try:
        info = json.loads(result.stdout.decode("utf-8", errors="replace") or "{}")
    except json.JSONDecodeError:
        return None, 1
    audio_streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio_streams:
        raise _ffmpeg_failure(src, kind, stderr + "\nStream map '0:a:0' matches no streams", "ffprobe")
    if not audio_streams[0].get("codec_name"):
        raise _ffmpeg_failure(src, kind, stderr + "\nDecoder (codec none) not found", "ffprobe")
    channels = audio_streams[0].get("channels")
    channels = channels if isinstance(channels, int) and 1 <= channels <= MAX_DECODE_CHANNELS else 1
    for value in (info.get("format", {}).get("duration"), audio_streams[0].get("duration")):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(seconds) and seconds >= 0:
            return seconds, channels
    return None, channels  # e.g. browser WebM without a duration in its header


# What ffmpeg's demuxers say when the file ends before its data does (a cut-off copy or upload).
TRUNCATION_MARKERS = ("File ended prematurely", "filesize and duration do not match", "partial file")


def _truncation(src: _Source, kind: str | None, stderr: str, decoded_seconds: float, probed_seconds: float | None) -> AudioError | None:
    marker = next((m for m in TRUNCATION_MARKERS if m in stderr), None)
    if marker is None:
        return None
    if marker == "filesize and duration do not match" and (
        probed_seconds is None or decoded_seconds > 0.95 * probed_seconds or probed_seconds - decoded_seconds < 0.5
    ):
        return None  # an MP3 whose frame count header is off, but whose audio is all there
    if probed_seconds is not None and probed_seconds > decoded_seconds + 0.05:
        lengths = f"文件头写明时长约 {_format_seconds(probed_seconds)}，实际只能解码出 {_format_seconds(decoded_seconds)}"
    else:
        lengths = f"文件在 {_format_seconds(decoded_seconds)} 处中断，后面的录音不见了"
    return AudioError(
        f"{src.label} 不完整：{lengths}，文件在保存、复制或上传时被截断了。请重新上传完整的文件，或重新录制。",
        f"{src.path or '<bytes>'}: truncated {kind or 'audio'} ({marker}); decoded {decoded_seconds:.2f}s"
        + (f" of {probed_seconds:.2f}s" if probed_seconds is not None else ""),
    )


def _decode(
    src: _Source,
    kind: str | None,
    ffmpeg: str,
    input_path: Path,
    max_seconds: float,
    probed_seconds: float | None,
    channels: int = 1,
) -> np.ndarray:
    """Decode to 16 kHz s16le with the stream's own channels (mixed down here, see `downmix`: ffmpeg's
    own mix-down cancels channels in opposite phase). Warnings are kept to tell a cut-off file."""
    cmd = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning",
        "-i", str(input_path),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-ac", str(channels), "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1",
    ]  # fmt: skip
    frame_bytes = 2 * channels
    limit = int(max_seconds * SAMPLE_RATE) * frame_bytes  # bytes of s16le; reading stops one piece past it
    buf = bytearray()
    too_long = finished = False
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a chatty decoder cannot block on stderr
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        except OSError as exc:
            raise AudioError(
                f"无法启动 ffmpeg 来解码 {src.label}。{_INSTALL_FFMPEG}。",
                f"cannot start ffmpeg ({ffmpeg}): {exc}",
            ) from exc
        try:
            assert proc.stdout is not None
            while chunk := proc.stdout.read(_FFMPEG_READ_BYTES):
                buf += chunk
                if len(buf) > limit:
                    too_long = True
                    break
            finished = not too_long
        finally:
            if not finished and proc.poll() is None:  # over the limit, or interrupted (Ctrl-C)
                proc.kill()
            if proc.stdout is not None:
                proc.stdout.close()
            returncode = proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    if too_long:
        if probed_seconds is not None and probed_seconds > max_seconds:
            _check_length(src, probed_seconds, max_seconds)
        _check_length(src, len(buf) / (frame_bytes * SAMPLE_RATE), max_seconds, at_least=True)
    if returncode != 0:
        raise _ffmpeg_failure(src, kind, stderr, "ffmpeg")
    usable = len(buf) - len(buf) % frame_bytes
    if (cut := _truncation(src, kind, stderr, usable / (frame_bytes * SAMPLE_RATE), probed_seconds)) is not None:
        raise cut
    samples = np.frombuffer(bytes(buf[:usable]), dtype="<i2").reshape(-1, channels)
    if channels == 1:
        return samples[:, 0].astype(np.int16)
    return _to_int16(downmix(samples.astype(np.float32) / FULL_SCALE))
