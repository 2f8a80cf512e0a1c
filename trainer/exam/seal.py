"""Sealing exam records: HMAC-SHA256 over canonical JSON, chained in an append-only ledger.

The ledger is one file, `<sessions root>/exam_ledger.jsonl`, one canonical-JSON entry per line:

    {"seq": 7, "kind": "result", "time": "...Z", "exam_id": "...", "key_id": "...",
     "body": {...}, "prev": "<seal of entry 6>", "seal": "<HMAC of everything above>"}

- `seal` = HMAC-SHA256(exam key, canonical JSON of the entry without "seal"). The body of a
  result entry holds the paper, the draw, the verdict and, per question, the sha256 of each
  audio file, of each transcript, of the score and of the stored session record: changing any
  stored byte of the record changes a digest, and only the key holder can make a matching seal.
- `prev` is the seal of the entry before it: deleting, reordering or inserting entries breaks the
  chain. Cutting entries off the end leaves a shorter valid chain: so after every append the
  head (number + seal of the last entry) is anchored outside the ledger, in the index database,
  and printed on reports and rosters; `verify` reports a ledger that no longer reaches it (see
  `trainer.exam.anchor`).
- Entries are only ever appended (with an exclusive file lock, flush and fsync), never edited.
  Instructor overrides and extra attempts are new entries. Every entry ends with a newline, so
  text after the last newline is a torn write (full disk, crash), not an entry: a failed write is
  cut back at once; one left by a crash is cut off by `Ledger.repair` (`trainer exam repair`) or
  the next append, and the cut is itself a sealed "repair" entry (its body: the removed bytes'
  length, sha256 and, up to 64 KB, the bytes themselves).
- The decision of a 待复核 exam (the machine could not decide it) is an "override" entry too, its
  body marked `"decides": "review"`:

    {"seq": 9, "kind": "override", "exam_id": "...", "body": {"instructor": "<reviewer>",
     "passed": true, "total": 82.0 | null, "comment": "<reason>", "decides": "review"}, ...}

  so it is sealed, chained and verified exactly like an override, and ledgers written before it
  existed (overrides without `decides`) read and verify as before.

The key comes from the settings (env TRAINER_EXAM_KEY or `exam_key` in trainer.toml), else from
the key file (`exam_key_file`, default ~/.config/trainer/exam.key, generated 0600 on first use while
the ledger is empty; refused when other accounts can read it). It is never in the sessions folder; entries hold only a key id (an HMAC of a fixed text), so a
verification with the wrong key is told apart from tampering.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.config import Settings, readable_by_others
from trainer.durable import PRIVATE_FILE_MODE, fsync_dir, open_private, private_dirs, private_file
from trainer.errors import ExamError, SessionStoreError, TrainerError
from trainer.exam.anchor import LedgerHead, anchor_ref, check_head, raise_anchor, read_anchor
from trainer.sessions.model import canonical_json, utc_now

if TYPE_CHECKING:
    from trainer.sessions.store import SessionStore
    from trainer.storage.pg_sessions import PostgresSessionStore

log = logging.getLogger(__name__)

LEDGER_NAME = "exam_ledger.jsonl"
GENESIS = "0" * 64
MIN_KEY_LENGTH = 16
ENTRY_KINDS = ("start", "result", "override", "grant", "repair")
_ENTRY_KEYS = {"seq", "kind", "time", "exam_id", "key_id", "body", "prev", "seal"}

KEY_HELP = (
    "考试密钥（至少 16 个字符的随机字符串，由考核负责人保管）可以：\n"
    "  · 不做设置：第一次考试时自动生成，保存在只有本账户能读的密钥文件中（默认 ~/.config/trainer/exam.key，"
    "可用配置项 exam_key_file 或环境变量 TRAINER_EXAM_KEY_FILE 指定其他位置）；\n"
    "  · 设置环境变量，例如  export TRAINER_EXAM_KEY=\"$(python3 -c 'import secrets; print(secrets.token_hex(32))')\"\n"
    "  · 在 trainer.toml 中写入一行  exam_key = \"…\"（该文件须 chmod 600）。\n"
    "密钥不要放在 sessions 目录里；验证考试记录（trainer exam verify）时必须使用同一个密钥，请备份密钥文件。"
)


class ExamKeyError(ExamError):
    """No usable exam key is configured."""


def exam_key(settings: Settings, *, create: bool = True) -> bytes:
    """The sealing key: `exam_key` from the settings, else the key file (`settings.key_file`),
    generated there on first use (while the ledger is still empty) when `create`."""
    key = (settings.exam_key or "").strip()
    if not key:
        return _key_from_file(settings, create)
    if len(key) < MIN_KEY_LENGTH:
        raise ExamKeyError(
            f"考试密钥太短（{len(key)} 个字符），至少需要 {MIN_KEY_LENGTH} 个字符。\n{KEY_HELP}",
            f"exam key too short ({len(key)} < {MIN_KEY_LENGTH})",
        )
    if settings.config_path is not None and settings.exam_key and _inside(settings.config_path, settings.sessions_dir):
        raise ExamKeyError(
            f"保存考试密钥的配置文件 {settings.config_path} 位于会话目录 {settings.sessions_dir} 中，"
            "任何能修改考试记录的人都能读到密钥。请把配置文件移到会话目录之外。",
            "config file holding the exam key lies inside the sessions folder",
        )
    return key.encode("utf-8")


def exam_key_if_available(settings: Settings) -> bytes | None:
    """The key when one is set or its file exists (never generates one); None otherwise."""
    try:
        return exam_key(settings, create=False)
    except ExamKeyError:
        return None


def _key_from_file(settings: Settings, create: bool) -> bytes:
    path = Path(settings.key_file).expanduser()
    if _inside(path, settings.sessions_dir):
        raise ExamKeyError(
            f"考试密钥文件 {path} 位于会话目录 {settings.sessions_dir} 中，任何能修改考试记录的人都能读到密钥。"
            "请用配置项 exam_key_file 或环境变量 TRAINER_EXAM_KEY_FILE 把它放到会话目录之外。",
            f"exam key file {path} lies inside the sessions folder",
        )
    if not path.exists():
        if getattr(settings, "storage", "embedded") == "postgres":
            raise ExamKeyError(
                f"使用 PostgreSQL 存储时，所有应用服务器必须使用同一个考试密钥，因此不会自动生成密钥：找不到密钥文件 {path}。"
                "请在一台服务器上生成密钥，用环境变量 TRAINER_EXAM_KEY（或配置项 exam_key、exam_key_file）"
                f"把同一个密钥交给每一台服务器。\n{KEY_HELP}",
                f"storage = postgres and no exam key (TRAINER_EXAM_KEY / exam_key) and no key file {path}: not generating one per server",
            )
        ledger = Path(settings.sessions_dir) / LEDGER_NAME
        if not create or (ledger.exists() and ledger.stat().st_size > 0):
            lost = "账本中已有考试记录，但" if ledger.exists() and ledger.stat().st_size > 0 else ""
            raise ExamKeyError(
                f"未配置考试密钥，无法进行考试或验证考试记录：{lost}找不到密钥文件 {path}。"
                f"{'请从备份恢复原来的密钥文件（换一个新密钥会使全部已有记录无法验证），或设置原来的密钥。' if lost else ''}\n{KEY_HELP}",
                f"no exam key configured (TRAINER_EXAM_KEY / exam_key) and no key file {path}",
            )
        return _create_key_file(path)
    bits = readable_by_others(path)
    if bits & 0o044:
        raise ExamKeyError(
            f"考试密钥文件 {path} 本机其他账户也能读取（权限 {path.stat().st_mode & 0o777:o}），密钥可能已泄露。"
            f"请运行 chmod 600 {path}；如果怀疑密钥已被他人看到，请向考核负责人报告。",
            f"exam key file {path} is readable by group/others",
        )
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ExamKeyError(f"无法读取考试密钥文件 {path}：{exc}", f"cannot read key file {path}: {exc}") from exc
    if len(key) < MIN_KEY_LENGTH:
        raise ExamKeyError(
            f"考试密钥文件 {path} 中的密钥太短（{len(key)} 个字符），至少需要 {MIN_KEY_LENGTH} 个字符。\n{KEY_HELP}",
            f"key in {path} too short",
        )
    return key.encode("utf-8")


def _create_key_file(path: Path) -> bytes:
    key = secrets.token_hex(32)
    try:
        private_dirs(path.parent)
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return _read_created(path)  # another process generated it a moment ago
    except OSError as exc:
        raise ExamKeyError(
            f"无法创建考试密钥文件 {path}：{exc.strerror or exc}。请检查该文件夹的权限，"
            "或用配置项 exam_key_file / 环境变量 TRAINER_EXAM_KEY_FILE 指定其他位置。",
            f"cannot create key file {path}: {exc}",
        ) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(path.parent)
    log.warning("generated a new exam key in %s", path)
    return key.encode("utf-8")


def _read_created(path: Path) -> bytes:
    for _ in range(50):
        text = path.read_text(encoding="utf-8").strip()
        if len(text) >= MIN_KEY_LENGTH:
            return text.encode("utf-8")
        time.sleep(0.02)
    raise ExamKeyError(f"考试密钥文件 {path} 是空的。请删除它后重试。", f"key file {path} empty")


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def key_id(key: bytes) -> str:
    """A short public id of the key (tells "wrong key" from "tampered"); reveals nothing usable."""
    return hmac.new(key, b"trainer exam key id", hashlib.sha256).hexdigest()[:12]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """sha256 of a value's canonical JSON."""
    return sha256_hex(canonical_json(value))


