"""Real-browser check of issue 13 item 7: Markdown in user text is shown as text in Chromium.

A trainee named `![t](http://127.0.0.1:PORT/beacon.png)` must not make the browser fetch that
image, and a review comment `**考试通过 100分** :green[✓]` must not render bold or green. The app
is served by `streamlit run`; a tiny HTTP server on PORT counts requests for the beacon.
"""

from __future__ import annotations

import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app_support import ensure_logged_in, free_port, make_account, stop, wait_for_health
from conftest import require
from test_sessions_support import audio_for, make_record
from trainer.sessions import Review, SessionStore

REPO_ROOT = Path(__file__).resolve().parent.parent
HOME = REPO_ROOT / "trainer" / "app" / "首页.py"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
GREEN = "**考试通过 100分** :green[✓]"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _Beacon(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Beacon.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def beacon():  # type: ignore[no-untyped-def]
    _Beacon.hits = []
    server = http.server.HTTPServer(("127.0.0.1", free_port()), _Beacon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


@pytest.fixture
def served(tmp_path: Path, beacon: int):  # type: ignore[no-untyped-def]
    name = f"![t](http://127.0.0.1:{beacon}/beacon.png)"
    store = SessionStore(tmp_path / "sessions")
    record = store.save(make_record("E1", name), audio_for(make_record()))
    store.add_review(record.id, Review(session_id=record.id, reviewer=f"![r](http://127.0.0.1:{beacon}/reviewer.png)", overall="agree", comment=GREEN))
    make_account(tmp_path / "sessions", "E1", "trainee", name=name)  # the hostile name is the account's
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),  # this checkout's trainer
        "TRAINER_CONFIG": str(config),
        "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions"),
    }
    env.pop("TRAINER_PHRASEBOOK_DIRS", None)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(HOME),
            "--server.headless=true", f"--server.port={port}", "--server.address=localhost",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none", "--client.toolbarMode=viewer",
        ],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_health(port, process)
        yield port, name
    finally:
        stop(process)


def test_names_and_comments_are_text_in_the_browser(served) -> None:  # type: ignore[no-untyped-def]
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed")
    from playwright.sync_api import expect, sync_playwright

    port, name = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
            page.set_default_timeout(60_000)
            page.goto(f"http://localhost:{port}/我的记录")
            ensure_logged_in(page, "E1", name)
            expect(page.get_by_text("教师复核")).to_be_visible()
            page.wait_for_timeout(2000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser_markdown_history.png"), full_page=True)
            shown = page.inner_text("section.stMain" if page.locator("section.stMain").count() else "body").replace("\u2060", "")
            images = page.locator("img[src*='127.0.0.1']").count()
            links = page.locator("a[href*='127.0.0.1']").count()
            bold = page.locator("strong", has_text="考试通过").count()
            colored = page.locator("span", has_text="✓").evaluate_all(
                "els => els.filter(e => getComputedStyle(e).color !== getComputedStyle(e.parentElement).color).length"
            )
        finally:
            browser.close()
    assert f"{name}（E1） 的练习记录" in shown and GREEN in shown  # shown as typed (the joiners are invisible)
    assert _Beacon.hits == [] and images == 0 and links == 0
    assert bold == 0 and colored == 0
