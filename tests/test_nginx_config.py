"""trainer deploy nginx: the shipped template filled in (trainer/nginx.py); nginx itself checks it when installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trainer.nginx import TEMPLATE, NginxConfigError, NginxSite, render, standalone

REPO = Path(__file__).resolve().parent.parent


def site(*apps: str) -> NginxSite:
    return NginxSite(apps or ("10.0.0.11:8501", "10.0.0.12:8501"), "443", "train.example.cn", Path("/etc/t/server.crt"), Path("/etc/t/server.key"))


def test_template_rendered_with_every_server_sticky_and_websocket() -> None:
    text = render(TEMPLATE.read_text(encoding="utf-8"), site())
    assert "{{" not in text
    assert "    server 10.0.0.11:8501 max_fails=1 fail_timeout=10s;\n    server 10.0.0.12:8501 max_fails=1 fail_timeout=10s;" in text
    assert "hash $trainer_node consistent;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text and "proxy_set_header Connection $trainer_connection;" in text
    assert "ssl_certificate     /etc/t/server.crt;" in text and "ssl_certificate_key /etc/t/server.key;" in text
    assert "listen 443 ssl;" in text and "server_name train.example.cn;" in text


@pytest.mark.parametrize("apps", [("10.0.0.11",), ("a:8501", "a:8501"), ("x:99999",), ("host:80; evil",)])
def test_bad_app_lists_refused(apps: tuple[str, ...]) -> None:
    with pytest.raises(NginxConfigError):
        render(TEMPLATE.read_text(encoding="utf-8"), site(*apps))


def test_template_without_a_placeholder_refused() -> None:
    with pytest.raises(NginxConfigError, match="APP_SERVERS"):
        render(TEMPLATE.read_text(encoding="utf-8").replace("{{APP_SERVERS}}", ""), site())


def test_missing_certificate_named(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trainer", "deploy", "nginx", "--app", "127.0.0.1:8501", "--tls-dir", str(tmp_path / "none")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode != 0 and "trainer tls init" in out.stderr


def test_standalone_config_accepted_by_nginx(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    tls = tmp_path / "tls"
    assert subprocess.run([sys.executable, "-m", "trainer", "tls", "init", "--dir", str(tls)], cwd=REPO, capture_output=True, timeout=60).returncode == 0
    text = render(TEMPLATE.read_text(encoding="utf-8"), NginxSite(("127.0.0.1:8501",), "18443", "_", tls / "server.crt", tls / "server.key"))
    (tmp_path / "nginx.conf").write_text(standalone(text, tmp_path), encoding="utf-8")
    out = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
