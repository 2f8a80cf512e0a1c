"""`trainer deploy nginx --app HOST:PORT --app HOST:PORT …`: the nginx configuration for several app
servers behind one address (deploy/nginx-trainer.conf filled in; see trainer/nginx.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from trainer.config import Settings
from trainer.nginx import TEMPLATE, NginxConfigError, NginxSite, render, standalone


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "deploy",
        help="部署辅助：生成多台应用服务器共用一个地址的 nginx 配置",
        description="生成部署所需的配置文件（输出到标准输出）。",
    )
    sub = parser.add_subparsers(dest="deploy_command", metavar="ACTION", required=True)
    nginx = sub.add_parser(
        "nginx",
        help="生成 nginx 配置：多台 trainer app 共用一个 HTTPS 地址（粘性会话、WebSocket）",
        description="按 deploy/nginx-trainer.conf 生成 nginx 配置，放到 /etc/nginx/conf.d/trainer.conf。"
        "各应用服务器须使用同一个 PostgreSQL 数据库（storage = \"postgres\"）和同一个考试密钥。"
        "证书默认用 trainer tls init 生成的 server.crt / server.key。",
    )
    nginx.add_argument("--app", action="append", required=True, metavar="主机:端口", help="一台 trainer app 的地址（可重复）")
    nginx.add_argument("--listen", default="443", help="nginx 监听端口（默认 443）")
    nginx.add_argument("--server-name", default="_", help="网址中的主机名（默认 _：任何名称）")
    nginx.add_argument("--tls-dir", type=Path, default=None, help="证书文件夹（默认同 trainer tls init）")
    nginx.add_argument("--template", type=Path, default=TEMPLATE, help=argparse.SUPPRESS)
    nginx.add_argument(
        "--standalone", type=Path, metavar="文件夹",
        help="输出完整的 nginx.conf（前台运行，pid/日志/临时文件放在此文件夹），用于试运行：nginx -p 文件夹 -c 文件夹/nginx.conf",
    )
    nginx.set_defaults(func=run_nginx)


def run_nginx(args: argparse.Namespace, settings: Settings) -> int:
    from trainer.cli.tls import tls_folder
    from trainer.tls import TlsPaths

    paths = TlsPaths(tls_folder(args.tls_dir, settings))
    missing = [p for p in (paths.server_cert, paths.server_key) if not p.is_file()]
    if missing:
        raise NginxConfigError(
            f"找不到证书 {'、'.join(map(str, missing))}。请先运行 trainer tls init（或用 --tls-dir 指定证书文件夹）。",
            f"missing {missing}",
        )
    try:
        template = args.template.read_text(encoding="utf-8")
    except OSError as exc:
        raise NginxConfigError(f"读不到 nginx 模板 {args.template}。", str(exc)) from exc
    site = NginxSite(tuple(args.app), args.listen, args.server_name, paths.server_cert, paths.server_key)
    text = render(template, site)
    if args.standalone is not None:
        prefix = args.standalone.expanduser().resolve()
        text = standalone(text, prefix)
    print(text, end="")
    return 0
