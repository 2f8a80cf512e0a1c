"""HTTPS for the training room: `trainer tls init|show`, the certificates it writes, `trainer app --https`
and the 证书 page.

The chain is checked twice, independently: with `cryptography` (signature, extensions, names, dates)
and by Python's `ssl` client trusting only ca.crt, handshaking with a small TLS server that uses
server.crt/server.key, as a browser does when it opens https://training.test.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from streamlit.testing.v1 import AppTest

from app_support import free_port, no_exception, page_text, stop
from trainer.cli import app as app_cli
from trainer.cli import main
from trainer.tls import ServerNames, TlsError, certs, init_tls, load_tls, machine_names, parse_host
from trainer.tls import guide
from trainer.tls import names as tls_names
from trainer.tls.names import HostNameError
from trainer.tls.store import read_ca

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_DIR = REPO_ROOT / "trainer" / "app"
CA_PAGE = APP_DIR / "pages" / "7_证书.py"
NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.timezone.utc)
ROOM = ServerNames.of(["localhost", "srv-room1"], [ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "192.168.1.10")])


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _ext(cert: x509.Certificate, kind: type) -> x509.Extension:  # type: ignore[type-arg]
    return cert.extensions.get_extension_for_class(kind)


@pytest.fixture
def config_env(own_config: Path) -> Path:
    """An empty config file of our own, sessions in tmp_path, no TLS folder configured."""
    return own_config


@pytest.fixture
def tls_dir(config_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """`trainer tls init --dir … --host training.test`, run as a user would."""
    folder = tmp_path / "tls"
    assert main(["tls", "init", "--dir", str(folder), "--host", "training.test"]) == 0
    out = capsys.readouterr().out
    assert "已新生成 ca.crt" in out and "training.test" in out
    return folder


# --------------------------------------------------------------------------- the certificates


def test_server_certificate_chains_to_the_ca(tls_dir: Path) -> None:
    ca, server = _cert(tls_dir / "ca.crt"), _cert(tls_dir / "server.crt")
    server.verify_directly_issued_by(ca)  # issuer name and signature
    ca.verify_directly_issued_by(ca)  # a self-signed root
    other_ca, _ = certs.new_ca("someone else", NOW)
    with pytest.raises(ValueError):  # issuer name differs
        server.verify_directly_issued_by(other_ca)
    assert not certs.issued_by(server, other_ca)

    constraints = _ext(ca, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    ca_usage = _ext(ca, x509.KeyUsage).value
    assert ca_usage.key_cert_sign and ca_usage.crl_sign and not ca_usage.digital_signature

    assert _ext(server, x509.BasicConstraints).value.ca is False
    assert _ext(server, x509.KeyUsage).value.digital_signature
    assert list(_ext(server, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert _ext(server, x509.AuthorityKeyIdentifier).value.key_identifier == _ext(ca, x509.SubjectKeyIdentifier).value.digest


def test_names_are_typed_and_cover_this_machine(tls_dir: Path) -> None:
    san = _ext(_cert(tls_dir / "server.crt"), x509.SubjectAlternativeName).value
    dns = set(san.get_values_for_type(x509.DNSName))
    ips = set(san.get_values_for_type(x509.IPAddress))
    assert {"training.test", "localhost", socket.gethostname().lower()} <= dns
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")} <= ips
    assert ips >= tls_names.interface_addresses()
    # addresses are iPAddress entries, never dNSName strings
    assert not any(_is_ip(name) for name in dns)
    assert not any(ip.version == 6 and ip.is_link_local for ip in ips)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def test_validity_periods(tls_dir: Path) -> None:
    ca, server = _cert(tls_dir / "ca.crt"), _cert(tls_dir / "server.crt")
    now = dt.datetime.now(dt.timezone.utc)
    for cert in (ca, server):
        assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert server.not_valid_after_utc - server.not_valid_before_utc <= dt.timedelta(days=825, hours=1)
    assert server.not_valid_after_utc - now > dt.timedelta(days=800)
    assert ca.not_valid_after_utc - now > dt.timedelta(days=9 * 365)
    assert server.not_valid_after_utc <= ca.not_valid_after_utc


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_private_keys_and_folder_are_private(tls_dir: Path) -> None:
    assert tls_dir.stat().st_mode & 0o777 == 0o700
    assert (tls_dir / "ca.key").stat().st_mode & 0o777 == 0o600
    assert (tls_dir / "server.key").stat().st_mode & 0o777 == 0o600
    assert (tls_dir / "ca.crt").stat().st_mode & 0o777 == 0o644
    assert not [p for p in tls_dir.iterdir() if p.name.startswith(".tmp-")]


def _serve_once(context: ssl.SSLContext) -> tuple[int, threading.Thread, list[BaseException]]:
    """A TLS server on 127.0.0.1 that answers one connection with b"ok" (errors are collected, not raised)."""
    listener = socket.create_server(("127.0.0.1", 0))
    errors: list[BaseException] = []

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError) as exc:
                errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread, errors


def _handshake(port: int, cafile: Path, server_hostname: str) -> bytes:
    client = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.recv(2)


def _server_context(tls_dir: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_dir / "server.crt", tls_dir / "server.key")
    return context


@pytest.mark.parametrize("name", ["training.test", "localhost", "127.0.0.1"])
def test_ssl_client_trusting_only_ca_crt_accepts_the_server(tls_dir: Path, name: str) -> None:
    port, thread, errors = _serve_once(_server_context(tls_dir))
    assert _handshake(port, tls_dir / "ca.crt", name) == b"ok"
    thread.join(10)
    assert not errors


def test_ssl_client_rejects_other_names_and_other_cas(tls_dir: Path, tmp_path: Path) -> None:
    port, thread, _ = _serve_once(_server_context(tls_dir))
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        _handshake(port, tls_dir / "ca.crt", "not-this-server.test")
    thread.join(10)

    other = init_tls(tmp_path / "other", machine=ROOM, now=dt.datetime.now(dt.timezone.utc))
    port, thread, _ = _serve_once(_server_context(tls_dir))
    with pytest.raises(ssl.SSLCertVerificationError, match="self.signed|unable to get local issuer"):
        _handshake(port, other.paths.ca_cert, "training.test")
    thread.join(10)


# --------------------------------------------------------------------------- re-running init


def test_rerun_keeps_the_ca_and_reissues_only_when_needed(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    first = init_tls(folder, machine=ROOM, now=NOW)
    assert first.ca_created and first.server_issued and first.names == ROOM
    ca_pem, server_pem = (folder / "ca.crt").read_bytes(), (folder / "server.crt").read_bytes()

    same = init_tls(folder, machine=ROOM, now=NOW + dt.timedelta(days=100))
    assert not same.ca_created and not same.server_issued and "保留" in same.reason
    assert (folder / "server.crt").read_bytes() == server_pem

    added = init_tls(folder, parse_host("training.local"), machine=ROOM, now=NOW)
    assert not added.ca_created and added.server_issued and "新增 training.local" in added.reason
    assert (folder / "ca.crt").read_bytes() == ca_pem
    assert "training.local" in certs.names_of(_cert(folder / "server.crt")).dns
    assert (folder / "extra-hosts.txt").read_text(encoding="utf-8") == "training.local\n"

    # the machine's address changed (DHCP): the new one in, the old one out, --host names kept
    moved = ServerNames.of(ROOM.dns, [ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "192.168.1.77")])
    result = init_tls(folder, machine=moved, now=NOW)
    assert result.server_issued and "新增 192.168.1.77" in result.reason and "去掉 192.168.1.10" in result.reason
    names = certs.names_of(_cert(folder / "server.crt"))
    assert names == moved | parse_host("training.local")
    assert certs.issued_by(_cert(folder / "server.crt"), _cert(folder / "ca.crt"))
    assert (folder / "ca.crt").read_bytes() == ca_pem

    expiring = _cert(folder / "server.crt").not_valid_after_utc - dt.timedelta(days=10)
    renewed = init_tls(folder, machine=moved, now=expiring)
    assert renewed.server_issued and "过期" in renewed.reason
    assert _cert(folder / "server.crt").not_valid_after_utc > expiring + dt.timedelta(days=800)
    assert (folder / "ca.crt").read_bytes() == ca_pem

    forced = init_tls(folder, machine=moved, force=True, now=NOW)
    assert forced.ca_created and forced.server_issued
    assert (folder / "ca.crt").read_bytes() != ca_pem
    assert certs.issued_by(_cert(folder / "server.crt"), _cert(folder / "ca.crt"))


def test_server_certificate_not_from_this_ca_is_reissued(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    init_tls(folder, machine=ROOM, now=NOW)
    stranger = init_tls(tmp_path / "elsewhere", machine=ROOM, now=NOW)
    for name in ("server.crt", "server.key"):
        (folder / name).write_bytes((stranger.paths.folder / name).read_bytes())
    assert any("不是由" in w for w in load_tls(folder, machine=ROOM, now=NOW).warnings)
    result = init_tls(folder, machine=ROOM, now=NOW)
    assert result.server_issued and "不是由当前根证书签发" in result.reason


def test_a_damaged_ca_is_never_replaced_silently(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    init_tls(folder, machine=ROOM, now=NOW)
    other = init_tls(tmp_path / "other", machine=ROOM, now=NOW)
    (folder / "ca.key").write_bytes((other.paths.folder / "ca.key").read_bytes())
    with pytest.raises(TlsError, match="--force"):
        init_tls(folder, machine=ROOM, now=NOW)
    (folder / "ca.key").unlink()
    with pytest.raises(TlsError, match="--force"):
        init_tls(folder, machine=ROOM, now=NOW)
    assert init_tls(folder, machine=ROOM, force=True, now=NOW).ca_created


# --------------------------------------------------------------------------- names


def test_parse_host() -> None:
    assert parse_host("192.168.1.10").ips == (ipaddress.ip_address("192.168.1.10"),)
    assert parse_host("[fd00::2]").ips == (ipaddress.ip_address("fd00::2"),)
    assert parse_host("Training.Local.").dns == ("training.local",)
    [punycode] = parse_host("培训室").dns
    assert punycode.startswith("xn--") and punycode.encode("ascii").decode("idna") == "培训室"
    for bad in ("https://srv:8501", "srv:8501", "bad name", "", "a..b"):
        with pytest.raises(HostNameError):
            parse_host(bad)


def test_machine_names_from_the_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    fake = {
        "eth0": [
            SimpleNamespace(family=socket.AF_INET, address="10.0.0.5"),
            SimpleNamespace(family=socket.AF_INET6, address="fe80::1%eth0"),
            SimpleNamespace(family=socket.AF_INET6, address="2001:db8::5"),
            SimpleNamespace(family=getattr(socket, "AF_PACKET", 17), address="02:00:00:00:00:01"),
        ],
        "lo": [SimpleNamespace(family=socket.AF_INET, address="127.0.0.1")],
    }
    monkeypatch.setattr(psutil, "net_if_addrs", lambda: fake)
    monkeypatch.setattr(socket, "gethostname", lambda: "ROOM-PC_01")
    monkeypatch.setattr(socket, "getfqdn", lambda: "room-pc_01.corp.example")
    names = machine_names()
    assert names.dns == ("localhost", "room-pc_01", "room-pc_01.corp.example")
    assert [str(ip) for ip in names.ips] == ["10.0.0.5", "127.0.0.1", "::1", "2001:db8::5"]
    assert names.lan_hosts() == ["room-pc_01", "room-pc_01.corp.example", "10.0.0.5", "2001:db8::5"]


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("https://training.test:8501/练习", True),
        ("https://192.168.1.10:8501/", True),
        ("http://localhost:8501/练习", True),
        ("http://app.localhost:8501/", True),
        ("http://127.0.0.2:8501/", True),
        ("http://[::1]:8501/", True),
        ("http://training.test:8501/练习", False),
        ("http://192.168.1.10:8501/", False),
        ("http://[fd00::2]:8501/", False),
    ],
)
def test_which_addresses_may_record(url: str, secure: bool) -> None:
    assert guide.is_secure_origin(url) is secure
    hint = guide.microphone_blocked_hint(url)
    assert (hint is None) is secure
    if hint:
        assert "https://" in hint and "上传" in hint


def test_unknown_address_gives_no_hint() -> None:
    assert guide.microphone_blocked_hint(None) is None and guide.microphone_blocked_hint("") is None


# --------------------------------------------------------------------------- reading: show, warnings


def test_show(tls_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tls", "show", "--dir", str(tls_dir)]) == 0
    out = capsys.readouterr().out
    ca = _cert(tls_dir / "ca.crt")
    assert certs.thumbprint_sha1(ca) in out and certs.fingerprint_sha256(ca) in out
    assert "training.test" in out and "127.0.0.1" in out and "有效期" in out


def test_load_tls_errors_and_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    with pytest.raises(TlsError, match="trainer tls init --dir /x"):
        load_tls(folder, init_command="trainer tls init --dir /x")
    init_tls(folder, machine=ROOM, now=NOW)
    assert load_tls(folder, machine=ROOM, now=NOW).warnings == []

    moved = ROOM | ServerNames.of(ips=[ipaddress.ip_address("192.168.1.77")])
    [warning] = load_tls(folder, machine=moved, now=NOW).warnings
    assert "192.168.1.77" in warning and "trainer tls init" in warning

    expires = _cert(folder / "server.crt").not_valid_after_utc
    [warning] = load_tls(folder, machine=ROOM, now=expires - dt.timedelta(days=3)).warnings
    assert "过期" in warning
    with pytest.raises(TlsError, match="已于 .* 过期"):
        load_tls(folder, machine=ROOM, now=expires + dt.timedelta(seconds=1))

    (folder / "server.key").write_bytes((folder / "ca.key").read_bytes())
    with pytest.raises(TlsError, match="不是 .*server.crt 的私钥"):
        load_tls(folder, machine=ROOM, now=NOW)


# --------------------------------------------------------------------------- trainer app --https


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str] | None]]:
    calls: list[tuple[list[str], dict[str, str] | None]] = []
    monkeypatch.setattr(app_cli, "launch_streamlit", lambda command, env=None: calls.append((list(command), env)) or 0)
    monkeypatch.setattr(app_cli, "check_model", lambda settings, fetch_allowed: None)
    return calls


def test_app_https_refuses_without_certificates(config_env: Path, tmp_path: Path, launched: list, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[type-arg]
    assert main(["app", "--https", "--tls-dir", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "找不到 HTTPS 证书文件" in err and f"trainer tls init --dir {tmp_path / 'nothing'}" in err
    assert main(["app", "--https"]) == 2
    assert "请先运行 trainer tls init 生成证书" in capsys.readouterr().err
    assert main(["app", "--tls-dir", str(tmp_path)]) == 2
    assert "--https" in capsys.readouterr().err
    assert launched == []


def test_app_https_serves_with_the_certificate_and_explains_ca_install(tls_dir: Path, launched: list, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[type-arg]
    assert main(["app", "--https", "--tls-dir", str(tls_dir), "--address", "0.0.0.0", "--port", "8765"]) == 0
    [(command, env)] = launched
    assert f"--server.sslCertFile={tls_dir / 'server.crt'}" in command
    assert f"--server.sslKeyFile={tls_dir / 'server.key'}" in command
    assert "--server.address=0.0.0.0" in command
    assert env is not None and env["TRAINER_TLS_DIR"] == str(tls_dir)
    err = capsys.readouterr().err
    assert "https://training.test:8765" in err and "https://localhost:8765" not in err
    for address in tls_names.interface_addresses():
        if not address.is_loopback:
            assert f"https://{f'[{address}]' if address.version == 6 else address}:8765" in err
    assert "certutil -addstore -f Root ca.crt" in err and "certutil -user -addstore -f Root ca.crt" in err
    assert "证书导入向导" in err and "受信任的根证书颁发机构" in err
    assert str(tls_dir / "ca.crt") in err and "/证书" in err
    assert certs.thumbprint_sha1(_cert(tls_dir / "ca.crt")) in err


def test_app_https_warns_about_an_address_the_certificate_lacks(tls_dir: Path, launched: list, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[type-arg]
    assert main(["app", "--https", "--tls-dir", str(tls_dir), "--address", "training.test"]) == 0
    assert "监听地址" not in capsys.readouterr().err
    assert main(["app", "--https", "--tls-dir", str(tls_dir), "--address", "10.99.99.99"]) == 0
    err = capsys.readouterr().err
    assert "监听地址 10.99.99.99 不在服务器证书中" in err and "trainer tls init --host 10.99.99.99" in err


def test_unwritable_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(folder: Path, data: bytes, **kwargs: str) -> Path:
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr("trainer.tls.store.synced_temp", denied)  # as for a folder owned by another user
    with pytest.raises(TlsError, match="无法写入证书文件夹 .*Permission denied"):
        init_tls(tmp_path / "tls", machine=ROOM, now=NOW)


def test_app_over_plain_http_on_the_lan_points_to_https(config_env: Path, launched: list, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[type-arg]
    assert main(["app", "--address", "0.0.0.0"]) == 0
    [(command, env)] = launched
    assert not any("ssl" in part for part in command) and env is None
    assert "trainer tls init" in capsys.readouterr().err


def test_trainer_app_https_really_serves_tls(tls_dir: Path, tmp_path: Path) -> None:
    """Streamlit itself accepts the generated ECDSA key and serves over TLS; a client trusting ca.crt gets in."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "trainer", "app", "--https", "--tls-dir", str(tls_dir), "--port", str(port),
         "--address", "127.0.0.1", "--no-fetch"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},  # this checkout's trainer, whatever is installed
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    context = ssl.create_default_context(cafile=str(tls_dir / "ca.crt"))
    try:
        body = _get_when_up(f"https://localhost:{port}/_stcore/health", context, process)
        assert body.strip() == b"ok"
        with pytest.raises((OSError, http.client.HTTPException)):  # plain http is not served on that port
            urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=5)
    finally:
        stop(process)


def _get_when_up(url: str, context: ssl.SSLContext, process: subprocess.Popen, seconds: float = 60) -> bytes:  # type: ignore[type-arg]
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, context=context, timeout=2) as response:
                return response.read()
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise
            time.sleep(0.3)
        except ConnectionError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds:.0f} s")


# --------------------------------------------------------------------------- the 证书 page


def test_ca_page_offers_ca_crt(tls_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_TLS_DIR", str(tls_dir))
    at = AppTest.from_file(str(CA_PAGE), default_timeout=30).run()
    no_exception(at)
    ca = read_ca(tls_dir)
    assert ca is not None and ca.pem == (tls_dir / "ca.crt").read_bytes()
    [button] = at.get("download_button")
    assert "ca.crt" in str(button.proto.label)
    text = page_text(at)
    assert ca.thumbprint_sha1 in text and "受信任的根证书颁发机构" in text
    assert "certutil -addstore -f Root ca.crt" in [c.value for c in at.code]


def test_ca_page_without_https(config_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_TLS_DIR", str(config_env / "no-tls"))
    at = AppTest.from_file(str(CA_PAGE), default_timeout=30).run()
    no_exception(at)
    assert not at.get("download_button")
    assert "trainer tls init" in page_text(at)
