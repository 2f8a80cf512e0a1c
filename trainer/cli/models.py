"""`trainer models fetch NAME [--dir D]` and `trainer models list [--verify]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from trainer.cli.console import output_console
from trainer.config import Settings
from trainer.models import CATALOGUE, STATUS_TEXT, fetch, get_spec, list_models


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="下载和查看语音识别模型", description="下载和查看语音识别模型。")
    commands = parser.add_subparsers(dest="models_command", metavar="{fetch,list}", required=True)

    fetch_parser = commands.add_parser(
        "fetch",
        help="下载并校验模型",
        description="下载官方模型压缩包，校验每个大文件的 sha256，再安装到模型文件夹。可下载："
        + "；".join(f"{s.name}：{s.description}" for s in CATALOGUE.values()),
    )
    fetch_parser.add_argument("name", choices=sorted(CATALOGUE), help="模型名")
    fetch_parser.add_argument("--dir", type=Path, help="安装到这个文件夹（默认取 TRAINER_MODELS_DIR 或项目的 models/）")
    fetch_parser.set_defaults(func=run_fetch)

    list_parser = commands.add_parser("list", help="列出已安装的模型", description="列出已安装的模型、位置、大小和校验状态。")
    list_parser.add_argument("--verify", action="store_true", help="重新计算所有已固定文件的 sha256（较慢）")
    list_parser.set_defaults(func=run_list)


def run_fetch(args: argparse.Namespace, settings: Settings) -> int:
    spec = get_spec(args.name)
    models_dir = (args.dir or settings.models_dir).expanduser().resolve()
    console = output_console(stderr=True)
    target = models_dir / spec.folder
    console.print(f"下载 {spec.name}：{spec.url}\n安装到 {target}")
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("下载", total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        path = fetch(spec.name, models_dir, report)
    print(f"已安装并校验：{path}")
    if spec.engine == "vosk" and path != settings.vosk_model_path.resolve():
        print(f"提示：当前配置使用的 Vosk 模型是 {settings.vosk_model_path}。要使用新模型，请设置 TRAINER_VOSK_MODEL={path}")
    return 0


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n else "-"


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    models = list_models(settings, verify=args.verify)
    table = Table(title=f"语音模型（模型文件夹：{settings.models_dir}）")
    for column in ("名称", "引擎", "位置", "大小", "状态", "当前使用"):
        table.add_column(column)
    for m in models:
        status = STATUS_TEXT[m.status]
        if m.status == "not-installed" and m.name in CATALOGUE:
            status += f"：trainer models fetch {m.name}"
        table.add_row(m.name, m.engine, str(m.path), _size(m.size_bytes), status, "是" if m.in_use else "")
    output_console().print(table)  # piped: wide, long paths are not wrapped at 80 columns
    return 0
