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
from trainer.config import load_settings
from trainer.errors import TrainerError

# Modules under trainer.cli, in the order they appear in `trainer --help`.
COMMANDS: tuple[str, ...] = ("phrasebook", "transcribe", "models", "sessions", "practice", "devices", "exam", "score", "eval", "app", "admin")

log = logging.getLogger("trainer")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trainer", description="文明服务用语训练（离线语音识别与评分）")
    parser.add_argument("--version", action="version", version=f"trainer {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="print English log messages to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"trainer.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
        return int(args.func(args, settings) or 0)
    except TrainerError as exc:
        log.info("%s", exc.log_message)
        print(f"错误：{exc.user_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
