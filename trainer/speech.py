"""The simulated customer's lines as audio: offline text-to-speech with espeak-ng, cached as WAV files.

    wav = customer_wav("（客户冷笑一声）连句对不起都没有？", settings)   # bytes, or None: nothing to say

Only the spoken part of a line is synthesised: stage directions in full-width brackets
(（递上客户服务卡）) are shown, never spoken (`trainer.dialogue.spoken_text`). The voice is
`settings.customer_voice` (an espeak-ng voice name, default "cmn" = Mandarin; "off" or ""
turns speech off). Each (voice, speed, text) is synthesised once and kept under
<cache dir>/tts/<sha256>.wav ($TRAINER_CACHE_DIR, else ~/.cache/trainer), written atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from trainer.config import Settings
from trainer.dialogue import spoken_text
from trainer.durable import synced_temp
from trainer.errors import TrainerError
from trainer.evaluation.cache import default_cache_dir

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
SPEED = 150  # words per minute (espeak-ng -s); its default, 175, is hurried for Mandarin
TTS_DIR = "tts"
TIMEOUT_SECONDS = 20.0
OFF = ("", "off", "none", "false", "0")


class SpeechError(TrainerError):
    """The customer's line could not be turned into audio."""


def voice_of(settings: Settings) -> str:
    """The espeak-ng voice to use, "" when speech is turned off."""
    voice = settings.customer_voice.strip()
    return "" if voice.lower() in OFF else voice


@lru_cache(maxsize=1)
def _espeak_version(program: str) -> str:
    try:
        done = subprocess.run([program, "--version"], capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.decode("utf-8", "replace").strip()


@lru_cache(maxsize=1)
def known_voices(program: str) -> frozenset[str]:
    """The voice names espeak-ng accepts (languages like cmn, and voice files like sit/cmn).
    espeak-ng itself falls back to English without a word for an unknown name."""
    try:
        done = subprocess.run([program, "--voices"], capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    names: set[str] = set()
    for row in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
        columns = row.split()
        if len(columns) >= 5:
            names.update((columns[1], columns[4], columns[4].rsplit("/", 1)[-1]))
    return frozenset(names)


def speech_problem(settings: Settings) -> str:
    """Why the customer's lines cannot be heard (Chinese), "" when they can."""
    if not voice_of(settings):
        return "顾客语音已关闭（设置 customer_voice）。"
    program = shutil.which(ESPEAK)
    if program is None:
        return "没有安装 espeak-ng，顾客的话只显示文字。安装方法：sudo apt install espeak-ng（Windows 见 README）。"
    if voice_of(settings) not in known_voices(program):
        return f"espeak-ng 没有语音“{voice_of(settings)}”，顾客的话只显示文字。请把设置 customer_voice 改为 cmn（普通话）。"
    return ""


def cache_path(text: str, voice: str, cache_dir: Path | None = None) -> Path:
    program = shutil.which(ESPEAK) or ESPEAK
    key = hashlib.sha256(f"{_espeak_version(program)}\n{voice}\n{SPEED}\n{text}".encode("utf-8")).hexdigest()
    return (cache_dir or default_cache_dir()) / TTS_DIR / f"{key}.wav"


def synthesize(text: str, voice: str) -> bytes:
    """WAV bytes of `text` spoken by espeak-ng voice `voice`. Raises SpeechError."""
    program = shutil.which(ESPEAK)
    if program is None:
        raise SpeechError("没有安装 espeak-ng，无法朗读顾客的话。请安装 espeak-ng，或关闭顾客语音。", "espeak-ng not found")
    if voice not in known_voices(program):
        raise SpeechError(
            f"espeak-ng 没有语音“{voice}”，无法朗读顾客的话。请把设置 customer_voice 改为 cmn（普通话）。",
            f"unknown espeak-ng voice {voice!r}",
        )
    try:
        done = subprocess.run(
            [program, "-v", voice, "-s", str(SPEED), "--stdout"],
            input=text.encode("utf-8"),  # on stdin: a line starting with "-" is never taken for an option
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SpeechError("朗读顾客的话失败（espeak-ng 无法运行）。", f"espeak-ng failed to run: {exc}") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise SpeechError(
            f"朗读顾客的话失败：espeak-ng 不认识语音“{voice}”或出错了。请检查设置 customer_voice（例如 cmn）。",
            f"espeak-ng -v {voice} exited {done.returncode}: {detail}",
        )
    return _fixed_sizes(done.stdout)


def _fixed_sizes(wav: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back: its RIFF and data sizes are placeholders
    (0x7fffffff). Browsers refuse such files; write the real sizes."""
    data_at = wav.find(b"data", 12)
    if data_at < 0:
        return wav
    size = len(wav) - (data_at + 8)
    return wav[:4] + (len(wav) - 8).to_bytes(4, "little") + wav[8 : data_at + 4] + size.to_bytes(4, "little") + wav[data_at + 8 :]


def customer_wav(line: str, settings: Settings, cache_dir: Path | None = None) -> bytes | None:
    """The spoken part of a customer line as WAV bytes (from the cache when said before); None when
    there is nothing to say (only stage directions, or speech off). Raises SpeechError."""
    text = spoken_text(line)
    voice = voice_of(settings)
    if not text or not voice:
        return None
    path = cache_path(text, voice, cache_dir)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("TTS cache %s unreadable: %s", path, exc)
    wav = synthesize(text, voice)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(synced_temp(path.parent, wav, suffix=".wav"), path)
    except OSError as exc:  # a read-only cache only costs speed
        log.warning("TTS cache %s not written: %s", path, exc)
    return wav
