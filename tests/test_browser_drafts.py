"""Real browser: a practice turn recorded through Chromium's fake microphone survives a reload and a
closed tab (the run is kept on the server and resumed), with its audio playable again.

Setup as in test_browser_mic.py (headless Debian Chromium driven by Playwright, app served by
`streamlit run` on a free localhost port; ../shared/notes/browser-mic-test.md).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from app_support import ensure_logged_in, fake_mic_args, record_with_fake_mic, wav_seconds
from conftest import require
from test_browser_mic import CHROMIUM, served_app  # noqa: F401  (served_app is a fixture)
from trainer.sessions.drafts import DraftStore, drafts_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
TRAINEE = ("张三", "E1024")
PAGE_LOAD_MS = 60_000  # a page's first run on a busy 2-core machine (the phrase library loads)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_practice(page, port: int, scenario: str = "payment") -> None:  # type: ignore[no-untyped-def]
    """Bring `page` to the practice page as TRAINEE (an account made by the served_app fixture): the one
    place that says how a user gets there. A tab of a browser that is logged in already (the login
    cookie) skips the form."""
    page.goto(f"http://localhost:{port}/练习?scenario={scenario}")
    name, trainee_id = TRAINEE
    ensure_logged_in(page, trainee_id, name, timeout_ms=PAGE_LOAD_MS)


def _record(page, seconds: float) -> None:  # type: ignore[no-untyped-def]
    record_with_fake_mic(page, seconds, timeout_ms=PAGE_LOAD_MS)


def _audio_seconds(page) -> float:  # type: ignore[no-untyped-def]
    """The duration the browser decoded from the first audio player on the page (0 when unplayable)."""
    player = page.locator("audio").first
    player.wait_for(state="attached")
    return float(
        player.evaluate(
            """a => new Promise(done => {
                if (a.readyState >= 1) return done(a.duration);
                a.addEventListener('loadedmetadata', () => done(a.duration), {once: true});
                a.addEventListener('error', () => done(0), {once: true});
                a.load();
            })"""
        )
    )


def test_a_recorded_turn_survives_a_reload_and_a_closed_tab(served_app, scenarios_audio_dir: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed (pip install playwright)")
    from playwright.sync_api import expect, sync_playwright

    port, sessions_dir = served_app
    recording = scenarios_audio_dir / "dev_payment_full" / "turn01.wav"  # 您好！
    seconds = wav_seconds(recording)
    ARTIFACTS.mkdir(exist_ok=True)
    drafts = DraftStore(drafts_dir(sessions_dir))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            headless=True,
            args=fake_mic_args(recording),
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
            context.set_default_timeout(60_000)
            page = context.new_page()
            open_practice(page, port)
            expect(page.get_by_role("button", name="开始练习")).to_be_enabled(timeout=PAGE_LOAD_MS)
            page.get_by_role("button", name="开始练习").click()
            _record(page, seconds)
            expect(page.locator("mark.hl-hit").first).to_be_visible(timeout=90_000)
            expect(page.get_by_text("识别和评分用时")).to_be_visible()
            said = page.locator("mark.hl-hit").first.inner_text()

            # F5: a new Streamlit session; the run is offered and resumed as it was
            page.reload()
            notice = page.get_by_text("你有一次未完成的练习：柜台收费（收费六步 · 唱收唱付），已答 1/10 轮")
            expect(notice).to_be_visible(timeout=PAGE_LOAD_MS)
            page.screenshot(path=str(ARTIFACTS / "browser_draft_notice.png"), full_page=True)
            page.get_by_role("button", name="继续", exact=True).click()
            expect(page.locator("mark.hl-hit").first).to_have_text(said, timeout=PAGE_LOAD_MS)
            expect(page.get_by_text("第 2 轮（共 10 轮）")).to_be_visible()
            expect(page.get_by_text("识别和评分用时")).to_be_visible()
            assert abs(_audio_seconds(page) - seconds) < 1.0  # the recording plays again
            page.screenshot(path=str(ARTIFACTS / "browser_draft_resumed.png"), full_page=True)

            # the tab is closed; a new tab of the same trainee is offered the same run
            page.close()
            page = context.new_page()
            open_practice(page, port)
            expect(page.get_by_text("已答 1/10 轮")).to_be_visible(timeout=PAGE_LOAD_MS)
            page.get_by_role("button", name="继续", exact=True).click()
            expect(page.locator("mark.hl-hit").first).to_have_text(said, timeout=PAGE_LOAD_MS)

            page.get_by_role("button", name="提前结束并评分").click()
            expect(page.get_by_text("练习已保存")).to_be_visible(timeout=60_000)
        finally:
            browser.close()

    assert drafts.load(TRAINEE[1]) is None  # finishing removed the draft
