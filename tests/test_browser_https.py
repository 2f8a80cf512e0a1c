"""HTTPS in the training room, in a real browser: the LAN case, without leaving this machine.

Chromium maps the name `training.test` to 127.0.0.1 (`--host-resolver-rules`), so the page is *not* on
localhost/127.0.0.1 (which browsers treat as secure even over http) but on a name, as a trainee's PC
sees the server. Then:

- `http://training.test:PORT` (`trainer app`): not a secure context, `navigator.mediaDevices` is
  undefined, and the record button fails instead of recording;
- `https://training.test:PORT` (`trainer app --https`, certificate from `trainer tls init --host
  training.test`): a secure context, and a fake-microphone answer is recorded, recognised (whisper-base),
  scored and stored.

How the CA is trusted: `ca.crt` is imported, as a trusted CA ("C,,"), into an NSS database in a temporary
HOME (`certutil` from Debian's libnss3-tools; Chromium on Linux reads `$HOME/.pki/nssdb`). No
certificate-error flag is passed, so Chromium validates the real chain server.crt → ca.crt, including
the name. The control: the same server in a Chromium whose NSS database lacks the CA fails with
ERR_CERT_AUTHORITY_INVALID.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app_support import ensure_logged_in, fake_mic_args, free_port, make_account, record_with_fake_mic, stop, wav_seconds
from conftest import require
from trainer.audio import load_audio
from trainer.sessions import SessionStore

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
HOST = "training.test"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_practice_page(page, base_url: str, scenario: str = "payment") -> None:  # type: ignore[no-untyped-def]
    """Reach the practice page of `scenario` as trainee 张三 (E1024), ready to start.
    The one place that knows how a trainee gets there: the login (the app_env fixture made the account)."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/练习?scenario={scenario}")
    ensure_logged_in(page, "E1024", "张三")
    expect(page.get_by_text("柜台收费（收费六步 · 唱收唱付）").first).to_be_visible()


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    require(path is not None, f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed (pip install playwright)")
    return str(path)


def _trainer(*args: str) -> list[str]:
    return [sys.executable, "-m", "trainer", *args]


@pytest.fixture
def app_env(tmp_path: Path, whisper_model_dir: Path) -> dict[str, str]:
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),  # this checkout's trainer, whatever is installed
        "TRAINER_CONFIG": str(config),
        "TRAINER_ENGINE": "whisper",
        "TRAINER_WHISPER_MODEL": str(whisper_model_dir),
        "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions"),
    }
    env.pop("TRAINER_PHRASEBOOK_DIRS", None)
    env.pop("TRAINER_TLS_DIR", None)
    make_account(tmp_path / "sessions", "E1024", "trainee", "城东营业厅", name="张三")
    return env


@pytest.fixture
def tls_dir(tmp_path: Path, app_env: dict[str, str]) -> Path:
    folder = tmp_path / "tls"
    subprocess.run(_trainer("tls", "init", "--dir", str(folder), "--host", HOST), env=app_env, check=True, capture_output=True)
    return folder


