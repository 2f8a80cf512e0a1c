"""Index files written before the session index moved to SQLAlchemy Core still open.

The fixture files are built here with the raw SQL the old `trainer/sessions/index.py` and
`trainer/accounts/store.py` ran (copied below), so these tests do not depend on the code under test
to make them:
- an index of the current version is read as it is (no rebuild), booleans and scores intact;
- an index of another version is rebuilt from the folders, while the meta values (the exam
  ledger's anchored head) and the account tables in the same file stay exactly as they were;
- in particular an index of version 1 (every deployment before the machine verdict was indexed):
  rebuilt on first use, every session, review and step row kept, a session the machine sent to
  review then listed as 待复核 (version 1 could only say 通过/未通过), and a save made into the
  old file before any read is not lost.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from test_sessions_support import audio_for, make_record, make_score
from trainer.exam.anchor import LedgerHead, raise_anchor, read_anchor
from trainer.sessions import Review, SessionFilter, SessionStore, StepVerdict
from trainer.sessions.index import INDEX_VERSION, SessionIndex

# --- the old raw SQL (trainer/sessions/index.py and trainer/accounts/store.py before SQLAlchemy) --

OLD_INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    trainee_id TEXT NOT NULL,
    trainee_name TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_title TEXT NOT NULL,
    phrasebook_version TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    turns INTEGER NOT NULL,
    total REAL,
    passed INTEGER,
    review_count INTEGER NOT NULL DEFAULT 0,
    last_reviewer TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT NOT NULL DEFAULT '',
    review_overall TEXT NOT NULL DEFAULT '',
    override_total REAL,
    override_passed INTEGER,
    effective_total REAL,
    effective_passed INTEGER
);
CREATE INDEX IF NOT EXISTS sessions_trainee ON sessions (trainee_id, started_at);
CREATE INDEX IF NOT EXISTS sessions_scenario ON sessions (scenario_id, started_at);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_at);
CREATE TABLE IF NOT EXISTS steps (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    expected TEXT NOT NULL,
    status TEXT NOT NULL,
    similarity REAL,
    matched_text TEXT NOT NULL,
    turn INTEGER,
    review_verdict TEXT NOT NULL DEFAULT '',
    review_comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, position)
);
CREATE INDEX IF NOT EXISTS steps_scenario ON steps (step_id);
"""

OLD_ACCOUNT_SCHEMA = """
CREATE TABLE IF NOT EXISTS account_schema (component VARCHAR(32) PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE accounts (
 user_id VARCHAR(64) PRIMARY KEY, name VARCHAR(80) NOT NULL, role VARCHAR(16) NOT NULL,
 email VARCHAR(254) NOT NULL DEFAULT '', password_hash VARCHAR(255) NOT NULL,
 disabled INTEGER NOT NULL DEFAULT 0, must_change_password INTEGER NOT NULL DEFAULT 1,
 created_at VARCHAR(32) NOT NULL, updated_at VARCHAR(32) NOT NULL);
CREATE TABLE account_groups (
 user_id VARCHAR(64) NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE,
 group_name VARCHAR(80) NOT NULL, PRIMARY KEY (user_id, group_name));
CREATE INDEX account_groups_group ON account_groups (group_name);
INSERT INTO account_schema VALUES ('accounts', 1);
INSERT INTO accounts VALUES ('T01', '李老师', 'instructor', 'li@example.cn', 'scrypt$16384$8$1$c2FsdA==$aGFzaA==', 0, 0,
                             '2026-11-01T08:00:00Z', '2026-11-02T08:00:00Z');
INSERT INTO account_groups VALUES ('T01', '营业一班');
"""

