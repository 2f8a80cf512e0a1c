"""The CLI on consoles that cannot encode every character (issue 13, item 8): a zh_CN.GBK locale,
Chinese Windows, cp1252, plain ASCII, redirected output. Output degrades (ASCII marks for ✓/✗,
JSON with \\u escapes), it never crashes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_sessions_support import audio_for, make_record
from trainer.cli import main
from trainer.sessions import SessionStore

ENCODINGS = ("gbk", "cp1252", "ascii")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "sessions"
    store = SessionStore(root)
    store.save(make_record("E1", "张三"), audio_for(make_record()))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(root))
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    return tmp_path


def _run_in(encoding: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, bytes, bytes]:
    """main(argv) with stdout and stderr encoding strictly to `encoding`, as a console would."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding=encoding, errors="strict", write_through=True)
    stderr = io.TextIOWrapper(err, encoding=encoding, errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(argv)
    stdout.flush()
    stderr.flush()
    return code, out.getvalue(), err.getvalue()


COMMANDS = [
    ["score", "--text", "您好，请坐", "--scenario", "payment"],
    ["score", "--text", "您好，请坐", "--scenario", "payment", "--json"],
    ["score", "--text", "您好", "--text", "你自己看", "--scenario", "payment"],  # a 忌语 line too
    ["phrasebook", "show", "payment"],
    ["phrasebook", "list"],
    ["phrasebook", "check"],
    ["sessions", "list"],
    ["sessions", "list", "--json"],
    ["exam", "papers"],
    ["score", "--text", "您好", "--scenario", "no_such_scenario"],  # the Chinese error message on stderr
]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_commands_degrade_instead_of_crashing(encoding: str, argv: list[str], env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run_in(encoding, argv, monkeypatch)
    assert code == (2 if "no_such_scenario" in argv else 0), err.decode(encoding)
    assert out or err
    out.decode(encoding), err.decode(encoding)  # what reached the console is valid in its encoding


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_json_stays_exact_json(encoding: str, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _run_in(encoding, ["score", "--text", "您好，请坐", "--scenario", "payment", "--json"], monkeypatch)
    assert code == 0
    data = json.loads(out.decode(encoding))
    assert data["transcript"] == "您好，请坐" and data["scenario"] == "payment"
    code, out, _ = _run_in(encoding, ["sessions", "list", "--json"], monkeypatch)
    assert [row["trainee_name"] for row in json.loads(out.decode(encoding))] == ["张三"]


def test_marks_become_ascii_and_chinese_stays_on_gbk(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run_in("gbk", ["score", "--text", "您好，请坐", "--scenario", "payment"], monkeypatch)
    text = out.decode("gbk")
    assert code == 0 and "您好" in text and "?" not in text  # ✓/✗ become ASCII marks, not question marks
    assert not err  # nothing was lost: no hint needed


def test_a_console_without_chinese_gets_an_english_hint(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _run_in("ascii", ["phrasebook", "show", "payment"], monkeypatch)
    assert code == 0 and b"PYTHONIOENCODING=utf-8" in err


@pytest.mark.parametrize("encoding", ["gbk", pytest.param("cp1252", marks=pytest.mark.slow), pytest.param("ascii", marks=pytest.mark.slow)])
def test_the_issue_reproduction_in_a_real_process(encoding: str, env: Path) -> None:
    """`PYTHONIOENCODING=gbk trainer score --text 您好，请坐 --scenario payment` (and cp1252, ascii)."""
    for argv in (["score", "--text", "您好，请坐", "--scenario", "payment"], ["phrasebook", "show", "payment"], ["sessions", "list"]):
        done = subprocess.run(
            [sys.executable, "-m", "trainer", *argv],
            cwd=REPO, capture_output=True, timeout=120,
            env={**os.environ, "PYTHONIOENCODING": encoding, "TRAINER_SESSIONS_DIR": str(env / "sessions")},
        )
        assert done.returncode == 0, done.stderr.decode(encoding, "replace")
        assert b"Traceback" not in done.stderr


def test_piped_tables_are_not_cut_to_80_columns(tmp_path: Path) -> None:
    """Issue 14 item 9: rich assumes 80 columns when stdout is not a terminal; long scenario titles
    and ids were folded or cut. Piped output is PIPED_WIDTH wide (or $COLUMNS)."""
    from trainer.cli.console import PIPED_WIDTH

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-m", "trainer", "phrasebook", "list"], capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout
    widest = max(len(line) for line in out.splitlines())
    assert 80 < widest <= PIPED_WIDTH, widest
    narrow = subprocess.run([sys.executable, "-m", "trainer", "phrasebook", "list"], capture_output=True, text=True,
                            env={**env, "COLUMNS": "100"}, cwd=tmp_path, check=True).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 100
