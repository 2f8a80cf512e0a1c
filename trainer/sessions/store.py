"""The session store: one folder per attempt, written atomically, plus a rebuildable SQLite index.

Layout under the root (settings.sessions_dir):

    <YYYY>/<MM>/<session-id>/session.json     canonical JSON of the SessionRecord
    <YYYY>/<MM>/<session-id>/turn01.wav …      each turn's audio exactly as recorded
    <YYYY>/<MM>/<session-id>/reviews/*.json    instructor reviews, one append-only file each
    index.sqlite3                              the index (WAL); rebuilt by `reindex`
    .tmp/                                      saves in progress (a killed save leaves its folder here)
    .trash/                                    deleted sessions (moved, not erased)

Files are created 0600 and folders 0700 (owner only).

A save writes everything into a folder under .tmp, fsyncs it, and moves it into place with a
single rename, so a crash leaves either the whole session or nothing visible. The index row is
written afterwards; when that fails the folder is kept and the index is marked stale and rebuilt
on the next read.

Leftovers: a save holds an exclusive lock (flock) on its temporary folder until the folder is in
place, so a folder under .tmp whose lock is free belonged to a save that died; it is removed once
it is DEAD_TEMP_MIN_AGE old (the folder exists a moment before its lock is taken). Where locks
cannot be tested (Windows), a folder is removed when it is TEMP_MAX_AGE old. A review killed
before its file was linked leaves reviews/.tmp-*.json, removed when REVIEW_TEMP_MAX_AGE old.
`cleanup_leftovers` does both; it runs at start-up (`trainer app`, the web app's first page) and
on every reindex.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from trainer.durable import fsync_dir, open_private, private_dirs, synced_temp
from trainer.errors import SessionStoreError
from trainer.sessions.index import IndexNotBuilt, SessionIndex
from trainer.sessions.model import (
    SessionFilter,
    SessionRecord,
    SessionSummary,
    StepRow,
    StepStat,
    TurnRecord,
    check_session_id,
    new_session_id,
    trainee_problem,
    validate_record,
)
from trainer.sessions.review import Review
from trainer.usertext import input_problem

log = logging.getLogger(__name__)
T = TypeVar("T")

RECORD_FILE = "session.json"
REVIEWS_DIR = "reviews"
INDEX_FILE = "index.sqlite3"
TEMP_DIR = ".tmp"
TRASH_DIR = ".trash"
STALE_MARKER = ".index-stale"
PENDING_DIR = "pending"  # inside TEMP_DIR: one empty file per session renamed into place but not yet indexed
TEMP_MAX_AGE = 3600.0  # seconds: older temp folders are leftovers of killed saves (when locks cannot tell)
DEAD_TEMP_MIN_AGE = 10.0  # seconds: an unlocked temp folder at least this old belongs to a dead save
REVIEW_TEMP_MAX_AGE = 300.0  # seconds: an unlinked review temp file this old belongs to a dead review save
MAX_ID_ATTEMPTS = 5

# Test seam: called with a point name ("audio-written", "record-written", "before-rename",
# "after-rename") and the folder being written, so tests can kill a save at a precise moment.
_save_hook: Callable[[str, Path], None] | None = None


def _hook(point: str, path: Path) -> None:
    if _save_hook is not None:
        _save_hook(point, path)


@dataclass(frozen=True)
class CorruptSession:
    path: Path
    reason: str  # Chinese, names the problem and the fix


@dataclass(frozen=True)
class ReindexReport:
    indexed: int
    corrupt: tuple[CorruptSession, ...] = ()
    removed_temp: tuple[Path, ...] = ()
    kept_temp: tuple[Path, ...] = ()  # younger than the age limit: maybe a save in progress
    seconds: float = 0.0
    removed_review_temp: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Leftovers:
    removed: tuple[Path, ...] = ()  # temp folders of dead saves and temp files of dead reviews
    kept: tuple[Path, ...] = ()  # temp folders that may belong to a save in progress


@dataclass
class _Scan:
    corrupt: list[CorruptSession] = field(default_factory=list)
    review_temps: list[Path] = field(default_factory=list)


def sniff_audio_extension(data: bytes) -> str:
    """The file extension for audio bytes as recorded (browsers and uploads are not always WAV)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return "bin"


