"""The one session index (trainer/sessions/index_sql.py) on both backends: the same sessions and
reviews stored in the embedded store (folders + SQLite index) and in PostgreSQL must give the same
listing, step rows and step statistics for every filter, and both must match a plain-Python
reading of the filter (so the two cannot agree on a wrong answer).

The machine's time zone is set to Asia/Shanghai (UTC+8): date filters are local calendar days,
and several sessions sit on the seconds either side of local midnight.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from exam_support import settings_for
from test_sessions_support import audio_for, make_record, make_score
from trainer.sessions import Review, SessionFilter, SessionRecord, StepVerdict
from trainer.sessions.model import local_day_start_utc, new_session_id
from trainer.storage.factory import session_store

pytestmark = pytest.mark.postgres

LOCAL = ZoneInfo("Asia/Shanghai")
GROUPS = {"营业一班": frozenset({"E1", "E2", "E10"}), "营业二班": frozenset({"E3", "E4"}), "热线": frozenset({"H1", "H2"})}
TRAINEES = {"E1": "张三", "E2": "张小明", "E10": "李E1", "E3": "李四", "E4": "100%满意", "H1": "王_五", "H2": "赵六"}

# (trainee, started_at UTC, kind, scenario, missed/partial steps, total, passed)
SESSIONS = (
    ("E1", "2026-11-20T01:00:00Z", "practice", "payment", {}, 92.0, True),
    ("E1", "2026-11-22T15:59:59Z", "practice", "payment", {"seat": "missed"}, 78.5, False),  # local 11-22 23:59:59
    ("E2", "2026-11-22T16:00:00Z", "practice", "payment", {"receive": "partial"}, 84.0, True),  # local 11-23 00:00:00
    ("E2", "2026-11-22T16:00:00Z", "exam", "payment", {"seat": "missed", "change": "missed"}, 55.0, False),  # same second
    ("E10", "2026-11-23T03:30:00Z", "practice", "complaint", {"seat": "partial"}, 80.0, True),
    ("E3", "2026-11-23T15:59:59Z", "exam", "payment", {}, 97.5, True),  # local 11-23 23:59:59
    ("E3", "2026-11-23T16:00:00Z", "practice", "complaint", {"greet": "missed"}, 64.0, False),  # local 11-24 00:00:00
    ("E4", "2026-11-24T08:00:00Z", "practice", "payment", {"confirm": "partial", "receive": "partial"}, 79.99, False),
    ("E4", "2026-11-25T23:00:00Z", "exam", "payment", {"farewell": "missed"}, 80.0, True),
    ("H1", "2026-11-21T10:00:00Z", "practice", "complaint", {}, 88.0, True),
    ("H1", "2026-11-26T02:00:00Z", "exam", "complaint", {"seat": "missed", "confirm": "missed"}, 40.0, False),
    ("H2", "2026-11-19T16:00:00Z", "practice", "payment", {"greet": "partial"}, 81.0, True),
    ("H2", "2026-11-27T12:00:00Z", "practice", "payment", {"seat": "missed"}, 70.0, False),
    ("E1", "2026-11-28T00:00:00Z", "exam", "payment", {"change": "partial"}, 86.0, True),
    ("E2", "2026-11-28T06:00:00Z", "practice", "complaint", {"seat": "missed", "greet": "missed"}, 30.0, False),
    ("E10", "2026-11-29T09:00:00Z", "exam", "complaint", {}, 100.0, True),
    ("E3", "2026-11-30T15:00:00Z", "practice", "payment", {"receive": "missed"}, 72.0, False),
    ("H2", "2026-12-01T01:00:00Z", "exam", "payment", {"seat": "partial"}, 83.0, True),
    ("E4", "2026-12-01T16:30:00Z", "practice", "complaint", {}, 95.0, True),
    ("H1", "2026-12-02T04:00:00Z", "practice", "payment", {"confirm": "missed"}, 66.0, False),
)


# Sessions the machine sent to review (score "verdict": "review", 待复核; the others were saved
# before scores had a verdict): one unreviewed, one whose agreeing review decides nothing, one an
# instructor decided (r[9]'s override).
SENT_TO_REVIEW = (2, 4, 9)


def _reviews(records: list[SessionRecord]) -> dict[str, list[Review]]:
    """Reviews of some sessions: agreeing ones with step verdicts, overrides that flip the result,
    and a session reviewed twice (the later review decides)."""
    at = iter(f"2026-12-03T0{n}:00:00.000001Z" for n in range(10))
    r = records
    plan = {
        r[1].id: [Review(r[1].id, "李老师", "override", 81.0, True, "录音里说了请坐", {"seat": StepVerdict("disagree", "说了")},
                         created_at=next(at))],
        r[2].id: [Review(r[2].id, "李老师", steps={"receive": StepVerdict("agree")}, created_at=next(at))],
        r[3].id: [Review(r[3].id, "王老师", comment="同意", created_at=next(at))],  # exam: agree only
        r[7].id: [Review(r[7].id, "李老师", "override", 60.0, False, "金额没说清", created_at=next(at)),
                  Review(r[7].id, "王老师", "override", 85.0, True, "复听后改判", {"confirm": StepVerdict("disagree", "说了")},
                         created_at=next(at))],
        r[9].id: [Review(r[9].id, "王老师", "override", 59.0, False, "语气生硬", created_at=next(at))],
        r[12].id: [Review(r[12].id, "赵老师", steps={"seat": StepVerdict("agree", "确实漏了")}, created_at=next(at))],
    }
    return plan


@pytest.fixture(scope="module")
def both(pg_server, tmp_path_factory: pytest.TempPathFactory):
    """The same 20 sessions and their reviews in an embedded store and in PostgreSQL (built once
    for this module; the tests only read)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Asia/Shanghai")
        time.tzset()
        assert local_day_start_utc(date(2026, 11, 23)) == "2026-11-22T16:00:00Z"
        url = pg_server.create_database()
        try:
            yield _fill(settings_for(tmp_path_factory.mktemp("index") / "sessions"), url)
        finally:
            from trainer.storage.engine import dispose_all

            dispose_all()
            pg_server.drop_database(url)
    time.tzset()


