"""The names and addresses a server certificate is made for: this machine's, plus any the operator adds.

A certificate names its server in subjectAltName entries, each typed: a DNS name (`dNSName`) or an
IP address (`iPAddress`). Browsers compare the address bar against exactly these entries, so the
certificate must carry every name and address the trainees may type.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Union

import psutil

from trainer.errors import TrainerError

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

LOOPBACK_NAMES: tuple[str, ...] = ("localhost",)
LOOPBACK_IPS: tuple[IPAddress, ...] = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))

# one DNS label: letters, digits, hyphen; underscore too (Windows computer names may contain it)
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


class HostNameError(TrainerError):
    """A name given with --host is neither a DNS name nor an IP address."""


@dataclass(frozen=True)
class ServerNames:
    """DNS names and IP addresses, sorted and without duplicates (compare with ==)."""

    dns: tuple[str, ...] = ()
    ips: tuple[IPAddress, ...] = ()

    @classmethod
    def of(cls, dns: Iterable[str] = (), ips: Iterable[IPAddress] = ()) -> ServerNames:
        return cls(tuple(sorted(set(dns))), tuple(sorted(set(ips), key=lambda a: (a.version, int(a)))))

    def __or__(self, other: ServerNames) -> ServerNames:
        return ServerNames.of((*self.dns, *other.dns), (*self.ips, *other.ips))

    def __sub__(self, other: ServerNames) -> ServerNames:
        return ServerNames.of(set(self.dns) - set(other.dns), set(self.ips) - set(other.ips))

    def __bool__(self) -> bool:
        return bool(self.dns or self.ips)

    def covers(self, other: ServerNames) -> bool:
        return set(other.dns) <= set(self.dns) and set(other.ips) <= set(self.ips)

    def lan_hosts(self) -> list[str]:
        """What another PC can type to reach the server: non-loopback names, then addresses."""
        names = [n for n in self.dns if n not in LOOPBACK_NAMES]
        return names + [str(ip) for ip in self.ips if not ip.is_loopback]

    def describe(self) -> str:
        return "、".join([*self.dns, *(str(ip) for ip in self.ips)]) or "（无）"


def parse_host(text: str) -> ServerNames:
    """One --host value: an IP address (IPv6 may be bracketed) or a DNS name (IDNA-encoded, lower case)."""
    value = text.strip()
    if not value:
        raise HostNameError("--host 的值不能为空。", "empty --host value")
    if "://" in value or "/" in value or (":" in value and not _looks_like_ipv6(value)):
        raise HostNameError(
            f"--host “{value}”不是主机名或 IP 地址。只写名字或地址，不写 https:// 和端口，例如 --host training.local 或 --host 192.168.1.10。",
            f"--host {value!r} looks like a URL or host:port",
        )
    try:
        return ServerNames.of(ips=[ipaddress.ip_address(value.strip("[]"))])
    except ValueError:
        pass
    return ServerNames.of(dns=[dns_name(value)])


def _looks_like_ipv6(value: str) -> bool:
    try:
        return ipaddress.ip_address(value.strip("[]")).version == 6
    except ValueError:
        return False


def dns_name(value: str) -> str:
    """A host name as a certificate carries it: lower case, ASCII (non-ASCII labels IDNA-encoded)."""
    name = value.strip().rstrip(".").lower()
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise HostNameError(f"主机名“{value}”无效：{exc}。", f"bad host name {value!r}: {exc}") from exc
    labels = ascii_name.split(".")
    if not ascii_name or len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise HostNameError(
            f"主机名“{value}”无效：只能由字母、数字、连字符和点组成，例如 training.local。",
            f"bad host name {value!r}",
        )
    return ascii_name


def machine_names() -> ServerNames:
    """This machine: host name, fully qualified name, localhost, 127.0.0.1, ::1 and the address of every
    network interface. IPv6 link-local addresses (fe80::/10) are left out: they need a zone id
    (fe80::1%eth0), which browsers do not accept in an address bar."""
    dns: set[str] = set(LOOPBACK_NAMES)
    for candidate in (socket.gethostname(), socket.getfqdn()):
        try:
            dns.add(dns_name(candidate))
        except HostNameError:
            continue  # a machine name no certificate can carry is simply not offered
    return ServerNames.of(dns, {*LOOPBACK_IPS, *interface_addresses()})


def interface_addresses() -> set[IPAddress]:
    """Every IPv4/IPv6 address of this machine's network interfaces, except IPv6 link-local."""
    found: set[IPAddress] = set()
    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                ip = ipaddress.ip_address(entry.address.split("%", 1)[0])
            except ValueError:
                continue
            if not (ip.version == 6 and ip.is_link_local):
                found.add(ip)
    return found