def compute_seal(entry: dict[str, Any], key: bytes) -> str:
    unsealed = {k: v for k, v in entry.items() if k != "seal"}
    return hmac.new(key, canonical_json(unsealed), hashlib.sha256).hexdigest()


def seal_matches(entry: dict[str, Any], key: bytes) -> bool:
    return isinstance(entry.get("seal"), str) and hmac.compare_digest(compute_seal(entry, key), entry["seal"])


def fingerprint(seal: str) -> str:
    """The seal as printed on reports: 16 hex digits in groups of four."""
    short = seal[:16].upper()
    return "-".join(short[i : i + 4] for i in range(0, len(short), 4))


@dataclass(frozen=True)
class LedgerLine:
    """One line of the ledger file: the parsed entry, or why it could not be parsed."""

    line: int  # 1-based line number in the file
    raw: bytes
    entry: dict[str, Any] | None
    error: str = ""  # Chinese reason when entry is None


def parse_line(number: int, raw: bytes) -> LedgerLine:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return LedgerLine(number, raw, None, f"无法解析（{exc.__class__.__name__}），该行被改动或写入中断")
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        return LedgerLine(number, raw, None, "字段不完整或含有未知字段，该行被改动")
    if not isinstance(entry["seq"], int) or entry["kind"] not in ENTRY_KINDS or not isinstance(entry["body"], dict):
        return LedgerLine(number, raw, None, "字段内容无效，该行被改动")
    if canonical_json(entry) != raw:
        # Same meaning, other bytes: somebody rewrote the line. The seal is over the canonical form,
        # so report it explicitly rather than let a reformatted line pass.
        return LedgerLine(number, raw, entry, "该行的字节与原始写入格式不一致，已被改写")
    return LedgerLine(number, raw, entry)


