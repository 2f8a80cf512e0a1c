"""`trainer storage migrate --to postgresql://…`: copy the embedded store into PostgreSQL and check the copy.

What is copied, unchanged: every session (its record bytes, each turn's audio, its reviews), the
exam ledger (each line's bytes, so every seal and the chain stay valid; the anchored head too), the
accounts (with their password hashes and groups; login sessions and failed-login counts are not
copied: people log in again) and the centre's phrasing proposals (the phrasebook overlay). The embedded store is only read.

Re-running is safe: what the database already holds identically is skipped, anything that differs
is reported and never overwritten. Before reporting success the copy is checked: the count of
sessions, the sha256 of every record and audio file, the number of reviews, the ledger lines and
their chain (and, when the exam key is available, `trainer exam verify` on both sides).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.errors import SessionStoreError, StorageError, TrainerError
from trainer.exam.anchor import read_anchor
from trainer.exam.seal import GENESIS, Ledger, exam_key_if_available
from trainer.sessions.store import INDEX_FILE, SessionStore
from trainer.storage.factory import ledger_for, session_store
from trainer.storage.pg_ledger import PostgresLedger
from trainer.storage.pg_sessions import PostgresSessionStore

log = logging.getLogger(__name__)


@dataclass
class MigrationReport:
    sessions_source: int = 0  # readable sessions in the folders
    sessions_copied: int = 0
    sessions_present: int = 0  # already in the database, identical
    audio_files: int = 0
    audio_bytes: int = 0
    reviews: int = 0
    ledger_copied: int = 0
    ledger_present: int = 0
    accounts_copied: int = 0
    accounts_present: int = 0
    proposals_copied: int = 0  # the centre's phrasing proposals (phrasebook overlay)
    proposals_present: int = 0
    skipped: list[str] = field(default_factory=list)  # corrupt sessions left out (Chinese reasons)
    problems: list[str] = field(default_factory=list)  # the copy is not complete or not identical
    checks: list[str] = field(default_factory=list)  # what was verified (Chinese)

    @property
    def ok(self) -> bool:
        return not self.problems


def migrate(settings: Any, url: str) -> MigrationReport:
    """Copy the embedded store named by `settings` into the database at `url`, then check it."""
    source = SessionStore(Path(settings.sessions_dir))
    if not source.root.is_dir():
        raise StorageError(
            f"会话文件夹 {source.root} 不存在，没有可迁移的数据。请检查配置项 sessions_dir 或环境变量 TRAINER_SESSIONS_DIR。",
            f"sessions root {source.root} missing",
        )
    target_settings = dataclasses.replace(settings, storage="postgres", database_url=url)
    target = session_store(target_settings)
    assert isinstance(target, PostgresSessionStore)
    report = MigrationReport()
    readable = _copy_sessions(source, target, report)
    ledger_copied = _copy_ledger(source, target, report)
    _copy_accounts(source, target_settings, report)
    _copy_overlay(settings, target_settings, report)
    _check(source, target, settings, readable, ledger_copied, report)
    return report


def _copy_sessions(source: SessionStore, target: PostgresSessionStore, report: MigrationReport) -> list[str]:
    """Copy every readable session not yet in the database; returns the ids of the readable ones."""
    readable = []
    for session_id in source.session_ids():
        try:
            record = source.load(session_id)
            record_bytes = source.record_bytes(session_id)
            reviews = source.reviews(session_id)
        except SessionStoreError as exc:
            report.skipped.append(f"会话 {session_id}：{exc.user_message}")
            continue
        report.sessions_source += 1
        readable.append(session_id)
        if target.exists(session_id):
            if target.record_bytes(session_id) == record_bytes:
                report.sessions_present += 1
            else:
                report.problems.append(f"数据库中已有会话 {session_id}，但内容与本机不同：未覆盖，请人工核对。")
            continue
        folder = source.session_dir(session_id)
        audio = {t.index: folder / t.audio_file for t in record.turns if t.audio_file}
        target.import_session(record_bytes, record, audio, reviews)
        report.sessions_copied += 1
        report.audio_files += len(audio)
        report.audio_bytes += sum(path.stat().st_size for path in audio.values())
        report.reviews += len(reviews)
    return readable


def _copy_ledger(source: SessionStore, target: PostgresSessionStore, report: MigrationReport) -> bool:
    """Copy the ledger lines not yet in the database; False when the ledger was not copied."""
    scan = Ledger(source.root).scan()
    bad = [ln.line for ln in scan.lines if ln.entry is None or ln.error]
    if scan.torn is not None or scan.unterminated or bad:
        where = f"第 {'、'.join(map(str, bad))} 行无法读取或被改写" if bad else "末尾有写入中断留下的残行"
        report.problems.append(
            f"本机考试账本{where}，没有迁移账本。请先运行 `trainer exam verify` 查明原因（残行可用 `trainer exam repair` 清除），再重新迁移。"
        )
        return False
    lines = [ln.raw for ln in scan.lines]
    try:
        anchored = read_anchor(source.root)
    except TrainerError:
        anchored = None
    ledger = ledger_for(target)
    assert isinstance(ledger, PostgresLedger)
    try:
        added = ledger.import_lines(lines, anchored)
    except TrainerError as exc:
        report.problems.append(exc.user_message)
        return False
    report.ledger_copied = added
    report.ledger_present = len(lines) - added
    return True


def _copy_accounts(source: SessionStore, target_settings: Any, report: MigrationReport) -> None:
    path = source.root / INDEX_FILE
    if not path.exists():
        return
    from trainer.accounts.store import SqliteAccountStore
    from trainer.storage.factory import account_store

    old, new = SqliteAccountStore(path), account_store(target_settings)
    for account in old.accounts():
        password_hash = old.password_hash(account.user_id) or ""
        if new.get(account.user_id) is None:
            new.create(account, password_hash)
            report.accounts_copied += 1
        elif new.password_hash(account.user_id) == password_hash:
            report.accounts_present += 1
        else:
            report.problems.append(f"数据库中已有账号 {account.user_id}，但密码与本机不同：未覆盖，请人工核对。")


def _copy_overlay(settings: Any, target_settings: Any, report: MigrationReport) -> None:
    """The centre's phrasing proposals (approved, pending and rejected), each as it is."""
    from trainer.phrasebook.overlay import Overlay
    from trainer.storage.factory import overlay_for

    state = Overlay(settings.overlay_dir).read()
    for problem in state.problems:
        report.skipped.append(f"{problem.path}：{problem.message}")
    target = overlay_for(target_settings)
    for proposal in state.proposals:
        existing = target._existing(proposal.id)
        if existing is None and target._create(proposal):
            report.proposals_copied += 1
        elif target.get(proposal.id) == proposal:
            report.proposals_present += 1
        else:
            report.problems.append(f"数据库中已有说法建议 {proposal.id}，但内容与本机不同：未覆盖，请人工核对。")


