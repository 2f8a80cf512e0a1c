"""The storage layer on both backends: the embedded default (folders + SQLite) and a real
PostgreSQL server (tests/pg_support.py). Every test runs on both, through the one factory
(`trainer.storage.factory`) that pages and the CLI use.

The PostgreSQL runs are marked `postgres`; they skip (fail in CI) when no server can be started.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from exam_support import KEY, FakeMarker, settings_for, small_library, wav_bytes as exam_wav
from test_sessions_support import audio_for, make_record, make_score, wav_bytes
from trainer.accounts.model import Account, AccountError
from trainer.accounts.manage import open_accounts
from trainer.accounts.store import LoginSession
from trainer.errors import ExamError, SessionStoreError
from trainer.exam.paper import parse_paper
from trainer.exam.records import exam_results, roster
from trainer.exam.runner import AttemptsExhaustedError, run_exam, start_exam
from trainer.exam.seal import compute_seal, exam_key, seal_matches
from trainer.exam.verify import verify_all
from trainer.sessions import Review, SessionFilter, StepVerdict
from trainer.storage.factory import ledger_for, session_store

REPO = Path(__file__).resolve().parent.parent

ONE_ATTEMPT = """\
id: unit_once
title: 只能考一次
questions: [payment]
attempts: 1
pass_mark: 80
feedback: end
"""


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request, tmp_path: Path):
    """Settings for one backend (each test gets a fresh, empty store)."""
    base = settings_for(tmp_path / "sessions")
    if request.param == "embedded":
        return base
    url = request.getfixturevalue("pg_url")
    return dataclasses.replace(base, storage="postgres", database_url=url)


def second_server(settings):
    """Another app server on the same store: a separate store object (PostgreSQL: its own engine
    and connection pool, as in another process)."""
    first = session_store(settings)  # PostgreSQL: creates the schema on first use
    if settings.storage != "postgres":
        return first
    from trainer.storage.engine import driver_url
    from trainer.storage.pg_sessions import PostgresSessionStore
    from sqlalchemy import create_engine

    return PostgresSessionStore(create_engine(driver_url(settings.database_url)), settings.database_url)


def big_wav(seconds: float) -> bytes:
    """A WAV larger than one audio chunk (256 KB), with distinct bytes throughout."""
    return exam_wav(7, seconds)


# --- sessions ---------------------------------------------------------------------------------


def test_audio_round_trips_byte_exact(settings) -> None:
    store = session_store(settings)
    record = make_record(turns=3)
    long_audio = big_wav(20.0)  # ~640 KB: three chunks in the database
    assert len(long_audio) > 600_000
    audio = [wav_bytes(0.2, 300), long_audio, b"OggS" + os.urandom(5000)]
    saved = store.save(record, audio)

    assert [t.audio_file for t in saved.turns] == ["turn01.wav", "turn02.wav", "turn03.ogg"]
    for turn, data in zip(saved.turns, audio):
        assert store.audio_bytes(saved.id, turn.index) == data
        assert store.stored_audio_sha256(saved.id, turn.audio_file) == hashlib.sha256(data).hexdigest()
    assert store.load(saved.id) == saved
    assert store.record_bytes(saved.id) == saved.canonical_bytes()
    assert store.verify_audio(saved.id) == []
    assert store.exists(saved.id)
    with pytest.raises(SessionStoreError, match="没有第 4 轮"):
        store.audio_bytes(saved.id, 4)


@pytest.mark.postgres
def test_postgres_streams_audio_in_chunks(pg_url, tmp_path: Path) -> None:
    store = session_store(dataclasses.replace(settings_for(tmp_path / "s"), storage="postgres", database_url=pg_url))
    long_audio = big_wav(20.0)
    saved = store.save(make_record(turns=1), [long_audio])
    chunks = list(store.iter_audio(saved.id, 1))
    assert len(chunks) == 3 and all(len(c) <= 256 * 1024 for c in chunks)
    assert b"".join(chunks) == long_audio


def test_text_only_turns_and_bad_input(settings) -> None:
    store = session_store(settings)
    saved = store.save(make_record(turns=2), [None, wav_bytes()])
    assert saved.turns[0].audio_file == ""
    with pytest.raises(SessionStoreError, match="没有录音"):
        store.audio_bytes(saved.id, 1)
    with pytest.raises(SessionStoreError, match="2 轮.*1 段录音"):
        store.save(make_record(turns=2), [wav_bytes()])
    with pytest.raises(SessionStoreError, match="已存在"):
        store.save(saved, [None, wav_bytes()])  # a fixed id is never overwritten
    with pytest.raises(SessionStoreError, match="找不到会话"):
        store.load("20261123T063015Z-E1024-ffffff")


def test_a_session_saved_on_one_server_is_listed_on_another(settings) -> None:
    one, other = session_store(settings), second_server(settings)
    saved = one.save(make_record(trainee_id="E2001", trainee_name="王五"), audio_for(make_record()))
    rows = other.list()
    assert [r.id for r in rows] == [saved.id]
    assert other.summary(saved.id).trainee_name == "王五"
    assert other.audio_bytes(saved.id, 2) == audio_for(make_record())[1]
    other.add_review(saved.id, Review(session_id=saved.id, reviewer="李老师", comment="好"))
    assert one.summary(saved.id).review_count == 1


def test_listing_filters_and_statistics(settings) -> None:
    store = session_store(settings)
    a = store.save(make_record(trainee_id="E1", trainee_name="张三", started_at="2026-11-20T02:00:00Z",
                               score=make_score(total=92.0, passed=True)), audio_for(make_record()))
    b = store.save(make_record(trainee_id="E2", trainee_name="李四", started_at="2026-11-21T02:00:00Z",
                               score=make_score({"seat": "missed", "receive": "partial"}, total=61.0, passed=False)),
                   audio_for(make_record()))
    c = store.save(make_record(trainee_id="E1", trainee_name="张三", started_at="2026-11-22T02:00:00Z", scenario_id="complaint",
                               score=make_score({"seat": "missed"}, total=75.0, passed=False)), audio_for(make_record()))

    assert [r.id for r in store.list()] == [c.id, b.id, a.id]
    assert [r.id for r in store.list(newest_first=False)] == [a.id, b.id, c.id]
    assert [r.id for r in store.list(SessionFilter(trainee="张"))] == [c.id, a.id]
    assert [r.id for r in store.list(SessionFilter(trainee="E2"))] == [b.id]
    assert [r.id for r in store.list(SessionFilter(trainee_ids=frozenset()))] == []
    assert [r.id for r in store.list(SessionFilter(trainee_ids=frozenset({"E2"})))] == [b.id]
    assert [r.id for r in store.list(SessionFilter(scenario_id="complaint"))] == [c.id]
    assert [r.id for r in store.list(SessionFilter(min_total=70.0))] == [c.id, a.id]
    assert [r.id for r in store.list(SessionFilter(result="pass"))] == [a.id]
    assert [r.id for r in store.list(SessionFilter(limit=1))] == [c.id]
    assert [r.id for r in store.score_history("E1")] == [a.id, c.id]
    assert store.summary(b.id).total == 61.0 and store.summary(b.id).passed is False

    rows = store.step_rows(SessionFilter(trainee="E2"))
    assert [(r.step_id, r.status) for r in rows][:3] == [("greet", "hit"), ("seat", "missed"), ("confirm", "hit")]
    stats = store.step_miss_rates()
    top = stats[0]
    assert (top.scenario_id, top.step_id, top.attempts, top.misses) == ("complaint", "seat", 1, 1)  # missed every time
    assert (stats[1].scenario_id, stats[1].step_id, stats[1].attempts, stats[1].misses) == ("payment", "seat", 2, 1)
    payment_receive = next(s for s in stats if s.scenario_id == "payment" and s.step_id == "receive")
    assert (payment_receive.attempts, payment_receive.hits, payment_receive.partials) == (2, 1, 1)


def test_reviews_are_appended_and_the_latest_decides(settings) -> None:
    store = session_store(settings)
    saved = store.save(make_record(score=make_score(total=70.0, passed=False)), audio_for(make_record()))
    first = Review(session_id=saved.id, reviewer="李老师", comment="同意", steps={"seat": StepVerdict("disagree", "说了请坐")},
                   created_at="2026-11-24T01:00:00.000001Z")
    second = Review(session_id=saved.id, reviewer="王老师", overall="override", override_total=85.0, override_passed=True,
                    comment="录音里说全了", created_at="2026-11-24T02:00:00.000001Z")
    store.add_review(saved.id, second)
    store.add_review(saved.id, first)  # made earlier: sorts first
    assert [r.reviewer for r in store.reviews(saved.id)] == ["李老师", "王老师"]
    summary = store.summary(saved.id)
    assert (summary.review_count, summary.last_reviewer, summary.review_overall) == (2, "王老师", "override")
    assert summary.effective_total == 85.0 and summary.effective_passed is True
    assert [r.id for r in store.list(SessionFilter(result="pass"))] == [saved.id]
    assert [r.id for r in store.list(SessionFilter(reviewed=False))] == []
    seat = next(r for r in store.step_rows() if r.step_id == "seat")
    assert (seat.review_verdict, seat.review_comment) == ("disagree", "说了请坐")
    with pytest.raises(SessionStoreError, match="改判时必须填写理由"):
        store.add_review(saved.id, Review(session_id=saved.id, reviewer="x", overall="override", override_total=1.0, override_passed=False))


def test_delete_hides_a_session_and_guards_exam_records(settings) -> None:
    store = session_store(settings)
    practice = store.save(make_record(), audio_for(make_record()))
    exam = store.save(make_record(kind="exam", started_at="2026-11-23T07:00:00Z"), audio_for(make_record()))
    with pytest.raises(SessionStoreError, match="密封的考试记录"):
        store.delete(exam.id)
    store.delete(practice.id)
    assert [r.id for r in store.list()] == [exam.id]
    assert not store.exists(practice.id)
    with pytest.raises(SessionStoreError, match="找不到会话"):
        store.load(practice.id)
    store.delete(exam.id, allow_exam=True)
    assert store.list() == []


def test_reindex_rebuilds_the_listing(settings) -> None:
    store = session_store(settings)
    saved = store.save(make_record(), audio_for(make_record()))
    store.add_review(saved.id, Review(session_id=saved.id, reviewer="李老师"))
    report = store.reindex()
    assert report.indexed == 1
    assert store.summary(saved.id).review_count == 1


# --- accounts ---------------------------------------------------------------------------------


def test_accounts_on_both_backends(settings) -> None:
    store = open_accounts(settings)
    account = Account("E1001", "张三", "trainee", ("营业一班",), "zs@example.cn")
    store.create(account, "scrypt$hash")
    with pytest.raises(AccountError, match="已经存在"):
        store.create(account, "scrypt$other")
    other = open_accounts(settings)  # another server sees it
    assert other.get("E1001") == account
    assert other.password_hash("E1001") == "scrypt$hash"
    assert other.members(["营业一班"]) == {"E1001"}
    assert other.count() == 1
    updated = other.update(dataclasses.replace(account, disabled=True, groups=("营业二班",)))
    assert store.get("E1001").disabled and store.get("E1001").groups == ("营业二班",)
    assert updated.updated_at >= account.updated_at
    with pytest.raises(AccountError, match="没有工号"):
        store.set_password("nobody", "h", False)

    assert [store.record_failure("e1001", 100.0 + n).failures for n in range(3)] == [1, 2, 3]
    store.lock("e1001", 500.0)
    assert other.attempts("e1001").locked_until == 500.0
    assert store.prune_attempts(200.0) == 0 and store.prune_attempts(600.0) == 1

    store.add_session(LoginSession("t" * 64, "E1001", "password", 1.0, 1.0, 100.0))
    other.touch_session("t" * 64, 5.0)
    assert store.session("t" * 64).last_seen_at == 5.0
    assert store.prune_sessions(50.0, idle_seconds=10.0) == 1
    assert store.session("t" * 64) is None


def test_failed_logins_counted_by_many_servers_at_once(settings) -> None:
    stores = [open_accounts(settings) for _ in range(4)]
    barrier = threading.Barrier(4)

    def fail(store) -> None:
        barrier.wait()
        for n in range(10):
            store.record_failure("someone", float(n))

    threads = [threading.Thread(target=fail, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].attempts("someone").failures == 40


# --- the exam ledger ---------------------------------------------------------------------------


def test_exam_is_sealed_and_verifies_on_both_backends(settings) -> None:
    store = session_store(settings)
    paper = parse_paper(ONE_ATTEMPT)
    answers = [[exam_wav(1), exam_wav(2)]]
    result = run_exam(paper, "E1001", "考生甲", answers, settings, small_library(), FakeMarker(), store)
    assert result.passed
    ledger = ledger_for(store)
    assert [e["kind"] for e in ledger.entries()] == ["start", "result"]
    assert ledger.read_anchor() == ledger.head()
    report = verify_all(store, exam_key(settings))
    assert report.ok, report.problems
    assert (report.entries, report.exams, report.sessions, report.head_seq) == (2, 1, 1, 2)
    assert [r.exam_id for r in exam_results(store)] == [result.exam_id]
    assert [r.candidate_id for r in roster(store, key=exam_key(settings))] == ["E1001"]
    assert roster(store, key=exam_key(settings))[0].seal_ok is True

    # Changing a stored audio byte of the exam session is found.
    session_id = result.questions[0].session_id
    _tamper_audio(settings, store, session_id)
    report = verify_all(store, exam_key(settings))
    assert [p.kind for p in report.problems] == ["changed"]
    assert "录音" in report.problems[0].message


def _tamper_audio(settings, store, session_id: str) -> None:
    if settings.storage != "postgres":
        path = store.session_dir(session_id) / "turn01.wav"
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))
        return
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audio_chunks SET data = overlay(data placing '\\x00'::bytea from 100 for 1) "
                          "WHERE session_id = :id AND turn = 1 AND chunk = 0"), {"id": session_id})


@pytest.mark.postgres
def test_postgres_ledger_tampering_is_found(pg_url, tmp_path: Path) -> None:
    settings = dataclasses.replace(settings_for(tmp_path / "s"), storage="postgres", database_url=pg_url)
    store = session_store(settings)
    ledger = ledger_for(store)
    key = exam_key(settings)
    for n in range(4):
        ledger.append("grant", f"grant-{n}", {"paper_id": "p", "candidate_id": f"E{n}", "extra_attempts": 1}, key)
    assert verify_all(store, key).ok
    from sqlalchemy import text

    with store.engine.begin() as conn:  # an edited entry: its seal no longer matches
        raw = json.loads(conn.execute(text("SELECT raw FROM exam_ledger WHERE seq = 2")).scalar())
        raw["body"]["extra_attempts"] = 5
        from trainer.sessions.model import canonical_json

        conn.execute(text("UPDATE exam_ledger SET raw = :raw WHERE seq = 2"), {"raw": canonical_json(raw)})
    assert [p.kind for p in verify_all(store, key).problems] == ["forged"]
    with store.engine.begin() as conn:  # the last entry deleted: the anchored head is missing
        conn.execute(text("DELETE FROM exam_ledger WHERE seq = 4"))
    kinds = [p.kind for p in verify_all(store, key).problems]
    assert "truncated" in kinds


def test_concurrent_appends_keep_one_valid_chain(settings) -> None:
    """Eight threads, each with its own store object (PostgreSQL: its own engine, like another
    server), append at once; the chain stays one and every seal verifies."""
    key = exam_key(settings)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        ledger = ledger_for(second_server(settings))
        barrier.wait()
        try:
            for n in range(10):
                ledger.append("grant", f"grant-{worker}-{n}", {"paper_id": "p", "candidate_id": f"W{worker}", "extra_attempts": 1}, key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = ledger_for(session_store(settings)).entries()
    assert [e["seq"] for e in entries] == list(range(1, 81))
    assert all(e["prev"] == p["seal"] for p, e in zip(entries, entries[1:]))
    assert all(seal_matches(e, key) for e in entries)
    assert verify_all(session_store(settings), key).ok


APPENDER = """
import dataclasses, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from exam_support import settings_for
from trainer.exam.seal import exam_key
from trainer.storage.factory import ledger_for, session_store
settings = dataclasses.replace(settings_for(Path({root!r})), storage={storage!r}, database_url={url!r})
ledger = ledger_for(session_store(settings))
for n in range(15):
    ledger.append("grant", f"grant-{{sys.argv[1]}}-{{n}}", {{"paper_id": "p", "candidate_id": sys.argv[1], "extra_attempts": 1}}, exam_key(settings))
