"""One real-browser test: headless Debian Chromium, its fake microphone playing a shared recording,
`st.audio_input` on the practice page, and a score on the page.

Chromium is driven by Playwright's Python package with executable_path (no browser download).
The app is served by `streamlit run` on a free localhost port. A screenshot is saved to
test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from app_support import browser_login, fake_mic_args, make_account, record_with_fake_mic, serve_app, stop, wav_seconds
from conftest import require
from trainer.audio import load_audio
from trainer.sessions import SessionStore

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served_app(tmp_path: Path, whisper_model_dir: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "TRAINER_CONFIG": str(config),
        "TRAINER_ENGINE": "whisper",
        "TRAINER_WHISPER_MODEL": str(whisper_model_dir),
        "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions"),
        # this checkout's `trainer`, not whichever one an editable install points at
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    env.pop("TRAINER_PHRASEBOOK_DIRS", None)
    make_account(tmp_path / "sessions", "E1024", "trainee", "城东营业厅", name="张三")
    process, port = serve_app(tmp_path, env)
    try:
        yield port, tmp_path / "sessions"
    finally:
        stop(process)


def test_fake_microphone_answer_is_scored_in_the_browser(served_app, scenarios_audio_dir: Path) -> None:  # type: ignore[no-untyped-def]
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed (pip install playwright)")
    from playwright.sync_api import expect, sync_playwright

    port, sessions_dir = served_app
    recording = scenarios_audio_dir / "dev_payment_full" / "turn01.wav"  # 您好！
    seconds = wav_seconds(recording)
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "browser_mic_practice.png"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            headless=True,
            args=fake_mic_args(recording),
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
            page.set_default_timeout(60_000)
            page.goto(f"http://localhost:{port}/练习?scenario=payment")
            browser_login(page, f"http://localhost:{port}", "E1024")  # the trainee is the logged-in account
            expect(page.get_by_text("当前用户：张三（E1024） · 学员")).to_be_visible()
            expect(page.get_by_text("柜台收费（收费六步 · 唱收唱付）").first).to_be_visible()
            page.get_by_role("button", name="开始练习").click()

            record_with_fake_mic(page, seconds)

            # the turn is recognised and scored: highlighted step and timing line
            expect(page.locator("mark.hl-hit").first).to_be_visible(timeout=90_000)
            expect(page.get_by_text("识别和评分用时")).to_be_visible()
            page.screenshot(path=str(screenshot), full_page=True)

            page.get_by_role("button", name="提前结束并评分").click()
            expect(page.get_by_text("练习已保存")).to_be_visible(timeout=60_000)
            expect(page.get_by_test_id("stMetric").first).to_contain_text("总分")
            page.screenshot(path=str(ARTIFACTS / "browser_mic_final.png"), full_page=True)
        finally:
            browser.close()

    # what the browser recorded went through st.audio_input and was stored as recorded: real speech
    store = SessionStore(sessions_dir)
    [summary] = store.list()
    assert summary.trainee_id == "E1024" and summary.trainee_name == "张三"
    record = store.load(summary.id)
    audio = load_audio(store.audio_path(record.id, 1), require_speech=True)
    assert abs(audio.duration - seconds) < 2.0
    greet = next(s for s in record.steps if s["id"] == "greet")
    assert greet["status"] == "hit" and greet["turn"] == 1
    assert screenshot.stat().st_size > 10_000
