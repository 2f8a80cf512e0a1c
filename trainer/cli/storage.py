"""`trainer storage show` and `trainer storage migrate --to postgresql://…` (see trainer/storage/migrate.py)."""

from __future__ import annotations

import argparse
import sys

from trainer.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "storage",
        help="数据存储：查看当前存储方式；把本机文件夹中的数据迁移到 PostgreSQL",
        description="数据存储方式由配置项 storage / database_url（或环境变量 TRAINER_DATABASE_URL）决定："
        "embedded 为本机文件夹 + SQLite（默认），postgres 为多台服务器共用的 PostgreSQL 数据库。",
    )
    sub = parser.add_subparsers(dest="storage_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="显示当前的数据存储位置", description="显示当前配置使用的数据存储位置（密码不显示）。")
    show.set_defaults(func=run_show)
    migrate = sub.add_parser(
        "migrate",
        help="把会话、录音、复核、考试账本、账号和本中心新增说法复制到 PostgreSQL，并逐项核对",
        description="把会话文件夹（配置项 sessions_dir）中的会话、录音、复核意见、考试账本、账号和本中心新增说法建议原样复制到 --to 指定的"
        "PostgreSQL 数据库，然后核对会话数、每个记录和录音的 sha256、账本每一行与哈希链（有考试密钥时再核对封印）。"
        "本机数据只读不改；可以重复运行：已复制且相同的跳过，不同的报告出来、不覆盖。",
    )
    migrate.add_argument("--to", required=True, metavar="URL", help="目标数据库，例如 postgresql://trainer:密码@db.example/trainer")
    migrate.set_defaults(func=run_migrate)


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    from trainer.storage.factory import storage_label

    print(f"数据存储：{storage_label(settings)}")
    return 0


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from trainer.storage.engine import safe_url
    from trainer.storage.migrate import migrate

    print(f"正在把 {settings.sessions_dir} 中的数据复制到 {safe_url(args.to)} ……", file=sys.stderr)
    report = migrate(settings, args.to)
    mb = report.audio_bytes / 1_000_000
    print(
        f"会话：本机可读 {report.sessions_source} 个，新复制 {report.sessions_copied} 个（录音 {report.audio_files} 段，{mb:.1f} MB，"
        f"复核 {report.reviews} 条），已在数据库中 {report.sessions_present} 个。"
    )
    print(f"考试账本：新复制 {report.ledger_copied} 条，已在数据库中 {report.ledger_present} 条。")
    print(f"账号：新复制 {report.accounts_copied} 个，已在数据库中 {report.accounts_present} 个（登录状态不复制，需重新登录）。")
    print(f"本中心新增说法建议：新复制 {report.proposals_copied} 条，已在数据库中 {report.proposals_present} 条。")
    for check in report.checks:
        print(f"  ✓ {check}")
    for skipped in report.skipped:
        print(f"  跳过已损坏的会话：{skipped}")
    for problem in report.problems:
        print(f"  ✗ {problem}")
    if not report.ok:
        print(f"迁移未完成：发现 {len(report.problems)} 处问题（见上）。本机数据未被改动，处理后可重新运行本命令。", file=sys.stderr)
        return 1
    print(
        "迁移完成，核对无误。要改用数据库，请在 trainer.toml 中写 storage = \"postgres\" 和 database_url = \"…\"（或设置环境变量 "
        "TRAINER_DATABASE_URL），并把同一个考试密钥配置到每一台服务器（TRAINER_EXAM_KEY）。"
    )
    return 0