@dataclass(frozen=True)
class TornTail:
    """The end of a ledger file after its last newline that is not a complete sealed entry: a write
    cut short (full disk, crash, power loss). Never counted as an entry."""

    line: int  # 1-based line number it would have had
    offset: int  # byte offset where it starts (the file is cut back to this length by a repair)
    raw: bytes


@dataclass(frozen=True)
class LedgerScan:
    lines: list[LedgerLine]
    torn: TornTail | None = None
    unterminated: bool = False  # the last line is a complete entry whose newline was not written


def split_ledger(data: bytes) -> LedgerScan:
    """The lines of a ledger file. Every append ends its entry with a newline, so text after the last
    newline is either a complete entry that lost only its newline, or a torn write (`torn`)."""
    parts = data.split(b"\n")
    tail = parts.pop()  # b"" when the file ends with a newline
    lines = [parse_line(n, raw) for n, raw in enumerate(parts, 1)]
    if not tail:
        return LedgerScan(lines)
    last = parse_line(len(parts) + 1, tail)
    if last.entry is not None and not last.error:
        return LedgerScan([*lines, last], unterminated=True)
    return LedgerScan(lines, TornTail(len(parts) + 1, len(data) - len(tail), tail))


@dataclass(frozen=True)
class Repair:
    """What `Ledger.repair` did: "none" (nothing torn), "newline" (a complete last entry got its
    newline back) or "truncated" (a torn tail was cut off and a "repair" entry records it)."""

    action: str
    removed_bytes: int = 0
    entry: dict[str, Any] | None = None