def _oserror(exc: OSError, action_zh: str, action_en: str) -> SessionStoreError:
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        hint = "磁盘空间不足。请清理磁盘后重试；已保存的会话不受影响。"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "没有写入权限。请检查会话目录（配置项 sessions_dir / 环境变量 TRAINER_SESSIONS_DIR）的权限。"
    else:
        hint = f"系统错误：{exc.strerror or exc}。"
    return SessionStoreError(f"{action_zh}失败：{hint}", f"{action_en} failed: {exc}")


def _lock_folder(folder: Path) -> int | None:
    """Hold an exclusive lock on a folder (its descriptor; close it to release). None off POSIX."""
    if os.name != "posix":
        return None
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def _locked_by_a_saver(folder: Path) -> bool:
    """True when a live save holds the folder's lock (POSIX); then no age makes it a leftover."""
    return os.name == "posix" and not _abandoned(folder) and folder.is_dir()


def _abandoned(folder: Path) -> bool:
    """True when no process holds the lock of a temp folder (its save died); False when one does
    or when it cannot be told (not POSIX)."""
    if os.name != "posix":
        return False
    try:
        fd = _lock_folder(folder)
    except BlockingIOError:
        return False
    except OSError:
        return False  # vanished or unreadable: leave it to the age limit
    if fd is not None:
        os.close(fd)
    return True


def prepare_save(record: SessionRecord, turn_audio: Sequence[bytes | None]) -> tuple[SessionRecord, bool]:
    """Check a record and its audio before saving (any backend): fills in each turn's audio file name
    and sha256 and the id (unless given). Returns the record to store and whether its id was given."""
    if len(turn_audio) != len(record.turns):
        raise SessionStoreError(
            f"会话有 {len(record.turns)} 轮，但提供了 {len(turn_audio)} 段录音。",
            f"{len(record.turns)} turns but {len(turn_audio)} audio items",
        )
    turns = []
    for turn, audio in zip(record.turns, turn_audio):
        if audio is None:
            turns.append(replace(turn, audio_file="", audio_sha256=""))
            continue
        if not isinstance(audio, (bytes, bytearray)) or not audio:
            raise SessionStoreError(f"第 {turn.index} 轮的录音为空，无法保存。", f"turn {turn.index} audio empty")
        digest = hashlib.sha256(audio).hexdigest()
        if turn.audio_sha256 and turn.audio_sha256 != digest:
            raise SessionStoreError(
                f"第 {turn.index} 轮录音的校验值与记录不符，录音可能被替换。", f"turn {turn.index} sha256 mismatch"
            )
        name = f"turn{turn.index:02d}.{sniff_audio_extension(bytes(audio))}"
        turns.append(replace(turn, audio_file=name, audio_sha256=digest))
    fixed_id = bool(record.id)
    record = replace(record, turns=tuple(turns))
    validate_record(record, require_id=False)
    if problem := trainee_problem(record.trainee_id, record.trainee_name):  # new records only: old ones still load
        raise SessionStoreError(problem, f"unprintable trainee id/name {record.trainee_id!r} {record.trainee_name!r}")
    if not fixed_id:
        record = replace(record, id=new_session_id(record.trainee_id, record.started_at))
    return record, fixed_id


