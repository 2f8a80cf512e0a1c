"""`trainer storage migrate --to postgresql://…`: the embedded store copied into PostgreSQL, checked,
safe to re-run; differences are reported, never overwritten."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exam_support import KEY, FakeMarker, settings_for, small_library, wav_bytes as exam_wav
from test_sessions_support import audio_for, make_record
from trainer.accounts import create_account, new_account
from trainer.accounts.manage import open_accounts
from trainer.exam.paper import parse_paper
from trainer.exam.runner import run_exam
from trainer.exam.seal import LEDGER_NAME, exam_key
from trainer.exam.verify import verify_all
from trainer.sessions import Review
from trainer.sessions.store import SessionStore
from trainer.storage.factory import ledger_for, session_store
from trainer.phrasebook.overlay import Overlay
from trainer.sessions.proposals import ReviewCandidate
from trainer.storage.factory import overlay_for
from trainer.storage.migrate import migrate

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parent.parent

PAPER = """\
id: unit_fixed
title: 单元测试固定试卷
questions: [payment, reception]
attempts: 2
pass_mark: 80
feedback: end
"""


@pytest.fixture
def centre(tmp_path: Path):
    """An embedded store in use: practice sessions with a review, two exams, two accounts."""
    settings = settings_for(tmp_path / "sessions")
    store = SessionStore(settings.sessions_dir)
    saved = []
    for n in range(3):
        record = make_record(trainee_id=f"E10{n}", started_at=f"2026-11-2{n}T06:30:15Z")
        saved.append(store.save(record, audio_for(record, 300.0 + n)))
    store.add_review(saved[0].id, Review(session_id=saved[0].id, reviewer="李老师", comment="好"))
    paper = parse_paper(PAPER)
    for candidate in ("E100", "E101"):
        run_exam(paper, candidate, "考生", [[exam_wav(1), exam_wav(2)], [exam_wav(3)]], settings, small_library(), FakeMarker(), store)
    accounts = open_accounts(settings)
    create_account(accounts, new_account("E100", "张三", "trainee", "一班"), "pass-word-2026")
    create_account(accounts, new_account("T1", "王老师", "instructor", "一班"), "pass-word-2026")
    overlay = Overlay(settings.overlay_dir)
    for n, text in enumerate(("这边请坐慢慢说", "麻烦您稍等一下")):
        outcome = overlay.propose(ReviewCandidate("payment", "greet", saved[n].id, 1, "missed", text, "王老师", "说了"))
        assert outcome.created
    overlay.approve(outcome.proposal.id, "李老师")
    return settings


def _cli(settings, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINER_SESSIONS_DIR": str(settings.sessions_dir), "TRAINER_EXAM_KEY": KEY,
           "TRAINER_CONFIG": str(Path(settings.sessions_dir).parent / "none.toml")}
    (Path(settings.sessions_dir).parent / "none.toml").write_text("", encoding="utf-8")
    env.pop("TRAINER_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "trainer", "storage", "migrate", "--to", url], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_migrate_copies_everything_and_verifies(centre, pg_url: str) -> None:
    done = _cli(centre, pg_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新复制 7 个" in done.stdout  # 3 practice + 2 exams × 2 questions
    assert "迁移完成，核对无误" in done.stdout
    assert "迁移前后 `trainer exam verify` 结果相同（全部通过）" in done.stdout

    source = SessionStore(centre.sessions_dir)
    pg = dataclasses.replace(centre, storage="postgres", database_url=pg_url)
    target = session_store(pg)
    assert [r.id for r in target.list()] == [r.id for r in source.list()]
    for summary in source.list():
        assert target.record_bytes(summary.id) == source.record_bytes(summary.id)
        record = source.load(summary.id)
        for turn in record.turns:
            if turn.audio_file:
                assert target.audio_bytes(summary.id, turn.index) == source.audio_bytes(summary.id, turn.index)
        assert target.reviews(summary.id) == source.reviews(summary.id)
    assert target.summary(source.list()[-1].id).review_count == 1
    assert [ln.raw for ln in ledger_for(target).lines()] == (centre.sessions_dir / LEDGER_NAME).read_bytes().splitlines()
    assert ledger_for(target).read_anchor() == ledger_for(source).read_anchor()
    report = verify_all(target, exam_key(centre))
    assert report.ok and report.exams == 2
    accounts = open_accounts(pg)
    assert sorted(a.user_id for a in accounts.accounts()) == ["E100", "T1"]
    assert accounts.password_hash("T1") == open_accounts(centre).password_hash("T1")
    assert overlay_for(pg).read().proposals == Overlay(centre.overlay_dir).read().proposals
    assert sorted(p.status for p in overlay_for(pg).read().proposals) == ["approved", "pending"]

    again = _cli(centre, pg_url)  # safe to re-run: nothing new, still verified
    assert again.returncode == 0, again.stdout + again.stderr
    assert "新复制 0 个" in again.stdout and "已在数据库中 7 个" in again.stdout
    assert "本中心新增说法建议：新复制 0 条，已在数据库中 2 条" in again.stdout
    assert len(target.list()) == 7


def test_migrate_adds_what_came_later_and_reports_differences(centre, pg_url: str) -> None:
    assert migrate(centre, pg_url).ok
    store = SessionStore(centre.sessions_dir)
    record = make_record(trainee_id="E200", started_at="2026-11-28T06:30:15Z")
    later = store.save(record, audio_for(record))
    report = migrate(centre, pg_url)
    assert report.ok and report.sessions_copied == 1 and report.sessions_present == 7
    pg = dataclasses.replace(centre, storage="postgres", database_url=pg_url)
    assert session_store(pg).exists(later.id)

    from sqlalchemy import text

    target = session_store(pg)
    with target.engine.begin() as conn:  # the database copy of one audio file is damaged
        conn.execute(text("UPDATE audio_chunks SET data = 'x'::bytea WHERE session_id = :id AND turn = 1"), {"id": later.id})
    report = migrate(centre, pg_url)
    assert not report.ok
    assert any(later.id in p and "录音" in p for p in report.problems)


def test_migrate_refuses_a_torn_ledger(centre, pg_url: str) -> None:
    with open(centre.sessions_dir / LEDGER_NAME, "ab") as fh:
        fh.write(b'{"seq": 99, "kin')
    report = migrate(centre, pg_url)
    assert not report.ok
    assert any("trainer exam repair" in p for p in report.problems)
    pg = dataclasses.replace(centre, storage="postgres", database_url=pg_url)
    assert ledger_for(session_store(pg)).entries() == []
    assert len(session_store(pg).list()) == 7  # the sessions are copied all the same