def _check(
    source: SessionStore, target: PostgresSessionStore, settings: Any, ids: list[str], ledger_copied: bool, report: MigrationReport
) -> None:
    """Compare the copy with the original; every difference becomes a problem."""
    missing = [sid for sid in ids if not target.exists(sid)]
    report.problems += [f"会话 {sid} 没有出现在数据库中。" for sid in missing]
    checked_audio = 0
    for session_id in ids:
        if session_id in missing:
            continue
        if target.record_bytes(session_id) != source.record_bytes(session_id):
            report.problems.append(f"会话 {session_id} 的记录在数据库中与本机不同。")
            continue
        record = source.load(session_id, check_audio=False)
        for turn in record.turns:
            if not turn.audio_file:
                continue
            here = source.stored_audio_sha256(session_id, turn.audio_file)
            there = target.stored_audio_sha256(session_id, turn.audio_file)
            checked_audio += 1
            if here != there:
                report.problems.append(f"会话 {session_id} 第 {turn.index} 轮录音在数据库中与本机不同（sha256 不符）。")
        if len(target.reviews(session_id)) != len(source.reviews(session_id)):
            report.problems.append(f"会话 {session_id} 的复核记录条数在数据库中与本机不同。")
    report.checks.append(f"会话：本机 {len(ids)} 个，数据库中逐一核对记录字节与 {checked_audio} 段录音的 sha256。")

    lines = [ln.raw for ln in Ledger(source.root).lines()]
    copied = [ln.raw for ln in ledger_for(target).lines()]
    if ledger_copied:
        if copied[: len(lines)] != lines:
            report.problems.append("数据库中的考试账本与本机账本不一致。")
        entries = [ln.entry for ln in ledger_for(target).lines() if ln.entry is not None]
        if any(e["prev"] != (entries[i - 1]["seal"] if i else GENESIS) for i, e in enumerate(entries)):
            report.problems.append("数据库中的考试账本哈希链断裂。")
        report.checks.append(f"考试账本：{len(lines)} 条记录逐字节相同，哈希链连续。")
    key = exam_key_if_available(settings)
    if key is not None and lines and ledger_copied:
        from trainer.exam.verify import verify_all

        before = sorted(p.kind for p in verify_all(source, key).problems)
        after = sorted(p.kind for p in verify_all(target, key).problems)
        if before != after:
            report.problems.append(f"迁移后 `trainer exam verify` 的结果与迁移前不同（迁移前：{before or '全部通过'}；迁移后：{after or '全部通过'}）。")
        else:
            report.checks.append("考试封印：迁移前后 `trainer exam verify` 结果相同" + ("（全部通过）。" if not after else f"（两边都有：{after}）。"))
    elif lines and ledger_copied:
        report.checks.append("未找到考试密钥，没有逐条核对封印（哈希链已核对）。设置 TRAINER_EXAM_KEY 后重新运行可核对封印。")
