"""Real browser: the customer's line is heard on the practice page.

After 开始练习 the line of turn 1 (closing_time: "同志，还能办吗？") is said in Chromium:
- with a clip recorded in the terminal (`trainer phrasebook record-lines`), the clip plays to its end;
- headless Chromium has no Chinese speech-synthesis voice, so the server's espeak-ng audio plays,
  and its audio element plays to the end;
- with a Chinese voice (speechSynthesis stubbed in every frame before the page loads), the Web
  Speech API is called with the line's spoken text, stage direction left out.

Setup as in test_browser_mic.py (headless Debian Chromium driven by Playwright, app served by
`streamlit run` on a free localhost port). No autoplay flag is given to Chromium: the click on
开始练习 is the user gesture a trainee makes too.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require
from test_browser_drafts import PAGE_LOAD_MS, open_practice
from test_browser_mic import CHROMIUM, served_app  # noqa: F401  (served_app is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LINE = "同志，还能办吗？"
STAGE = "（下午五点差两分，客户快步走到窗口）"

FAKE_CHINESE_VOICE = """
(() => {
  const voice = {name: 'Test 中文', lang: 'zh-CN', default: true, localService: true, voiceURI: 'test-zh'};
  window.__spoken = [];
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
    getVoices: () => [voice],
    speak: (u) => { window.__spoken.push({text: u.text, voice: u.voice && u.voice.name}); setTimeout(() => u.onend && u.onend(), 50); },
    cancel: () => {},
    addEventListener: () => {},
  }});
})();
"""


def _start(page, port: int):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    open_practice(page, port, "closing_time")
    page.get_by_role("button", name="开始练习").click()
    expect(page.get_by_text(LINE)).to_be_visible(timeout=PAGE_LOAD_MS)
    expect(page.get_by_text(STAGE)).to_be_visible()
    frame = page.frame_locator("iframe").first
    frame.locator("#m").wait_for(state="attached", timeout=PAGE_LOAD_MS)
    return frame


def _launch(pw):  # type: ignore[no-untyped-def]
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM}")
    return pw.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"), headless=True, args=["--no-sandbox"])


def test_without_a_browser_voice_the_servers_audio_plays_to_the_end(served_app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed")
    require(shutil.which("espeak-ng") is not None, "espeak-ng is not installed")
    from playwright.sync_api import expect, sync_playwright

    port, _ = served_app
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            frame = _start(browser.new_page(), port)
            outcome = frame.locator("#a").evaluate(
                """a => new Promise(done => {
                    const report = () => done({ended: a.ended, duration: a.duration, source: document.body.dataset.source});
                    if (a.ended) return report();
                    a.addEventListener('ended', report, {once: true});
                    a.addEventListener('error', () => done({error: String(a.error && a.error.code)}), {once: true});
                    setTimeout(() => done({ended: false, paused: a.paused, time: a.currentTime, source: document.body.dataset.source}), 20000);
                })"""
            )
            assert outcome.get("ended") is True and outcome.get("source") == "server", outcome
            assert 0.5 < outcome["duration"] < 10  # the spoken words only, not the stage direction
            expect(frame.locator("#m")).to_have_text("客户说完了，请作答。")
        finally:
            browser.close()


def test_with_a_chinese_browser_voice_speech_synthesis_says_the_line(served_app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed")
    from playwright.sync_api import expect, sync_playwright

    port, _ = served_app
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            context = browser.new_context()
            context.add_init_script(FAKE_CHINESE_VOICE)  # every frame, the voice's iframe included
            frame = _start(context.new_page(), port)
            expect(frame.locator("#m")).to_have_text("客户说完了，请作答。", timeout=10_000)
            spoken = frame.locator("body").evaluate("() => window.__spoken")
            assert spoken == [{"text": LINE, "voice": "Test 中文"}]
            assert frame.locator("body").evaluate("b => b.dataset.source") == "browser"
            frame.get_by_role("button", name="重听").click()  # replay says it again
            page_spoken = frame.locator("body").evaluate("() => window.__spoken.length")
            assert page_spoken == 2
        finally:
            browser.close()


def test_a_recorded_clip_plays_first_and_to_the_end(served_app, scenarios_audio_dir: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed")
    from playwright.sync_api import expect, sync_playwright

    from trainer.phrasebook.clips import clip_path

    port, sessions_dir = served_app
    overlay = sessions_dir.parent / "phrasebook_overlay"  # the default overlay folder beside the sessions
    clip = scenarios_audio_dir / "dev_reception_full" / "turn02.wav"  # a real voice
    # recorded in the terminal: `trainer phrasebook record-lines` stores it where the page looks
    config = sessions_dir.parent / "record-lines.toml"
    config.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("TRAINER_PHRASEBOOK_OVERLAY_DIR", "TRAINER_PHRASEBOOK_DIRS")}
    env.update(TRAINER_CONFIG=str(config), TRAINER_SESSIONS_DIR=str(sessions_dir), PYTHONIOENCODING="utf-8")
    recorded = subprocess.run(  # line 1 of closing_time (`--list`): the stage direction, then LINE
        [sys.executable, "-m", "trainer", "phrasebook", "record-lines", "closing_time", "--line", "1", "--input-file", str(clip), "--yes", "--no-playback"],
        cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True, timeout=60,
    )
    assert recorded.returncode == 0 and "保存 1 句" in recorded.stdout, recorded.stdout + recorded.stderr
    assert clip_path(overlay, "closing_time", STAGE + LINE).is_file()
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            context = browser.new_context()
            context.add_init_script(FAKE_CHINESE_VOICE)  # a browser voice is there, but the clip comes first
            frame = _start(context.new_page(), port)
            outcome = frame.locator("#a").evaluate(
                """a => new Promise(done => {
                    const check = () => document.body.dataset.ended === '1'
                        ? done({ended: true, source: document.body.dataset.source, duration: a.duration}) : setTimeout(check, 100);
                    setTimeout(() => done({ended: false, source: document.body.dataset.source, time: a.currentTime}), 20000);
                    check();
                })"""
            )
            assert outcome == {"ended": True, "source": "clip", "duration": pytest.approx(outcome["duration"])}, outcome
            assert outcome["duration"] > 0.5
            assert frame.locator("body").evaluate("() => window.__spoken") == []  # speech synthesis not used
            expect(frame.locator("#m")).to_have_text("客户说完了，请作答。")
        finally:
            browser.close()
