"""`trainer admin set-password [--config PATH] [--password-stdin]`: set the (pre-accounts) instructor password,
which becomes the `admin` account's password when no account exists yet (trainer/accounts/manage.py)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from trainer.auth import AuthError, check_new_password, set_password_in_config
from trainer.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("admin", help="管理设置（旧版教师密码）", description="管理设置。")
    commands = parser.add_subparsers(dest="admin_command", metavar="{set-password}", required=True)
    setpw = commands.add_parser(
        "set-password",
        help="设置教师密码（旧版；现在用账号登录，见 trainer users）",
        description="设置教师密码。网页现在用账号登录（trainer users）：还没有任何账号时，这个密码成为管理员账号 admin 的"
        "初始密码（首次登录必须修改）；有账号以后它不再使用。密码只以加盐哈希（scrypt）形式保存在配置文件 trainer.toml 的 "
        "instructor_password_hash 中；配置文件的其他内容保持不变。",
    )
    setpw.add_argument(
        "--config",
        type=Path,
        help="写入哪个配置文件（默认：正在使用的配置文件；没有时为当前文件夹下的 trainer.toml）",
    )
    setpw.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码（用于脚本）")
    setpw.set_defaults(func=run_set_password, creates_config=True)


def config_target(args_config: Path | None, settings: Settings) -> Path:
    """Where the password goes: --config, else the config file in use, else ./trainer.toml."""
    if args_config is not None:
        return args_config.expanduser().resolve()
    if settings.config_path is not None:
        return settings.config_path
    if os.environ.get("TRAINER_CONFIG"):  # named but not created yet
        return Path(os.environ["TRAINER_CONFIG"]).expanduser().resolve()
    return (Path.cwd() / "trainer.toml").resolve()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise AuthError("没有终端可以输入密码。请在终端中运行，或加 --password-stdin 从标准输入读取。", "stdin is not a terminal")
    first = getpass.getpass("新的教师密码：")
    check_new_password(first)
    second = getpass.getpass("再输入一次：")
    if first != second:
        raise AuthError("两次输入的密码不一致，未做修改。", "passwords differ")
    return first


def run_set_password(args: argparse.Namespace, settings: Settings) -> int:
    target = config_target(args.config, settings)
    password = _read_password(args.password_stdin)
    path = set_password_in_config(target, password)
    print(f"已设置教师密码（哈希已写入 {path}）。")
    print("注意：网页用账号登录。还没有任何账号时，这个密码成为管理员账号 admin 的密码；已有账号时请改用 `trainer users`。")
    if settings.config_path is None or settings.config_path.resolve() != path.resolve():
        print(f"提示：启动网页前请在这个文件夹中运行 `trainer app`，或设置环境变量 TRAINER_CONFIG={path}。")
    return 0
