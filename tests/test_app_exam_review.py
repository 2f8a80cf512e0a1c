"""待复核 in the exam pages: what the candidate sees (no pass/fail until decided), the instructors'
queue on 考试管理, the decision form (sealed, verified) and the pure helpers behind them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import trainer.exam
from trainer.app import exam_flow
from trainer.app import exam_views as ev
from trainer.config import load_settings
from trainer.exam import decide_review, exam_key, load_papers, load_result, roster, run_exam, verify_all
from trainer.exam.seal import Ledger
from trainer.phrasebook.loader import library_from_settings
from trainer.sessions import SessionStore

from app_support import log_in, make_account, no_exception, page_text, silence_wav
from exam_support import FakeMarker, score_dict

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
EXAM = APP_DIR / "pages" / "5_考试.py"
ADMIN = APP_DIR / "pages" / "6_考试管理.py"
KEY = "app-review-key-0123456789abcdef"
PAPER = "id: reception_review\ntitle: 引导迎送复核考核\nquestions: [reception]\npass_mark: 70\nfeedback: end\n"
HIDDEN_PAPER = "id: reception_review_hidden\ntitle: 引导迎送复核考核（不显示明细）\nquestions: [reception]\npass_mark: 70\nfeedback: hidden\n"


def review_score(total: float, forbidden: tuple[str, ...] = ()) -> dict[str, Any]:
    score = score_dict(total, forbidden)
    score["verdict"] = "review"
    score["steps"] = [{**score["steps"][0], "certain": False}]
    return score


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "trainer.toml"
    config.write_text("pass_mark = 80\n", encoding="utf-8")
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "reception_review.yaml").write_text(PAPER, encoding="utf-8")
    (papers / "reception_review_hidden.yaml").write_text(HIDDEN_PAPER, encoding="utf-8")
    monkeypatch.setenv("TRAINER_EXAM_PAPER_DIRS", str(papers))
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("TRAINER_EXAM_KEY", KEY)
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    return tmp_path


def sealed(env: Path, paper_id: str, candidate_id: str, score: dict[str, Any]):
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([env / "papers"], library.scenarios).get(paper_id)
    answers = [[silence_wav(0.5) for _ in library.scenarios["reception"].steps]]
    store = SessionStore(settings.sessions_dir)
    result = run_exam(paper, candidate_id, f"考生{candidate_id}", answers, settings, library, marker=FakeMarker({"reception": score}), store=store)
    return load_result(store, result.exam_id)


def _app(page: Path) -> AppTest:
    at = AppTest.from_file(str(HOME), default_timeout=120)
    at.switch_page(str(page.relative_to(APP_DIR)))
    return at


def _candidate_page(env: Path, result) -> AppTest:
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([env / "papers"], library.scenarios).get(result.paper.id)
    plan = dataclasses.replace(
        trainer.exam.plan_exam(paper, "E0000", "", settings, library), candidate_id=result.candidate_id, candidate_name=result.candidate_name
    )
    at = _app(EXAM)
    make_account(settings.sessions_dir, result.candidate_id, name=result.candidate_name)
    log_in(at, settings.sessions_dir, result.candidate_id)
    at.session_state[exam_flow.EXAM_RUN] = exam_flow.ExamRun(plan, result=result)
    at.run()
    no_exception(at)
    return at


# --------------------------------------------------------------------------- pure helpers


def test_candidate_result_while_pending_and_after_the_decision(env: Path) -> None:
    result = sealed(env, "reception_review", "R1", review_score(55.5, forbidden=("喂",)))
    assert result.pending_review and not result.passed  # the machine's guess is fail; nobody sees it as a result
    shown = ev.candidate_result(result.candidate_view())
    assert shown.pending_review and shown.verdict == "待复核（等待教师复核）" and not shown.passed
    assert shown.reasons == () and "教师复核" in shown.review_message and shown.total == 55.5
    decide_review(load_settings(), result.exam_id, "陈老师", True, "复听录音：说的是“位，您好”，不是忌语", total=78)
    decided = load_result(SessionStore(load_settings().sessions_dir), result.exam_id)
    shown = ev.candidate_result(decided.candidate_view())
    assert shown.state == "pass" and shown.passed and shown.verdict == "通过" and shown.review_message == ""
    assert shown.override.startswith("考评员复核结论为“通过”，78 分。理由：复听录音")
    assert ev.override_lines(decided)[0].endswith(f"陈老师 复核为“通过”，78 分。理由：复听录音：说的是“位，您好”，不是忌语（账本第 {decided.overrides[0].seq} 号记录）")
    assert ev.override_kind(decided.overrides[0]) == "复核结论"


def test_roster_rows_summary_banner_and_breakdown_show_the_review(env: Path) -> None:
    done = sealed(env, "reception_review", "R2", score_dict(90))
    pending = sealed(env, "reception_review", "R3", review_score(88))
    rows = roster(load_settings().sessions_dir, key=KEY.encode())
    table = {r["考生编号"]: r for r in ev.roster_rows(rows)}
    assert table["R3"]["结果"] == "待复核" and table["R3"]["复核"].startswith("待复核：第 1 题机器评分把握不足")
    assert table["R2"]["结果"] == "通过" and table["R2"]["复核"] == ""
    assert ev.roster_summary(rows) == "共 2 场考试，通过 1 场，未通过 0 场，待复核 1 场（通过率 100%，不含待复核）。"
    assert ev.pending_summary(rows).startswith("有 1 场考试待复核")
    assert ev.pending_summary([r for r in rows if not r.pending_review]) == ""
    assert ev.roster_label(rows[0]).endswith("88 分 待复核")
    assert ev.result_banner(pending)[0] == "warning" and "待复核" in ev.result_banner(pending)[1]
    assert ev.result_banner(done) == ("success", "结果：通过，总分 90 分")
    assert dict(ev.result_header(pending))["机评"].startswith("待复核（倾向通过")
    assert [r["机评把握"] for r in ev.breakdown_rows(pending)] == ["待复核", ""]
    assert "机评把握" not in ev.breakdown_rows(done)[0]
    assert ev.STATE_FILTERS["待复核"] == "review"


# --------------------------------------------------------------------------- candidate page


@pytest.mark.parametrize("paper_id", ["reception_review", "reception_review_hidden"])
def test_candidate_sees_pending_instead_of_pass_or_fail(env: Path, paper_id: str) -> None:
    result = sealed(env, paper_id, "R4", review_score(55.5, forbidden=("喂",)))
    at = _candidate_page(env, result)
    text = page_text(at)
    assert "考试结果：待复核（等待教师复核）" in text and "教师复核" in text
    assert "考试结果：通过" not in text and "考试结果：未通过" not in text and "未通过原因" not in text
    if paper_id.endswith("hidden"):
        assert "不向考生显示评分明细" in text and not at.metric and not at.dataframe
        for hidden in ("55.5", "喂", "一票否决", "各题得分"):
            assert hidden not in text, hidden
    else:
        assert [m.value for m in at.metric][2] == "待复核"


# --------------------------------------------------------------------------- instructor page


def test_admin_queue_decision_is_sealed_and_verified(env: Path) -> None:
    sealed(env, "reception_review", "R5", score_dict(90))
    pending = sealed(env, "reception_review", "R6", review_score(66))
    make_account(load_settings().sessions_dir, "T1", "instructor", "考场", name="陈老师")
    for candidate in ("R5", "R6"):
        make_account(load_settings().sessions_dir, candidate, "trainee", "考场", name=f"考生{candidate}")
    at = _app(ADMIN)
    log_in(at, load_settings().sessions_dir, "T1")
    at.run()
    no_exception(at)
    assert any("有 1 场考试待复核" in w.value for w in at.warning)
    assert list(at.dataframe[0].value["结果"]) == ["待复核", "通过"]
    at.radio(key="x-passed").set_value("待复核").run()
    assert list(at.dataframe[0].value["考生编号"]) == ["R6"]

    at.selectbox(key="x-open").set_value(pending.exam_id).run()
    no_exception(at)
    text = page_text(at)
    assert "待复核原因" in text and "第 1 题机器评分把握不足" in text and "仅供复核参考" in text
    assert at.radio(key="x-rv-passed") is not None and "复核教师：陈老师（T1）" in text
    assert not any(r.key == "x-ov-passed" for r in at.radio)  # no override before the decision

    # a decision needs a choice and a reason (the reviewer is the logged-in instructor)
    at.text_area(key="x-rv-reason").input("复听录音：引导到位，识别漏字")
    next(b for b in at.button if b.label == "封存复核结论").click().run()
    no_exception(at)
    assert any("请选择复核结论" in e.value for e in at.error)
    assert [e["kind"] for e in Ledger(load_settings().sessions_dir).entries()].count("override") == 0

    at.radio(key="x-rv-passed").set_value(True)
    next(b for b in at.button if b.label == "封存复核结论").click().run()
    no_exception(at)
    settings = load_settings()
    entry = Ledger(settings.sessions_dir).entries()[-1]
    assert entry["kind"] == "override" and entry["body"]["decides"] == "review" and entry["body"]["passed"] is True
    row = next(r for r in roster(settings.sessions_dir) if r.exam_id == pending.exam_id)
    assert row.state == "pass" and row.reviewer == "陈老师（T1）" and not row.overridden
    assert verify_all(SessionStore(settings.sessions_dir), exam_key(settings)).ok

    at.radio(key="x-passed").set_value("全部").run()
    at.selectbox(key="x-open").set_value(pending.exam_id).run()
    no_exception(at)
    assert any("复核结论 · " in w.value and "陈老师（T1） 复核为“通过”" in w.value for w in at.warning)
    assert any(r.key == "x-ov-passed" for r in at.radio)  # decided: a later change is an override
    assert not any(r.key == "x-rv-passed" for r in at.radio)
    at.button(key="x-verify").click().run()
    no_exception(at)
    assert any("全部通过" in s.value for s in at.success)
