"""The customer's lines as audio: espeak-ng synthesis (cached, stage directions never spoken) and
the terminal voice that falls back to text when it cannot play."""

from __future__ import annotations

import dataclasses
import io
import shutil
import wave
from pathlib import Path

import pytest

from trainer import speech
from trainer.config import Settings
from trainer.practice.voice import TerminalVoice
from trainer.speech import SpeechError, customer_wav, speech_problem

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture()
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("TRAINER_CACHE_DIR", str(tmp_path))
    return tmp_path


@needs_espeak
def test_a_line_is_synthesised_once_and_then_served_from_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = customer_wav("（客户冷笑一声）连句对不起都没有？", Settings())
    assert wav is not None
    with wave.open(io.BytesIO(wav)) as reader:  # real sizes in the header (browsers refuse placeholders)
        frames = reader.getnframes()
        assert reader.getsampwidth() == 2 and frames * 2 == len(wav) - 44
        assert frames / reader.getframerate() > 0.5
    assert len(list((cache / "tts").glob("*.wav"))) == 1

    def fail(text: str, voice: str) -> bytes:
        raise AssertionError("synthesised again")

    monkeypatch.setattr(speech, "synthesize", fail)
    assert customer_wav("（换个动作）连句对不起都没有？", Settings()) == wav  # only the spoken part counts


@needs_espeak
def test_stage_directions_are_never_spoken(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(speech, "synthesize", lambda text, voice: said.append(text) or b"RIFF")
    assert customer_wav("（递上客户服务卡）", Settings()) is None
    customer_wav("户号在卡上，给你。（递上客户服务卡）", Settings())
    assert said == ["户号在卡上，给你。"]


def test_voice_off_says_nothing(cache: Path) -> None:
    settings = Settings(customer_voice="off")
    assert customer_wav("你好。", settings) is None
    assert "关闭" in speech_problem(settings)


@needs_espeak
def test_an_unknown_voice_is_a_chinese_error(cache: Path) -> None:
    with pytest.raises(SpeechError) as info:
        customer_wav("你好。", Settings(customer_voice="no-such-voice"))
    assert "customer_voice" in info.value.user_message


def test_missing_espeak_is_reported_once_and_practice_goes_on(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    voice = TerminalVoice(Settings(), play=lambda wav: pytest.fail("nothing to play"))
    first = voice.say("你好。")
    assert "espeak-ng" in first
    assert voice.say("再见。") == ""  # reported once


@needs_espeak
def test_the_terminal_voice_plays_the_line_and_survives_a_missing_device(cache: Path) -> None:
    played: list[bytes] = []
    voice = TerminalVoice(Settings(), play=played.append)
    assert voice.say("你这什么态度！") == "" and len(played) == 1 and played[0].startswith(b"RIFF")
    assert voice.say("（客户走来）") == "" and len(played) == 1  # nothing to say

    def no_device(wav: bytes) -> None:
        raise OSError("PortAudio: no default output device")

    broken = TerminalVoice(Settings(), play=no_device)
    assert "扬声器" in broken.say("你好。")
    assert broken.say("再见。") == ""


def test_customer_voice_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from trainer.config import load_settings

    monkeypatch.chdir(tmp_path)
    assert load_settings({}).customer_voice == "cmn"
    assert load_settings({"TRAINER_CUSTOMER_VOICE": "off"}).customer_voice == "off"
    assert dataclasses.replace(Settings(), customer_voice="yue").customer_voice == "yue"
