"""CLI output on consoles that cannot encode every character: a zh_CN.GBK locale, Chinese Windows
(cp936), cp1252, plain ASCII, output redirected with PYTHONIOENCODING set.

`install()` (called first thing by `trainer.cli.main`) makes stdout and stderr degrade instead of
raising UnicodeEncodeError: marks without an equivalent in the console's encoding become ASCII
(✓ → v, ✗ → x, △ → ~, ★ → *), anything else becomes "?". When text was lost that way, `finish()`
prints one English hint on stderr (the console cannot show a Chinese one). `print_json` prints
JSON that stays exact on any console: with \\u escapes when the text does not fit the encoding.
"""

from __future__ import annotations

import codecs
import io
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

ERRORS = "trainer-degrade"

ASCII_MARKS = {
    "✓": "v", "✔": "v", "✗": "x", "✘": "x", "△": "~", "◐": "~", "⚠": "!", "★": "*", "☆": "-",
    "→": "->", "←": "<-", "—": "-", "–": "-", "…": "...", "·": ".", "•": "*", "〔": "[", "〕": "]",
    "“": '"', "”": '"', "‘": "'", "’": "'", "（": "(", "）": ")", "，": ",", "：": ":", "；": ";",
    "。": ".", "！": "!", "？": "?", "、": ",", "【": "[", "】": "]", "《": "<", "》": ">", "\u3000": " ",
    "─": "-", "━": "-", "│": "|", "┃": "|", "▏": "|", "█": "#", "▌": "#", "░": ".", "▒": ":",
}


class _State:
    lost = False  # a character had no ASCII stand-in and was printed as "?"


def _degrade(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for char in exc.object[exc.start : exc.end]:
        mark = ASCII_MARKS.get(char)
        if mark is None:
            _State.lost = True
            mark = "?"
        out.append(mark)
    return "".join(out), exc.end


codecs.register_error(ERRORS, _degrade)


def _is_utf(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    return encoding.startswith("utf")


def install() -> None:
    """Make stdout and stderr degrade instead of crashing when their encoding is not UTF-*."""
    _State.lost = False
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not _is_utf(stream):
            stream.reconfigure(errors=ERRORS)


def fits(text: str, stream: TextIO | None = None) -> bool:
    """True when `stream` (default stdout) can encode `text` exactly."""
    stream = stream or sys.stdout
    if _is_utf(stream):
        return True
    try:
        text.encode(stream.encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def print_json(data: Any, **kwargs: Any) -> None:
    """`data` as JSON on stdout: readable Chinese where the console can show it, \\u escapes where not."""
    text = json.dumps(data, ensure_ascii=False, **kwargs)
    if not fits(text):
        text = json.dumps(data, ensure_ascii=True, **kwargs)
    print(text)


def finish() -> None:
    """The hint, once, when text was lost on this console."""
    if _State.lost:
        _State.lost = False
        encoding = getattr(sys.stdout, "encoding", "?")
        print(
            f"Note: this console ({encoding}) cannot show some characters (printed as '?'). "
            "Set PYTHONIOENCODING=utf-8 (Windows: chcp 65001) or use --json.",
            file=sys.stderr,
        )


PIPED_WIDTH = 200  # columns when output goes to a file or a pipe: rich would otherwise cut tables to 80


def output_console(stderr: bool = False, **kwargs: Any) -> "Console":
    """The rich Console every command prints with: the terminal's width on a terminal; when piped or
    redirected, wide enough (PIPED_WIDTH, or $COLUMNS when set) that tables are not cut to 80 columns."""
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    kwargs.setdefault("highlight", False)
    if "width" not in kwargs and not stream.isatty():
        columns = os.environ.get("COLUMNS", "")
        kwargs["width"] = int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH
    return Console(stderr=stderr, **kwargs)
