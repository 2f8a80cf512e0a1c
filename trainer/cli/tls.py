"""`trainer tls init [--dir DIR] [--host NAME ...] [--force]` and `trainer tls show [--dir DIR]`:
the local certificate authority and the server certificate for `trainer app --https`."""

from __future__ import annotations

import argparse
from pathlib import Path

from trainer.config import Settings
from trainer.tls import ServerNames, init_tls, load_tls, parse_host
from trainer.tls import certs
from trainer.tls.guide import fingerprint_lines
from trainer.tls.store import INIT_HINT, day


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "tls",
        help="HTTPS 证书：生成本机根证书和服务器证书（局域网内使用麦克风需要 HTTPS）",
        description="为 trainer app --https 生成和查看证书。学员电脑安装一次根证书 ca.crt 后，浏览器即信任本服务器。",
    )
    sub = parser.add_subparsers(dest="tls_command", metavar="ACTION", required=True)

    init = sub.add_parser(
        "init",
        help="生成根证书（已有则保留）和服务器证书（名称或地址变化、临近过期时重新签发）",
        description="在 DIR 中生成 ca.crt、ca.key、server.crt、server.key。已有的根证书保留（学员不必重新安装），"
        "服务器证书包含本机的主机名、完整域名、localhost、127.0.0.1、::1 和所有网卡地址，以及 --host 给出的名称。",
    )
    _dir_argument(init)
    init.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME",
        help="再加一个名称或 IP 地址（可多次使用），例如 --host training.local --host 192.168.1.10；"
        "会记在 DIR/extra-hosts.txt 中，以后运行时自动保留",
    )
    init.add_argument("--force", action="store_true", help="生成新的根证书（之后每台学员电脑都要重新安装 ca.crt）")
    init.set_defaults(func=run_init)

    show = sub.add_parser("show", help="显示证书的名称、有效期和指纹", description="显示 DIR 中证书的名称、有效期和指纹。")
    _dir_argument(show)
    show.set_defaults(func=run_show)


def _dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=None, help="证书文件夹（默认：会话文件夹旁边的 tls 文件夹，或配置项 tls_dir）")


def tls_folder(args_dir: Path | None, settings: Settings) -> Path:
    return (args_dir or settings.tls_folder).expanduser().resolve()


def init_command(args_dir: Path | None, folder: Path) -> str:
    """The `trainer tls init` command for this folder, as messages should suggest it."""
    return f"{INIT_HINT} --dir {folder}" if args_dir else INIT_HINT


def run_init(args: argparse.Namespace, settings: Settings) -> int:
    folder = tls_folder(args.dir, settings)
    extra = ServerNames()
    for value in args.host:
        extra = extra | parse_host(value)
    result = init_tls(folder, extra, force=args.force)
    status = load_tls(folder, init_command=init_command(args.dir, folder))
    print(f"证书文件夹：{folder}")
    if result.ca_created:
        print("根证书：已新生成 ca.crt（每台学员电脑需要安装一次，见 trainer app --https 的提示）")
    else:
        print("根证书：保留原有的 ca.crt（已安装过的学员电脑不必重新安装）")
    print(f"服务器证书：{'已签发（' + result.reason + '）' if result.server_issued else result.reason}")
    print(f"  名称和地址：{status.names.describe()}")
    print(f"  有效期至：{day(status.server_cert.not_valid_after_utc)}")
    for line in fingerprint_lines(status):
        print(line)
    for warning in status.warnings:
        print(f"注意：{warning}")
    print(f"下一步：trainer app --https --address 0.0.0.0{f' --tls-dir {folder}' if args.dir else ''}")
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    folder = tls_folder(args.dir, settings)
    status = load_tls(folder, init_command=init_command(args.dir, folder))
    print(f"证书文件夹：{folder}")
    for line in fingerprint_lines(status):
        print(line)
    print(f"服务器证书：{certs.common_name(status.server_cert)}")
    print(f"  名称和地址：{status.names.describe()}")
    print(f"  有效期：{day(status.server_cert.not_valid_before_utc)} 至 {day(status.server_cert.not_valid_after_utc)}")
    print(f"  SHA-256 指纹：{certs.fingerprint_sha256(status.server_cert)}")
    for warning in status.warnings:
        print(f"注意：{warning}")
    return 0
