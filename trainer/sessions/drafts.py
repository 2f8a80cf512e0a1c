"""Unfinished practice runs kept on the server, so that a reload or a closed tab loses nothing.

One draft per owner (the account practising): the practice page holds one run at a time, and a
trainee who comes back is asked to resume or discard it before starting another. Layout under
the drafts folder (`<sessions_dir>/drafts`, see `drafts_dir`):

    <owner-key>/draft.json           the run: scenario, library version, turns, transcripts, score
    <owner-key>/audio-<sha>.<ext>    each answered turn's audio exactly as recorded (named by content)
    .corrupt/<owner-key>-<time>/     drafts that could not be read, moved aside for the administrator
    .lock                            serialises writers (flock where available)

`<owner-key>` is a hash of the owner id, so any id (Chinese, slashes, dots) is a safe, fixed-length
folder name; draft.json repeats the owner and is checked against it.

A save writes the new audio files first (synced, then renamed into place), then replaces
draft.json in one rename, then removes audio no longer referenced: a crash at any point leaves
the previous draft or the new one, never a mix. Deleting removes draft.json first (the draft is
gone at once), then the folder. Drafts never touch stored sessions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainer.durable import PRIVATE_DIR_MODE, fsync_dir, private_dirs, synced_temp
from trainer.errors import TrainerError
from trainer.sessions.model import utc_now
from trainer.sessions.store import sniff_audio_extension

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DRAFTS_DIR = "drafts"
DRAFT_FILE = "draft.json"
CORRUPT_DIR = ".corrupt"
LOCK_FILE = ".lock"
MAX_OWNER_CHARS = 200
MAX_DRAFT_JSON_BYTES = 8 * 1024 * 1024
DAY = 86400.0

_thread_lock = threading.Lock()  # flock does not exist on Windows; threads of one server share this


class DraftError(TrainerError):
    """A draft could not be saved, read or removed."""


class CorruptDraftError(DraftError):
    """A stored draft is unreadable; it has been moved aside (see `DraftStore.load`)."""


def drafts_dir(sessions_dir: Path) -> Path:
    return Path(sessions_dir) / DRAFTS_DIR


def owner_key(owner: str) -> str:
    """The folder name for an owner id: 32 hex digits of its SHA-256 (safe on every file system)."""
    if not owner or not owner.strip() or len(owner) > MAX_OWNER_CHARS:
        raise DraftError("无法保存练习进度：没有有效的用户编号。请重新登记或登录。", f"bad draft owner {owner!r}")
    return hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class DraftTurn:
    """One answered turn of an unfinished run: its audio as recorded and what the recogniser heard."""

    index: int  # 1-based step answered
    prompt: str
    audio: bytes
    audio_name: str  # the name the browser or upload gave
    source: str  # "microphone" | "upload"
    transcript: dict[str, Any]  # Transcript.to_dict()
    seconds: float
    warnings: tuple[str, ...] = ()
    processing_seconds: float = 0.0
    step_id: str = ""  # the step the customer's line asked for ("" in drafts saved before reactions)
    reaction: str = ""  # trainer.dialogue.Cue.reaction: why the customer said this line ("" = as scripted)


@dataclass(frozen=True)
class Draft:
    owner: str
    run_id: str
    scenario_id: str
    scenario_title: str
    steps_total: int
    trainee_id: str
    trainee_name: str
    started_at: str
    phrasebook_version: str  # of the library that scored `score`
    turns: tuple[DraftTurn, ...]
    score: dict[str, Any] | None = None  # of all turns, `trainer score --json` shape
    retries: int = 0
    last_turn: int = 0  # the turn whose full feedback was on screen (0: the last one)
    updated_at: str = field(default_factory=utc_now)

    @property
    def answered(self) -> int:
        return len(self.turns)


@dataclass(frozen=True)
class CleanupReport:
    removed: tuple[Path, ...] = ()
    kept: int = 0
    problems: tuple[str, ...] = ()  # Chinese


# --------------------------------------------------------------------------- (de)serialising


def _turn_json(turn: DraftTurn, audio_file: str) -> dict[str, Any]:
    data = asdict(turn)
    del data["audio"]
    data["warnings"] = list(turn.warnings)
    data["audio_file"] = audio_file
    data["audio_sha256"] = hashlib.sha256(turn.audio).hexdigest()
    return data


def _audio_file(turn: DraftTurn) -> str:
    return f"audio-{hashlib.sha256(turn.audio).hexdigest()[:24]}.{sniff_audio_extension(turn.audio)}"


def _draft_json(draft: Draft) -> bytes:
    data = {k: v for k, v in asdict(draft).items() if k != "turns"}
    data["format"] = FORMAT_VERSION
    data["turns"] = [_turn_json(t, _audio_file(t)) for t in draft.turns]
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


class _Bad(ValueError):
    """A field of draft.json is missing or of the wrong type (English, for the log)."""


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _Bad(f"field {key!r} missing or not {kind}")
    return value


def _parse(raw: bytes, folder: Path) -> Draft:
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise _Bad("not a JSON object")
    if data.get("format") != FORMAT_VERSION:
        raise _Bad(f"unknown format {data.get('format')!r}")
    turns: list[DraftTurn] = []
    for n, item in enumerate(_get(data, "turns", list), start=1):
        if not isinstance(item, dict):
            raise _Bad(f"turn {n} is not an object")
        if _get(item, "index", int) != n:
            raise _Bad(f"turn {n} has index {item.get('index')!r}")
        name = _get(item, "audio_file", str)
        if Path(name).name != name or not name.startswith("audio-"):
            raise _Bad(f"turn {n}: bad audio file name {name!r}")
        audio = (folder / name).read_bytes()
        if hashlib.sha256(audio).hexdigest() != _get(item, "audio_sha256", str):
            raise _Bad(f"turn {n}: audio {name} does not match its checksum")
        turns.append(
            DraftTurn(
                index=n,
                prompt=_get(item, "prompt", str),
                audio=audio,
                audio_name=_get(item, "audio_name", str),
                source=_get(item, "source", str),
                transcript=_get(item, "transcript", dict),
                seconds=float(_get(item, "seconds", (int, float))),
                warnings=tuple(str(w) for w in _get(item, "warnings", list)),
                processing_seconds=float(_get(item, "processing_seconds", (int, float))),
                step_id=str(item.get("step_id") or ""),
                reaction=str(item.get("reaction") or ""),
            )
        )
    score = data.get("score")
    if score is not None and not isinstance(score, dict):
        raise _Bad("score is not an object")
    steps_total = _get(data, "steps_total", int)
    if not 0 < len(turns) <= steps_total:
        raise _Bad(f"{len(turns)} turns for {steps_total} steps")
    last_turn = data.get("last_turn", 0)
    if not isinstance(last_turn, int) or isinstance(last_turn, bool) or not 0 <= last_turn <= len(turns):
        raise _Bad(f"last_turn {last_turn!r}")
    return Draft(
        owner=_get(data, "owner", str),
        run_id=_get(data, "run_id", str),
        scenario_id=_get(data, "scenario_id", str),
        scenario_title=_get(data, "scenario_title", str),
        steps_total=steps_total,
        trainee_id=_get(data, "trainee_id", str),
        trainee_name=_get(data, "trainee_name", str),
        started_at=_get(data, "started_at", str),
        phrasebook_version=_get(data, "phrasebook_version", str),
        turns=tuple(turns),
        score=score,
        retries=_get(data, "retries", int),
        last_turn=last_turn,
        updated_at=_get(data, "updated_at", str),
    )


# --------------------------------------------------------------------------- the store


class DraftStore:
    """The unfinished practice runs under `root` (normally `drafts_dir(settings.sessions_dir)`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, owner: str) -> Path:
        return self.root / owner_key(owner)

    @property
    def corrupt_dir(self) -> Path:
        return self.root / CORRUPT_DIR

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with _thread_lock:
            try:
                import fcntl
            except ImportError:  # Windows: one server process, the thread lock suffices
                yield
                return
            with open(self.root / LOCK_FILE, "a+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _oserror(self, exc: OSError, action_zh: str, action_en: str) -> DraftError:
        return DraftError(
            f"{action_zh}失败：{exc.strerror or exc}。请检查会话目录 {self.root.parent} 的权限和磁盘空间"
            "（配置项 sessions_dir / 环境变量 TRAINER_SESSIONS_DIR）。",
            f"{action_en} failed: {exc}",
        )

    # --- save ----------------------------------------------------------------------------------
    def save(self, draft: Draft, *, replace_other_run: bool = False) -> Draft:
        """Store `draft` as its owner's unfinished run (replacing the previous save of the same run).

        Another run's draft of the same owner (e.g. started in a second browser tab) is not
        overwritten unless `replace_other_run`: a DraftError says so instead. A corrupt or
        unreadable previous draft is replaced.
        """
        if not draft.turns:
            raise DraftError("还没有回答任何一轮，无需保存进度。", "draft without turns")
        if [t.index for t in draft.turns] != list(range(1, draft.answered + 1)) or not 0 <= draft.last_turn <= draft.answered:
            raise DraftError("练习进度不完整，未保存。请继续答题或结束并评分。", f"inconsistent draft turns/last_turn of {draft.owner!r}")
        folder = self.folder(draft.owner)
        try:
            private_dirs(self.root)  # recordings of trainees: owner-only, like the sessions
            with self._locked():
                folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
                if not replace_other_run:
                    self._refuse_other_run(folder, draft)
                data = _draft_json(draft)
                names = {_audio_file(t) for t in draft.turns}
                for turn in draft.turns:
                    target = folder / _audio_file(turn)
                    if not target.is_file():  # named by content: an existing file already holds these bytes
                        tmp = synced_temp(folder, turn.audio, suffix=".audio")
                        os.replace(tmp, target)
                fsync_dir(folder)
                tmp = synced_temp(folder, data)
                try:
                    os.replace(tmp, folder / DRAFT_FILE)
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
                fsync_dir(folder)
                for stale in folder.iterdir():
                    if stale.name != DRAFT_FILE and stale.name not in names:
                        stale.unlink(missing_ok=True)
        except OSError as exc:
            raise self._oserror(exc, "保存练习进度", f"saving the draft of {draft.owner!r}") from exc
        return draft

    def _refuse_other_run(self, folder: Path, draft: Draft) -> None:
        path = folder / DRAFT_FILE
        try:
            stored = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            return  # unreadable: replaced by this save
        if isinstance(stored, dict) and stored.get("run_id") not in (None, draft.run_id):
            title = stored.get("scenario_title") or stored.get("scenario_id") or ""
            raise DraftError(
                f"本轮已评分，但没有保存进度：你在另一个浏览器窗口中还有一次未完成的练习（{title}）。"
                "请只在一个窗口中练习；在这个窗口中点“结束并评分”仍可保存本次练习。",
                f"draft of {draft.owner!r} belongs to run {stored.get('run_id')!r}, not {draft.run_id!r}",
            )

    # --- read ----------------------------------------------------------------------------------
    def load(self, owner: str) -> Draft | None:
        """The owner's unfinished run, or None. A draft that cannot be read is moved to .corrupt/
        and reported as CorruptDraftError (Chinese message); stored sessions are never touched."""
        folder = self.folder(owner)
        path = folder / DRAFT_FILE
        if not self.root.is_dir():
            return None
        try:
            with self._locked():  # a save in progress never removes audio this read still needs
                try:
                    size = path.stat().st_size
                except FileNotFoundError:
                    return None
                try:
                    if size > MAX_DRAFT_JSON_BYTES:
                        raise _Bad(f"draft.json has {size} bytes")
                    draft = _parse(path.read_bytes(), folder)
                    if draft.owner != owner:
                        raise _Bad(f"draft belongs to {draft.owner!r}")
                    return draft
                except (ValueError, FileNotFoundError, UnicodeDecodeError) as exc:  # JSON, fields, missing audio
                    problem: Exception = exc
                    moved = self._quarantine(folder)
        except OSError as exc:
            raise self._oserror(exc, "读取未完成的练习", f"reading the draft of {owner!r}") from exc
        where = f"已移到 {moved}，可交管理员查看" if moved is not None else "无法移走，请管理员检查"
        raise CorruptDraftError(
            f"上次未完成的练习记录已损坏，无法继续（{where}）。请重新开始练习；已保存的练习记录不受影响。",
            f"corrupt draft {path}: {problem}",
        ) from problem

    def _quarantine(self, folder: Path) -> Path | None:
        """Move a corrupt draft's folder to .corrupt/ (the caller holds the lock)."""
        target = self.corrupt_dir / f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        try:
            self.corrupt_dir.mkdir(parents=True, exist_ok=True)
            os.replace(folder, target)
            os.utime(target)  # its age for cleanup counts from now
            fsync_dir(self.root)
        except OSError as exc:
            log.warning("cannot move the corrupt draft %s aside: %s", folder, exc)
            return None
        log.warning("corrupt draft moved to %s", target)
        return target

    # --- delete --------------------------------------------------------------------------------
    def delete(self, owner: str, run_id: str | None = None) -> bool:
        """Remove the owner's draft (only if it belongs to `run_id`, when given). True if one was removed."""
        folder = self.folder(owner)
        path = folder / DRAFT_FILE
        try:
            with self._locked():
                if not path.exists():
                    return False
                if run_id is not None:
                    try:
                        stored = json.loads(path.read_bytes().decode("utf-8"))
                    except ValueError:
                        stored = None
                    if isinstance(stored, dict) and stored.get("run_id") != run_id:
                        return False  # another tab's run: not ours to remove
                path.unlink()
                fsync_dir(folder)
                shutil.rmtree(folder, ignore_errors=True)
        except OSError as exc:
            raise self._oserror(exc, "删除未完成的练习", f"deleting the draft of {owner!r}") from exc
        return True

    # --- cleanup -------------------------------------------------------------------------------
    def cleanup(self, max_age_days: float, now: float | None = None) -> CleanupReport:
        """Remove drafts (and moved-aside corrupt ones) not saved for `max_age_days` days.
        0 keeps everything. Never raises: problems are reported in Chinese."""
        if max_age_days <= 0 or not self.root.is_dir():
            return CleanupReport()
        limit = (time.time() if now is None else now) - max_age_days * DAY
        removed: list[Path] = []
        problems: list[str] = []
        kept = 0
        folders = [p for p in self.root.iterdir() if p.is_dir() and p.name != CORRUPT_DIR]
        corrupt = sorted(p for p in self.corrupt_dir.iterdir() if p.is_dir()) if self.corrupt_dir.is_dir() else []
        for folder in sorted(folders) + corrupt:
            try:
                with self._locked():
                    marker = folder / DRAFT_FILE  # a draft's age: its last save; a moved-aside one: since the move
                    stamp = (marker if folder.parent == self.root and marker.exists() else folder).stat().st_mtime
                    if stamp >= limit:
                        kept += 1
                        continue
                    marker.unlink(missing_ok=True)
                    shutil.rmtree(folder)
                removed.append(folder)
            except OSError as exc:
                problems.append(f"无法清理过期的练习草稿 {folder}：{exc.strerror or exc}")
        if removed:
            log.info("removed %d drafts older than %g days", len(removed), max_age_days)
        return CleanupReport(tuple(removed), kept, tuple(problems))
