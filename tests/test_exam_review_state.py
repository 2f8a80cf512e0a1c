"""The three-way exam outcome: 待复核 (review) when the machine cannot decide.

Questions are marked by a stand-in marker whose score dicts carry the scorer's "verdict"
("pass" | "fail" | "review") and per-step "certain"; scores without "verdict" are the ones
stored before it existed and must behave exactly as before.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from exam_support import KEY, FakeMarker, score_dict, settings_for, small_library, wav_bytes
from trainer.cli import main
from trainer.errors import ExamError
from trainer.exam import decide_review, override_exam, pending_reviews, question_verdict
from trainer.exam.paper import ExamRules, parse_paper
from trainer.exam.records import REVIEW_MESSAGE, load_result, roster
from trainer.exam.report import render_report
from trainer.exam.rules import judge, verdict_from_dict
from trainer.exam.runner import run_exam
from trainer.exam.seal import LEDGER_NAME, Ledger, compute_seal, exam_key
from trainer.exam.verify import verify_all
from trainer.sessions.model import canonical_json
from trainer.sessions.store import SessionStore

PAPER = "id: review_paper\ntitle: 复核测试试卷\nquestions: [payment, reception]\npass_mark: 80\nfeedback: end\n"
HIDDEN = "id: review_hidden\ntitle: 复核测试隐藏试卷\nquestions: [payment, reception]\npass_mark: 80\nfeedback: hidden\n"


def review_score(total: float, forbidden: tuple[str, ...] = (), dims: dict[str, float] | None = None, unsure_steps: int = 1) -> dict[str, Any]:
    """A score the scorer is not sure of: verdict "review", some steps "certain": false."""
    score = score_dict(total, forbidden, dims)
    score["verdict"] = "review"
    score["steps"] = [
        {**score["steps"][0], "id": f"s{i}", "certain": i >= unsure_steps} for i in range(max(unsure_steps, 1) + 1)
    ]
    return score


def sure(total: float, forbidden: tuple[str, ...] = (), dims: dict[str, float] | None = None, verdict: str | None = None) -> dict[str, Any]:
    score = score_dict(total, forbidden, dims)
    score["verdict"] = verdict or ("pass" if score["passed"] else "fail")
    for s in score["steps"]:
        s["certain"] = True
    return score


def rules(**kw: Any) -> ExamRules:
    return ExamRules(**{"pass_mark": 80.0, **kw})


def decide(scores: list[dict[str, Any]], **kw: Any):
    return judge(rules(**kw), [f"q{i}" for i in range(len(scores))], scores, 80.0)


# --------------------------------------------------------------------------- the rule


def test_question_verdict_falls_back_to_passed_for_old_scores() -> None:
    assert question_verdict({"passed": True}) == "pass"
    assert question_verdict({"passed": False}) == "fail"
    assert question_verdict({}) == "fail"
    assert question_verdict({"passed": True, "verdict": "review"}) == "review"
    assert question_verdict({"passed": False, "verdict": "pass"}) == "pass"
    assert question_verdict({"passed": True, "verdict": "maybe"}) == "review"  # not understood: never decided silently


def test_review_question_makes_the_exam_pending_and_passed_stays_the_best_guess() -> None:
    v = decide([sure(92), review_score(88, unsure_steps=2)])
    assert v.state == "review" and v.passed is True and v.reasons == ()
    assert v.review_reasons == ("第 2 题机器评分把握不足（2 个步骤无法确定是否做到）",)
    assert [q.verdict for q in v.questions] == ["pass", "review"]
    assert v.questions[1].uncertain_steps == ("s0", "s1")
    # a best guess of fail that is not certain is pending too, and says why it is uncertain
    v = decide([sure(85), review_score(70)])
    assert v.state == "review" and v.passed is False
    assert v.reasons == ("总分 77.5 分，低于及格线 80 分（含待复核的题目，此项不能确定）",)


def test_certain_evidence_fails_the_exam_whatever_the_review_gives() -> None:
    # 一票否决 in a question the scorer is sure of
    v = decide([sure(95, forbidden=("喂",)), review_score(90)])
    assert v.state == "fail" and not v.passed
    assert v.reasons == ("第 1 题使用了服务忌语 “喂”（一票否决）",)
    assert v.review_reasons == () and any("第 2 题机器评分把握不足" in n and "无需复核" in n for n in v.notes)
    # a sure question under its minimum
    v = decide([sure(90, dims={"coverage": 40.0}), review_score(90)], min_dimension={"coverage": 60.0})
    assert v.state == "fail" and v.reasons == ("第 1 题“用语覆盖”得分 40，低于最低要求 60 分",)
    # the mark out of reach even with full marks on the question under review: (40 + 100) / 2 = 70 < 80
    v = decide([sure(40, verdict="fail"), review_score(60)])
    assert v.state == "fail" and v.reasons == ("总分 50 分，低于及格线 80 分",)
    # within reach with full marks on it: (70 + 100) / 2 = 85 >= 80 -> only review can tell
    v = decide([sure(70, verdict="fail"), review_score(60)])
    assert v.state == "review" and not v.passed


def test_evidence_from_a_question_under_review_is_not_certain() -> None:
    v = decide([sure(95), review_score(90, forbidden=("随便",))])
    assert v.state == "review" and not v.passed
    assert v.reasons == ("第 2 题使用了服务忌语 “随便”（一票否决）（该题待复核，此项不能确定）",)
    v = decide([sure(95), review_score(90, dims={"coverage": 30.0})], min_dimension={"coverage": 60.0})
    assert v.state == "review" and "（该题待复核，此项不能确定）" in v.reasons[0]
    # with forbidden_fails off a forbidden phrase is no reason at all, as before
    assert decide([sure(95), review_score(90, forbidden=("随便",))], forbidden_fails=False).reasons == ()


def test_without_review_questions_pass_and_fail_are_as_before() -> None:
    # a question the scorer fails does not by itself fail the exam: the paper's rules decide (mean 82.5)
    v = decide([sure(95), sure(70, verdict="fail")])
    assert v.state == "pass" and v.passed and v.reasons == ()
    v = decide([sure(95), sure(60)])
    assert v.state == "fail" and v.reasons == ("总分 77.5 分，低于及格线 80 分",)


@pytest.mark.parametrize(
    ("totals", "forbidden", "passed"),
    [((92.0, 88.0), (), True), ((95.0, 70.0), (), True), ((92.0, 64.0), (), False), ((95.0, 95.0), ("喂",), False)],
)
def test_old_scores_without_verdict_behave_as_before(totals, forbidden, passed) -> None:
    old = [score_dict(totals[0], forbidden), score_dict(totals[1])]
    assert all("verdict" not in s for s in old)
    v = decide(old)
    assert v.passed is passed and v.state == ("pass" if passed else "fail") and v.review_reasons == ()
    assert not any("不能确定" in r for r in v.reasons)
    assert [q.verdict for q in v.questions] == [question_verdict(s) for s in old]


def test_verdicts_sealed_before_the_review_state_read_as_pass_or_fail() -> None:
    new = decide([sure(92), review_score(88)]).to_dict()
    assert new["state"] == "review" and new["questions"][1]["verdict"] == "review"
    assert verdict_from_dict(new).state == "review" and verdict_from_dict(new).review_reasons == tuple(new["review_reasons"])
    old = dict(new)
    for k in ("state", "review_reasons"):
        old.pop(k)
    old["questions"] = [{k: v for k, v in q.items() if k not in ("verdict", "uncertain_steps")} for q in new["questions"]]
    for passed in (True, False):
        v = verdict_from_dict({**old, "passed": passed})
        assert v.state == ("pass" if passed else "fail") and not v.under_review and v.questions[1].verdict == ""


# --------------------------------------------------------------------------- records, roster, CLI, report


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "sessions"
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(root))
    monkeypatch.setenv("TRAINER_EXAM_KEY", KEY)
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return settings_for(root), SessionStore(root)


def sealed(env, candidate: str, scores: dict[str, dict[str, Any]], paper: str = PAPER, seed: int = 0):
    settings, store = env
    answers = [[wav_bytes(seed + 1)], [wav_bytes(seed + 2), wav_bytes(seed + 3)]]
    return run_exam(parse_paper(paper), candidate, f"考生{candidate}", answers, settings, small_library(), FakeMarker(scores), store)


def pending_exam(env, candidate: str = "R100", paper: str = PAPER, seed: int = 0):
    return sealed(env, candidate, {"payment": sure(92), "reception": review_score(88)}, paper, seed)


def test_review_exam_is_pending_and_the_candidate_sees_no_result(env) -> None:
    result = pending_exam(env)
    assert result.state == "review" and result.machine_state == "review" and result.pending_review
    assert result.passed is True  # the best guess, kept for the reviewer
    view = result.candidate_view()
    assert view["state"] == "review" and view["passed"] is None and view["review_message"] == REVIEW_MESSAGE
    assert view["reasons"] == [] and view["total"] == 90.0  # the breakdown stays as the paper allows
    hidden = pending_exam(env, "R101", HIDDEN, seed=10).candidate_view()
    assert hidden["passed"] is None and hidden["state"] == "review" and hidden["feedback_hidden"]
    for key in ("total", "dimensions", "questions", "reasons", "pass_mark", "review_reasons"):
        assert key not in hidden
    assert "第 2 题" not in json.dumps(hidden, ensure_ascii=False)  # which question is unsure is not feedback either


def test_review_exam_shows_in_list_roster_export_and_report(env, tmp_path, capsys) -> None:
    settings, store = env
    done = sealed(env, "R200", {"payment": sure(92), "reception": sure(88)})
    pending = pending_exam(env, "R201", seed=20)
    rows = roster(store.root, key=exam_key(settings))
    by_id = {r.exam_id: r for r in rows}
    assert by_id[pending.exam_id].state == "review" and by_id[pending.exam_id].machine_state == "review"
    assert by_id[pending.exam_id].review_reasons.startswith("第 2 题机器评分把握不足")
    assert by_id[done.exam_id].state == "pass"
    assert [r.exam_id for r in roster(store.root, state="review")] == [pending.exam_id]
    assert [r.exam_id for r in roster(store.root, passed=True)] == [done.exam_id]  # a pending exam is neither
    assert roster(store.root, passed=False) == []
    assert [r.exam_id for r in pending_reviews(store.root)] == [pending.exam_id]

    assert main(["exam", "list"]) == 0
    out = capsys.readouterr().out
    assert "待复核" in out and "其中待复核 1 条" in out and "trainer exam decide" in out
    assert main(["exam", "list", "--pending", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["exam_id"], r["state"]) for r in listed] == [(pending.exam_id, "review")]
    assert main(["exam", "list", "--passed", "--json"]) == 0
    assert [r["exam_id"] for r in json.loads(capsys.readouterr().out)] == [done.exam_id]

    out_csv = tmp_path / "roster.csv"
    assert main(["exam", "list", "--export", str(out_csv)]) == 0
    with out_csv.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    row = next(dict(zip(table[0], r)) for r in table[1:] if r[0] == pending.exam_id)
    assert row["最终是否通过"] == "待复核" and row["机评是否通过"] == "待复核（倾向通过）"
    assert row["待复核原因"].startswith("第 2 题") and row["复核人"] == ""
    assert main(["exam", "list", "--export", str(tmp_path / "roster.xlsx")]) == 0

    assert main(["exam", "show", pending.exam_id]) == 0
    assert "待复核" in capsys.readouterr().out
    report = tmp_path / "r.html"
    assert main(["exam", "report", pending.exam_id, "--out", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "· 待复核" in html and "待复核原因" in html and "第 2 题机器评分把握不足" in html and "（机器无把握）" in html
    assert "verdict review" in html


def test_deciding_seals_the_review_and_verify_passes(env, capsys) -> None:
    settings, store = env
    pending = pending_exam(env)
    assert main(["exam", "decide", pending.exam_id, "--fail", "--reason", "复听录音：第 2 题未致歉", "--reviewer", "陈老师", "--total", "72"]) == 0
    assert "已封存复核结论" in capsys.readouterr().out
    entry = Ledger(store.root).entries()[-1]
    assert entry["kind"] == "override" and entry["exam_id"] == pending.exam_id
    assert entry["body"] == {"instructor": "陈老师", "passed": False, "total": 72.0, "comment": "复听录音：第 2 题未致歉", "decides": "review"}
    result = load_result(store, pending.exam_id)
    assert result.state == "fail" and not result.passed and result.total == 72.0 and not result.pending_review
    assert result.machine_state == "review" and result.decision is not None and result.changes == ()
    view = result.candidate_view()
    assert view["state"] == "fail" and view["passed"] is False and view["override"]["decides"] == "review"
    assert view["total"] == 72.0 and "pending_review" not in view and "review_message" not in view
    row = roster(store.root, key=exam_key(settings))[0]
    assert row.state == "fail" and row.reviewer == "陈老师" and row.review_comment.startswith("复听录音") and not row.overridden
    assert row.seal_ok is True
    assert main(["exam", "verify"]) == 0
    out = capsys.readouterr().out
    assert "全部通过" in out and "待复核" not in out
    assert verify_all(store, exam_key(settings)).pending_review == ()

    # decided once: a second decision is refused; a later change is an override
    assert main(["exam", "decide", pending.exam_id, "--pass", "--reason", "再议", "--reviewer", "王老师"]) == 2
    assert "已由 陈老师 复核" in capsys.readouterr().err
    override_exam(settings, pending.exam_id, "王老师", True, "申诉复核后改判通过", store=store)
    result = load_result(store, pending.exam_id)
    assert result.state == "pass" and result.total == 90.0 and len(result.changes) == 1
    assert roster(store.root)[0].overridden
    assert "复核为“未通过”" in render_report(result) and "改判为“通过”" in render_report(result)
    assert verify_all(store, exam_key(settings)).ok


def test_pending_review_is_listed_by_verify_and_only_pending_exams_are_decided(env, capsys) -> None:
    settings, store = env
    pending = pending_exam(env)
    plain = sealed(env, "R301", {"payment": sure(92), "reception": sure(50)}, seed=30)
    report = verify_all(store, exam_key(settings))
    assert report.ok and report.pending_review == (pending.exam_id,)
    assert main(["exam", "verify"]) == 0
    assert pending.exam_id in capsys.readouterr().out
    with pytest.raises(ExamError, match="不是待复核"):
        decide_review(settings, plain.exam_id, "陈老师", True, "理由", store=store)
    with pytest.raises(ExamError, match="待复核"):
        override_exam(settings, pending.exam_id, "陈老师", True, "直接改判", store=store)
    with pytest.raises(ExamError, match="理由"):
        decide_review(settings, pending.exam_id, "陈老师", True, "  ", store=store)
    with pytest.raises(ExamError, match="复核教师"):
        decide_review(settings, pending.exam_id, " ", True, "理由", store=store)
    with pytest.raises(ExamError, match="0 到 100"):
        decide_review(settings, pending.exam_id, "陈老师", True, "理由", total=120, store=store)
    with pytest.raises(ExamError, match="找不到"):
        decide_review(settings, "20200101T000000Z-nobody-abcdef", "陈老师", True, "理由", store=store)
    assert [e["kind"] for e in Ledger(store.root).entries()].count("override") == 0  # nothing written
    # a decision for an exam the machine did not send to review (only the key holder could write it) is named
    Ledger(store.root).append("override", plain.exam_id, {"instructor": "x", "passed": True, "total": None, "comment": "x", "decides": "review"}, exam_key(settings))
    problems = verify_all(store, exam_key(settings)).problems
    assert [p.kind for p in problems] == ["dangling"] and problems[0].exam_id == plain.exam_id and "复核结论" in problems[0].message


def _lines(store: SessionStore) -> list[bytes]:
    return (store.root / LEDGER_NAME).read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize("change", ["passed", "comment", "reviewer", "decides"])
def test_tampering_with_the_decision_is_detected(env, change) -> None:
    settings, store = env
    pending = pending_exam(env)
    decision = decide_review(settings, pending.exam_id, "陈老师", False, "第 2 题未致歉", store=store)
    lines = _lines(store)
    entry = json.loads(lines[decision.seq - 1])
    if change == "passed":
        entry["body"]["passed"] = True
    elif change == "comment":
        entry["body"]["comment"] = "表现良好"
    elif change == "reviewer":
        entry["body"]["instructor"] = "王老师"
    else:
        del entry["body"]["decides"]  # pretend it was a plain override
    lines[decision.seq - 1] = canonical_json(entry) + b"\n"
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines))
    report = verify_all(store, exam_key(settings))
    assert [p.kind for p in report.problems] == ["forged"]
    assert report.problems[0].exam_id == pending.exam_id and report.problems[0].line == decision.seq
    assert roster(store.root, key=exam_key(settings))[0].seal_ok is False


def test_deleting_or_forging_a_decision_is_detected(env) -> None:
    settings, store = env
    pending = pending_exam(env)
    decision = decide_review(settings, pending.exam_id, "陈老师", False, "第 2 题未致歉", store=store)
    sealed(env, "R401", {"payment": sure(92), "reception": sure(88)}, seed=40)  # later entries after the decision
    original = _lines(store)
    lines = list(original)
    del lines[decision.seq - 1]
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines))
    report = verify_all(store, exam_key(settings))
    assert "deleted" in {p.kind for p in report.problems}
    assert pending.exam_id in report.pending_review  # without its decision the exam is pending again, and that shows

    # a decision made up without the key, appended at the end: its seal cannot match
    (store.root / LEDGER_NAME).write_bytes(b"".join(original))
    forged = json.loads(original[-1])
    forged.update(seq=forged["seq"] + 1, kind="override", exam_id=pending.exam_id, prev=forged["seal"],
                  body={"instructor": "x", "passed": True, "total": None, "comment": "x", "decides": "review"})
    forged["seal"] = compute_seal(forged, b"attacker-key-attacker-key")
    with open(store.root / LEDGER_NAME, "ab") as fh:
        fh.write(canonical_json(forged) + b"\n")
    problems = verify_all(store, exam_key(settings)).problems
    assert [p.kind for p in problems] == ["forged"] and problems[0].exam_id == pending.exam_id
    assert problems[0].seq == forged["seq"]
    assert next(r for r in roster(store.root, key=exam_key(settings)) if r.exam_id == pending.exam_id).seal_ok is False


def test_ledger_written_before_the_review_state_reads_and_verifies(env) -> None:
    """Re-seal a result entry the way the previous version wrote it (no state, no question verdicts)."""
    settings, store = env
    result = sealed(env, "R500", {"payment": score_dict(92), "reception": score_dict(64)})
    key = exam_key(settings)
    lines = _lines(store)
    entries = [json.loads(line) for line in lines]
    prev = entries[0]["seal"]
    for entry in entries[1:]:
        entry["prev"] = prev
        verdict = entry["body"]["verdict"]
        verdict.pop("state"), verdict.pop("review_reasons")
        for q in verdict["questions"]:
            q.pop("verdict"), q.pop("uncertain_steps")
        entry["seal"] = compute_seal(entry, key)
        prev = entry["seal"]
    (store.root / LEDGER_NAME).write_bytes(b"".join(canonical_json(e) + b"\n" for e in entries))
    (store.root / "index.sqlite3").unlink()  # the previous version anchored no ledger head in the index
    assert verify_all(store, key).ok
    old = load_result(store, result.exam_id)
    assert old.state == "fail" and not old.pending_review and old.verdict.reasons == ("总分 78 分，低于及格线 80 分",)
    assert roster(store.root)[0].state == "fail"
    override_exam(settings, result.exam_id, "陈老师", True, "人工复核通过", store=store)
    assert load_result(store, result.exam_id).state == "pass" and verify_all(store, key).ok
