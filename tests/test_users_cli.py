"""`trainer users …` end to end through `trainer.cli.main`, on a temporary sessions folder."""

from __future__ import annotations

import io
import time
import stat
from pathlib import Path

import pytest

from trainer.accounts import LoginPolicy, LoginRefused, SqliteAccountStore, authenticate
from trainer.cli import main


@pytest.fixture
def env(own_config: Path) -> Path:
    return own_config


def _store(env: Path) -> SqliteAccountStore:
    return SqliteAccountStore(env / "sessions" / "index.sqlite3")


def test_import_roster_writes_private_passwords(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = env / "花名册.csv"
    roster.write_text("工号,姓名,班组/营业厅,角色\nE1001,张三,城东营业厅,学员\nT2001,王老师,城东营业厅,教师\n", encoding="utf-8")
    out = env / "pw.csv"
    assert main(["users", "import", str(roster), "--dry-run"]) == 0
    assert "检查通过：2 人" in capsys.readouterr().out and not (env / "sessions" / "index.sqlite3").exists()
    assert main(["users", "import", str(roster), "--passwords-out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "新建 2 个账号" in text and str(out) in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("E1001,张三,学员,城东营业厅,")
    password = lines[1].rsplit(",", 1)[1]
    assert authenticate(_store(env), "E1001", password, LoginPolicy(), 0.0).must_change_password
    # the password file is never overwritten; the import then does nothing
    assert main(["users", "import", str(roster), "--passwords-out", str(out)]) == 2
    assert "已存在" in capsys.readouterr().err


def test_import_reports_bad_lines(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = env / "r.csv"
    roster.write_text("工号,姓名,班组/营业厅,角色\nE1,张三,城东,学员\nE2,李四,城东,校长\n", encoding="utf-8")
    assert main(["users", "import", str(roster)]) == 2
    err = capsys.readouterr().err
    assert "第 3 行：未知的角色“校长”" in err and "未导入任何账号" in err


def test_add_list_disable_enable_reset_unlock(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("first-pass\n"))
    assert main(["users", "add", "T1", "--name", "王老师", "--role", "教师", "--group", "城东营业厅", "--password-stdin"]) == 0
    assert "已添加账号 王老师（T1），角色：教师，班组/营业厅：城东营业厅" in capsys.readouterr().out
    assert main(["users", "add", "E1", "--name", "张三"]) == 0
    generated = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("初始密码：")).split("：")[1]
    store = _store(env)
    assert authenticate(store, "E1", generated, LoginPolicy(), 0.0).role == "trainee"
    assert main(["users", "add", "E1", "--name", "张三"]) == 2
    assert "已经存在" in capsys.readouterr().err

    assert main(["users", "disable", "E1"]) == 0
    assert main(["users", "list", "--role", "学员"]) == 0
    out = capsys.readouterr().out
    assert "E1\t张三\t学员\t—\t已停用，待改密码" in out and "T1" not in out.split("已停用账号")[-1]
    assert main(["users", "enable", "E1"]) == 0

    now = time.time()
    for i in range(5):  # 1, 2, 4, 8 s apart: the fifth failure locks T1 for 15 minutes from now
        with pytest.raises(LoginRefused):
            authenticate(store, "T1", "wrong", LoginPolicy(), now - 100 + 20 * i)
    assert main(["users", "list", "--group", "城东营业厅"]) == 0
    assert "已锁定" in capsys.readouterr().out
    assert main(["users", "unlock", "T1"]) == 0
    assert authenticate(store, "T1", "first-pass", LoginPolicy()).user_id == "T1"

    assert main(["users", "reset-password", "T1"]) == 0
    new = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("新密码：")).split("：")[1]
    assert authenticate(store, "T1", new, LoginPolicy()).must_change_password
    assert main(["users", "disable", "NOBODY"]) == 2
    assert "没有工号为 NOBODY 的账号" in capsys.readouterr().err
