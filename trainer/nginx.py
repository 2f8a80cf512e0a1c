"""The nginx configuration for several `trainer app` servers behind one address (issue 16).

The template is `deploy/nginx-trainer.conf` (placeholders {{APP_SERVERS}}, {{LISTEN}},
{{SERVER_NAME}}, {{CERT}}, {{KEY}}); `render` fills it in. The result goes inside nginx's
`http { }` block (Debian: /etc/nginx/conf.d/). `standalone` wraps it into a complete nginx.conf
with its own pid, log and temp paths, for an nginx run in the foreground by an unprivileged user
(the multi-server test; a trial before touching /etc/nginx).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from trainer.errors import TrainerError

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "nginx-trainer.conf"
PLACEHOLDERS = ("APP_SERVERS", "LISTEN", "SERVER_NAME", "CERT", "KEY")
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")
_NAME = re.compile(r"^[A-Za-z0-9.*_-]+( [A-Za-z0-9.*_-]+)*$")


class NginxConfigError(TrainerError):
    """An nginx setting trainer cannot write into the configuration."""


@dataclass(frozen=True)
class NginxSite:
    apps: tuple[str, ...]  # host:port of each `trainer app`
    listen: str  # e.g. "443" or "10.0.0.10:443"
    server_name: str  # e.g. "train.example.cn" or "_"
    cert: Path
    key: Path


def check_address(address: str) -> str:
    match = _ADDRESS.match(address.strip())
    if not match or not 0 < int(match.group(2)) < 65536:
        raise NginxConfigError(
            f"应用服务器地址“{address}”格式不对，应为 主机:端口，例如 10.0.0.11:8501。", f"bad app address {address!r}"
        )
    return address.strip()


def render(template: str, site: NginxSite) -> str:
    """The template with the site's values filled in; every placeholder must be used and filled."""
    if not site.apps:
        raise NginxConfigError("至少要指定一台应用服务器（--app 主机:端口）。", "no app servers")
    apps = [check_address(a) for a in site.apps]
    if len(set(apps)) != len(apps):
        raise NginxConfigError("应用服务器地址有重复。", f"duplicate app addresses {apps}")
    if not _NAME.match(site.server_name):
        raise NginxConfigError(f"服务器名称“{site.server_name}”不能用于 nginx（只允许字母、数字、点、横线）。", "bad server_name")
    if not re.fullmatch(r"(\S+:)?\d{1,5}", site.listen):
        raise NginxConfigError(f"监听端口“{site.listen}”格式不对，例如 443 或 10.0.0.10:443。", "bad listen")
    for path in (site.cert, site.key):
        if any(c in str(path) for c in ' ;{}"\''):
            raise NginxConfigError(f"证书路径“{path}”含有空格或特殊字符，请换一个文件夹。", f"unusable path {path}")
    values = {
        "APP_SERVERS": "\n".join(f"    server {a} max_fails=1 fail_timeout=10s;" for a in apps),
        "LISTEN": site.listen,
        "SERVER_NAME": site.server_name,
        "CERT": str(site.cert),
        "KEY": str(site.key),
    }
    text = template
    for name in PLACEHOLDERS:
        marker = "{{" + name + "}}"
        if marker not in text:
            raise NginxConfigError(f"nginx 模板缺少 {marker}，请使用随 trainer 提供的 deploy/nginx-trainer.conf。", f"{marker} missing")
        text = text.replace(marker, values[name])
    left = re.findall(r"\{\{[A-Z_]+\}\}", text)
    if left:
        raise NginxConfigError(f"nginx 模板中有无法填写的占位符：{'、'.join(left)}。", f"unknown placeholders {left}")
    return text


def standalone(site_conf: str, prefix: Path) -> str:
    """A complete nginx.conf around a rendered site: pid, logs and temp files under `prefix`, in the
    foreground (`nginx -p PREFIX -c PREFIX/nginx.conf`), no root needed for ports ≥ 1024."""
    temp = {name: prefix / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    temps = "\n".join(f"    {name}_temp_path {path};" for name, path in temp.items())
    return (
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {prefix / 'access.log'};\n"
        f"{temps}\n"
        f"{site_conf}\n"
        "}\n"
    )
