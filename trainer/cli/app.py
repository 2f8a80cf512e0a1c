"""`trainer app [--port P] [--address A] [--no-fetch] [--https [--tls-dir DIR]]`: start the web app (Streamlit).

Before starting, the default speech model is checked; when it is missing, `trainer
models fetch vosk-small-cn` is tried. If that fails (no internet), a clear message is
printed and the app starts anyway: its pages then show how to install a model or
switch engine.

With `--https` the app is served over TLS with the certificate of `trainer tls init`
(Streamlit's `server.sslCertFile`/`server.sslKeyFile`); missing certificate files stop the
start with a message naming the command that makes them. The addresses to open and how to
install `ca.crt` on the trainees' Windows PCs are printed (Chinese). The app process gets
TRAINER_TLS_DIR, so its 证书 page offers that folder's `ca.crt` for download.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from trainer.config import Settings
from trainer.errors import TrainerError
from trainer.tls import TlsPaths, TlsStatus, parse_host
from trainer.tls.names import HostNameError
from trainer.tls.guide import ANY_ADDRESS, install_guide, server_urls

log = logging.getLogger(__name__)

APP_HOME = Path(__file__).resolve().parent.parent / "app" / "首页.py"
DEFAULT_PORT = 8501


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "app",
        help="启动网页版（学员练习、我的记录、教师复核、话术库）",
        description="启动网页版训练系统（Streamlit）。启动前检查默认语音模型，缺少时尝试自动下载。",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"端口（默认 {DEFAULT_PORT}）")
    parser.add_argument(
        "--address",
        default="localhost",
        help="监听地址（默认 localhost，只有本机可访问；局域网访问用 0.0.0.0，"
        "注意：其他电脑的浏览器只有在 HTTPS 下才允许使用麦克风）",
    )
    parser.add_argument("--no-fetch", action="store_true", help="不自动下载缺少的默认模型")
    parser.add_argument(
        "--https",
        action="store_true",
        help="用 HTTPS 提供网页（局域网内的学员电脑需要 HTTPS 才能录音；证书先用 trainer tls init 生成）",
    )
    parser.add_argument("--tls-dir", type=Path, default=None, help="证书文件夹（默认同 trainer tls init：会话文件夹旁边的 tls）")
    parser.set_defaults(func=run_app)


def streamlit_command(port: int, address: str, tls: TlsPaths | None = None) -> list[str]:
    ssl = [f"--server.sslCertFile={tls.server_cert}", f"--server.sslKeyFile={tls.server_key}"] if tls else []
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_HOME),
        "--server.headless=true",
        f"--server.port={port}",
        f"--server.address={address}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--client.toolbarMode=viewer",
        *ssl,
    ]


FORWARDED_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)
STOP_GRACE_SECONDS = 20.0  # after a forwarded stop signal, how long Streamlit gets before it is killed


def launch_streamlit(command: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run Streamlit in the foreground until it exits. A stop signal to `trainer app` (Ctrl-C, `kill
    PID`, the terminal closing) is passed on to Streamlit and waited for, so the port is freed with
    it; Streamlit still running STOP_GRACE_SECONDS later is killed. Returns Streamlit's exit code."""
    child = subprocess.Popen(list(command), env=None if env is None else dict(env))
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        while True:
            try:
                code = child.wait(timeout=STOP_GRACE_SECONDS if received else None)
                break
            except subprocess.TimeoutExpired:
                log.warning("streamlit did not stop within %.0f s of signal %s: killing it", STOP_GRACE_SECONDS, received[-1])
                child.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:  # stopped by a signal: exit as a shell reports it (Ctrl-C: 130, kill: 143)
        return 128 + received[-1]
    return code


