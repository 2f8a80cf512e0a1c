"""The `trainer` command. Each subcommand lives in its own module with a `register(subparsers)` function.

A registered parser sets `func(args, settings) -> int`. Expected failures raise
`TrainerError`; `main` prints its Chinese message on one line and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from trainer import __version__
from trainer.cli import console
from trainer.cli.parser import ChineseArgumentParser
from trainer.config import ConfigError, Settings, find_config_file, load_settings, secret_file_warnings
from trainer.errors import TrainerError

# Modules under trainer.cli, in the order they appear in `trainer --help`.
COMMANDS: tuple[str, ...] = ("phrasebook", "transcribe", "models", "sessions", "practice", "devices", "exam", "score", "eval", "app", "tls", "users", "admin", "storage", "deploy")

log = logging.getLogger("trainer")


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="trainer", description="文明服务用语训练（离线语音识别与评分）")
    parser.add_argument("--version", action="version", version=f"trainer {__version__}", help="显示版本号并退出")
    parser.add_argument("-v", "--verbose", action="store_true", help="在标准错误输出英文日志（供管理员排查问题）")
    subparsers = parser.add_subparsers(dest="command", metavar="命令")
    for name in COMMANDS:
        importlib.import_module(f"trainer.cli.{name}").register(subparsers)
    return parser


def _settings_for(args: argparse.Namespace) -> Settings:
    """The settings. A command that creates the config file (`set_defaults(creates_config=True)`)
    also runs when TRAINER_CONFIG names a file that does not exist yet; a broken file still fails."""
    try:
        return load_settings()
    except ConfigError:
        if getattr(args, "creates_config", False) and not _config_file_exists():
            return Settings()
        raise


def _config_file_exists() -> bool:
    try:
        return find_config_file() is not None
    except ConfigError:  # TRAINER_CONFIG names a missing file
        return False


def main(argv: Sequence[str] | None = None) -> int:
    console.install()  # a GBK/cp1252/ASCII console degrades the output instead of crashing
    try:
        return _main(argv)
    finally:
        console.finish()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = _settings_for(args)
        for warning in secret_file_warnings(settings):
            print(f"警告：{warning}", file=sys.stderr)
        return int(args.func(args, settings) or 0)
    except TrainerError as exc:
        log.info("%s", exc.log_message)
        print(f"错误：{exc.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