REPAIR_EXAM_ID = "ledger-repair"
_KEEP_TORN_BYTES = 65536  # a repair entry keeps at most this much of the removed bytes (base64)


def repair_body(torn: TornTail, after_seq: int) -> dict[str, Any]:
    """The sealed record of a torn tail cut off the ledger."""
    return {
        "reason": "torn_tail",
        "line": torn.line,
        "offset": torn.offset,
        "after_seq": after_seq,
        "removed_bytes": len(torn.raw),
        "removed_sha256": sha256_hex(torn.raw),
        "removed_base64": base64.b64encode(torn.raw[:_KEEP_TORN_BYTES]).decode("ascii"),
    }


class LedgerReads:
    """What every ledger backend reads the same way from its `scan()` (file or database)."""

    def scan(self) -> LedgerScan:
        raise NotImplementedError

    def lines(self) -> list[LedgerLine]:
        """The complete lines (a torn tail is not one: see `scan`)."""
        return self.scan().lines

    def entries(self) -> list[dict[str, Any]]:
        """Parsed entries (unreadable lines skipped; `verify` reports them)."""
        return [ln.entry for ln in self.lines() if ln.entry is not None]

    def head(self) -> LedgerHead | None:
        """The last complete entry (to print on reports and rosters), None for an empty ledger."""
        entries = self.entries()
        return LedgerHead(int(entries[-1]["seq"]), str(entries[-1]["seal"])) if entries else None