def check_review(record: SessionRecord, review: Review) -> None:
    """Refuse a review that does not fit the record (any backend): SessionStoreError in Chinese."""
    review.validate(record)
    problem = input_problem(review.reviewer, "复核人") or input_problem(review.comment, "复核意见", multiline=True)
    for verdict in review.steps.values():
        problem = problem or input_problem(verdict.comment, "步骤备注", multiline=True)
    if problem:
        raise SessionStoreError(problem, f"unprintable text in a review of {record.id}")
    if record.kind == "exam" and review.overall == "override":
        raise SessionStoreError(
            "考试成绩不能在这里改判：请在“考试管理”页面或用 `trainer exam override` 改判，改判会作为新的密封记录保存。",
            f"override of exam session {record.id} refused: exam overrides are sealed ledger entries",
        )


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _write_synced(path: Path, data: bytes) -> None:
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class SessionStore:
    """Stores practice and exam sessions under `root`. Safe for several threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.index = SessionIndex(self.root / INDEX_FILE)

    # --- paths -------------------------------------------------------------------------------
    @property
    def temp_dir(self) -> Path:
        return self.root / TEMP_DIR

    @property
    def trash_dir(self) -> Path:
        return self.root / TRASH_DIR

    @property
    def pending_dir(self) -> Path:
        return self.temp_dir / PENDING_DIR

    def session_dir(self, session_id: str) -> Path:
        """Where a session lives (derived from the id alone; validates the id)."""
        stamp = check_session_id(session_id)["stamp"]
        return self.root / stamp[0:4] / stamp[4:6] / session_id

    def audio_path(self, session_id: str, turn: int) -> Path:
        """The audio file of a turn (1-based). Raises SessionStoreError when the turn or its file is missing."""
        record = self.load(session_id, check_audio=False)
        if not 1 <= turn <= len(record.turns):
            raise SessionStoreError(
                f"会话 {session_id} 没有第 {turn} 轮（共 {len(record.turns)} 轮）。",
                f"session {session_id} has no turn {turn}",
            )
        name = record.turns[turn - 1].audio_file
        if not name:
            raise SessionStoreError(f"会话 {session_id} 的第 {turn} 轮没有录音（按文字评分）。", f"turn {turn} has no audio")
        path = self.session_dir(session_id) / name
        if not path.is_file():
            raise SessionStoreError(
                f"会话 {session_id} 第 {turn} 轮的录音文件 {name} 不见了。该会话已不完整，请从备份恢复该文件。",
                f"audio file {path} missing",
            )
        return path

    def _ensure_root(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise SessionStoreError(
                f"会话目录 {self.root} 不是文件夹。请在配置中把 sessions_dir 指向一个文件夹。",
                f"sessions root {self.root} is not a directory",
            )
        try:
            private_dirs(self.pending_dir)  # the root too, when it is new: owner-only (0700)
        except OSError as exc:
            raise _oserror(exc, f"创建会话目录 {self.root} ", f"creating {self.root}") from exc

    # --- save --------------------------------------------------------------------------------
    def save(self, record: SessionRecord, turn_audio: Sequence[bytes | None]) -> SessionRecord:
        """Store a finished attempt with the audio of each turn (None: that turn has no audio).

        Fills in the id (unless given), the audio file names and sha256 values, and returns the
        record as stored. Either the whole session becomes visible or none of it does.
        """
        record, fixed_id = prepare_save(record, turn_audio)
        self._ensure_root()

        try:
            tmp = Path(tempfile.mkdtemp(prefix=f"{record.id}.{os.getpid()}.", dir=self.temp_dir))
            lock = _lock_folder(tmp)  # "in progress" for as long as this process lives (see cleanup_temp)
        except OSError as exc:
            raise _oserror(exc, "保存会话", "creating temp folder") from exc
        try:
            return self._save_in(tmp, record, turn_audio, fixed_id)
        finally:
            if lock is not None:
                os.close(lock)

    def _save_in(self, tmp: Path, record: SessionRecord, turn_audio: Sequence[bytes | None], fixed_id: bool) -> SessionRecord:
        try:
            for turn, audio in zip(record.turns, turn_audio):
                if audio is not None:
                    _write_synced(tmp / turn.audio_file, bytes(audio))
                    _hook("audio-written", tmp)
            for attempt in range(MAX_ID_ATTEMPTS):
                _write_synced(tmp / RECORD_FILE, record.canonical_bytes())
                _hook("record-written", tmp)
                fsync_dir(tmp)
                target = self.session_dir(record.id)
                private_dirs(target.parent)
                pending = self.pending_dir / record.id
                _write_synced(pending, b"")  # "indexing pending": lets readers index it if we die after the rename
                _hook("before-rename", tmp)
                if self._rename_into_place(tmp, target):
                    break
                pending.unlink(missing_ok=True)
                if fixed_id:
                    raise SessionStoreError(f"会话编号 {record.id} 已存在，不能覆盖已保存的会话。", f"session {record.id} exists")
                (tmp / RECORD_FILE).unlink()
                record = replace(record, id=new_session_id(record.trainee_id, record.started_at))
            else:
                raise SessionStoreError("无法生成唯一的会话编号，请重试。", "id collisions exhausted")
        except SessionStoreError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _oserror(exc, "保存会话", f"saving session {record.id}") from exc
        _hook("after-rename", target)
        try:
            fsync_dir(target.parent)
        except OSError as exc:  # the rename happened; durability of the directory entry is best effort
            log.warning("fsync of %s failed: %s", target.parent, exc)
        if self._index_upsert(record, lambda: []):
            (self.pending_dir / record.id).unlink(missing_ok=True)
        return record

    @staticmethod
    def _rename_into_place(tmp: Path, target: Path) -> bool:
        """Move the folder; False when the target exists (id collision). Never replaces a session."""
        if target.exists():
            return False
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY) or isinstance(exc, FileExistsError):
                return False
            raise
        return True

    def _index_upsert(self, record: SessionRecord, reviews: Callable[[], list[Review]]) -> bool:
        try:
            self.index.upsert(record, reviews)
        except SessionStoreError as exc:
            log.warning("session %s saved but not indexed: %s", record.id, exc.log_message)
            self._mark_stale()
            return False
        return True

    def _mark_stale(self) -> None:
        try:
            (self.root / STALE_MARKER).touch()
        except OSError as exc:
            log.warning("cannot mark the index stale: %s", exc)

    # --- read --------------------------------------------------------------------------------
    def load(self, session_id: str, check_audio: bool = True) -> SessionRecord:
        """Read a stored session. With check_audio, every turn's audio file must exist."""
        folder = self.session_dir(session_id)
        record = self._read_record(folder)
        if record.id != session_id:
            raise SessionStoreError(
                f"会话文件夹 {folder} 中记录的编号是 {record.id}，与文件夹名不符。请勿手动移动会话文件夹。",
                f"id mismatch in {folder}: {record.id}",
            )
        if check_audio:
            self._check_audio(folder, record)
        return record

    def _read_record(self, folder: Path) -> SessionRecord:
        path = folder / RECORD_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if folder.is_dir():
                raise SessionStoreError(f"会话文件夹 {folder} 缺少 session.json，会话不完整。", f"{path} missing") from None
            raise SessionStoreError(
                f"找不到会话 {folder.name}。请用 `trainer sessions list` 查看已保存的会话。", f"no session folder {folder}"
            ) from None
        except OSError as exc:
            raise _oserror(exc, f"读取 {path} ", f"reading {path}") from exc
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SessionStoreError(
                f"{path} 不是有效的 JSON（{exc}），文件已损坏。请从备份恢复该会话。", f"bad JSON in {path}: {exc}"
            ) from exc
        try:
            return SessionRecord.from_dict(parsed)
        except SessionStoreError as exc:
            raise SessionStoreError(f"{path}：{exc.user_message}", f"{path}: {exc.log_message}") from exc

    @staticmethod
    def _check_audio(folder: Path, record: SessionRecord) -> None:
        for turn in record.turns:
            if turn.audio_file and not (folder / turn.audio_file).is_file():
                raise SessionStoreError(
                    f"会话 {record.id} 第 {turn.index} 轮的录音文件 {turn.audio_file} 不见了，会话不完整。请从备份恢复该文件。",
                    f"{folder / turn.audio_file} missing",
                )

    def verify_audio(self, session_id: str) -> list[str]:
        """Problems (Chinese) with the stored audio of a session: missing files or changed bytes."""
        folder = self.session_dir(session_id)
        record = self.load(session_id, check_audio=False)
        problems = []
        for turn in record.turns:
            if not turn.audio_file:
                continue
            path = folder / turn.audio_file
            if not path.is_file():
                problems.append(f"第 {turn.index} 轮录音 {turn.audio_file} 不见了")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != turn.audio_sha256:
                problems.append(f"第 {turn.index} 轮录音 {turn.audio_file} 的内容已被改动（校验值不符）")
        return problems

    # --- backend-neutral reads (the PostgreSQL store has the same methods) ------------------------
    def exists(self, session_id: str) -> bool:
        """True when a session with this id is stored (and not deleted)."""
        return self.session_dir(session_id).is_dir()

    def record_bytes(self, session_id: str) -> bytes:
        """The stored bytes of the record (session.json), as sealed by an exam."""
        path = self.session_dir(session_id) / RECORD_FILE
        try:
            return path.read_bytes()
        except OSError as exc:
            raise _oserror(exc, f"读取 {path} ", f"reading {path}") from exc

    def audio_bytes(self, session_id: str, turn: int) -> bytes:
        """The audio of one turn (1-based) exactly as recorded."""
        return self.audio_path(session_id, turn).read_bytes()

    def stored_audio_sha256(self, session_id: str, file_name: str) -> str | None:
        """sha256 of a stored audio file of a session, read in chunks; None when it is missing."""
        path = self.session_dir(session_id) / file_name
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def audio_location(self, session_id: str, file_name: str) -> str:
        """Where an audio file is kept, for people (a path here; the database for PostgreSQL)."""
        return str(self.session_dir(session_id) / file_name)

    def session_ids(self) -> list[str]:
        """The ids of every session folder in place (corrupt or not; `load` tells), oldest folder first."""
        if not self.root.is_dir():
            return []
        ids = []
        for folder in self._session_folders():
            try:
                if self.session_dir(folder.name) == folder:
                    ids.append(folder.name)
            except SessionStoreError:
                continue
        return ids

    # --- index-backed queries -----------------------------------------------------------------
    def _indexed(self, read: Callable[[SessionIndex], T]) -> T:
        """Run `read` on the index, rebuilt first when it is marked stale, and rebuilt and read again
        when the read finds it missing or of another version; sessions whose saver died between the
        rename and the index write are indexed first."""
        if (self.root / STALE_MARKER).exists():
            self.reindex()
        else:
            self._index_pending()
        try:
            return read(self.index)
        except IndexNotBuilt:
            self.reindex()
            return read(self.index)

    def _index_pending(self, max_age: float = TEMP_MAX_AGE) -> None:
        try:
            markers = sorted(self.pending_dir.iterdir())
        except FileNotFoundError:
            return
        for marker in markers:
            try:
                if self.session_dir(marker.name).is_dir():
                    record = self.load(marker.name)
                    self.index.upsert(record, lambda: self.reviews(record.id))
                    marker.unlink(missing_ok=True)
                elif time.time() - marker.stat().st_mtime >= max_age:
                    marker.unlink(missing_ok=True)  # its save died before the rename
            except FileNotFoundError:
                continue
            except SessionStoreError as exc:  # a broken folder: `reindex` reports it
                log.warning("pending session %s not indexed: %s", marker.name, exc.log_message)

    def list(self, flt: SessionFilter | None = None, newest_first: bool = True) -> list[SessionSummary]:
        if not self.root.is_dir():
            return []
        return self._indexed(lambda index: index.query(flt or SessionFilter(), newest_first))

    def summary(self, session_id: str) -> SessionSummary:
        check_session_id(session_id)
        found = self._indexed(lambda index: index.get(session_id)) if self.root.is_dir() else None
        if found is None:
            raise SessionStoreError(
                f"找不到会话 {session_id}。请用 `trainer sessions list` 查看已保存的会话。", f"no session {session_id} in index"
            )
        return found

    def score_history(self, trainee_id: str, scenario_id: str | None = None) -> list[SessionSummary]:
        """A trainee's sessions, oldest first (for progress charts)."""
        if not self.root.is_dir():
            return []
        rows = self._indexed(lambda index: index.query(SessionFilter(scenario_id=scenario_id), newest_first=False))
        return [row for row in rows if row.trainee_id == trainee_id]

    def step_rows(self, flt: SessionFilter | None = None) -> list[StepRow]:
        if not self.root.is_dir():
            return []
        return self._indexed(lambda index: index.step_rows(flt or SessionFilter()))

    def step_miss_rates(self, flt: SessionFilter | None = None) -> list[StepStat]:
        """Per scenario and step: how often it was missed; most-missed first (weak steps of the group)."""
        if not self.root.is_dir():
            return []
        return self._indexed(lambda index: index.step_stats(flt or SessionFilter()))

    # --- delete ------------------------------------------------------------------------------
    def delete(self, session_id: str, *, allow_exam: bool = False) -> Path:
        """Move a session folder into .trash (recoverable by moving it back and reindexing).

        Exam sessions are sealed in the exam ledger: deleting one makes `trainer exam verify`
        report it missing, so it takes `allow_exam=True`.
        """
        folder = self.session_dir(session_id)
        if not folder.is_dir():
            raise SessionStoreError(
                f"找不到会话 {session_id}。请用 `trainer sessions list` 查看已保存的会话。", f"no session folder {folder}"
            )
        if not allow_exam and self.load(session_id, check_audio=False).kind == "exam":
            raise SessionStoreError(
                f"会话 {session_id} 是密封的考试记录，删除后 `trainer exam verify` 会报告它缺失。"
                "确需删除（例如按档案制度到期清理）请加 --force。",
                f"refusing to delete exam session {session_id} without allow_exam",
            )
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = self.trash_dir / f"{session_id}.deleted-{stamp}-{secrets.token_hex(2)}"
        try:
            private_dirs(self.trash_dir)
            os.rename(folder, target)
        except OSError as exc:
            raise _oserror(exc, f"删除会话 {session_id} ", f"moving {folder} to trash") from exc
        try:
            self.index.remove(session_id)
        except SessionStoreError as exc:
            log.warning("session %s deleted but index not updated: %s", session_id, exc.log_message)
            self._mark_stale()
        return target

    # --- reviews -----------------------------------------------------------------------------
    def add_review(self, session_id: str, review: Review) -> Path:
        """Store a review as a new file beside the record. The record and earlier reviews are never touched."""
        record = self.load(session_id, check_audio=False)
        check_review(record, review)
        folder = self.session_dir(session_id) / REVIEWS_DIR
        data = review.canonical_bytes()
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            tmp = synced_temp(folder, data)  # 0600 (mkstemp), and so is the review linked to it
            try:
                while True:
                    target = folder / review.file_name(secrets.token_hex(3))
                    try:
                        os.link(tmp, target)  # fails instead of replacing an existing review
                        break
                    except FileExistsError:
                        continue
            finally:
                tmp.unlink(missing_ok=True)
            fsync_dir(folder)
        except OSError as exc:
            raise _oserror(exc, "保存复核意见", f"saving review for {session_id}") from exc
        self._index_upsert(record, lambda: self.reviews(session_id))
        return target

    def reviews(self, session_id: str) -> list[Review]:
        """All readable reviews of a session, oldest first. Corrupt review files are logged and skipped
        (`reindex` reports them)."""
        reviews, problems = self._read_reviews(self.session_dir(session_id), session_id)
        for problem in problems:
            log.warning("%s", problem)
        return reviews

    @staticmethod
    def _read_reviews(folder: Path, session_id: str) -> tuple[list[Review], list[str]]:
        directory = folder / REVIEWS_DIR
        if not directory.is_dir():
            return [], []
        reviews: list[tuple[str, str, Review]] = []
        problems: list[str] = []
        for path in sorted(directory.glob("*.json")):
            if path.name.startswith(".tmp-"):
                continue
            try:
                review = Review.from_dict(json.loads(path.read_bytes().decode("utf-8")))
                if review.session_id != session_id:
                    raise SessionStoreError("复核记录属于另一个会话", f"review for {review.session_id}")
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, SessionStoreError) as exc:
                reason = exc.user_message if isinstance(exc, SessionStoreError) else str(exc)
                problems.append(f"复核文件 {path} 已损坏（{reason}），已跳过。请从备份恢复或删除该文件。")
                continue
            reviews.append((review.created_at, path.name, review))
        reviews.sort(key=lambda item: (item[0], item[1]))
        return [review for _, _, review in reviews], problems

    # --- reindex -----------------------------------------------------------------------------
    def _session_folders(self) -> Iterator[Path]:
        for year in sorted(self.root.glob("[0-9][0-9][0-9][0-9]")):
            if not year.is_dir():
                continue
            for month in sorted(year.glob("[0-9][0-9]")):
                if month.is_dir():
                    yield from sorted(p for p in month.iterdir() if p.is_dir())

    def _scan(self, report: _Scan) -> Iterator[tuple[SessionRecord, list[Review]]]:
        report.corrupt.clear()  # the rebuild may be retried when the database is busy
        for folder in self._session_folders():
            try:
                check_session_id(folder.name)
                if self.session_dir(folder.name) != folder:
                    raise SessionStoreError(
                        f"会话文件夹 {folder} 不在其编号对应的年/月目录下。请把它移回 {self.session_dir(folder.name).parent}。",
                        f"{folder} misplaced",
                    )
                record = self.load(folder.name)
            except SessionStoreError as exc:
                report.corrupt.append(CorruptSession(folder, exc.user_message))
                continue
            report.review_temps.extend(self._remove_review_temps(folder))
            reviews, problems = self._read_reviews(folder, record.id)
            report.corrupt.extend(CorruptSession(folder, problem) for problem in problems)
            yield record, reviews

    def cleanup_temp(self, max_age: float = TEMP_MAX_AGE) -> tuple[list[Path], list[Path]]:
        """Remove leftovers of killed saves: temp folders whose lock is free (their save died) and
        that are DEAD_TEMP_MIN_AGE old, and any older than max_age seconds. Returns (removed, kept)."""
        removed: list[Path] = []
        kept: list[Path] = []
        if not self.temp_dir.is_dir():
            return removed, kept
        now = time.time()
        for path in sorted(self.temp_dir.iterdir()):
            if path == self.pending_dir:
                continue
            try:
                age = now - path.stat().st_mtime
            except FileNotFoundError:
                continue  # a save just finished and moved it
            dead = path.is_dir() and age >= min(DEAD_TEMP_MIN_AGE, max_age) and _abandoned(path)
            if dead or (age >= max_age and not (path.is_dir() and _locked_by_a_saver(path))):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                removed.append(path)
            else:
                kept.append(path)
        return removed, kept

    def _remove_review_temps(self, folder: Path, max_age: float = REVIEW_TEMP_MAX_AGE) -> list[Path]:
        """Remove reviews/.tmp-*.json of a session folder left by a review save that died."""
        removed = []
        now = time.time()
        for path in sorted((folder / REVIEWS_DIR).glob(".tmp-*.json")):
            try:
                if now - path.stat().st_mtime >= max_age:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue  # linked and removed by its own save a moment ago
            except OSError as exc:
                log.warning("cannot remove %s: %s", path, exc)
        return removed

    def cleanup_leftovers(self, temp_max_age: float = TEMP_MAX_AGE) -> Leftovers:
        """Remove what killed saves and killed reviews left behind (never anything in progress)."""
        if not self.root.is_dir():
            return Leftovers()
        removed, kept = self.cleanup_temp(temp_max_age)
        for folder in self._session_folders():
            removed.extend(self._remove_review_temps(folder))
        return Leftovers(tuple(removed), tuple(kept))

    def reindex(self, temp_max_age: float = TEMP_MAX_AGE) -> ReindexReport:
        """Rebuild the index from the folders. Corrupt folders are reported (Chinese reason) and skipped."""
        started = time.monotonic()
        if not self.root.is_dir():
            raise SessionStoreError(
                f"会话目录 {self.root} 不存在。请检查配置项 sessions_dir 或环境变量 TRAINER_SESSIONS_DIR。",
                f"sessions root {self.root} missing",
            )
        removed, kept = self.cleanup_temp(temp_max_age)
        try:
            (self.root / STALE_MARKER).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot clear the stale marker: %s", exc)
        scan = _Scan()
        count = self.index.rebuild(lambda: self._scan(scan))
        self._index_pending(temp_max_age)  # saves that landed during the rebuild; clears their markers
        for item in scan.corrupt:
            log.warning("skipped %s: %s", item.path, item.reason)
        return ReindexReport(
            indexed=count,
            corrupt=tuple(scan.corrupt),
            removed_temp=tuple(removed),
            kept_temp=tuple(kept),
            seconds=time.monotonic() - started,
            removed_review_temp=tuple(scan.review_temps),
        )


def turn_records(prompts: Sequence[str], transcripts: Sequence[dict]) -> tuple[TurnRecord, ...]:
    """Build the turns of a record from the customer lines and Transcript.to_dict() of each answer."""
    if len(prompts) != len(transcripts):
        raise SessionStoreError("客户台词与识别结果的轮数不一致。", f"{len(prompts)} prompts, {len(transcripts)} transcripts")
    return tuple(TurnRecord(index=i, prompt=p, transcript=t) for i, (p, t) in enumerate(zip(prompts, transcripts), start=1))