def _nss_home(home: Path, ca_cert: Path | None) -> Path:
    """A HOME whose NSS database (what Chromium on Linux trusts besides its root store) holds `ca_cert`."""
    certutil = shutil.which("certutil")
    require(certutil is not None, "certutil not found (apt-get install libnss3-tools)")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run([certutil, "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, capture_output=True)
    if ca_cert is not None:
        subprocess.run([certutil, "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "trainer-test-ca", "-i", str(ca_cert)], check=True, capture_output=True)
        listed = subprocess.run([certutil, "-d", f"sql:{nssdb}", "-L"], check=True, capture_output=True, text=True).stdout
        assert "trainer-test-ca" in listed
    return home


def _serve(command: list[str], env: dict[str, str], cwd: Path, health_url: str, context: ssl.SSLContext | None) -> subprocess.Popen:  # type: ignore[type-arg]
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{command} exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(health_url, timeout=2, context=context) as response:
                if response.read().strip() == b"ok":
                    return process
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    stop(process)
    raise AssertionError(f"{health_url} did not answer within 60 s")


@pytest.fixture
def https_app(tmp_path: Path, app_env: dict[str, str], tls_dir: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    command = _trainer("app", "--https", "--tls-dir", str(tls_dir), "--address", "127.0.0.1", "--port", str(port), "--no-fetch")
    context = ssl.create_default_context(cafile=str(tls_dir / "ca.crt"))
    process = _serve(command, app_env, tmp_path, f"https://localhost:{port}/_stcore/health", context)
    try:
        yield port, tmp_path / "sessions"
    finally:
        stop(process)


@pytest.fixture
def http_app(tmp_path: Path, app_env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    command = _trainer("app", "--address", "127.0.0.1", "--port", str(port), "--no-fetch")
    make_account(tmp_path / "http-sessions", "E1024", "trainee", "城东营业厅", name="张三")
    process = _serve(command, {**app_env, "TRAINER_SESSIONS_DIR": str(tmp_path / "http-sessions")}, tmp_path, f"http://localhost:{port}/_stcore/health", None)
    try:
        yield port
    finally:
        stop(process)


def _launch(pw, chromium: str, home: Path, recording: Path):  # type: ignore[no-untyped-def]
    return pw.chromium.launch(
        executable_path=chromium,
        headless=True,
        env={**os.environ, "HOME": str(home)},
        args=[f"--host-resolver-rules=MAP {HOST} 127.0.0.1", *fake_mic_args(recording)],
    )


def test_recording_needs_https_on_the_lan_and_works_with_the_generated_ca(
    tmp_path: Path, tls_dir: Path, https_app: tuple[int, Path], http_app: int, scenarios_audio_dir: Path
) -> None:
    chromium = _chromium()
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright

    https_port, sessions_dir = https_app
    recording = scenarios_audio_dir / "dev_payment_full" / "turn01.wav"  # 您好！
    seconds = wav_seconds(recording)
    ARTIFACTS.mkdir(exist_ok=True)
    trusted_home = _nss_home(tmp_path / "home-with-ca", tls_dir / "ca.crt")
    bare_home = _nss_home(tmp_path / "home-without-ca", None)

    with sync_playwright() as pw:
        # control: without the CA the server's certificate is not trusted
        browser = _launch(pw, chromium, bare_home, recording)
        try:
            page = browser.new_page()
            with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
                page.goto(f"https://{HOST}:{https_port}/")
        finally:
            browser.close()

        browser = _launch(pw, chromium, trusted_home, recording)
        try:
            # plain http under a LAN name: no microphone
            page = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
            page.set_default_timeout(60_000)
            open_practice_page(page, f"http://{HOST}:{http_app}")
            assert page.evaluate("window.isSecureContext") is False
            assert page.evaluate("typeof navigator.mediaDevices") == "undefined"
            page.get_by_role("button", name="开始练习").click()
            widget = page.get_by_test_id("stAudioInput")
            expect(widget).to_be_visible()
            expect(page.get_by_text("浏览器不允许在这里使用麦克风")).to_be_visible()  # the page says why, in Chinese
            widget.get_by_role("button", name="Record", exact=True).click()
            expect(widget.get_by_text("An error has occurred")).to_be_visible()
            expect(widget.get_by_role("button", name="Stop recording")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "browser_http_lan_refused.png"), full_page=True)
            page.close()

            # https with the generated certificate: recorded, recognised, scored, stored
            page = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
            page.set_default_timeout(60_000)
            open_practice_page(page, f"https://{HOST}:{https_port}")
            assert page.url.startswith(f"https://{HOST}:{https_port}/")
            assert page.evaluate("window.isSecureContext") is True
            assert page.evaluate("typeof navigator.mediaDevices.getUserMedia") == "function"
            page.get_by_role("button", name="开始练习").click()
            record_with_fake_mic(page, seconds)
            expect(page.locator("mark.hl-hit").first).to_be_visible(timeout=90_000)
            expect(page.get_by_text("识别和评分用时")).to_be_visible()
            expect(page.get_by_text("浏览器不允许在这里使用麦克风")).to_have_count(0)
            page.get_by_role("button", name="提前结束并评分").click()
            expect(page.get_by_text("练习已保存")).to_be_visible(timeout=60_000)
            expect(page.get_by_test_id("stMetric").first).to_contain_text("总分")
            page.screenshot(path=str(ARTIFACTS / "browser_https_lan_scored.png"), full_page=True)

            # the 证书 page hands out ca.crt (what a trainee's PC downloads before installing it)
            page.goto(f"https://{HOST}:{https_port}/证书")
            with page.expect_download() as download_info:
                page.get_by_role("button", name="下载根证书 ca.crt").click()
            download = download_info.value
            assert download.suggested_filename == "ca.crt"
            assert Path(download.path()).read_bytes() == (tls_dir / "ca.crt").read_bytes()
        finally:
            browser.close()

    store = SessionStore(sessions_dir)
    [summary] = store.list()
    record = store.load(summary.id)
    audio = load_audio(store.audio_path(record.id, 1), require_speech=True)  # real speech, not the silence of a wrong path
    assert abs(audio.duration - seconds) < 2.0
    greet = next(s for s in record.steps if s["id"] == "greet")
    assert greet["status"] == "hit" and greet["turn"] == 1
    assert not (tmp_path / "http-sessions").exists() or not SessionStore(tmp_path / "http-sessions").list()
