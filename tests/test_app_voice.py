"""The element that says the customer's line in the browser (trainer.app.voice): its configuration.
What it does in a real browser is checked in test_browser_customer_voice.py."""

from __future__ import annotations

import base64
import json
import re

from trainer.app import services
from trainer.app.voice import customer_voice_html
from trainer.config import Settings


def config_of(html: str) -> dict:
    match = re.search(r"const c=(\{.*?\});", html)
    assert match is not None
    return json.loads(match.group(1))


def test_practice_element_has_a_replay_button_and_the_server_audio() -> None:
    wav = b"RIFF\x00\x01fake"
    html = customer_voice_html("同志，还能办吗？", wav, "run-1-greet", once=False)
    assert f"data:audio/wav;base64,{base64.b64encode(wav).decode()}" in html
    assert '<button id="b"' in html and "重听" in html and "controls" not in html
    config = config_of(html)
    assert config == {"clips": [], "text": "同志，还能办吗？", "key": "trainer-said-run-1-greet", "once": False, "wanted": "", "browser": True}


def test_exam_element_plays_once() -> None:
    html = customer_voice_html("那要等多久？", b"RIFF", "exam-1-2", once=True)
    assert '<button id="b"' not in html and config_of(html)["once"] is True  # no 重听 button
    assert "sessionStorage" in html  # a page rerun does not say it again


def test_browser_voice_setting() -> None:
    assert config_of(customer_voice_html("你好", None, "k", once=False, browser_voice="Microsoft Xiaoxiao"))["wanted"] == "Microsoft Xiaoxiao"
    off = config_of(customer_voice_html("你好", b"RIFF", "k", once=False, browser_voice="off"))
    assert off["browser"] is False
    assert "src=" not in customer_voice_html("你好", None, "k", once=False).split("<script>")[0]  # no server audio


def test_stage_directions_are_not_passed_to_the_voice(monkeypatch) -> None:
    monkeypatch.setenv("TRAINER_CACHE_DIR", "/nonexistent-cache-for-test")
    settings = Settings(customer_voice="off")  # no server audio: only the browser's voice
    html, problem = services.customer_voice("（递上客户服务卡）户号在卡上，给你。", settings, "k", once=False)
    assert config_of(html)["text"] == "户号在卡上，给你。" and problem == ""
    assert services.customer_voice("（递上客户服务卡）", settings, "k", once=False) == ("", "")
    quiet = Settings(customer_voice="off", browser_voice="off")
    assert services.customer_voice("你好。", quiet, "k", once=False) == ("", "")
