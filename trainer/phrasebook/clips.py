"""Customer lines recorded by the centre's instructors: one clip per line of a scenario.

Clips live in the centre's phrasebook overlay, never in the shipped files:

    <overlay_dir>/customer_lines/<scenario id>/<key>.wav     16 kHz mono WAV

`<key>` is a hash of the line's spoken text (stage directions left out), so a clip stays
attached to its words when the YAML around it changes, and is not used once the words change.
A line the customer says may be two written lines joined (a reaction's line before the next
step's line): `clips_for_line` finds a clip for each part, in order.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from trainer.audio import load_audio
from trainer.dialogue import spoken_text
from trainer.durable import fsync_dir, synced_temp
from trainer.errors import TrainerError
from trainer.phrasebook.model import REACTION_LABELS, Scenario

CLIPS_DIR = "customer_lines"
MAX_CLIP_SECONDS = 30.0


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


def save_clip(overlay_dir: Path, scenario_id: str, line: str, data: bytes, name: str = "录音") -> Path:
    """Store a recording (any format load_audio reads) of `line` as 16 kHz WAV, replacing an older
    one. Raises AudioError (no speech, too long, unreadable) or ClipError."""
    if not spoken_text(line):
        raise ClipError("这句只有动作说明，没有要说的话，不需要录音。", "clip for a stage direction only")
    audio = load_audio(data, max_seconds=MAX_CLIP_SECONDS, require_speech=True, name=name)
    path = clip_path(overlay_dir, scenario_id, line)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(synced_temp(path.parent, audio.to_wav_bytes(), suffix=".wav"), path)
        fsync_dir(path.parent)
    except OSError as exc:
        raise ClipError(f"无法保存客户台词录音到 {path.parent}：{exc.strerror or exc}。请检查本中心话术文件夹的写入权限。", f"clip not saved: {exc}") from exc
    return path


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
