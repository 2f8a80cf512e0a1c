"""Model provisioning without the internet: a local HTTP server serves zips built here."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import re
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from trainer.cli import main
from trainer.config import Settings
from trainer.models import CATALOGUE, VERIFIED_MARKER, ModelFetchError, ModelSpec, PinnedFile, fetch, list_models

FOLDER = "fake-vosk-0.1"
FILES = {
    "am/final.mdl": os.urandom(300_000),
    "graph/HCLr.fst": os.urandom(200_000),
    "conf/mfcc.conf": b"--use-energy=false\n",
    "README": b"test model\n",
}


def _zip(files: dict[str, bytes], folder: str = FOLDER) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(f"{folder}/{name}", data)
    return buf.getvalue()


ZIP = _zip(FILES)


class Server:
    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path == "/model.zip":
                    self._send(ZIP, len(ZIP))
                elif self.path == "/truncated.zip":  # the connection drops half way
                    self._send(ZIP[: len(ZIP) // 2], len(ZIP))
                elif self.path == "/garbage.zip":
                    self._send(b"<html>not a zip</html>" * 100, 2200)
                elif self.path == "/wrong-folder.zip":
                    data = _zip(FILES, folder="other")
                    self._send(data, len(data))
                else:
                    self.send_error(404)

            def _send(self, body: bytes, length: int) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _spec(server: Server, path: str = "/model.zip", **changes: object) -> ModelSpec:
    pinned = tuple(
        PinnedFile(name, len(FILES[name]), hashlib.sha256(FILES[name]).hexdigest()) for name in ("am/final.mdl", "graph/HCLr.fst")
    )
    spec = ModelSpec(
        name="fake", engine="vosk", folder=FOLDER, url=server.base + path, description="test", files=pinned
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def _leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir()) if models_dir.exists() else []


def test_fetch_installs_verified_model(server: Server, tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    path = fetch("fake", tmp_path / "models", lambda d, t: calls.append((d, t)), catalogue={"fake": _spec(server)})
    assert path == tmp_path / "models" / FOLDER
    for name, data in FILES.items():
        assert (path / name).read_bytes() == data
    assert (path / VERIFIED_MARKER).is_file()
    assert _leftovers(tmp_path / "models") == [FOLDER]  # no temporary folder or zip left
    assert calls[0] == (0, len(ZIP)) and calls[-1] == (len(ZIP), len(ZIP))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_already_installed_model_is_not_downloaded_again(server: Server, tmp_path: Path) -> None:
    catalogue = {"fake": _spec(server)}
    first = fetch("fake", tmp_path, catalogue=catalogue)
    before = len(server.requests)
    assert fetch("fake", tmp_path, catalogue=catalogue) == first
    assert len(server.requests) == before


def test_damaged_install_is_replaced(server: Server, tmp_path: Path) -> None:
    catalogue = {"fake": _spec(server)}
    path = fetch("fake", tmp_path, catalogue=catalogue)
    (path / "am" / "final.mdl").write_bytes(b"corrupt" * 10)
    (path / "stale-file").write_text("from the old install")
    before = len(server.requests)
    assert fetch("fake", tmp_path, catalogue=catalogue) == path
    assert len(server.requests) == before + 1
    assert (path / "am" / "final.mdl").read_bytes() == FILES["am/final.mdl"]
    assert not (path / "stale-file").exists()
    assert _leftovers(tmp_path) == [FOLDER]


def test_sha_mismatch_leaves_nothing_behind(server: Server, tmp_path: Path) -> None:
    spec = _spec(server)
    bad = (replace(spec.files[0], sha256="0" * 64), spec.files[1])
    with pytest.raises(ModelFetchError) as info:
        fetch("fake", tmp_path, catalogue={"fake": replace(spec, files=bad)})
    assert "校验失败" in info.value.user_message and "am/final.mdl" in info.value.user_message
    assert _leftovers(tmp_path) == []


def test_size_mismatch_is_a_verification_failure(server: Server, tmp_path: Path) -> None:
    spec = _spec(server)
    bad = (replace(spec.files[0], size=1), spec.files[1])
    with pytest.raises(ModelFetchError, match="大小不符"):
        fetch("fake", tmp_path, catalogue={"fake": replace(spec, files=bad)})
    assert _leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing_behind(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelFetchError) as info:
        fetch("fake", tmp_path, catalogue={"fake": _spec(server, "/truncated.zip")})
    assert "下载不完整" in info.value.user_message or "无法下载" in info.value.user_message
    assert _leftovers(tmp_path) == []


def test_ctrl_c_during_download_leaves_nothing_behind(server: Server, tmp_path: Path) -> None:
    def interrupt(done: int, total: int | None) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch("fake", tmp_path, interrupt, catalogue={"fake": _spec(server)})
    assert _leftovers(tmp_path) == []


def test_not_a_zip_or_wrong_layout(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelFetchError, match="已损坏"):
        fetch("fake", tmp_path, catalogue={"fake": _spec(server, "/garbage.zip")})
    with pytest.raises(ModelFetchError, match=FOLDER):
        fetch("fake", tmp_path, catalogue={"fake": _spec(server, "/wrong-folder.zip")})
    assert _leftovers(tmp_path) == []


def test_network_failure_explains_manual_install(server: Server, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = _spec(server, url=f"http://127.0.0.1:{port}/model.zip")
    with pytest.raises(ModelFetchError) as info:
        fetch("fake", tmp_path, catalogue={"fake": spec})
    message = info.value.user_message
    assert "无法下载" in message and "请检查网络" in message and spec.url in message and str(tmp_path) in message
    with pytest.raises(ModelFetchError, match="无法下载"):
        fetch("fake", tmp_path, catalogue={"fake": _spec(server, "/missing.zip")})  # HTTP 404
    assert _leftovers(tmp_path) == []


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelFetchError) as info:
        fetch("vosk-huge", tmp_path)
    assert "vosk-small-cn" in info.value.user_message


def test_list_models_reports_status(server: Server, tmp_path: Path) -> None:
    spec = _spec(server)
    catalogue = {"fake": spec, "other": replace(spec, name="other", folder="other-model-1.0")}
    path = fetch("fake", tmp_path, catalogue=catalogue)
    whisper = tmp_path / "my-whisper"
    whisper.mkdir()
    (whisper / "model.bin").write_bytes(b"x" * 10)
    (whisper / "config.json").write_text("{}")
    (tmp_path / "half-done").mkdir()
    settings = Settings(models_dir=tmp_path, vosk_model=path, whisper_model=whisper)

    models = {m.name: m for m in list_models(settings, catalogue=catalogue)}
    assert models["fake"].status == "verified" and models["fake"].in_use and models["fake"].engine == "vosk"
    assert models["fake"].size_bytes >= sum(len(d) for d in FILES.values())
    assert models["my-whisper"].status == "unpinned" and models["my-whisper"].engine == "whisper"
    assert models["half-done"].status == "incomplete"
    assert models["other"].status == "not-installed" and not models["other"].in_use

    (path / VERIFIED_MARKER).unlink()  # e.g. unzipped by hand
    assert {m.name: m for m in list_models(settings, catalogue=catalogue)}["fake"].status == "unverified"
    data = bytearray((path / "am" / "final.mdl").read_bytes())
    data[0] ^= 0xFF
    (path / "am" / "final.mdl").write_bytes(bytes(data))
    assert {m.name: m for m in list_models(settings, catalogue=catalogue)}["fake"].status == "unverified"
    assert {m.name: m for m in list_models(settings, verify=True, catalogue=catalogue)}["fake"].status == "damaged"
    (path / "graph" / "HCLr.fst").unlink()
    assert {m.name: m for m in list_models(settings, catalogue=catalogue)}["fake"].status == "incomplete"


def test_cli_fetch_and_list(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.setenv("TRAINER_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setitem(CATALOGUE, "fake", _spec(server))
    assert main(["models", "fetch", "fake"]) == 0
    out = capsys.readouterr().out
    assert "已安装并校验" in out and str(tmp_path / "models" / FOLDER) in out
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert FOLDER in out and "已校验" in out
    assert "trainer models fetch vosk-small-cn" in out  # the default model is not installed here


def test_cli_fetch_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = replace(CATALOGUE["vosk-small-cn"], url=f"http://127.0.0.1:{port}/vosk.zip")
    monkeypatch.setitem(CATALOGUE, "vosk-small-cn", spec)
    assert main(["models", "fetch", "vosk-small-cn", "--dir", str(tmp_path / "m")]) == 2
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("错误：")]
    assert len(err_lines) == 1 and "无法下载" in err_lines[0]
    assert _leftovers(tmp_path / "m") == []


def test_catalogue_pins_match_the_published_table(shared_dir: Path) -> None:
    """The pinned sizes and hashes of vosk-small-cn are those in ../shared/models/README.md."""
    readme = (shared_dir / "models" / "README.md").read_text(encoding="utf-8")
    section = readme.split("vosk-model-small-cn-0.22", 1)[1]
    rows = dict(
        (m.group(1), (int(m.group(2)), m.group(3)))
        for m in re.finditer(r"^\| (\S+) \| (\d+) \| ([0-9a-f]{64}) \|$", section, re.M)
    )
    spec = CATALOGUE["vosk-small-cn"]
    assert {f.path: (f.size, f.sha256) for f in spec.files} == rows
    assert spec.url in readme and spec.folder == "vosk-model-small-cn-0.22"


def test_ensure_default_model_fetches_only_when_needed(server: Server, tmp_path: Path) -> None:
    from trainer.models import DEFAULT_MODEL, ensure_default_model

    catalogue = {DEFAULT_MODEL: _spec(server, name=DEFAULT_MODEL)}
    assert ensure_default_model(Settings(engine="whisper", models_dir=tmp_path), catalogue=catalogue) is None
    assert ensure_default_model(Settings(models_dir=tmp_path, vosk_model=tmp_path / "own"), catalogue=catalogue) is None
    assert _leftovers(tmp_path) == []
    settings = Settings(models_dir=tmp_path)
    assert ensure_default_model(settings, catalogue=catalogue) == tmp_path / FOLDER
    before = len(server.requests)
    assert ensure_default_model(settings, catalogue=catalogue) is None
    assert len(server.requests) == before
