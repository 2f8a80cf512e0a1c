"""The TLS folder: `ca.crt`, `ca.key`, `server.crt`, `server.key` and `extra-hosts.txt`.

`init_tls` makes the local CA once and keeps it (the trainees install `ca.crt` once), and issues
the server certificate again only when it is missing, no longer matches the CA or its key, names
other hosts/addresses than wanted, or is within 30 days of expiry. Private keys are written 0600,
the folder is 0700 (POSIX), every file is replaced atomically (`trainer/durable.py`).

`extra-hosts.txt` remembers the names given with `--host` (one a line), so a later `trainer tls
init` without `--host` keeps them; delete the file (or lines of it) to drop them.

`load_tls` reads the folder for `trainer tls show` and `trainer app --https`: missing, unreadable,
mismatched or expired server files are an error; what a browser may still object to (not signed by
`ca.crt`, near expiry, a current address of this machine not in the certificate) is a warning.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from trainer.durable import fsync_dir, synced_temp
from trainer.errors import TrainerError
from trainer.tls import certs
from trainer.tls.names import ServerNames, machine_names, parse_host

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SERVER_CERT = "server.crt"
SERVER_KEY = "server.key"
EXTRA_HOSTS = "extra-hosts.txt"

INIT_HINT = "trainer tls init"


class TlsError(TrainerError):
    """The TLS folder is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class TlsPaths:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / CA_CERT

    @property
    def ca_key(self) -> Path:
        return self.folder / CA_KEY

    @property
    def server_cert(self) -> Path:
        return self.folder / SERVER_CERT

    @property
    def server_key(self) -> Path:
        return self.folder / SERVER_KEY

    @property
    def extra_hosts(self) -> Path:
        return self.folder / EXTRA_HOSTS


@dataclass(frozen=True)
class InitResult:
    paths: TlsPaths
    ca_created: bool
    server_issued: bool
    reason: str  # Chinese: why the server certificate was issued, or why it was kept
    names: ServerNames  # what the server certificate now names
    extras: ServerNames  # the remembered --host names


