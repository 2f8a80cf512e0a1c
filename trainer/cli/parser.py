"""argparse in Chinese: usage, help headings and usage errors of every `trainer` command.

argparse writes "usage:", "options", "the following arguments are required: --out" and
"trainer exam report: error: …" in English. `ChineseArgumentParser` (the class of the top
parser, and so of every subcommand parser) writes them in Chinese: a usage error is one line
「错误：缺少必填参数：--out」, the usage, and which command prints the full help; exit code 2 as
before. Messages a command's own `type=` functions raise are Chinese already and kept.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

USAGE_PREFIX = "用法："
HELP_TEXT = "显示本帮助并退出"

# argparse's usage-error messages (Python 3.11–3.13), most specific first; \1, \2 … are kept as written.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), chinese)
    for pattern, chinese in (
        (r"^the following arguments are required: (.+)$", r"缺少必填参数：\1"),
        (r"^unrecognized arguments: (.+)$", r"无法识别的参数：\1"),
        (r"^one of the arguments (.+) is required$", r"参数 \1 必须给出其中一个"),
        (r"^ambiguous option: (\S+) could match (.+)$", r"选项 \1 不明确，可能是：\2"),
        (r"^argument (.+?): invalid choice: (.+?) \(choose from (.+)\)$", r"参数 \1 的值 \2 无效，可选：\3"),
        (r"^argument (.+?): invalid int value: (.+)$", r"参数 \1 的值 \2 不是整数"),
        (r"^argument (.+?): invalid float value: (.+)$", r"参数 \1 的值 \2 不是数字"),
        (r"^argument (.+?): invalid (\S+) value: (.+)$", r"参数 \1 的值 \3 无效"),
        (r"^argument (.+?): expected one argument$", r"参数 \1 后面需要一个值"),
        (r"^argument (.+?): expected at least one argument$", r"参数 \1 后面至少需要一个值"),
        (r"^argument (.+?): expected at most one argument$", r"参数 \1 后面最多只能有一个值"),
        (r"^argument (.+?): expected (\d+) arguments?$", r"参数 \1 后面需要 \2 个值"),
        (r"^argument (.+?): not allowed with argument (.+)$", r"参数 \1 不能和 \2 一起使用"),
        (r"^argument (.+?): ignored explicit argument (.+)$", r"参数 \1 不接受值 \2"),
        (r"^argument (.+?): (.+)$", r"参数 \1：\2"),
        (r"^invalid choice: (.+?) \(choose from (.+)\)$", r"无效的命令 \1，可选：\2"),
    )
)


def chinese_message(message: str) -> str:
    """An argparse usage-error message in Chinese (unknown English messages are kept as they are)."""
    for pattern, chinese in _MESSAGES:
        if pattern.match(message):
            return pattern.sub(chinese, message)
    return message



class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else USAGE_PREFIX)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, help headings and errors are Chinese. Subcommand parsers made
    with `add_parser` are of the same class (argparse uses the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP_TEXT)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"错误：{chinese_message(message)}", file=sys.stderr)
        print(f"运行 {self.prog} -h 查看完整用法。", file=sys.stderr)
        self.exit(2)