class Ledger(LedgerReads):
    """The append-only chain of sealed exam entries in a sessions root (the file I/O; the chain
    rules are the pure functions above and in `trainer.exam.anchor`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / LEDGER_NAME

    def scan(self) -> LedgerScan:
        if not self.path.exists():
            return LedgerScan([])
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ExamError(f"无法读取考试记录账本 {self.path}：{exc}", f"cannot read ledger {self.path}: {exc}") from exc
        return split_ledger(data)

    def read_anchor(self) -> LedgerHead | None:
        """The head last anchored in the index of the sessions root (see `trainer.exam.anchor`)."""
        return read_anchor(self.root)

    def append(
        self,
        kind: str,
        exam_id: str,
        body: dict[str, Any],
        key: bytes,
        check: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> dict[str, Any]:
        """Seal and append one entry after the last one; returns the entry written.

        `check(entries)` runs while the ledger is locked, before writing, and may raise to refuse
        (e.g. the candidate has no attempt left): the test and the write are one atomic step.
        A torn tail left by an earlier failed write is repaired first (and recorded), unless the
        anchored head shows that sealed entries are missing: then it stays, as evidence.
        A write that fails (full disk) is cut back, so it leaves no torn line behind.
        """
        if kind not in ENTRY_KINDS:
            raise ValueError(f"unknown ledger entry kind {kind!r}")
        try:
            private_dirs(self.root)
            created = not self.path.exists()
            with _locked_append(self.path) as fh:
                scan = self._read_locked(fh)
                if scan.torn is not None and self._safe_to_cut(scan) is None:
                    self._write_entry(fh, scan, "repair", REPAIR_EXAM_ID, repair_body(scan.torn, _last_seq(scan)), key, cut=scan.torn.offset)
                    scan = self._read_locked(fh)
                entries = [ln.entry for ln in scan.lines if ln.entry is not None]
                if check is not None:
                    check(entries)
                entry = self._write_entry(fh, scan, kind, exam_id, body, key)
            if created:
                fsync_dir(self.root)
        except OSError as exc:
            raise ExamError(
                f"无法写入考试记录账本 {self.path}：{exc}。请检查磁盘空间和目录权限；账本未被写坏。",
                f"cannot append to ledger {self.path}: {exc}",
            ) from exc
        _raise_anchor(self.root, entry)
        return entry

    def repair(self, key: bytes) -> Repair:
        """Cut off a torn tail (text after the last newline that is no complete sealed entry) and
        record the cut as a sealed "repair" entry. Refuses when the anchored head shows that the
        tail was a sealed entry (then it is tampering, not a torn write). A complete last entry
        that only lost its newline gets it back; nothing else is changed."""
        try:
            if not self.path.exists():
                return Repair("none")
            with _locked_append(self.path) as fh:
                scan = self._read_locked(fh)
                if scan.torn is None:
                    if not scan.unterminated:
                        return Repair("none")
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                    return Repair("newline")
                problem = self._safe_to_cut(scan)
                if problem is not None:
                    raise ExamError(
                        f"账本末尾第 {scan.torn.line} 行残缺，但这不是写入中断：{problem}",
                        f"refusing to cut the torn tail of {self.path}: the anchored head is missing",
                    )
                torn = scan.torn
                entry = self._write_entry(fh, scan, "repair", REPAIR_EXAM_ID, repair_body(torn, _last_seq(scan)), key, cut=torn.offset)
        except OSError as exc:
            raise ExamError(
                f"无法修复考试记录账本 {self.path}：{exc}。请检查磁盘空间和目录权限。",
                f"cannot repair ledger {self.path}: {exc}",
            ) from exc
        _raise_anchor(self.root, entry)
        return Repair("truncated", len(torn.raw), entry)

    @staticmethod
    def _read_locked(fh: Any) -> LedgerScan:
        fh.seek(0)
        return split_ledger(fh.read())

    def _safe_to_cut(self, scan: LedgerScan) -> str | None:
        """None when cutting the torn tail loses no anchored entry; else why not (Chinese)."""
        try:
            anchored = read_anchor(self.root)
        except TrainerError:
            anchored = None
        if anchored is None:
            return None
        return check_head([ln.entry for ln in scan.lines if ln.entry is not None], anchor_ref(anchored))

    @staticmethod
    def _write_entry(
        fh: Any, scan: LedgerScan, kind: str, exam_id: str, body: dict[str, Any], key: bytes, cut: int | None = None
    ) -> dict[str, Any]:
        """Seal an entry after the last one in `scan` and write it at the end of the file (after
        cutting it to `cut` bytes). On failure the file is cut back to where it was."""
        entries = [ln.entry for ln in scan.lines if ln.entry is not None]
        last = entries[-1] if entries else None
        entry: dict[str, Any] = {
            "seq": (last["seq"] + 1) if last else 1,
            "kind": kind,
            "time": utc_now(),
            "exam_id": exam_id,
            "key_id": key_id(key),
            "body": body,
            "prev": last["seal"] if last else GENESIS,
        }
        entry["seal"] = compute_seal(entry, key)
        line = canonical_json(entry) + b"\n"
        if cut is not None:
            fh.truncate(cut)
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(size - 1)
            if fh.read(1) != b"\n":
                line = b"\n" + line  # a complete entry without its newline, or a torn line kept as evidence
            fh.seek(0, os.SEEK_END)
        try:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        except OSError:
            try:
                fh.truncate(size)  # leave no torn line behind (the disk is full, not the file system broken)
                os.fsync(fh.fileno())
            except OSError:
                pass  # the torn tail stays; `trainer exam repair` removes it
            raise
        return entry


def _last_seq(scan: LedgerScan) -> int:
    entries = [ln.entry for ln in scan.lines if ln.entry is not None]
    return int(entries[-1]["seq"]) if entries else 0


def _raise_anchor(root: Path, entry: dict[str, Any]) -> None:
    raise_anchor(root, LedgerHead(int(entry["seq"]), str(entry["seal"])))


@contextmanager
def _locked_append(path: Path) -> Iterator[Any]:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    private_file(fd)  # also a ledger created by an older version (0644)
    with os.fdopen(fd, "a+b") as fh:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield fh
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --- what a result entry seals about each question's stored session ---------------------------


def session_digests(store: "SessionStore | PostgresSessionStore", session_id: str) -> dict[str, Any]:
    """Digests of a stored exam session, read back from disk: the session.json bytes, each audio
    file's bytes, each turn's transcript and the score. Raises SessionStoreError when unreadable."""
    record_bytes = store.record_bytes(session_id)
    record = store.load(session_id, check_audio=False)
    audio = []
    for t in record.turns:
        found = store.stored_audio_sha256(session_id, t.audio_file) if t.audio_file else ""
        if found is None:
            raise SessionStoreError(f"会话 {session_id} 第 {t.index} 轮的录音 {t.audio_file} 不见了。", f"audio {t.audio_file} of {session_id} missing")
        audio.append({"file": t.audio_file, "sha256": found})
    return {
        "session_id": session_id,
        "record_sha256": sha256_hex(record_bytes),
        "audio": audio,
        "transcripts_sha256": [digest(t.transcript) for t in record.turns],
        "score_sha256": digest(record.score),
    }