def _fill(base, url: str):
    embedded = session_store(base)
    postgres = session_store(dataclasses.replace(base, storage="postgres", database_url=url))
    records = []
    for n, (trainee, started, kind, scenario, statuses, total, passed) in enumerate(SESSIONS):
        score = make_score(statuses, total=total, passed=passed)
        if n in SENT_TO_REVIEW:
            score["verdict"] = "review"
        record = make_record(trainee_id=trainee, trainee_name=TRAINEES[trainee], started_at=started, kind=kind,
                             scenario_id=scenario, score=score)
        records.append(dataclasses.replace(record, id=new_session_id(trainee, started)))
    reviews = _reviews(records)
    for record in records:
        for store in (embedded, postgres):
            store.save(record, audio_for(record))
            for review in reviews.get(record.id, []):
                store.add_review(record.id, review)
    return embedded, postgres, records, reviews


# --- the filter read in plain Python -------------------------------------------------------------


def _effective(record: SessionRecord, reviews: list[Review]) -> tuple[float | None, bool | None]:
    last = reviews[-1] if reviews else None
    if last is not None and last.overall == "override":
        return last.override_total, last.override_passed
    return record.total, record.passed


def _local_day(started_at: str) -> date:
    return datetime.fromisoformat(started_at.replace("Z", "+00:00")).astimezone(LOCAL).date()


def _result(record: SessionRecord, reviews: list[Review]) -> str:
    """The result a list shows: the latest review's override, else the score's verdict, else pass/fail."""
    last = reviews[-1] if reviews else None
    if last is not None and last.overall == "override":
        return "pass" if last.override_passed else "fail"
    return record.score.get("verdict") or ("pass" if record.passed else "fail")


def _matches(flt: SessionFilter, record: SessionRecord, reviews: list[Review]) -> bool:
    total, _ = _effective(record, reviews)
    checks = [
        not flt.trainee or record.trainee_id == flt.trainee or flt.trainee in record.trainee_name,
        flt.trainee_ids is None or record.trainee_id in flt.trainee_ids,
        not flt.scenario_id or record.scenario_id == flt.scenario_id,
        not flt.kind or record.kind == flt.kind,
        flt.since is None or _local_day(record.started_at) >= flt.since,
        flt.until is None or _local_day(record.started_at) <= flt.until,
        flt.min_total is None or (total is not None and total >= flt.min_total),
        flt.max_total is None or (total is not None and total <= flt.max_total),
        flt.result is None or _result(record, reviews) == flt.result,
        flt.reviewed is None or bool(reviews) is flt.reviewed,
    ]
    return all(checks)


def _expected_ids(flt: SessionFilter, records: list[SessionRecord], reviews: dict[str, list[Review]], newest_first: bool = True) -> list[str]:
    chosen = sorted((r for r in records if _matches(flt, r, reviews.get(r.id, []))),
                    key=lambda r: (r.started_at, r.id), reverse=newest_first)
    ids = [r.id for r in chosen]
    return ids if flt.limit is None else ids[:flt.limit]


def _expected_stats(ids: list[str], records: list[SessionRecord]) -> Counter:
    counts: Counter = Counter()
    for record in records:
        if record.id in ids:
            for step in record.steps:
                counts[(record.scenario_id, step["id"], step["status"])] += 1
    return counts


