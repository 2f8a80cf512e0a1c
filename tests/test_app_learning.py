"""Learning from instructors in the web app (AppTest): proposals from a review on the 教师 page,
approving them on the 话术库 page (marked 本中心新增), and the machine/instructor agreement tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from trainer.asr.base import Transcript
from trainer.config import load_settings
from trainer.phrasebook.overlay import Overlay
from trainer.sessions import Review, SessionRecord, SessionStore, StepVerdict, turn_records, utc_now
from app_support import log_in, make_account, no_exception, page_text, visible

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
INSTRUCTOR = APP_DIR / "pages" / "3_教师.py"
PHRASEBOOK = APP_DIR / "pages" / "4_话术库.py"
TEXTS = ("您好！", "请问您是来交电费的吗？", "您这边歇会儿")  # turn 3 answers 三请坐 without 坐: missed


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "trainer.toml"
    config.write_text("pass_mark = 80\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    make_account(tmp_path / "sessions", "E1024", "trainee", "城东营业厅", name="张三")
    make_account(tmp_path / "sessions", "T2", "instructor", "城东营业厅", name="李老师")
    for var in ("TRAINER_PHRASEBOOK_DIRS", "TRAINER_PHRASEBOOK_OVERLAY_DIR", "TRAINER_VOSK_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _app(page: Path, user: str = "T2") -> AppTest:
    import os

    at = AppTest.from_file(str(HOME), default_timeout=120)
    at.switch_page(str(page.relative_to(APP_DIR)))
    log_in(at, Path(os.environ["TRAINER_SESSIONS_DIR"]), user)
    return at


def _reviewed_session(root: Path) -> SessionRecord:
    """A practice session scored from typed text; the instructor says 三请坐 (missed) was done."""
    from trainer.pipeline import score_text

    score = score_text(list(TEXTS), "payment", load_settings()).to_dict()
    assert {s["id"]: s["status"] for s in score["steps"]}["offer_seat"] == "missed"
    record = SessionRecord(
        kind="practice", trainee_id="E1024", trainee_name="张三", scenario_id="payment", scenario_title="柜台收费",
        started_at=utc_now(), finished_at=utc_now(),
        turns=turn_records(["（客户走到收费柜台前）", "你好。", "对，我来交电费。"], [Transcript(text=t).to_dict() for t in TEXTS]),
        score=score, phrasebook_version="test", engine="text", model="",
    )
    store = SessionStore(root / "sessions")
    record = store.save(record, [None, None, None])
    store.add_review(record.id, Review(record.id, "王老师", steps={
        "greet": StepVerdict("agree"),
        "offer_seat": StepVerdict("disagree", "请客户歇会儿也是示座"),
    }))
    return record


def test_review_proposes_and_phrasebook_page_approves(app_env: Path) -> None:
    record = _reviewed_session(app_env)
    overlay_dir = app_env / "phrasebook_overlay"

    # the instructor page, with the reviewed session open, submits the words of turn 3
    at = _app(INSTRUCTOR)
    at.run()
    at.selectbox(key="t-open").set_value(record.id).run()
    no_exception(at)
    text = page_text(at)
    assert "提交到话术库的新说法" in text and "“您这边歇会儿”已作为新说法提交（待审核" in text
    [proposal] = Overlay(overlay_dir).read().proposals
    assert (proposal.step_id, proposal.turn, proposal.status, proposal.reviewer) == ("offer_seat", 3, "pending", "王老师")

    # the 话术库 page lists it for review, warns about the missing key word, and approves an edited text
    pb = _app(PHRASEBOOK)
    pb.run()
    no_exception(pb)
    text = page_text(pb)
    assert "三请坐" in text and "缺少本步骤的关键词 坐" in text and "请客户歇会儿也是示座" in text
    assert pb.text_input(key=f"ov-text-{proposal.id}").value == "您这边歇会儿"
    assert "审核人：李老师（T2）" in text
    pb.text_input(key=f"ov-text-{proposal.id}").input("您这边坐着歇会儿")
    pb.button(key=f"ov-approve-{proposal.id}").click().run()
    no_exception(pb)
    assert "已采用“您这边坐着歇会儿”" in page_text(pb)
    approved = Overlay(overlay_dir).get(proposal.id)
    assert (approved.status, approved.approved_text, approved.decided_by) == ("approved", "您这边坐着歇会儿", "李老师（T2）")
    # applies at once: the scenario table marks it 本中心新增
    cells = [visible(cell) for table in pb.table for column in ("其他说法",) if column in table.value.columns for cell in table.value[column]]
    assert any("您这边坐着歇会儿（本中心新增）" in cell for cell in cells)
    assert "已采用的本中心新增说法" in page_text(pb)
    assert "没有待审核的新说法" in page_text(pb)

    # withdrawing it removes the mark
    pb.button(key=f"ov-withdraw-{proposal.id}").click().run()
    no_exception(pb)
    assert Overlay(overlay_dir).get(proposal.id).status == "rejected"
    cells = [visible(cell) for table in pb.table if "其他说法" in table.value.columns for cell in table.value["其他说法"]]
    assert not any("本中心新增" in cell for cell in cells)


def test_phrasebook_page_leaves_decisions_to_instructors_and_reports_a_broken_overlay_file(app_env: Path) -> None:
    overlay_dir = app_env / "phrasebook_overlay"
    overlay_dir.mkdir()
    (overlay_dir / "broken.json").write_text("{", encoding="utf-8")
    at = _app(PHRASEBOOK, user="E1024")  # a trainee reads the library; instructors decide on proposals
    at.run()
    no_exception(at)
    assert at.error and "broken.json" in visible(at.error[0].value) and "本中心新增说法文件有误" in at.error[0].value
    assert any("柜台收费" in e.label for e in at.expander)  # the library still loads
    assert "新说法由教师或管理员审核" in page_text(at) and not any(b.key and b.key.startswith("ov-") for b in at.button)


def test_agreement_tab(app_env: Path) -> None:
    _reviewed_session(app_env)
    at = _app(INSTRUCTOR)
    at.run()
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["已复核的会话"] == "1"
    # 10 steps, overall "agree": 9 agree with the machine, offer_seat flipped -> 90%
    assert metrics["步骤一致率"] == "90.0%"
    assert metrics["及格一致率"] == "100.0%"
    assert "统计规则" in page_text(at)
    rows = next(t.value for t in at.table if "一致率" in t.value.columns).map(lambda v: visible(v) if isinstance(v, str) else v)
    seat = rows[rows["步骤"].str.contains("请坐")].iloc[0]
    assert seat["机评未完成、教师认可"] == 1 and seat["一致率"] == "0.0%" and seat["kappa"] == "0.00"
    greet = rows[rows["步骤"].str.contains("问候")].iloc[0]
    assert greet["一致率"] == "100.0%" and greet["kappa"] == "无法计算"  # one label only: undefined
