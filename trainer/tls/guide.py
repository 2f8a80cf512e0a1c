"""What the operator and the trainees are told (Chinese): the addresses to open and how to install
`ca.crt` on a Windows PC, either with certutil or with the certificate import wizard.

Used by `trainer app --https`, `trainer tls init|show` and the app's 证书 page, so all three say the same.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from trainer.tls import certs
from trainer.tls.names import ServerNames
from trainer.tls.store import TlsStatus

ANY_ADDRESS = ("0.0.0.0", "::", "")
CA_PAGE_PATH = "证书"  # the app page pages/7_证书.py offers ca.crt for download

CERTUTIL_MACHINE = "certutil -addstore -f Root ca.crt"
CERTUTIL_USER = "certutil -user -addstore -f Root ca.crt"

WIZARD_STEPS: tuple[str, ...] = (
    "双击 ca.crt，点“安装证书”，打开“证书导入向导”；",
    "“存储位置”选“本地计算机”（需要管理员）或“当前用户”，点“下一步”；",
    "选“将所有的证书都放入下列存储”，点“浏览”，选“受信任的根证书颁发机构”，点“确定”→“下一步”→“完成”；",
    "出现“安全警告”时，核对其中的指纹（SHA1）与下面的指纹一致，点“是”。",
)


def host_in_url(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def server_urls(names: ServerNames, port: int, address: str) -> list[str]:
    """The https addresses to open: every LAN name and address of the certificate when the app listens
    on all interfaces, otherwise the one address it listens on."""
    hosts = names.lan_hosts() if address in ANY_ADDRESS else [address]
    return [f"https://{host_in_url(h)}:{port}" for h in hosts or ["localhost"]]


def ca_page_url(base_url: str) -> str:
    return f"{base_url}/{CA_PAGE_PATH}"


def fingerprint_lines(status: TlsStatus) -> list[str]:
    if status.ca_cert is None:
        return []
    return [
        f"根证书：{certs.common_name(status.ca_cert)}，有效期至 {status.ca_cert.not_valid_after_utc:%Y-%m-%d}",
        f"  指纹（SHA1，Windows 证书“详细信息”中的“指纹”）：{certs.thumbprint_sha1(status.ca_cert)}",
        f"  SHA-256 指纹：{certs.fingerprint_sha256(status.ca_cert)}",
    ]


def install_guide(status: TlsStatus, urls: list[str]) -> str:
    """The Chinese text `trainer app --https` prints: addresses, how to get and install ca.crt, fingerprints."""
    lines = ["HTTPS 已开启。学员电脑用 Chrome 或 Edge 打开：", *(f"  {u}" for u in urls), ""]
    if status.ca_cert is None:
        lines += ["学员电脑需要信任签发服务器证书的根证书（本文件夹中没有 ca.crt）。"]
        return "\n".join(lines)
    lines += [
        "每台学员电脑第一次使用前，安装一次根证书 ca.crt（之后浏览器不再提示“不安全”，才允许使用麦克风）：",
        f"  取得 ca.crt：复制本机文件 {status.paths.ca_cert}（U 盘或共享文件夹），",
        f"    或在学员电脑上打开 {ca_page_url(urls[0])} 下载（安装前浏览器会提示“不安全”，点“高级”→“继续前往”）。",
        "  方法一（命令）：在 ca.crt 所在文件夹，以管理员身份打开“命令提示符”，运行",
        f"    {CERTUTIL_MACHINE}",
        f"    没有管理员权限时，只为当前用户安装：{CERTUTIL_USER}（弹出安全警告时点“是”）",
        "  方法二（双击）：",
        *(f"    {i}. {step}" for i, step in enumerate(WIZARD_STEPS, 1)),
        "  装好后关闭并重新打开浏览器。Firefox 使用自己的证书列表，建议使用 Chrome 或 Edge。",
        *fingerprint_lines(status),
    ]
    return "\n".join(lines)


def is_secure_origin(url: str) -> bool:
    """Whether a browser lets a page at `url` use the microphone: https, or http on this very machine
    (localhost, *.localhost, 127.0.0.0/8, ::1) — the browsers' "secure context" rule."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def microphone_blocked_hint(url: str | None) -> str | None:
    """What a trainee on a plain-http LAN address is told beside the record button; None when the
    page may record (or its address is unknown)."""
    if not url or is_secure_origin(url):
        return None
    return (
        "这个网址以 http:// 开头，浏览器不允许在这里使用麦克风（只有 https:// 网址或服务器本机才可以），"
        "点击录音会出错。请使用管理员提供的 https:// 网址（第一次使用前按“证书”页安装证书），或者上传录好的音频文件。"
    )