"""


def test_two_processes_appending_at_once_keep_one_chain(settings) -> None:
    script = APPENDER.format(tests=str(REPO / "tests"), root=str(settings.sessions_dir), storage=settings.storage, url=settings.database_url)
    procs = [subprocess.Popen([sys.executable, "-c", script, name], cwd=REPO) for name in ("A", "B")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = session_store(settings)
    entries = ledger_for(store).entries()
    assert len(entries) == 30 and [e["seq"] for e in entries] == list(range(1, 31))
    assert sorted({e["body"]["candidate_id"] for e in entries}) == ["A", "B"]
    assert verify_all(store, exam_key(settings)).ok


def test_one_attempt_holds_when_servers_start_at_once(settings) -> None:
    """Three servers start the same one-attempt exam for each of four candidates at the same moment:
    exactly one start per candidate is recorded, the others are refused."""
    paper = parse_paper(ONE_ATTEMPT)
    library = small_library()
    candidates = [f"E30{n}" for n in range(4)]
    barrier = threading.Barrier(3 * len(candidates))
    outcomes: dict[str, list[str]] = {c: [] for c in candidates}

    def begin(candidate: str) -> None:
        store = second_server(settings)
        barrier.wait()
        try:
            start_exam(paper, candidate, "考生", settings, library, store)
            outcomes[candidate].append("started")
        except AttemptsExhaustedError:
            outcomes[candidate].append("refused")
        except Exception as exc:  # noqa: BLE001 - any other failure is a broken rule
            outcomes[candidate].append(f"error: {exc}")

    threads = [threading.Thread(target=begin, args=(c,)) for c in candidates for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {c: sorted(o) for c, o in outcomes.items()} == {c: ["refused", "refused", "started"] for c in candidates}
    starts = [e for e in ledger_for(session_store(settings)).entries() if e["kind"] == "start"]
    assert sorted(e["body"]["candidate_id"] for e in starts) == candidates
    assert verify_all(session_store(settings), exam_key(settings)).ok


def test_a_check_that_refuses_writes_nothing(settings) -> None:
    ledger = ledger_for(session_store(settings))
    key = exam_key(settings)
    ledger.append("grant", "g1", {"paper_id": "p", "candidate_id": "E1", "extra_attempts": 1}, key)

    def refuse(entries) -> None:
        raise ExamError("不行", "refused")

    with pytest.raises(ExamError, match="不行"):
        ledger.append("grant", "g2", {}, key, check=refuse)
    assert [e["exam_id"] for e in ledger.entries()] == ["g1"]
    assert ledger.head().seq == 1 and ledger.read_anchor().seq == 1
    assert compute_seal(ledger.entries()[0], key) == ledger.entries()[0]["seal"]


# --- the centre's phrasebook overlay ---------------------------------------------------------------


def test_overlay_proposals_and_decisions_on_both_backends(settings) -> None:
    from trainer.phrasebook.loader import library_cache_key, library_from_settings
    from trainer.phrasebook.overlay import OverlayError
    from trainer.sessions.proposals import ReviewCandidate
    from trainer.storage.factory import overlay_for

    library = library_from_settings(settings)
    scenario = library.scenarios["payment"]
    step = scenario.steps[0]
    text = "同志您好这边请坐下慢慢说"
    candidate = ReviewCandidate("payment", step.id, "20261123T063015Z-E1024-a1b2c3", 1, "missed", text, "王老师", "说了")
    outcome = overlay_for(settings).propose(candidate, library)
    assert outcome.created and outcome.proposal is not None
    again = overlay_for(settings).propose(candidate, library)  # another server: the same proposal, not a second one
    assert not again.created and again.proposal == outcome.proposal
    before = library_cache_key(settings)

    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(name: str) -> None:
        overlay = overlay_for(settings)
        barrier.wait()
        try:
            overlay.approve(outcome.proposal.id, name, library=library)
            results.append("approved")
        except OverlayError as exc:
            results.append("refused" if "不能再采用" in exc.user_message else exc.user_message)

    threads = [threading.Thread(target=decide, args=(n,)) for n in ("李老师", "赵老师")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["approved", "refused"]
    state = overlay_for(settings).read()
    assert [p.status for p in state.proposals] == ["approved"] and state.problems == ()
    assert library_cache_key(settings) != before
    merged = library_from_settings(settings).scenarios["payment"].steps[0]
    assert text in merged.variants
    overlay_for(settings).reject(outcome.proposal.id, "李老师", note="撤销")
    assert text not in library_from_settings(settings).scenarios["payment"].steps[0].variants
