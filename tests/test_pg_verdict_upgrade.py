"""A PostgreSQL database of schema version 1 (before the session index kept the machine verdict)
is migrated on first open: `sessions.verdict` and `sessions.result` added and filled from each
stored record and its reviews, deleted sessions included; nothing else changes and no session is
lost. The version-1 database is the current one without those two columns, its version set back
to 1 (version 1 had exactly the other columns)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import create_engine, text

from exam_support import settings_for
from test_sessions_support import audio_for, make_record, make_score
from trainer.sessions import Review, SessionFilter, StepVerdict
from trainer.storage.engine import dispose_all, driver_url
from trainer.storage.factory import session_store
from trainer.storage.schema import SCHEMA_VERSION

pytestmark = pytest.mark.postgres


def _as_version_1(url: str) -> None:
    engine = create_engine(driver_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE sessions DROP COLUMN verdict, DROP COLUMN result"))
            conn.execute(text("UPDATE trainer_schema SET version = 1 WHERE component = 'trainer'"))
    finally:
        engine.dispose()


def _columns(url: str) -> tuple[list[str], int, list[tuple]]:
    engine = create_engine(driver_url(url))
    try:
        with engine.connect() as conn:
            names = [row[0] for row in conn.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions' ORDER BY ordinal_position"))]
            version = conn.execute(text("SELECT version FROM trainer_schema WHERE component = 'trainer'")).scalar_one()
            rows = conn.execute(text(
                "SELECT id, passed, effective_passed, effective_total, review_count, deleted_at FROM sessions ORDER BY id")).all()
    finally:
        engine.dispose()
    return names, version, rows


def test_a_version_1_database_gets_the_verdicts_on_first_open(pg_url: str, tmp_path) -> None:
    settings = dataclasses.replace(settings_for(tmp_path / "sessions"), storage="postgres", database_url=pg_url)
    store = session_store(settings)
    review = store.save(make_record("E1", "张三", "2026-11-20T02:00:00Z", score={**make_score(total=90.5), "verdict": "review"}),
                        audio_for(make_record())).id
    agreed = store.save(make_record("E2", "李四", "2026-11-21T02:00:00Z", score={**make_score(total=88.0), "verdict": "review"}),
                        audio_for(make_record())).id
    decided = store.save(make_record("E3", "王五", "2026-11-22T02:00:00Z", score={**make_score(total=91.0), "verdict": "review"}),
                         audio_for(make_record())).id
    old = store.save(make_record("E4", "赵六", "2026-11-23T02:00:00Z", score=make_score(total=61.0, passed=False)),
                     audio_for(make_record())).id  # saved before scores had a verdict
    gone = store.save(make_record("E5", "钱七", "2026-11-24T02:00:00Z", score={**make_score(total=85.0), "verdict": "review"}),
                      audio_for(make_record())).id
    store.add_review(agreed, Review(agreed, "李老师", steps={"seat": StepVerdict("agree")}))
    store.add_review(decided, Review(decided, "李老师", "override", 70.0, False, "找零没说"))
    store.delete(gone, allow_exam=False)
    names_now, _, rows_before = _columns(pg_url)
    dispose_all()
    _as_version_1(pg_url)
    names_v1, version, rows_v1 = _columns(pg_url)
    assert version == 1 and "verdict" not in names_v1 and rows_v1 == rows_before

    migrated = session_store(settings)  # a new process's first open: the migration runs
    listed = migrated.list()
    names_after, version, rows_after = _columns(pg_url)
    assert version == SCHEMA_VERSION == 2 and sorted(names_after) == sorted(names_now)  # (added at the end)
    assert rows_after == rows_before  # every session (the deleted one too) and its other columns as they were
    assert [(s.id, s.verdict, s.result_label) for s in listed] == [
        (old, "fail", "未通过"), (decided, "review", "未通过"), (agreed, "review", "待复核"), (review, "review", "待复核"),
    ]
    assert [s.id for s in migrated.list(SessionFilter(result="review"))] == [agreed, review]
    assert [s.id for s in migrated.list(SessionFilter(result="pass"))] == []
    engine = create_engine(driver_url(pg_url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT verdict, result FROM sessions WHERE id = :id"), {"id": gone}).one() == ("review", "review")
    finally:
        engine.dispose()
    dispose_all()
    assert session_store(settings).list() == listed  # opening again migrates nothing twice
