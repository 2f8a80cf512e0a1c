"""Speech model provisioning: a catalogue of pinned models, `fetch` and `list_models`.

`fetch` downloads the official zip into a hidden temporary folder inside the
models folder, extracts it there, checks the size and sha256 of every pinned
file, and only then renames the model folder into place (a rename within one
file system is atomic). Whatever goes wrong (network, bad zip, hash mismatch,
Ctrl-C) the temporary folder is removed, so no half-installed model is ever
left where the recogniser looks. A verified install gets a small marker file
recording the hashes it was checked against.

Only models whose file hashes are pinned here can be fetched. Other models (the
large vosk-model-cn-0.22, faster-whisper models) are installed by hand: see
models/README.md.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from trainer.config import Settings
from trainer.errors import TrainerError

VERIFIED_MARKER = ".trainer-verified.json"
DOWNLOAD_CHUNK = 1 << 20
DOWNLOAD_TIMEOUT = 30.0

Progress = Callable[[int, int | None], None]
"""Called as progress(bytes_done, bytes_total_or_None) while downloading."""


class ModelFetchError(TrainerError):
    """A model could not be downloaded, verified or installed."""


@dataclass(frozen=True)
class PinnedFile:
    path: str  # relative to the model folder, "/"-separated
    size: int
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what the user types: trainer models fetch <name>
    engine: str  # "vosk" | "whisper"
    folder: str  # top folder inside the zip, and the installed folder name
    url: str
    description: str
    files: tuple[PinnedFile, ...]

    @property
    def download_size(self) -> str:
        return f"约 {sum(f.size for f in self.files) / 1e6:.0f} MB（解压后）"


CATALOGUE: dict[str, ModelSpec] = {
    "vosk-small-cn": ModelSpec(
        name="vosk-small-cn",
        engine="vosk",
        folder="vosk-model-small-cn-0.22",
        url="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
        description="Vosk 中文小模型（默认引擎，适合普通电脑和实时练习）",
        files=(
            PinnedFile("am/final.mdl", 15901896, "91eda2c04c4f599361cb92b0e5298ccdf6b3c7a1fa52bfcefcd2c4e07aa1c131"),
            PinnedFile("graph/HCLr.fst", 16158762, "798af0d9ba6f2d727747f58e1e7b2305f8618bc8ea7f6c51beecd8a2c965b965"),
            PinnedFile("graph/Gr.fst", 26082259, "46d41a9b1723abccdcb354d731a5b58d87c060100d88ada1a3e31220f52b0434"),
            PinnedFile("ivector/final.ie", 9927287, "c39d46fbff04efb7baa9660ae7a728b0e2f35a4a1250b56ed3a599e26956df86"),
        ),
    ),
}


def get_spec(name: str, catalogue: Mapping[str, ModelSpec] = CATALOGUE) -> ModelSpec:
    try:
        return catalogue[name]
    except KeyError:
        raise ModelFetchError(
            f"没有名为“{name}”的可下载模型。可选：{'、'.join(catalogue)}。其他模型请按 models/README.md 手动安装。",
            f"unknown model {name!r}; known: {sorted(catalogue)}",
        ) from None


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_files(spec: ModelSpec, folder: Path, *, hashes: bool = True) -> list[str]:
    """Problems with the pinned files in `folder` (empty list: all present, right size and hash)."""
    problems = []
    for pinned in spec.files:
        path = folder / pinned.path
        if not path.is_file():
            problems.append(f"缺少 {pinned.path}")
        elif path.stat().st_size != pinned.size:
            problems.append(f"{pinned.path} 大小不符（{path.stat().st_size} 字节，应为 {pinned.size}）")
        elif hashes and _sha256(path) != pinned.sha256:
            problems.append(f"{pinned.path} 的 sha256 校验不符")
    return problems


def _marker_matches(spec: ModelSpec, folder: Path) -> bool:
    try:
        data = json.loads((folder / VERIFIED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("files") == {f.path: f.sha256 for f in spec.files}


def _write_marker(spec: ModelSpec, folder: Path) -> None:
    data = {
        "name": spec.name,
        "url": spec.url,
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": {f.path: f.sha256 for f in spec.files},
    }
    (folder / VERIFIED_MARKER).write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def _manual_hint(spec: ModelSpec, models_dir: Path) -> str:
    return f"请检查网络，或手动下载 {spec.url} 并解压到 {models_dir}（得到 {models_dir / spec.folder} 文件夹）。"


def _download(spec: ModelSpec, dest: Path, models_dir: Path, progress: Progress | None) -> None:
    try:
        with urllib.request.urlopen(spec.url, timeout=DOWNLOAD_TIMEOUT) as response, dest.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            if progress:
                progress(0, total)
            while chunk := response.read(DOWNLOAD_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ModelFetchError(
                f"磁盘空间不足，无法下载 {spec.name} 到 {models_dir}。请清理磁盘，或用 --dir 指定其他位置。",
                f"no space left while downloading {spec.url}: {exc!r}",
            ) from exc
        reason = getattr(exc, "reason", None) or exc
        raise ModelFetchError(
            f"无法下载 {spec.name}（{reason}）。{_manual_hint(spec, models_dir)}",
            f"download of {spec.url} failed: {exc!r}",
        ) from exc
    if total is not None and done != total:
        raise ModelFetchError(
            f"无法下载 {spec.name}：下载不完整（收到 {done} / {total} 字节）。{_manual_hint(spec, models_dir)}",
            f"download of {spec.url} truncated: {done} of {total} bytes",
        )


def _extract(spec: ModelSpec, archive: Path, dest: Path, models_dir: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)  # zipfile drops absolute paths and ".." components
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFetchError(
            f"下载的 {spec.name} 压缩包已损坏，无法解压（{exc}）。请重试；{_manual_hint(spec, models_dir)}",
            f"cannot extract {archive}: {exc!r}",
        ) from exc
    folder = dest / spec.folder
    if not folder.is_dir():
        raise ModelFetchError(
            f"下载的压缩包里没有 {spec.folder} 文件夹，可能下载到了错误的文件。{_manual_hint(spec, models_dir)}",
            f"{spec.url} has no top folder {spec.folder}; found {sorted(p.name for p in dest.iterdir())}",
        )
    return folder


def fetch(
    name: str,
    models_dir: Path,
    progress: Progress | None = None,
    *,
    catalogue: Mapping[str, ModelSpec] = CATALOGUE,
) -> Path:
    """Install catalogue model `name` into `models_dir`; return the model folder.

    An already installed model whose pinned files check out is left alone. A
    damaged one is replaced. Raises ModelFetchError on any failure, leaving no
    temporary or partial files behind (also on KeyboardInterrupt, which propagates).
    """
    spec = get_spec(name, catalogue)
    models_dir = Path(models_dir).expanduser().resolve()
    target = models_dir / spec.folder
    if target.is_dir() and not check_files(spec, target):
        if not _marker_matches(spec, target):
            _write_marker(spec, target)
        return target
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".tmp-{spec.folder}-", dir=models_dir))
    except OSError as exc:
        raise ModelFetchError(
            f"无法在 {models_dir} 中创建文件（{exc.strerror or exc}）。请检查该文件夹的写入权限，或用 --dir 指定其他位置。",
            f"cannot write to {models_dir}: {exc!r}",
        ) from exc
    try:
        archive = work / "download.zip"
        _download(spec, archive, models_dir, progress)
        folder = _extract(spec, archive, work / "extract", models_dir)
        archive.unlink()
        problems = check_files(spec, folder)
        if problems:
            raise ModelFetchError(
                f"下载的 {spec.name} 校验失败：{'；'.join(problems)}。未安装任何文件。请重试；{_manual_hint(spec, models_dir)}",
                f"verification of {spec.url} failed: {problems}",
            )
        _write_marker(spec, folder)
        if target.exists():  # damaged earlier install: move it aside, then swap in the new one
            target.rename(work / "old")
        folder.rename(target)
    except OSError as exc:
        raise ModelFetchError(
            f"安装 {spec.name} 到 {target} 时出错（{exc.strerror or exc}）。请检查磁盘空间和写入权限。",
            f"installing {spec.name} into {target} failed: {exc!r}",
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


@dataclass(frozen=True)
class InstalledModel:
    """One model folder as `trainer models list` shows it."""

    name: str
    engine: str  # "vosk" | "whisper" | "?"
    path: Path
    size_bytes: int
    status: str  # see STATUS_TEXT
    in_use: bool  # the folder the settings point to for its engine


STATUS_TEXT = {
    "verified": "已校验",
    "unverified": "未校验（文件齐全；运行 trainer models list --verify 校验）",
    "unpinned": "无校验值（手动安装的模型）",
    "damaged": "已损坏",
    "incomplete": "不完整",
    "not-installed": "未安装",
}


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _detect_engine(folder: Path) -> str:
    if (folder / "am").is_dir() or (folder / "graph").is_dir():
        return "vosk"
    if (folder / "model.bin").is_file() or (folder / "config.json").is_file():
        return "whisper"
    return "?"


def _complete(engine: str, folder: Path) -> bool:
    if engine == "vosk":
        from trainer.asr.vosk_engine import missing_vosk_files

        return not missing_vosk_files(folder)
    if engine == "whisper":
        return (folder / "model.bin").is_file() and (folder / "config.json").is_file()
    return False


def _status(spec: ModelSpec | None, engine: str, folder: Path, verify: bool) -> str:
    if spec is None:
        return "unpinned" if _complete(engine, folder) else "incomplete"
    problems = check_files(spec, folder, hashes=verify)
    if problems:
        return "damaged" if all("sha256" in p for p in problems) else "incomplete"
    if verify:
        if not _marker_matches(spec, folder):
            try:
                _write_marker(spec, folder)
            except OSError:
                pass  # read-only model folder: still verified, just not remembered
        return "verified"
    return "verified" if _marker_matches(spec, folder) else "unverified"


def list_models(
    settings: Settings, *, verify: bool = False, catalogue: Mapping[str, ModelSpec] = CATALOGUE
) -> list[InstalledModel]:
    """Model folders in settings.models_dir plus the configured model paths, and catalogue models not installed.

    `verify=True` re-hashes pinned files (slow for big models); otherwise a pinned
    model counts as verified when `fetch` (or an earlier --verify) marked it so and
    the file sizes still match.
    """
    by_folder = {spec.folder: spec for spec in catalogue.values()}
    in_use = {settings.vosk_model_path.resolve(), settings.whisper_model_path.resolve()}
    folders: list[Path] = []
    models_dir = settings.models_dir.resolve()
    if models_dir.is_dir():
        folders = sorted(p.resolve() for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for configured in (settings.vosk_model_path.resolve(), settings.whisper_model_path.resolve()):
        if configured.is_dir() and configured not in folders:
            folders.append(configured)
    result = []
    for folder in folders:
        spec = by_folder.get(folder.name)
        engine = spec.engine if spec else _detect_engine(folder)
        result.append(
            InstalledModel(
                name=spec.name if spec else folder.name,
                engine=engine,
                path=folder,
                size_bytes=_folder_size(folder),
                status=_status(spec, engine, folder, verify),
                in_use=folder in in_use,
            )
        )
    installed = {m.path.name for m in result}
    for spec in catalogue.values():
        if spec.folder not in installed:
            path = models_dir / spec.folder
            result.append(InstalledModel(spec.name, spec.engine, path, 0, "not-installed", path in in_use))
    return result


DEFAULT_MODEL = "vosk-small-cn"


def ensure_default_model(
    settings: Settings, progress: Progress | None = None, *, catalogue: Mapping[str, ModelSpec] = CATALOGUE
) -> Path | None:
    """First run: fetch the default Vosk model if the settings rely on it and it is not installed.

    Does nothing (returns None) when another engine or a custom model folder is
    configured, or when the default model is already there; otherwise returns the
    installed folder. Raises ModelFetchError like `fetch`.
    """
    spec = catalogue[DEFAULT_MODEL]
    if settings.engine != spec.engine or settings.vosk_model is not None:
        return None
    if (settings.models_dir / spec.folder).is_dir() and not check_files(spec, settings.models_dir / spec.folder, hashes=False):
        return None
    return fetch(DEFAULT_MODEL, settings.models_dir, progress, catalogue=catalogue)
