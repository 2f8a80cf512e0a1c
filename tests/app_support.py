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