@dataclass(frozen=True)
class TlsStatus:
    paths: TlsPaths
    server_cert: x509.Certificate
    ca_cert: x509.Certificate | None  # None: no ca.crt (e.g. a certificate from the centre's own CA)
    warnings: list[str] = field(default_factory=list)  # Chinese, one problem each

    @property
    def names(self) -> ServerNames:
        return certs.names_of(self.server_cert)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def day(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- init


def init_tls(
    folder: Path,
    extra: ServerNames = ServerNames(),
    *,
    force: bool = False,
    machine: ServerNames | None = None,
    now: dt.datetime | None = None,
) -> InitResult:
    """Make or refresh the TLS folder (see the module docstring). `machine` and `now` are for tests."""
    now = now or utc_now()
    paths = TlsPaths(folder)
    _make_private_folder(folder)
    extras = read_extra_hosts(paths) | extra
    wanted = (machine_names() if machine is None else machine) | extras

    if force or not (paths.ca_cert.exists() or paths.ca_key.exists()):
        ca_cert, ca_key = certs.new_ca(ca_common_name(now), now)
        ca_created = True
    else:
        ca_cert, ca_key = _existing_ca(paths, now)
        ca_created = False

    reason = "新的根证书" if ca_created else _reissue_reason(paths, ca_cert, wanted, now)
    server = certs.new_server_cert(wanted, ca_cert, ca_key, now) if reason else None

    writes: list[tuple[Path, bytes, int]] = []
    if extras != read_extra_hosts(paths):
        writes.append((paths.extra_hosts, "".join(f"{h}\n" for h in [*extras.dns, *map(str, extras.ips)]).encode(), 0o644))
    if ca_created:  # key before certificate: a crash in between leaves a mismatch that init reports
        writes += [(paths.ca_key, certs.key_pem(ca_key), 0o600), (paths.ca_cert, certs.cert_pem(ca_cert), 0o644)]
    if server is not None:
        writes += [(paths.server_key, certs.key_pem(server[1]), 0o600), (paths.server_cert, certs.cert_pem(server[0]), 0o644)]
    try:
        for path, data, mode in writes:
            _write(path, data, mode)
        fsync_dir(folder)
    except OSError as exc:
        raise TlsError(f"无法写入证书文件夹 {folder}：{exc}。请检查权限（以运行 trainer 的用户执行）。", f"cannot write {folder}: {exc}") from exc
    return InitResult(
        paths=paths,
        ca_created=ca_created,
        server_issued=server is not None,
        reason=reason or "仍然有效，名称和地址没有变化，保留",
        names=wanted,
        extras=extras,
    )


def ca_common_name(now: dt.datetime) -> str:
    """Shown on the trainees' PCs as 颁发者/颁发给: which server's CA, made when."""
    return f"trainer 培训教室根证书 {socket.gethostname()} {day(now)}"


def _make_private_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name == "posix":
            folder.chmod(0o700)
    except OSError as exc:
        raise TlsError(f"无法创建证书文件夹 {folder}：{exc}", f"cannot create {folder}: {exc}") from exc


def _existing_ca(paths: TlsPaths, now: dt.datetime) -> tuple[x509.Certificate, certs.PrivateKey]:
    redo = f"请运行 {INIT_HINT} --force 生成新的根证书（之后每台学员电脑都要重新安装 ca.crt）。"
    try:
        ca_cert = certs.load_cert(paths.ca_cert.read_bytes())
        ca_key = certs.load_key(paths.ca_key.read_bytes())
    except (OSError, ValueError) as exc:
        raise TlsError(f"根证书 {paths.ca_cert} 或其私钥 {paths.ca_key} 缺失或无法读取：{exc}。{redo}", f"cannot load CA in {paths.folder}: {exc}") from exc
    if not certs.key_matches(ca_cert, ca_key):
        raise TlsError(f"{paths.ca_key} 不是 {paths.ca_cert} 的私钥。{redo}", f"CA key does not match CA cert in {paths.folder}")
    if ca_cert.not_valid_after_utc - now < certs.RENEW_BEFORE:
        raise TlsError(f"根证书 {paths.ca_cert} 将于 {day(ca_cert.not_valid_after_utc)} 过期。{redo}", "CA expires within 30 days")
    return ca_cert, ca_key


def _reissue_reason(paths: TlsPaths, ca_cert: x509.Certificate, wanted: ServerNames, now: dt.datetime) -> str:
    """Why the server certificate must be issued again; "" when it can stay."""
    if not (paths.server_cert.exists() and paths.server_key.exists()):
        return "还没有服务器证书"
    try:
        cert = certs.load_cert(paths.server_cert.read_bytes())
        key = certs.load_key(paths.server_key.read_bytes())
    except (OSError, ValueError):
        return "服务器证书或私钥无法读取"
    if not certs.key_matches(cert, key):
        return "服务器证书与私钥不匹配"
    if not certs.issued_by(cert, ca_cert):
        return "服务器证书不是由当前根证书签发的"
    have = certs.names_of(cert)
    if have != wanted:
        added, dropped = wanted - have, have - wanted
        parts = ([f"新增 {added.describe()}"] if added else []) + ([f"去掉 {dropped.describe()}"] if dropped else [])
        return "名称或地址有变化：" + "；".join(parts)
    if cert.not_valid_after_utc - now < certs.RENEW_BEFORE:
        return f"服务器证书将于 {day(cert.not_valid_after_utc)} 过期"
    return ""


def read_extra_hosts(paths: TlsPaths) -> ServerNames:
    if not paths.extra_hosts.exists():
        return ServerNames()
    found = ServerNames()
    for line in paths.extra_hosts.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            found = found | parse_host(line)
    return found


def _write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` atomically; the temporary file is created 0600, so a key is never readable by others."""
    temp = synced_temp(path.parent, data, prefix=".tmp-", suffix=path.suffix)
    try:
        temp.chmod(mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CaFile:
    """ca.crt as the trainees download it, with what they check it against."""

    pem: bytes
    common_name: str
    thumbprint_sha1: str
    fingerprint_sha256: str
    expires: str  # YYYY-MM-DD


def read_ca(folder: Path) -> CaFile | None:
    """The folder's ca.crt; None when there is none. An unreadable or damaged file is a TlsError."""
    path = TlsPaths(folder).ca_cert
    if not path.is_file():
        return None
    try:
        pem = path.read_bytes()
        cert = certs.load_cert(pem)
    except (OSError, ValueError) as exc:
        raise TlsError(f"根证书 {path} 无法读取：{exc}。请管理员运行 {INIT_HINT}。", f"cannot read {path}: {exc}") from exc
    return CaFile(
        pem=certs.cert_pem(cert),
        common_name=certs.common_name(cert),
        thumbprint_sha1=certs.thumbprint_sha1(cert),
        fingerprint_sha256=certs.fingerprint_sha256(cert),
        expires=day(cert.not_valid_after_utc),
    )


def load_tls(
    folder: Path,
    *,
    init_command: str = INIT_HINT,
    machine: ServerNames | None = None,
    now: dt.datetime | None = None,
) -> TlsStatus:
    """The server certificate and key (required) and ca.crt (optional) of `folder`, with warnings.
    `init_command` is the command the messages suggest (with `--dir` when the folder is not the default)."""
    now = now or utc_now()
    paths = TlsPaths(folder)
    missing = [p for p in (paths.server_cert, paths.server_key) if not p.is_file()]
    if missing:
        raise TlsError(
            f"找不到 HTTPS 证书文件 {'、'.join(map(str, missing))}。请先运行 {init_command} 生成证书。",
            f"missing {missing}",
        )
    try:
        server_cert = certs.load_cert(paths.server_cert.read_bytes())
        server_key = certs.load_key(paths.server_key.read_bytes())
    except (OSError, ValueError) as exc:
        raise TlsError(f"无法读取 {paths.server_cert} 或 {paths.server_key}：{exc}。请重新运行 {init_command}。", f"cannot load server cert/key: {exc}") from exc
    if not certs.key_matches(server_cert, server_key):
        raise TlsError(f"{paths.server_key} 不是 {paths.server_cert} 的私钥。请重新运行 {init_command}。", "server key does not match server cert")
    expires = server_cert.not_valid_after_utc
    if expires <= now:
        raise TlsError(f"服务器证书已于 {day(expires)} 过期。请运行 {init_command} 重新签发（学员无需重新安装 ca.crt）。", "server cert expired")

    warnings: list[str] = []
    ca_cert: x509.Certificate | None = None
    if paths.ca_cert.is_file():
        try:
            ca_cert = certs.load_cert(paths.ca_cert.read_bytes())
        except (OSError, ValueError) as exc:
            warnings.append(f"无法读取根证书 {paths.ca_cert}：{exc}")
    else:
        warnings.append(f"没有根证书 {paths.ca_cert}：学员电脑需要安装签发服务器证书的根证书。")
    if ca_cert is not None and not certs.issued_by(server_cert, ca_cert):
        warnings.append(f"服务器证书不是由 {paths.ca_cert} 签发的，安装了这个 ca.crt 的电脑仍会提示不安全。请运行 {init_command}。")
    if expires - now < certs.RENEW_BEFORE:
        warnings.append(f"服务器证书将于 {day(expires)} 过期，请运行 {init_command} 重新签发（学员无需重新安装 ca.crt）。")
    here = machine_names() if machine is None else machine
    uncovered = here - certs.names_of(server_cert)
    if uncovered:
        warnings.append(
            f"本机的 {uncovered.describe()} 不在服务器证书中，用它访问会提示不安全。"
            f"如果地址变了，请运行 {init_command} 重新签发（学员无需重新安装 ca.crt）。"
        )
    return TlsStatus(paths=paths, server_cert=server_cert, ca_cert=ca_cert, warnings=warnings)
