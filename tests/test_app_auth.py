"""Instructor password: scrypt hashing, verification, writing trainer.toml, `trainer admin set-password`."""

from __future__ import annotations

import io
import stat
import tomllib
from pathlib import Path

import pytest

from trainer.auth import AuthError, hash_password, set_password_in_config, updated_config_text, verify_password
from trainer.cli import main
from trainer.config import load_settings


def test_hash_and_verify() -> None:
    stored = hash_password("柜台密码123")
    assert stored.startswith("scrypt$16384$8$1$") and "柜台密码123" not in stored
    assert verify_password("柜台密码123", stored)
    assert not verify_password("柜台密码124", stored)
    assert not verify_password("", stored)
    assert hash_password("same") != hash_password("same")  # random salt
    assert hash_password("same", salt=b"0" * 16) == hash_password("same", salt=b"0" * 16)


@pytest.mark.parametrize("stored", ["plain", "scrypt$16384$8$1$bad!$x", "md5$1$2$3$YQ==$YQ==", "scrypt$1000$8$1$YQ==$YQ=="])
def test_malformed_hash_is_a_clear_error(stored: str) -> None:
    with pytest.raises(AuthError) as info:
        verify_password("whatever", stored)
    assert "trainer admin set-password" in info.value.user_message


def test_no_password_configured() -> None:
    with pytest.raises(AuthError) as info:
        verify_password("x", "")
    assert "尚未设置教师密码" in info.value.user_message


def test_updated_config_text_keeps_everything_else() -> None:
    original = '# 培训中心配置\nengine = "vosk"\n\n[placeholders]\ncompany = "国网某某供电公司"\n'
    new = updated_config_text(original, "scrypt$16384$8$1$YQ==$Yg==")
    data = tomllib.loads(new)
    assert data["instructor_password_hash"] == "scrypt$16384$8$1$YQ==$Yg=="
    assert data["placeholders"] == {"company": "国网某某供电公司"} and data["engine"] == "vosk"
    assert new.startswith("# 培训中心配置\n")
    # replacing an existing value keeps one line, in place
    again = updated_config_text(new, "scrypt$16384$8$1$Yw==$ZA==")
    assert again.count("instructor_password_hash") == 1
    assert tomllib.loads(again)["instructor_password_hash"] == "scrypt$16384$8$1$Yw==$ZA=="
    assert updated_config_text("", "scrypt$1$1$1$YQ==$YQ==") == 'instructor_password_hash = "scrypt$1$1$1$YQ==$YQ=="\n'
    assert tomllib.loads(updated_config_text('engine = "vosk"', "a$b"))["engine"] == "vosk"  # no final newline


def test_set_password_in_config_then_settings_read_it(tmp_path: Path) -> None:
    config = tmp_path / "trainer.toml"
    config.write_text('pass_mark = 85\n\n[scoring_weights]\ncoverage = 2\n', encoding="utf-8")
    set_password_in_config(config, "secret-1")
    settings = load_settings({"TRAINER_CONFIG": str(config)})
    assert verify_password("secret-1", settings.instructor_password_hash)
    assert settings.pass_mark == 85 and settings.scoring_weights == {"coverage": 2.0}
    with pytest.raises(AuthError):
        set_password_in_config(config, "short")
    assert verify_password("secret-1", load_settings({"TRAINER_CONFIG": str(config)}).instructor_password_hash)


def test_new_config_file_is_private_and_broken_one_untouched(tmp_path: Path) -> None:
    fresh = set_password_in_config(tmp_path / "new.toml", "secret-1")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    broken = tmp_path / "broken.toml"
    broken.write_text("engine = \n", encoding="utf-8")
    with pytest.raises(AuthError) as info:
        set_password_in_config(broken, "secret-1")
    assert "格式错误" in info.value.user_message
    assert broken.read_text(encoding="utf-8") == "engine = \n"
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_set_password_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "trainer.toml"
    config.write_text('engine = "whisper"\n', encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setattr("sys.stdin", io.StringIO("教师密码-2026\n"))
    assert main(["admin", "set-password", "--password-stdin"]) == 0
    assert "已设置教师密码" in capsys.readouterr().out
    assert verify_password("教师密码-2026", load_settings().instructor_password_hash)

    monkeypatch.setattr("sys.stdin", io.StringIO("abc\n"))
    assert main(["admin", "set-password", "--password-stdin"]) == 2
    assert "密码太短" in capsys.readouterr().err


def test_cli_set_password_without_config_writes_cwd_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("trainer.config.PROJECT_ROOT", tmp_path / "nowhere")
    monkeypatch.setattr("sys.stdin", io.StringIO("secret-xyz\n"))
    assert main(["admin", "set-password", "--password-stdin"]) == 0
    assert verify_password("secret-xyz", tomllib.loads((tmp_path / "trainer.toml").read_text(encoding="utf-8"))["instructor_password_hash"])


def test_cli_set_password_creates_the_file_trainer_config_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """First-time setup: TRAINER_CONFIG points at a file that does not exist yet."""
    target = tmp_path / "conf" / "trainer.toml"
    target.parent.mkdir()
    monkeypatch.setenv("TRAINER_CONFIG", str(target))
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-secret-1\n"))
    assert main(["admin", "set-password", "--password-stdin"]) == 0
    assert verify_password("a-long-secret-1", load_settings().instructor_password_hash)
    # other commands still refuse a TRAINER_CONFIG that names a missing file
    monkeypatch.setenv("TRAINER_CONFIG", str(tmp_path / "missing.toml"))
    assert main(["phrasebook", "list"]) == 2
