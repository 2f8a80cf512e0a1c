"""Usage errors and help of `trainer` in Chinese (issue 14 item 5: `trainer exam report ID` without --out)."""

from __future__ import annotations

import re

import pytest

from trainer.cli import main
from trainer.cli.parser import chinese_message


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def _english_words(text: str) -> list[str]:
    """English words other than the command's own names, options and placeholders."""
    text = re.sub(r"'[^']*'", "", text)  # quoted: the values typed or offered
    return [w for w in re.findall(r"(?<![-\w])[a-z]{3,}(?![-\w])", text) if w not in {"trainer", "exam", "report", "sessions", "list"}]


def test_missing_required_option_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["exam", "report", "20261123-abc"], capsys)
    assert "错误：缺少必填参数：--out" in err and "用法：trainer exam report" in err and "trainer exam report -h" in err
    assert "required" not in err and "error:" not in err and "usage:" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sessions", "list", "--bogus"], "无法识别的参数：--bogus"),
        (["nonsense"], "参数 命令 的值 'nonsense' 无效，可选："),
        (["sessions", "list", "--limit", "x"], "参数 --limit 的值 'x' 不是整数"),
        (["sessions", "list", "--since", "23/11/2026"], "参数 --since：日期“23/11/2026”格式不对"),
        (["sessions", "list", "--trainee"], "参数 --trainee 后面需要一个值"),
    ],
)
def test_usage_errors_are_chinese(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(argv, capsys)
    assert expected in err, err
    assert not _english_words(err.splitlines()[-2]), err


def test_help_headings_are_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法：trainer") and "选项" in out and "显示本帮助并退出" in out
    assert "usage" not in out and "options" not in out and "show this help" not in out and "version number" not in out


def test_unknown_messages_are_kept() -> None:
    assert chinese_message("something new") == "something new"
