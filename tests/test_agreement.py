"""Machine vs. instructor agreement (trainer/sessions/agreement.py) and `trainer eval --reviews`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.cli import main
from trainer.sessions import Review, SessionStore, StepVerdict
from trainer.sessions.agreement import Agreement, agreement_from_store, agreement_report, cohen_kappa, step_pair
from trainer.sessions.model import SessionSummary, StepRow
from test_sessions_support import audio_for, make_record, make_score


def _pairs(both_yes: int, a_only: int, b_only: int, both_no: int) -> list[tuple[bool, bool]]:
    return [(True, True)] * both_yes + [(True, False)] * a_only + [(False, True)] * b_only + [(False, False)] * both_no


# --------------------------------------------------------------------------- kappa


@pytest.mark.parametrize(
    ("table", "kappa"),
    [
        ((20, 5, 10, 15), 0.4),  # the textbook example: po 0.7, pe 0.5
        ((45, 15, 25, 15), 0.06 / 0.46),  # same observed agreement (0.6) ...
        ((25, 35, 5, 35), 0.14 / 0.54),  # ... different marginals, different kappa
        ((10, 0, 0, 10), 1.0),
        ((0, 5, 5, 0), -1.0),
    ],
)
def test_cohen_kappa_known_values(table: tuple[int, int, int, int], kappa: float) -> None:
    assert cohen_kappa(_pairs(*table)) == pytest.approx(kappa)


def test_cohen_kappa_other_labels_and_undefined_cases() -> None:
    # labels need not be booleans: 3 categories; po 0.8; marginals A (a 4, b 3, c 3), B (a 4, b 4, c 2):
    # pe = (4*4 + 3*4 + 3*2) / 100 = 0.34
    pairs = [("a", "a")] * 3 + [("b", "b")] * 3 + [("c", "c")] * 2 + [("a", "b"), ("c", "a")]
    assert cohen_kappa(pairs) == pytest.approx((0.8 - 0.34) / (1 - 0.34))
    assert cohen_kappa([]) is None
    # both raters said "yes" to everything: chance agreement is 1, kappa undefined (not NaN, no crash)
    assert cohen_kappa(_pairs(7, 0, 0, 0)) is None
    assert cohen_kappa(_pairs(0, 0, 0, 3)) is None
    agreement = Agreement.of(_pairs(7, 0, 0, 0))
    assert agreement.percent == 100.0 and agreement.kappa is None
    assert json.loads(json.dumps(agreement.to_dict()))["kappa"] is None


def test_step_pair_rule() -> None:
    assert step_pair("hit", "agree", "override") == (True, True)
    assert step_pair("partial", "agree", "agree") == (False, False)
    assert step_pair("missed", "disagree", "agree") == (False, True)
    assert step_pair("hit", "disagree", "agree") == (True, False)
    assert step_pair("partial", "", "agree") == (False, False)  # no verdict under "同意机评": agree
    assert step_pair("hit", "", "override") is None  # no verdict under "改判": left out


# --------------------------------------------------------------------------- per step, pure


def _summary(sid: str, passed: bool, overall: str = "agree", override_passed: bool | None = None, reviews: int = 1) -> SessionSummary:
    return SessionSummary(
        id=sid, kind="practice", trainee_id="E1", trainee_name="", scenario_id="payment", scenario_title="",
        phrasebook_version="", engine="", model="", started_at="2026-11-23T06:30:15Z", finished_at="2026-11-23T06:31:15Z",
        turns=3, total=80.0, passed=passed, review_count=reviews, review_overall=overall if reviews else "",
        override_total=50.0 if overall == "override" else None, override_passed=override_passed,
    )


def _row(sid: str, position: int, step: str, status: str, verdict: str = "") -> StepRow:
    return StepRow(sid, "practice", "E1", "", "payment", "2026-11-23T06:30:15Z", position, step, f"{step} 的标准用语",
                   status, None, "", None, verdict)


def test_agreement_report_per_step_and_overall() -> None:
    sessions = [
        _summary("s1", passed=True),
        _summary("s2", passed=False, overall="override", override_passed=True),
        _summary("s3", passed=True, reviews=0),  # not reviewed: ignored
    ]
    rows = [
        _row("s1", 1, "greet", "hit", "agree"),
        _row("s1", 2, "seat", "missed", "disagree"),
        _row("s1", 3, "farewell", "partial"),  # no verdict, overall agree -> counted, agrees
        _row("s2", 1, "greet", "hit"),  # no verdict, overall override -> skipped
        _row("s2", 2, "seat", "missed", "agree"),
        _row("s2", 3, "farewell", "hit", "disagree"),
        _row("s3", 1, "greet", "missed", "disagree"),  # not reviewed
    ]
    report = agreement_report(sessions, rows)
    assert report.sessions == 2 and report.skipped_steps == 1
    steps = {s.step_id: s.agreement for s in report.steps}
    assert [s.step_id for s in report.steps] == ["greet", "seat", "farewell"]  # step order
    assert (steps["greet"].n, steps["greet"].agree, steps["greet"].kappa) == (1, 1, None)
    seat = steps["seat"]
    assert (seat.n, seat.agree, seat.instructor_only, seat.both_no, seat.percent) == (2, 1, 1, 1, 50.0)
    assert seat.kappa == pytest.approx(0.0)  # machine always "no": pe = po = 0.5
    farewell = steps["farewell"]
    assert (farewell.n, farewell.agree, farewell.machine_only) == (2, 1, 1)
    assert report.overall.n == 5 and report.overall.agree == 3
    assert report.overall.kappa == pytest.approx(cohen_kappa([(True, True), (False, True), (False, False), (False, False), (True, False)]))
    # pass/fail: s1 agree (True, True); s2 overridden to passed (False -> True)
    assert (report.passed.n, report.passed.agree, report.passed.instructor_only) == (2, 1, 1)
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["steps"][1]["step_id"] == "seat" and data["steps"][1]["percent"] == 50.0


# --------------------------------------------------------------------------- from a store and the CLI


def _reviewed_store(root: Path) -> SessionStore:
    store = SessionStore(root)
    one = make_record(score=make_score({"seat": "missed", "farewell": "partial"}, passed=False))
    one = store.save(one, audio_for(one))
    store.add_review(one.id, Review(one.id, "王老师", steps={"seat": StepVerdict("disagree", "说了请坐"), "greet": StepVerdict("agree")}))
    two = make_record(trainee_id="E2048", started_at="2026-11-24T06:30:15Z", score=make_score({"confirm": "partial"}, passed=True))
    two = store.save(two, audio_for(two))
    store.add_review(two.id, Review(two.id, "李老师", overall="override", override_total=60.0, override_passed=False,
                                    comment="唱收唱付不清楚", steps={"receive": StepVerdict("disagree")}))
    three = make_record(trainee_id="E4096", started_at="2026-11-25T06:30:15Z")
    store.save(three, audio_for(three))  # not reviewed
    return store


def test_agreement_from_store(tmp_path: Path) -> None:
    report = agreement_from_store(_reviewed_store(tmp_path / "sessions"))
    assert report.sessions == 2
    # session one: 6 steps counted (overall agree); session two: 1 step with a verdict, 5 left out
    assert report.overall.n == 7 and report.skipped_steps == 5
    steps = {s.step_id: s.agreement for s in report.steps}
    assert steps["seat"].instructor_only == 1 and steps["receive"].machine_only == 1
    assert report.passed.n == 2 and report.passed.agree == 1 and report.passed.machine_only == 1


def test_eval_reviews_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINER_PHRASEBOOK_OVERLAY_DIR", raising=False)
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "elsewhere"))
    _reviewed_store(tmp_path / "sessions")
    assert main(["eval", "--reviews", "--sessions", str(tmp_path / "sessions"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sessions"] == 2 and data["overall"]["n"] == 7 and data["passed"]["agree"] == 1
    assert main(["eval", "--reviews", "--sessions", str(tmp_path / "sessions")]) == 0
    out = capsys.readouterr().out
    assert "机评与教师复核的一致性" in out and "kappa" in out and "规则" in out
    assert "请坐" in out or "offer_seat" in out or "seat" in out
    # no reviewed sessions: a plain sentence; a missing folder: a Chinese error, exit 2
    (tmp_path / "empty").mkdir()
    assert main(["eval", "--reviews", "--sessions", str(tmp_path / "empty")]) == 0
    assert "还没有复核过的会话" in capsys.readouterr().out
    assert main(["eval", "--reviews", "--sessions", str(tmp_path / "missing")]) == 2
    assert "会话目录" in capsys.readouterr().err
    # without DIR and without --reviews: a Chinese error, not a traceback
    assert main(["eval"]) == 2
    assert "--reviews" in capsys.readouterr().err