OLD_ROW = (
    "INSERT INTO sessions (id, kind, trainee_id, trainee_name, scenario_id, scenario_title, phrasebook_version, engine, model, "
    "started_at, finished_at, turns, total, passed, review_count, last_reviewer, reviewed_at, review_overall, override_total, "
    "override_passed, effective_total, effective_passed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Version 2 (INDEX_VERSION) added the machine verdict and the result shown at the end of `sessions`.
CURRENT_COLUMNS = """
ALTER TABLE sessions ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN result TEXT NOT NULL DEFAULT '';
"""
CURRENT_ROW = OLD_ROW.replace("effective_passed)", "effective_passed, verdict, result)").replace("?)", "?, ?, ?)")
OLD_STEP = (
    "INSERT INTO steps (session_id, position, step_id, expected, status, similarity, matched_text, turn, review_verdict, "
    "review_comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
HEAD = LedgerHead(7, "ab" * 32)


def _current_row(store: SessionStore, session_id: str) -> tuple:
    """The version-2 row of a stored session: the version-1 row, the machine verdict and the result shown."""
    record, reviews = store.load(session_id), store.reviews(session_id)
    last = reviews[-1] if reviews else None
    verdict = record.score.get("verdict") or ("pass" if record.passed else "fail")
    result = ("pass" if last.override_passed else "fail") if last is not None and last.overall == "override" else verdict
    return _old_rows(store, session_id)[0] + (verdict, result)


def _old_rows(store: SessionStore, session_id: str) -> tuple[tuple, list[tuple]]:
    """The row and step rows the old `_upsert` wrote for a stored session (booleans as 0/1)."""
    record, reviews = store.load(session_id), store.reviews(session_id)
    last = reviews[-1] if reviews else None
    override = last is not None and last.overall == "override"

    def flag(value):
        return None if value is None else int(value)

    row = (record.id, record.kind, record.trainee_id, record.trainee_name, record.scenario_id, record.scenario_title,
           record.phrasebook_version, record.engine, record.model, record.started_at, record.finished_at, len(record.turns),
           record.total, flag(record.passed), len(reviews), last.reviewer if last else "", last.created_at if last else "",
           last.overall if last else "", last.override_total if override else None, flag(last.override_passed) if override else None,
           last.override_total if override else record.total, flag(last.override_passed if override else record.passed))
    verdicts = {k: v for review in reviews for k, v in review.steps.items()}
    steps = [(record.id, n, s["id"], s["expected"], s["status"], s["similarity"], s["matched_text"], s["turn"],
              verdicts[s["id"]].verdict if s["id"] in verdicts else "", verdicts[s["id"]].comment if s["id"] in verdicts else "")
             for n, s in enumerate(record.steps, start=1)]
    return row, steps


def _write_old_index(path: Path, store: SessionStore, ids: list[str], *, user_version: int = 1, meta_version: str = "1") -> None:
    """An index file as version `user_version` wrote it (2: with the verdict columns)."""
    current = user_version == 2
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(OLD_INDEX_SCHEMA + (CURRENT_COLUMNS if current else "") + OLD_ACCOUNT_SCHEMA
                           + f"PRAGMA user_version = {user_version};")
        conn.execute("INSERT INTO meta (key, value) VALUES ('version', ?)", (meta_version,))
        conn.execute("INSERT INTO meta (key, value) VALUES ('ledger_head', ?)", (HEAD.to_text(),))
        for session_id in ids:
            row, steps = _old_rows(store, session_id)
            conn.execute(CURRENT_ROW if current else OLD_ROW, _current_row(store, session_id) if current else row)
            conn.executemany(OLD_STEP, steps)
    conn.close()


def _non_index_tables(path: Path) -> dict[str, object]:
    """Everything in the file but the index's own tables: schema and rows."""
    with sqlite3.connect(path) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        dump: dict[str, object] = {"schema": sorted(
            row for row in conn.execute("SELECT type, name, sql FROM sqlite_master") if row[1] not in ("sessions", "steps")
            and not str(row[1]).startswith(("sessions_", "steps_", "sqlite_autoindex_sessions", "sqlite_autoindex_steps"))
        )}
        for name in names:
            if name not in ("sessions", "steps"):
                dump[name] = sorted(conn.execute(f"SELECT * FROM {name}").fetchall())
    conn.close()
    return dump


@pytest.fixture
def filled(tmp_path: Path) -> tuple[SessionStore, list[str]]:
    """Four stored sessions (one reviewed with an override, one failed, one the machine sent to
    review: 待复核), then no index file."""
    store = SessionStore(tmp_path / "sessions")
    a = store.save(make_record("E1", started_at="2026-11-20T02:00:00Z", score=make_score(total=92.0, passed=True)),
                   audio_for(make_record()))
    b = store.save(make_record("E2", "李四", started_at="2026-11-21T02:00:00Z",
                               score=make_score({"seat": "missed", "receive": "partial"}, total=61.0, passed=False)),
                   audio_for(make_record()))
    c = store.save(make_record("E3", "王五", started_at="2026-11-22T02:00:00Z", score=make_score(total=77.5, passed=False)),
                   audio_for(make_record()))
    store.add_review(c.id, Review(c.id, "李老师", "override", 85.0, True, "复听后改判", {"seat": StepVerdict("disagree", "说了")}))
    d = store.save(make_record("E4", "赵六", started_at="2026-11-22T03:00:00Z",
                               score={**make_score(total=88.0, passed=True), "verdict": "review"}),
                   audio_for(make_record()))
    store.add_review(d.id, Review(d.id, "李老师", steps={"seat": StepVerdict("agree")}))  # decides nothing
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.index.path}{suffix}").unlink(missing_ok=True)
    return store, [a.id, b.id, c.id, d.id]


def test_an_index_of_the_current_version_is_read_without_a_rebuild(filled, monkeypatch: pytest.MonkeyPatch) -> None:
    store, ids = filled
    _write_old_index(store.index.path, store, ids, user_version=INDEX_VERSION, meta_version=str(INDEX_VERSION))
    expected_rows = {session_id: _old_rows(store, session_id) for session_id in ids}

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the index of the current version was rebuilt instead of read")

    monkeypatch.setattr(SessionIndex, "rebuild", no_rebuild)
    fresh = SessionStore(store.root)
    listed = fresh.list()
    assert [s.id for s in listed] == ids[::-1]
    c = fresh.summary(ids[2])
    assert (c.passed, c.override_passed, c.effective_passed, c.effective_total, c.review_overall) == (False, True, True, 85.0, "override")
    assert fresh.summary(ids[0]).passed is True and fresh.summary(ids[1]).passed is False
    assert [s.result for s in listed] == ["review", "pass", "fail", "pass"]
    assert [s.id for s in fresh.list(SessionFilter(result="pass"))] == [ids[2], ids[0]]
    assert [s.id for s in fresh.list(SessionFilter(result="review"))] == [ids[3]]
    seat = [(r.session_id, r.status, r.review_verdict) for r in fresh.step_rows() if r.step_id == "seat"]
    assert seat == [(ids[3], "hit", "agree"), (ids[2], "hit", "disagree"), (ids[1], "missed", ""), (ids[0], "hit", "")]
    assert read_anchor(store.root) == HEAD

    # a new save goes into the file beside the rows it holds
    e = fresh.save(make_record("E5", started_at="2026-11-23T02:00:00Z"), audio_for(make_record()))
    assert [s.id for s in fresh.list()] == [e.id, *ids[::-1]]
    monkeypatch.undo()
    # what the file held is what a rebuild from the folders gives
    before = fresh.list()
    steps_before = fresh.step_rows()
    assert fresh.reindex().indexed == 5
    assert fresh.list() == before and fresh.step_rows() == steps_before
    assert {i: _old_rows(store, i) for i in ids} == expected_rows


def test_an_index_of_version_1_is_rebuilt_with_the_verdicts_and_nothing_lost(filled) -> None:
    """Every deployment before version 2: its file is rebuilt on first use (no command needed)."""
    store, ids = filled
    _write_old_index(store.index.path, store, ids)  # version 1, as the old code left it
    with sqlite3.connect(store.index.path) as conn:
        old = conn.execute("SELECT id, passed, effective_passed FROM sessions ORDER BY id").fetchall()
    conn.close()
    assert (ids[3], 1, 1) in old  # version 1 listed the 待复核 session as 通过 (its best guess)
    kept = _non_index_tables(store.index.path)

    fresh = SessionStore(store.root)
    listed = fresh.list()
    assert [s.id for s in listed] == ids[::-1]
    assert [(s.verdict, s.result, s.result_label) for s in listed] == [
        ("review", "review", "待复核"), ("fail", "pass", "通过"), ("fail", "fail", "未通过"), ("pass", "pass", "通过"),
    ]
    d = fresh.summary(ids[3])
    assert (d.passed, d.review_count, d.review_overall) == (True, 1, "agree")  # the best guess and the review kept
    assert [s.id for s in fresh.list(SessionFilter(result="review"))] == [ids[3]]
    assert [s.id for s in fresh.list(SessionFilter(result="pass"))] == [ids[2], ids[0]]
    assert {(r.session_id, r.step_id): r.review_verdict for r in fresh.step_rows()}[(ids[2], "seat")] == "disagree"
    assert len(fresh.step_rows()) == sum(len(_old_rows(store, i)[1]) for i in ids)
    assert fresh.index.meta_get("version") == str(INDEX_VERSION)
    after = _non_index_tables(store.index.path)
    assert dict(after.pop("meta")) == {**dict(kept.pop("meta")), "version": str(INDEX_VERSION)}
    assert after == kept  # account tables: schema and rows untouched
    assert read_anchor(store.root) == HEAD


def test_a_save_into_a_version_1_index_before_any_read_is_not_lost(filled) -> None:
    store, ids = filled
    _write_old_index(store.index.path, store, ids)
    fresh = SessionStore(store.root)
    e = fresh.save(make_record("E5", started_at="2026-11-23T02:00:00Z", score={**make_score(), "verdict": "review"}),
                   audio_for(make_record()))
    listed = fresh.list()
    assert [s.id for s in listed] == [e.id, *ids[::-1]]
    assert listed[0].result_label == "待复核"
    with sqlite3.connect(store.index.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION
    conn.close()


@pytest.mark.parametrize("user_version, meta_version", [(1, "1"), (1, "0"), (7, "7")])
def test_an_index_of_another_version_is_rebuilt_keeping_meta_and_accounts(filled, user_version: int, meta_version: str) -> None:
    store, ids = filled
    _write_old_index(store.index.path, store, ids[:1], user_version=user_version, meta_version=meta_version)
    with sqlite3.connect(store.index.path) as conn:  # a stray row only an old index would hold
        conn.execute(OLD_ROW, ("20261101T000000Z-GONE-abcdef",) + _old_rows(store, ids[0])[0][1:])
    conn.close()
    kept = _non_index_tables(store.index.path)

    fresh = SessionStore(store.root)
    assert [s.id for s in fresh.list()] == ids[::-1]  # rebuilt from the folders: the stray row is gone
    assert fresh.summary(ids[2]).effective_passed is True
    assert fresh.index.meta_get("version") == str(INDEX_VERSION)
    assert read_anchor(store.root) == HEAD
    after = _non_index_tables(store.index.path)
    meta_after = after.pop("meta")
    meta_before = kept.pop("meta")
    assert after == kept  # account tables: schema and rows untouched
    assert dict(meta_after) == {**dict(meta_before), "version": str(INDEX_VERSION)}
    with sqlite3.connect(store.index.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_the_anchor_survives_a_reindex_and_is_never_lowered(filled) -> None:
    store, ids = filled
    _write_old_index(store.index.path, store, ids)
    assert store.reindex().indexed == 4
    assert read_anchor(store.root) == HEAD
    raise_anchor(store.root, LedgerHead(3, "cd" * 32))
    assert read_anchor(store.root) == HEAD
    raise_anchor(store.root, LedgerHead(9, "ef" * 32))
    assert read_anchor(store.root) == LedgerHead(9, "ef" * 32)
    assert store.reindex().indexed == 4
    assert read_anchor(store.root) == LedgerHead(9, "ef" * 32)
