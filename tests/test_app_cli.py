"""`trainer app`: model check with first-run fetch, the Streamlit command line, and a real start on localhost."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from trainer.cli import app as app_cli
from trainer.cli import main
from trainer.models import ModelFetchError

from app_support import free_port, stop, wait_for_health

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_ENGINE", "vosk")
    monkeypatch.setenv("TRAINER_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("TRAINER_VOSK_MODEL", raising=False)
    monkeypatch.delenv("TRAINER_WHISPER_MODEL", raising=False)
    return tmp_path


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    commands: list[list[str]] = []

    def fake_launch(command: list[str], env: dict[str, str] | None = None) -> int:
        commands.append(list(command))
        return 0

    monkeypatch.setattr(app_cli, "launch_streamlit", fake_launch)
    return commands


def test_streamlit_command_line() -> None:
    command = app_cli.streamlit_command(8765, "localhost")
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(command[4]).name == "首页.py" and Path(command[4]).is_file()
    assert "--server.headless=true" in command and "--server.port=8765" in command and "--server.address=localhost" in command


def test_fetch_failure_still_starts_with_a_clear_message(
    no_model: Path, launched: list[list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []

    def offline(settings, progress=None):  # type: ignore[no-untyped-def]
        calls.append(settings.models_dir)
        raise ModelFetchError("无法连接下载服务器（没有网络）。", "network unreachable")

    monkeypatch.setattr("trainer.models.ensure_default_model", offline)
    assert main(["app", "--port", "8765"]) == 0
    err = capsys.readouterr().err
    assert calls == [no_model / "models"]
    assert "默认模型下载失败：无法连接下载服务器" in err
    assert "TRAINER_ENGINE=whisper" in err and "trainer models fetch vosk-small-cn" in err
    assert 'pip install -e ".[whisper]"' in err  # hint ③ names what to install first
    assert "网页仍会启动" in err and "http://localhost:8765" in err
    assert len(launched) == 1 and "--server.port=8765" in launched[0]


def test_successful_first_run_fetch(no_model: Path, launched: list[list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def fetch_ok(settings, progress=None):  # type: ignore[no-untyped-def]
        folder = settings.models_dir / "vosk-model-small-cn-0.22"
        for name in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(b"x")
        return folder

    monkeypatch.setattr("trainer.models.ensure_default_model", fetch_ok)
    assert main(["app"]) == 0
    err = capsys.readouterr().err
    assert "模型已安装" in err and "注意" not in err
    assert "--server.port=8501" in launched[0]


def test_no_fetch_and_whisper_engine(no_model: Path, launched: list[list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("trainer.models.ensure_default_model", lambda *a, **k: pytest.fail("must not fetch"))
    assert main(["app", "--no-fetch"]) == 0
    assert "找不到语音识别模型（vosk）" in capsys.readouterr().err
    monkeypatch.setenv("TRAINER_ENGINE", "whisper")
    monkeypatch.setenv("TRAINER_WHISPER_MODEL", str(no_model / "missing-whisper"))
    assert main(["app"]) == 0  # whisper models are never fetched automatically
    assert "找不到语音识别模型（whisper）" in capsys.readouterr().err
    assert len(launched) == 2


def test_trainer_app_serves_on_localhost(no_model: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "trainer", "app", "--port", str(port), "--no-fetch"],
        cwd=no_model,
        env={**os.environ, "TRAINER_SESSIONS_DIR": str(no_model / "sessions"), "PYTHONPATH": str(REPO_ROOT)},  # this checkout's trainer
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for_health(port, process)
        with urllib.request.urlopen(f"http://localhost:{port}/", timeout=5) as response:
            assert response.status == 200
    finally:
        stop(process)
        err = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    assert "找不到语音识别模型" in err and f"http://localhost:{port}" in err


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the Streamlit child")
def test_stopping_trainer_app_by_pid_stops_streamlit(no_model: Path) -> None:
    """Issue 14 item 10: `kill PID` of `trainer app` left the Streamlit child holding the port."""
    import signal
    import time

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "trainer", "app", "--port", str(port), "--no-fetch"],
        cwd=no_model,
        env={**os.environ, "TRAINER_SESSIONS_DIR": str(no_model / "sessions"), "PYTHONPATH": str(REPO_ROOT)},  # this checkout's trainer
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    child = 0
    try:
        wait_for_health(port, process)
        [child] = _children(process.pid)
        os.kill(process.pid, signal.SIGTERM)  # the parent only, as `kill PID` does
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child), "the Streamlit child outlived trainer app"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2)
    finally:
        stop(process)
        if child and _alive(child):  # never leave a server behind, even when the test fails
            os.kill(child, signal.SIGKILL)
