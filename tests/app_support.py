"""Helpers for the web-app tests: AppTest page text, silent recordings, serving on localhost (no tests here)."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
import wave

import numpy as np


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(port: int, process: subprocess.Popen, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the app did not answer on port {port} within {seconds:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def visible(text: object) -> str:
    """Markdown source as a reader sees it: backslash escapes resolved, word joiners dropped
    (user text is escaped with trainer.app.markup.md)."""
    return _MD_ESCAPE.sub(r"\1", str(text)).replace("\u2060", "")


def page_source(at) -> str:  # type: ignore[no-untyped-def]
    """All the Markdown an AppTest page shows (markdown, captions, alerts, plain text), one block, as sent."""
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.info]
    parts += [e.value for e in at.success] + [e.value for e in at.warning] + [e.value for e in at.error]
    parts += [e.value for e in at.text]
    return "\n".join(str(p) for p in parts)


def page_text(at) -> str:  # type: ignore[no-untyped-def]
    """All the text an AppTest page shows, as a reader sees it (see `visible`)."""
    return visible(page_source(at))


def no_exception(at) -> None:  # type: ignore[no-untyped-def]
    assert not at.exception, [e.value for e in at.exception]


def silence_wav(seconds: float = 1.5) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(np.zeros(int(16000 * seconds), dtype="<i2").tobytes())
    return buf.getvalue()


# --------------------------------------------------------------------------- accounts

TEST_PASSWORD = "test-pass-2026"


def make_account(sessions_dir, user_id: str, role: str = "trainee", groups: str = "", name: str = "张三",  # type: ignore[no-untyped-def]
                 password: str = TEST_PASSWORD, must_change: bool = False):
    """An account in the sessions folder's database (password already changed unless `must_change`)."""
    from trainer.accounts import SqliteAccountStore, create_account, new_account
    from trainer.accounts.passwords import hash_password

    store = SqliteAccountStore(sessions_dir / "index.sqlite3")
    create_account(store, new_account(user_id, name, role, groups), password)
    store.set_password(user_id, hash_password(password), must_change=must_change)
    return store.get(user_id)


def log_in(at, sessions_dir, user_id: str) -> None:  # type: ignore[no-untyped-def]
    """Log `user_id` in to the AppTest `at` as the login form does: a new login session whose token the
    browser session holds."""
    from trainer.accounts import LoginPolicy, SqliteAccountStore, start_session

    store = SqliteAccountStore(sessions_dir / "index.sqlite3")
    account = store.get(user_id)
    assert account is not None, f"no account {user_id}"
    at.session_state["auth_token"] = start_session(store, account, LoginPolicy())
    at.session_state["auth_method"] = "password"


def serve_app(cwd, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """`streamlit run` the app (首页.py) on a free localhost port: (process, port). Stop it with `stop`."""
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    home = repo / "trainer" / "app" / "首页.py"
    # this checkout's `trainer`, not an installed copy
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(repo), env.get("PYTHONPATH", "")) if p)}
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(home),
            "--server.headless=true", f"--server.port={port}", "--server.address=localhost",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none", "--client.toolbarMode=viewer",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_health(port, process)
    except BaseException:
        stop(process)
        raise
    return process, port


def browser_login(page, base_url: str, user_id: str, password: str = TEST_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Log in through the app's login form in a Playwright page (any page of the app shows it)."""
    from playwright.sync_api import expect

    page.get_by_label("工号").fill(user_id)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("当前用户：").first).to_be_visible()


def ensure_logged_in(page, user_id: str, name: str, password: str = TEST_PASSWORD, timeout_ms: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    """On a page of the app just opened: log in through the form unless the browser's login cookie
    already resumed the session; then the page shows the user."""
    from playwright.sync_api import expect

    form = page.get_by_label("工号")
    expect(form.or_(page.get_by_text("当前用户：")).first).to_be_visible(timeout=timeout_ms)
    if form.count():
        form.fill(user_id)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("当前用户：").first).to_be_visible(timeout=timeout_ms)
    shown = page.inner_text("body").replace("\u2060", "")  # word joiners the app puts into names (markup.md)
    assert f"当前用户：{name}（{user_id}）" in shown, shown[:500]


def wav_seconds(path) -> float:  # type: ignore[no-untyped-def]
    """The length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def fake_mic_args(recording) -> list[str]:  # type: ignore[no-untyped-def]
    """Chromium flags for a headless browser whose microphone plays `recording` once (a WAV file)."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={recording}%noloop",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]


def record_with_fake_mic(page, seconds: float, timeout_ms: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Press Record on the page's st.audio_input, let the fake microphone play `seconds`, press Stop."""
    from playwright.sync_api import expect

    widget = page.get_by_test_id("stAudioInput")
    expect(widget).to_be_visible(timeout=timeout_ms)
    widget.get_by_role("button", name="Record", exact=True).click()
    stop_button = widget.get_by_role("button", name="Stop recording")
    expect(stop_button).to_be_visible()
    page.wait_for_timeout(int((seconds + 0.6) * 1000))
    stop_button.click()