FILTERS = [
    SessionFilter(),
    SessionFilter(trainee="E1"),  # E1 exactly, and 李E1 by name; not E10 by id
    SessionFilter(trainee="张"),
    SessionFilter(trainee="%"),  # a literal percent sign, not a wildcard
    SessionFilter(trainee="_"),
    SessionFilter(trainee="nobody"),
    SessionFilter(trainee_ids=frozenset()),
    *(SessionFilter(trainee_ids=members) for members in GROUPS.values()),
    SessionFilter(trainee_ids=GROUPS["营业一班"] | GROUPS["热线"], kind="practice"),
    SessionFilter(scenario_id="complaint"),
    SessionFilter(kind="exam"),
    SessionFilter(since=date(2026, 11, 23), until=date(2026, 11, 23)),  # one local day
    SessionFilter(since=date(2026, 11, 24)),
    SessionFilter(until=date(2026, 11, 22)),
    SessionFilter(since=date(2026, 11, 20), until=date(2026, 11, 28), kind="practice"),
    SessionFilter(min_total=80.0),
    SessionFilter(max_total=80.0),
    SessionFilter(min_total=60.0, max_total=85.0, scenario_id="payment"),
    SessionFilter(result="pass"),
    SessionFilter(result="fail"),
    SessionFilter(result="review"),
    SessionFilter(result="pass", reviewed=True),
    SessionFilter(result="review", reviewed=True),
    SessionFilter(reviewed=False),
    SessionFilter(limit=3),
    SessionFilter(trainee_ids=GROUPS["营业一班"], result="fail", limit=2),
]


def test_local_day_boundaries_are_the_same_on_both_backends(both) -> None:
    embedded, postgres, records, reviews = both
    day = SessionFilter(since=date(2026, 11, 23), until=date(2026, 11, 23))
    starts = sorted(s.started_at for s in embedded.list(day))
    assert starts == ["2026-11-22T16:00:00Z", "2026-11-22T16:00:00Z", "2026-11-23T03:30:00Z", "2026-11-23T15:59:59Z"]
    assert postgres.list(day) == embedded.list(day)


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in dataclasses.asdict(f).items() if v is not None) or "all")
def test_same_filter_same_listing_and_statistics(both, flt: SessionFilter) -> None:
    embedded, postgres, records, reviews = both
    expected = _expected_ids(flt, records, reviews)
    listed = embedded.list(flt)
    assert [s.id for s in listed] == expected
    assert postgres.list(flt) == listed
    oldest_first = embedded.list(flt, newest_first=False)
    assert [s.id for s in oldest_first] == _expected_ids(flt, records, reviews, newest_first=False)
    assert postgres.list(flt, newest_first=False) == oldest_first

    rows = embedded.step_rows(flt)
    assert postgres.step_rows(flt) == rows
    unlimited = [s.id for s in embedded.list(dataclasses.replace(flt, limit=None))]
    assert list(dict.fromkeys(r.session_id for r in rows)) == unlimited  # newest session first, steps in order
    stats = embedded.step_miss_rates(flt)
    assert postgres.step_miss_rates(flt) == stats
    counted: Counter = Counter()
    for stat in stats:
        counted.update({(stat.scenario_id, stat.step_id, "hit"): stat.hits, (stat.scenario_id, stat.step_id, "partial"): stat.partials,
                        (stat.scenario_id, stat.step_id, "missed"): stat.misses})
        assert stat.attempts == stat.hits + stat.partials + stat.misses
    assert +counted == _expected_stats(unlimited, records)


def test_summaries_reviews_and_history_agree(both) -> None:
    embedded, postgres, records, reviews = both
    for record in records:
        mine = embedded.summary(record.id)
        assert postgres.summary(record.id) == mine
        total, passed = _effective(record, reviews.get(record.id, []))
        assert (mine.effective_total, mine.effective_passed, mine.review_count) == (total, passed, len(reviews.get(record.id, [])))
        assert mine.result == _result(record, reviews.get(record.id, []))
    # 待复核: the machine sent it, no instructor decided (an agreeing review decides nothing); decided
    results = {n: embedded.summary(records[n].id) for n in SENT_TO_REVIEW}
    assert [(s.verdict, s.result, s.result_label) for s in results.values()] == [
        ("review", "review", "待复核"), ("review", "review", "待复核"), ("review", "fail", "未通过"),
    ]
    assert embedded.summary(records[0].id).verdict == "pass" and embedded.summary(records[1].id).verdict == "fail"  # from `passed`
    for trainee in TRAINEES:
        assert postgres.score_history(trainee) == embedded.score_history(trainee)
        assert [s.id for s in embedded.score_history(trainee, "payment")] == [
            r.id for r in sorted(records, key=lambda r: (r.started_at, r.id)) if r.trainee_id == trainee and r.scenario_id == "payment"
        ]
    seat = {(r.session_id, r.step_id): (r.review_verdict, r.review_comment) for r in postgres.step_rows()}
    assert seat[(records[1].id, "seat")] == ("disagree", "说了")
    assert seat[(records[7].id, "confirm")] == ("disagree", "说了")  # the later review's verdict
    assert embedded.step_rows() == postgres.step_rows()


def test_reindex_keeps_both_listings_equal(both) -> None:
    embedded, postgres, records, reviews = both
    before = embedded.list()
    assert embedded.reindex().indexed == len(SESSIONS)
    assert postgres.reindex().indexed == len(SESSIONS)
    assert embedded.list() == before == postgres.list()
    assert embedded.step_miss_rates() == postgres.step_miss_rates()