def check_model(settings: Settings, fetch_allowed: bool) -> str | None:
    """Make sure a speech model is there. Returns a Chinese warning when the app will start without one."""
    from trainer.app.services import engine_status
    from trainer.models import ensure_default_model

    status = engine_status(settings)
    if status.ready:
        return None
    if fetch_allowed and settings.engine == "vosk" and settings.vosk_model is None:
        print(f"首次使用：默认语音模型不在 {status.model_path}，正在下载（trainer models fetch vosk-small-cn）……", file=sys.stderr)
        try:
            path = ensure_default_model(settings)
        except TrainerError as exc:
            return f"默认模型下载失败：{exc.user_message}\n{status.howto}"
        if path is not None or engine_status(settings).ready:
            print(f"模型已安装：{path or status.model_path}", file=sys.stderr)
            return None
    return f"{status.problem}\n{status.howto}"


def clean_leftovers(settings: Settings) -> None:
    """What killed saves and reviews left in the sessions folder goes at start-up (never a save in progress)."""
    from trainer.sessions.store import SessionStore

    try:
        done = SessionStore(settings.sessions_dir).cleanup_leftovers()
    except (OSError, TrainerError) as exc:
        log.warning("start-up cleanup of %s failed: %s", settings.sessions_dir, exc)
        return
    if done.removed:
        print(f"已清理 {len(done.removed)} 个中断的保存或复核留下的临时文件。", file=sys.stderr)


def run_app(args: argparse.Namespace, settings: Settings) -> int:
    if not APP_HOME.is_file():
        raise TrainerError(f"找不到网页程序 {APP_HOME}。请重新安装 trainer。", f"{APP_HOME} missing")
    if args.tls_dir is not None and not args.https:
        raise TrainerError("--tls-dir 要和 --https 一起使用。", "--tls-dir without --https")
    tls = https_status(args, settings) if args.https else None  # before the model check: fail fast
    from trainer.storage.factory import session_store, storage_label

    session_store(settings)  # PostgreSQL: connect and create the tables now, so a wrong address fails here
    print(f"数据存储：{storage_label(settings)}", file=sys.stderr)
    clean_leftovers(settings)
    warning = check_model(settings, fetch_allowed=not args.no_fetch)
    if warning:
        print(f"注意：{warning}\n网页仍会启动，但在安装模型之前无法识别录音。", file=sys.stderr)
    if tls is None:
        print(f"网页地址：http://{'localhost' if args.address in ANY_ADDRESS else args.address}:{args.port}  （按 Ctrl-C 停止）", file=sys.stderr)
        if args.address not in ("localhost", "127.0.0.1", "::1"):
            print("注意：其他电脑的浏览器只有在 HTTPS 下才允许使用麦克风。请先运行 trainer tls init，再加 --https 启动。", file=sys.stderr)
        return launch_streamlit(streamlit_command(args.port, args.address))
    for problem in [*tls.warnings, *address_warning(tls, args.address)]:
        print(f"注意：{problem}", file=sys.stderr)
    print(install_guide(tls, server_urls(tls.names, args.port, args.address)), file=sys.stderr)
    print("（按 Ctrl-C 停止）", file=sys.stderr)
    env = {**os.environ, "TRAINER_TLS_DIR": str(tls.paths.folder)}
    return launch_streamlit(streamlit_command(args.port, args.address, tls.paths), env=env)


def address_warning(tls: TlsStatus, address: str) -> list[str]:
    """A listening address the certificate does not name: browsers would refuse it."""
    if address in ANY_ADDRESS:
        return []
    try:
        wanted = parse_host(address)
    except HostNameError:
        return []
    if tls.names.covers(wanted):
        return []
    return [f"监听地址 {address} 不在服务器证书中，用它访问会提示不安全。请运行 trainer tls init --host {address}。"]


def https_status(args: argparse.Namespace, settings: Settings) -> TlsStatus:
    """The certificate to serve; a TlsError (missing, unreadable, expired) stops the start."""
    from trainer.cli.tls import init_command, tls_folder
    from trainer.tls import load_tls

    folder = tls_folder(args.tls_dir, settings)
    return load_tls(folder, init_command=init_command(args.tls_dir, folder))
