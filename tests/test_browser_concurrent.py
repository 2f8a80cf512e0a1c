"""Real-browser smoke test: three Chromium contexts practise at once on one app server.

One `streamlit run` server (this checkout's trainer package), one headless Chromium whose
fake microphone plays a shared recording, three browser contexts (three trainee accounts, each
logged in through the login form: separate cookies and Streamlit sessions). All three record turn 1 at the same time, then upload a
different second answer at the same time; each page must show its own trainee and its own
feedback, and each trainee's session must be saved with its own answers. The server runs one
recognition worker so that the recordings queue: at least one page must show 前面还有 N 人.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from app_support import browser_login, fake_mic_args, make_account, serve_app, stop, wav_seconds
from conftest import require
from trainer.sessions import SessionStore
from trainer.text.cer import cer

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
TRAINEES = [("E3001", "赵一"), ("E3002", "钱二"), ("E3003", "孙三")]
SECOND_ANSWERS = ["turn02.wav", "turn03.wav", "turn04.wav"]  # one different answer per trainee

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Records, in the page, whether the queue notice was ever shown (it is replaced within seconds).
WATCH_QUEUE = """
window.__sawQueue = false;
new MutationObserver(() => {
  if (document.body && document.body.innerText.includes('前面还有')) window.__sawQueue = true;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


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
        "TRAINER_ASR_WORKERS": "1",
    }
    env.pop("TRAINER_PHRASEBOOK_DIRS", None)
    for trainee_id, name in TRAINEES:
        make_account(tmp_path / "sessions", trainee_id, "trainee", "城东营业厅", name=name)
    process, port = serve_app(tmp_path, env)  # this checkout's trainer package
    try:
        yield f"http://localhost:{port}", tmp_path / "sessions"
    finally:
        stop(process)


def open_practice(context, base_url: str, trainee_id: str, name: str):  # type: ignore[no-untyped-def]
    """A page on the practice page, logged in as this trainee, payment scenario chosen: the one
    place that knows how a trainee reaches the page."""
    from playwright.sync_api import expect

    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{base_url}/练习?scenario=payment")
    browser_login(page, base_url, trainee_id)
    expect(page.get_by_text(f"当前用户：{name}（{trainee_id}） · 学员")).to_be_visible()
    page.get_by_role("button", name="开始练习").click()
    expect(page.get_by_test_id("stAudioInput")).to_be_visible()
    return page


def test_three_trainees_practise_at_once(served_app, scenarios_audio_dir: Path) -> None:  # type: ignore[no-untyped-def]
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed (pip install playwright)")
    from playwright.sync_api import expect, sync_playwright

    base_url, sessions_dir = served_app
    performance = scenarios_audio_dir / "dev_payment_full"
    labels = {t["file"]: t["text"] for t in json.loads((performance / "labels.json").read_text(encoding="utf-8"))["turns"]}
    recording = performance / "turn01.wav"  # 您好！
    seconds = wav_seconds(recording)
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=120_000)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            headless=True,
            args=fake_mic_args(recording),
        )
        try:
            contexts = [browser.new_context(viewport={"width": 1280, "height": 1400}, locale="zh-CN") for _ in TRAINEES]
            for context in contexts:
                context.add_init_script(WATCH_QUEUE)
            pages = [open_practice(c, base_url, tid, name) for c, (tid, name) in zip(contexts, TRAINEES)]

            # turn 1: all three record through the fake microphone at once
            for page in pages:
                page.get_by_test_id("stAudioInput").get_by_role("button", name="Record", exact=True).click()
            for page in pages:
                expect(page.get_by_test_id("stAudioInput").get_by_role("button", name="Stop recording")).to_be_visible()
            pages[0].wait_for_timeout(int((seconds + 0.6) * 1000))
            for page in pages:
                page.get_by_test_id("stAudioInput").get_by_role("button", name="Stop recording").click()
            for page in pages:
                expect(page.get_by_text("第 2 轮（共 10 轮）")).to_be_visible()
                expect(page.locator("mark.hl-hit").first).to_be_visible()

            # turn 2: three different answers uploaded at once
            for page, answer in zip(pages, SECOND_ANSWERS):
                page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(performance / answer))
            for page in pages:
                expect(page.get_by_text("第 3 轮（共 10 轮）")).to_be_visible()
            saw_queue = [page.evaluate("window.__sawQueue") for page in pages]
            for i, page in enumerate(pages):
                page.screenshot(path=str(ARTIFACTS / f"browser_concurrent_{i + 1}.png"), full_page=True)

            for page, (tid, name) in zip(pages, TRAINEES):
                expect(page.get_by_text(f"当前用户：{name}（{tid}） · 学员")).to_be_visible()
                page.get_by_role("button", name="提前结束并评分").click()
            for page in pages:
                expect(page.get_by_text("练习已保存")).to_be_visible()
        finally:
            browser.close()

    assert any(saw_queue), "no page showed its place in the queue (前面还有 N 人) although one worker served three trainees"
    store = SessionStore(sessions_dir)
    records = {r.trainee_id: r for r in (store.load(s.id) for s in store.list())}
    assert sorted(records) == sorted(tid for tid, _ in TRAINEES)
    for (tid, name), answer in zip(TRAINEES, SECOND_ANSWERS):
        record = records[tid]
        assert record.trainee_name == name and len(record.turns) == 2
        greet = next(s for s in record.steps if s["id"] == "greet")
        assert greet["status"] == "hit" and greet["turn"] == 1
        # its own second answer, not a neighbour's: the stored audio is the uploaded file, the transcript its words
        assert record.turns[1].audio_sha256 == hashlib.sha256((performance / answer).read_bytes()).hexdigest()
        heard = record.turns[1].transcript["text"]
        assert cer(labels[answer], heard) <= 0.5, (tid, answer, heard)
        others = [labels[a] for a in SECOND_ANSWERS if a != answer]
        assert all(cer(labels[answer], heard) < cer(other, heard) for other in others), (tid, heard)
