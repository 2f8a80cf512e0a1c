"""Real browser: the customer's line is heard on the practice page. After 开始练习 the line of
turn 1 (closing_time: "同志，还能办吗？", spoken by espeak-ng on the server) autoplays in Chromium
and its audio element plays to the end; the stage direction before it is shown, not spoken.

Setup as in test_browser_mic.py (headless Debian Chromium driven by Playwright, app served by
`streamlit run` on a free localhost port). No autoplay flag is given to Chromium: the click on
开始练习 is the user gesture a trainee makes too.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from conftest import require
from test_browser_drafts import PAGE_LOAD_MS, open_practice
from test_browser_mic import CHROMIUM, served_app  # noqa: F401  (served_app is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_customers_line_autoplays_to_the_end(served_app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed")
    require(shutil.which("espeak-ng") is not None, "espeak-ng is not installed")
    from playwright.sync_api import expect, sync_playwright

    port, _ = served_app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox"],
        )
        try:
            page = browser.new_page()
            open_practice(page, port, "closing_time")
            page.get_by_role("button", name="开始练习").click()
            expect(page.get_by_text("同志，还能办吗？")).to_be_visible(timeout=PAGE_LOAD_MS)
            expect(page.get_by_text("（下午五点差两分，客户快步走到窗口）")).to_be_visible()
            player = page.locator("audio").first
            player.wait_for(state="attached", timeout=PAGE_LOAD_MS)
            assert player.evaluate("a => a.autoplay") is True
            outcome = player.evaluate(
                """a => new Promise(done => {
                    if (a.ended) return done({ended: true, duration: a.duration});
                    a.addEventListener('ended', () => done({ended: true, duration: a.duration}), {once: true});
                    a.addEventListener('error', () => done({ended: false, error: String(a.error && a.error.code)}), {once: true});
                    setTimeout(() => done({ended: false, paused: a.paused, time: a.currentTime}), 20000);
                })"""
            )
            assert outcome.get("ended") is True, outcome
            assert 0.5 < outcome["duration"] < 10  # the spoken words only, not the stage direction
        finally:
            browser.close()
