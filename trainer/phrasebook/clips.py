"""Customer lines recorded by the centre's instructors: one clip per line of a scenario.

Clips live in the centre's phrasebook overlay, never in the shipped files:

    <overlay_dir>/customer_lines/<scenario id>/<key>.wav     16 kHz mono WAV

`<key>` is a hash of the line's spoken text (stage directions left out), so a clip stays
attached to its words when the YAML around it changes, and is not used once the words change.
A line the customer says may be two written lines joined (a reaction's line before the next
step's line): `clips_for_line` finds a clip for each part, in order.

Every clip, recorded on the 话术库 page or in the terminal (`trainer phrasebook record-lines`),
goes through `prepare_clip`: the recording is read (any format `load_audio` reads), checked
(a WAV/FLAC header's sample rate and channels, the length, speech present, enough speech for
the line's words) and cut to the speech with a short margin, then `store_clip` writes it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from trainer.audio import Audio, AudioLevels, load_audio, measure_levels, speech_segments
from trainer.dialogue import spoken_text
from trainer.durable import fsync_dir, synced_temp
from trainer.errors import TrainerError
from trainer.phrasebook.model import REACTION_LABELS, Scenario

CLIPS_DIR = "customer_lines"
MAX_CLIP_SECONDS = 30.0
MIN_SAMPLE_RATE = 16000  # below: telephone-band audio, upsampling does not bring the voice back
MAX_CHARS_PER_SECOND = 12.0  # faster than anyone speaks: less speech than this is not the whole line
SLOW_CHARS_PER_SECOND = 1.5  # slower than anyone speaks: probably more than the line was recorded
TRIM_MARGIN_SECONDS = 0.25  # kept around the speech when a clip is cut to it
_WORD_CHARS = re.compile(r"[\u3400-\u9fff0-9A-Za-z]")


class ClipError(TrainerError):
    """A customer-line clip could not be stored or removed."""


@dataclass(frozen=True)
class WrittenLine:
    """A customer line as written in a scenario, with where (Chinese) and its spoken text."""

    where: str  # e.g. 第 2 步“安抚情绪” or “安抚情绪”的反应（说了忌语）
    line: str
    spoken: str


def written_lines(scenario: Scenario) -> list[WrittenLine]:
    """Every line of the scenario that has words to say: the steps' lines, the reactions' lines
    and the extra steps' lines, each spoken text once, in dialogue order."""
    out: list[WrittenLine] = []
    seen: set[str] = set()

    def add(where: str, line: str) -> None:
        spoken = spoken_text(line)
        if spoken and spoken not in seen:
            seen.add(spoken)
            out.append(WrittenLine(where, line, spoken))

    for number, step in enumerate(scenario.steps + scenario.extra_steps, start=1):
        add(f"第 {number} 步“{step.title}”" if not step.extra else f"补救步骤“{step.title}”", step.customer)
        for kind, reaction in step.reactions.items():
            add(f"“{step.title}”的反应（{REACTION_LABELS[kind]}）", reaction.line)
    return out


def _key(spoken: str) -> str:
    return hashlib.sha256(spoken.encode("utf-8")).hexdigest()[:32]


def clip_path(overlay_dir: Path, scenario_id: str, line: str) -> Path:
    return Path(overlay_dir) / CLIPS_DIR / scenario_id / f"{_key(spoken_text(line))}.wav"


def load_clip(overlay_dir: Path, scenario_id: str, line: str) -> bytes | None:
    if not spoken_text(line):
        return None
    try:
        return clip_path(overlay_dir, scenario_id, line).read_bytes()
    except OSError:
        return None


@dataclass(frozen=True)
class PreparedClip:
    """A recording of a customer line, checked and cut to its speech, ready to store."""

    audio: Audio  # 16 kHz mono, cut to the speech (with a margin)
    levels: AudioLevels  # of `audio`
    source: str  # what was given, e.g. WAV 44100 Hz 立体声 3.2 秒 ("" when the header was not read)
    notes: tuple[str, ...]  # conversions done, e.g. 已合成为单声道
    warnings: tuple[str, ...]  # worth a new take: quiet, clipped, noisy, longer than the line needs

    @property
    def seconds(self) -> float:
        return self.audio.duration


def _header(data: bytes, name: str) -> tuple[str, list[str]]:
    """(description, notes) from the header of a file libsndfile reads (WAV, FLAC, Ogg, AIFF);
    ("", []) for other formats (browser WebM, MP3, M4A: ffmpeg decodes those). Raises ClipError
    for a sample rate below 16 kHz or more than two channels."""
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
    except Exception:  # not a libsndfile format, or broken: load_audio gives the precise error
        return "", []
    rate, channels = int(info.samplerate), int(info.channels)
    layout = {1: "单声道", 2: "立体声"}.get(channels, f"{channels} 声道")
    description = f"{info.format} {rate} Hz {layout} {info.duration:.1f} 秒"
    if 0 < rate < MIN_SAMPLE_RATE:
        raise ClipError(
            f"“{name}”的采样率只有 {rate} Hz（电话音质），低于 {MIN_SAMPLE_RATE} Hz，放出来会发闷。"
            f"请用 {MIN_SAMPLE_RATE} Hz 或更高的采样率重新录制（单声道）。",
            f"clip sample rate {rate} Hz below {MIN_SAMPLE_RATE}",
        )
    if channels > 2:
        raise ClipError(
            f"“{name}”有 {channels} 个声道，不是单人的录音。请录成单声道（一个人对着一个麦克风说）。",
            f"clip has {channels} channels",
        )
    notes = []
    if channels == 2:
        notes.append("立体声已合成为单声道")
    if rate != 16000:
        notes.append(f"采样率 {rate} Hz 已转换为 16000 Hz")
    return description, notes


