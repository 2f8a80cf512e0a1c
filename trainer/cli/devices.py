"""`trainer devices`: list the input devices (microphones) `trainer practice --device` can use."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from trainer.cli.console import output_console
from trainer.config import Settings
from trainer.practice.capture import NoInputDeviceError, list_input_devices


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="列出可用的录音设备（麦克风）",
        description="列出可用的录音设备。练习时用 trainer practice --device 编号或名称 选择其中一个。",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings, console: Console | None = None) -> int:
    console = console or output_console()
    devices = list_input_devices()
    if not devices:
        raise NoInputDeviceError(
            "没有找到任何录音设备（麦克风）。请插好麦克风或耳麦后重试；没有麦克风时可用 trainer practice --input-file 练习 WAV 文件。",
            "no input device",
        )
    table = Table(title="录音设备", title_justify="left")
    table.add_column("编号", justify="right")
    table.add_column("名称")
    table.add_column("接口")
    table.add_column("声道", justify="right")
    table.add_column("默认采样率", justify="right")
    table.add_column("默认")
    for device in devices:
        table.add_row(
            str(device.index),
            device.name,
            device.hostapi,
            str(device.channels),
            f"{device.default_samplerate:g} Hz",
            "✓" if device.is_default else "",
            style="bold" if device.is_default else None,
        )
    console.print(table)
    console.print("选择设备：trainer practice --scenario 场景编号 --device 编号（或名称中的一段）", style="dim")
    return 0
