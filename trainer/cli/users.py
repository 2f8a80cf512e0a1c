"""`trainer users import|add|list|disable|enable|reset-password|unlock`: accounts and roles."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from trainer.accounts import (
    ROLE_LABELS,
    AccountError,
    LoginPolicy,
    create_account,
    lock_state,
    new_account,
    open_accounts,
    require,
    reset_password,
    set_disabled,
    unlock,
)
from trainer.accounts.login import wait_text
from trainer.accounts.roster import import_roster, parse_roster, passwords_csv, write_private
from trainer.config import Settings

ROLE_CHOICES = "学员、教师、管理员（或 trainee、instructor、admin）"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "users",
        help="账号与权限（导入花名册、添加、停用、重置密码、解锁）",
        description="管理网页的登录账号。账号保存在会话文件夹的 index.sqlite3 中（storage = postgres 时保存在数据库中）。角色：学员只看自己的记录；"
        "教师看本班组/营业厅学员的记录；管理员看全部并管理账号。",
    )
    commands = parser.add_subparsers(dest="users_command", metavar="COMMAND", required=True)

    imp = commands.add_parser(
        "import",
        help="从花名册（.xlsx 或 .csv）导入账号",
        description="花名册第一行为表头：工号、姓名、班组/营业厅、角色（学员/教师/管理员，空白为学员），可选列“邮箱”。"
        "任何一行有错都不导入，并列出出错的行号。新账号生成随机初始密码，写入一个只有本人可读的 CSV 文件（权限 0600），"
        "首次登录必须修改密码；已有账号只更新姓名、班组和角色，密码不变。",
    )
    imp.add_argument("roster", type=Path, help="花名册文件（.xlsx 或 .csv）")
    imp.add_argument("--passwords-out", type=Path, help="初始密码写到哪个文件（默认：花名册旁边的 <花名册名>-初始密码-<时间>.csv）")
    imp.add_argument("--dry-run", action="store_true", help="只检查花名册，不导入")
    imp.set_defaults(func=run_import)

    add = commands.add_parser("add", help="添加一个账号", description="添加一个账号。不给 --password-stdin 时生成随机初始密码并显示一次。")
    add.add_argument("user_id", help="工号")
    add.add_argument("--name", required=True, help="姓名")
    add.add_argument("--role", default="学员", help=f"角色：{ROLE_CHOICES}；默认学员")
    add.add_argument("--group", action="append", default=[], help="班组/营业厅（可重复）")
    add.add_argument("--email", default="", help="邮箱（用统一身份认证登录时用来对应账号）")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为初始密码")
    add.set_defaults(func=run_add)

    lst = commands.add_parser("list", help="列出账号")
    lst.add_argument("--role", help=f"只列出某个角色：{ROLE_CHOICES}")
    lst.add_argument("--group", help="只列出某个班组/营业厅")
    lst.set_defaults(func=run_list)

    for name, help_text, func in (
        ("disable", "停用账号（立即退出登录，不能再登录；记录保留）", run_disable),
        ("enable", "重新启用账号", run_enable),
        ("unlock", "解除因连续输错密码造成的锁定", run_unlock),
    ):
        sub = commands.add_parser(name, help=help_text, description=help_text + "。")
        sub.add_argument("user_id", help="工号")
        sub.set_defaults(func=func)

    reset = commands.add_parser("reset-password", help="重置密码（生成随机密码，下次登录必须修改）")
    reset.add_argument("user_id", help="工号")
    reset.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为新密码")
    reset.set_defaults(func=run_reset)


def _stdin_password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.roster.expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AccountError(f"无法读取花名册 {path}：{exc.strerror or exc}", f"read {path}: {exc}") from exc
    rows = parse_roster(data, path.name)
    if args.dry_run:
        print(f"花名册检查通过：{len(rows)} 人。未导入（--dry-run）。")
        return 0
    store = open_accounts(settings)
    out = args.passwords_out
    if out is None:
        out = path.with_name(f"{path.stem}-初始密码-{datetime.now():%Y%m%d-%H%M%S}.csv")
    if out.exists():  # checked before importing, so no password is ever lost
        raise AccountError(f"文件 {out} 已存在，未导入。请用 --passwords-out 指定另一个文件。", f"{out} exists")
    report = import_roster(store, rows)
    print(f"已导入花名册 {path.name}：新建 {len(report.created)} 个账号，更新 {len(report.updated)} 个，未变 {len(report.unchanged)} 个。")
    if report.created:
        write_private(out, passwords_csv(report.created))
        print(f"新账号的初始密码已写入 {out}（只有本用户可读）。请分发给本人后删除该文件；首次登录时必须修改密码。")
    return 0


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    account = new_account(args.user_id, args.name, args.role, args.group, args.email)
    store = open_accounts(settings)
    password = create_account(store, account, _stdin_password() if args.password_stdin else None)
    print(f"已添加账号 {account.label}，角色：{account.role_label}" + (f"，班组/营业厅：{'、'.join(account.groups)}" if account.groups else "") + "。")
    if not args.password_stdin:
        print(f"初始密码：{password}")
    print("首次登录时必须修改密码。")
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    from trainer.accounts.model import parse_role

    store = open_accounts(settings)
    role = parse_role(args.role) if args.role else None
    policy = LoginPolicy.from_settings(settings)
    rows = [a for a in store.accounts() if (role is None or a.role == role) and (not args.group or args.group in a.groups)]
    if not rows:
        print("没有账号。用 `trainer users add` 或 `trainer users import 花名册.xlsx` 添加。")
        return 0
    print("工号\t姓名\t角色\t班组/营业厅\t状态")
    for a in rows:
        failures, locked = lock_state(store, a.user_id, policy)
        state = ["已停用" if a.disabled else "正常"]
        if a.must_change_password:
            state.append("待改密码")
        if locked:
            state.append(f"已锁定（还剩 {wait_text(locked)}）")
        print(f"{a.user_id}\t{a.name}\t{ROLE_LABELS.get(a.role, a.role)}\t{'、'.join(a.groups) or '—'}\t{'，'.join(state)}")
    print(f"共 {len(rows)} 个账号。")
    return 0


def run_disable(args: argparse.Namespace, settings: Settings) -> int:
    account = set_disabled(open_accounts(settings), args.user_id, True)
    print(f"已停用账号 {account.label}：已退出登录，不能再登录。记录保留；用 `trainer users enable {account.user_id}` 恢复。")
    return 0


def run_enable(args: argparse.Namespace, settings: Settings) -> int:
    account = set_disabled(open_accounts(settings), args.user_id, False)
    print(f"已启用账号 {account.label}。")
    return 0


def run_unlock(args: argparse.Namespace, settings: Settings) -> int:
    store = open_accounts(settings)
    account = require(store, args.user_id)
    unlock(store, account.user_id)
    print(f"已解除 {account.label} 的登录锁定。")
    return 0


def run_reset(args: argparse.Namespace, settings: Settings) -> int:
    store = open_accounts(settings)
    password = reset_password(store, args.user_id, _stdin_password() if args.password_stdin else None)
    account = require(store, args.user_id)
    print(f"已重置 {account.label} 的密码，并解除锁定、退出其所有登录。下次登录时必须修改密码。")
    if not args.password_stdin:
        print(f"新密码：{password}")
    return 0