def word_count(line: str) -> int:
    """Characters of the line's spoken text that take time to say (punctuation does not)."""
    return len(_WORD_CHARS.findall(spoken_text(line)))


def trim_to_speech(audio: Audio, margin: float = TRIM_MARGIN_SECONDS) -> Audio:
    """The audio from just before the first speech to just after the last (unchanged without speech)."""
    segments = speech_segments(audio)
    if not segments:
        return audio
    start = max(0, int((segments[0][0] - margin) * audio.sample_rate))
    end = min(len(audio.samples), int((segments[-1][1] + margin) * audio.sample_rate) + 1)
    return Audio(audio.samples[start:end].copy(), audio.sample_rate)


def prepare_clip(line: str, data: bytes, name: str = "录音") -> PreparedClip:
    """Read and check a recording of `line`. Raises ClipError (stage direction only, format, too
    little speech for the line's words) or AudioError (unreadable, too long, no speech)."""
    if not spoken_text(line):
        raise ClipError("这句只有动作说明，没有要说的话，不需要录音。", "clip for a stage direction only")
    source, notes = _header(data, name)
    audio = trim_to_speech(load_audio(data, max_seconds=MAX_CLIP_SECONDS, require_speech=True, name=name))
    levels = measure_levels(audio)
    words = word_count(line)
    shortest = words / MAX_CHARS_PER_SECOND
    if levels.speech_duration < shortest:
        raise ClipError(
            f"“{name}”里只有 {levels.speech_duration:.1f} 秒的说话声，这句台词有 {words} 个字，至少要说 {shortest:.1f} 秒："
            "可能选错了文件、录音被截断，或者没说完整。请听一下录音，重新录制这一句。",
            f"clip speech {levels.speech_duration:.2f}s too short for {words} characters",
        )
    warnings = list(levels.warnings())
    longest = words / SLOW_CHARS_PER_SECOND + 2.0
    if levels.speech_duration > longest:
        warnings.append(
            f"录音里的说话声有 {levels.speech_duration:.1f} 秒，这句台词只有 {words} 个字（通常 {words / 4:.0f} 秒左右）："
            "是不是多录了别的话或选错了文件？"
        )
    return PreparedClip(audio, levels, source, tuple(notes), tuple(warnings))


def store_clip(overlay_dir: Path, scenario_id: str, line: str, clip: PreparedClip) -> Path:
    """Write a prepared clip of `line` as 16 kHz WAV (atomically), replacing an older one."""
    path = clip_path(overlay_dir, scenario_id, line)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(synced_temp(path.parent, clip.audio.to_wav_bytes(), suffix=".wav"), path)
        fsync_dir(path.parent)
    except OSError as exc:
        raise ClipError(f"无法保存客户台词录音到 {path.parent}：{exc.strerror or exc}。请检查本中心话术文件夹的写入权限。", f"clip not saved: {exc}") from exc
    return path


def save_clip(overlay_dir: Path, scenario_id: str, line: str, data: bytes, name: str = "录音") -> Path:
    """Check a recording (any format load_audio reads) of `line` and store it, replacing an older
    one. Raises AudioError (no speech, too long, unreadable) or ClipError."""
    return store_clip(overlay_dir, scenario_id, line, prepare_clip(line, data, name))


def delete_clip(overlay_dir: Path, scenario_id: str, line: str) -> bool:
    try:
        clip_path(overlay_dir, scenario_id, line).unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ClipError(f"无法删除客户台词录音：{exc.strerror or exc}。", f"clip not deleted: {exc}") from exc
    return True


def clips_for_line(overlay_dir: Path, scenario: Scenario, line: str) -> list[bytes]:
    """The recorded clips that together say `line` (one, or one per joined written line, in order);
    [] unless every spoken part has a clip."""
    whole = load_clip(overlay_dir, scenario.id, line)
    if whole is not None:
        return [whole]
    rest = spoken_text(line)
    parts = sorted({w.spoken for w in written_lines(scenario)}, key=len, reverse=True)
    clips: list[bytes] = []
    while rest:
        part = next((p for p in parts if rest.startswith(p)), None)
        clip = load_clip(overlay_dir, scenario.id, part) if part else None
        if part is None or clip is None:
            return []
        clips.append(clip)
        rest = rest[len(part) :]
    return clips
