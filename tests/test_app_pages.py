"""The Streamlit pages driven by streamlit.testing.v1.AppTest: the main flows of each page.

The practice flow recognises real recordings from ../shared/audio/scenarios with whisper-base
(the model is loaded once per process and cached across the tests).
"""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from trainer.asr.base import Transcript
from trainer.auth import set_password_in_config
from trainer.config import load_settings
from trainer.sessions import SessionRecord, SessionStore, turn_records, utc_now
from app_support import no_exception, page_text, silence_wav, visible

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
PRACTICE = APP_DIR / "pages" / "1_练习.py"
HISTORY = APP_DIR / "pages" / "2_我的记录.py"
INSTRUCTOR = APP_DIR / "pages" / "3_教师.py"
PHRASEBOOK = APP_DIR / "pages" / "4_话术库.py"
PASSWORD = "教师密码-2026"


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sessions in tmp_path and an empty config file of our own (the repo's trainer.toml is not read)."""
    config = tmp_path / "trainer.toml"
    config.write_text("pass_mark = 80\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    monkeypatch.delenv("TRAINER_VOSK_MODEL", raising=False)
    return tmp_path


@pytest.fixture
def whisper_env(app_env: Path, whisper_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAINER_ENGINE", "whisper")
    monkeypatch.setenv("TRAINER_WHISPER_MODEL", str(whisper_model_dir))
    return app_env


def _app(page: Path, trainee: tuple[str, str] | None = ("E1024", "张三"), timeout: float = 180) -> AppTest:
    """The app as served (首页.py is the entry point, so page links resolve), switched to `page`."""
    at = AppTest.from_file(str(HOME), default_timeout=timeout)
    if page != HOME:
        at.switch_page(str(page.relative_to(APP_DIR)))
    if trainee is not None:
        at.session_state["trainee_id"], at.session_state["trainee_name"] = trainee
    return at


def _saved_session(root: Path, trainee: tuple[str, str] = ("E1024", "张三"), texts: tuple[str, ...] = ("您好！", "请问您是来交电费的吗？"), started: str | None = None) -> SessionRecord:
    """A practice session scored by the real scorer from typed text, with (sine) audio per turn."""
    from trainer.pipeline import score_text

    settings = load_settings()
    score = score_text(list(texts), "payment", settings).to_dict()
    record = SessionRecord(
        kind="practice",
        trainee_id=trainee[0],
        trainee_name=trainee[1],
        scenario_id="payment",
        scenario_title="柜台收费（收费六步 · 唱收唱付）",
        started_at=started or utc_now(),
        finished_at=utc_now(),
        turns=turn_records(["（客户走到收费柜台前）", "你好。"][: len(texts)], [Transcript(text=t).to_dict() for t in texts]),
        score=score,
        phrasebook_version="test",
        engine="text",
        model="",
    )
    audio = [_tone(440.0 + 40 * i) for i in range(len(texts))]
    return SessionStore(root / "sessions").save(record, audio)


def _tone(freq: float) -> bytes:
    t = np.arange(8000) / 16000
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((6000 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes())
    return buf.getvalue()


# --------------------------------------------------------------------------- home


def test_home_identify_and_missing_model_banner(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_ENGINE", "vosk")
    monkeypatch.setenv("TRAINER_MODELS_DIR", str(app_env / "no-models"))
    at = _app(HOME, trainee=None)
    at.run()
    no_exception(at)
    banner = "\n".join(w.value for w in at.warning)
    assert "语音识别模型未安装" in banner and "trainer models fetch vosk-small-cn" in banner
    assert "TRAINER_ENGINE=whisper" in banner and "TRAINER_WHISPER_MODEL" in banner
    at.text_input(key="home-identify-name").input("张三")
    at.text_input(key="home-identify-id").input("E1024")
    next(b for b in at.button if b.label == "确定").click().run()
    no_exception(at)
    assert at.session_state["trainee_id"] == "E1024" and at.session_state["trainee_name"] == "张三"
    assert "当前学员：张三（E1024）" in page_text(at)

    # the practice page cannot start without a model
    practice = _app(PRACTICE)
    practice.run()
    no_exception(practice)
    assert practice.button(key="start").disabled


def test_identity_survives_a_reload_through_the_page_address(app_env: Path) -> None:
    at = _app(HOME, trainee=None)
    at.run()
    at.text_input(key="home-identify-name").input("张三")
    at.text_input(key="home-identify-id").input("E1024")
    next(b for b in at.button if b.label == "确定").click().run()
    assert at.query_params["trainee"] == "E1024" and at.query_params["name"] == "张三"

    # F5 starts a new session with the same address: the trainee is still registered.
    reloaded = _app(PRACTICE, trainee=None)
    reloaded.query_params.update({"trainee": "E1024", "name": "张三"})
    reloaded.run()
    no_exception(reloaded)
    assert reloaded.session_state["trainee_id"] == "E1024" and "当前学员：张三（E1024）" in page_text(reloaded)

    # 更换学员 clears it from the address too; an invalid address value asks for the form.
    next(b for b in reloaded.button if b.label == "更换学员").click().run()
    assert "trainee" not in reloaded.query_params and "trainee_id" not in reloaded.session_state
    bad = _app(HOME, trainee=None)
    bad.query_params.update({"trainee": "x" * 40})
    bad.run()
    assert "trainee_id" not in bad.session_state and "请先登记" in page_text(bad)


def test_home_requires_a_trainee_id(app_env: Path) -> None:
    at = _app(HOME, trainee=None)
    at.run()
    at.text_input(key="home-identify-name").input("张三")
    next(b for b in at.button if b.label == "确定").click().run()
    assert "请填写工号" in page_text(at)
    assert "trainee_id" not in at.session_state


# --------------------------------------------------------------------------- practice


def test_choose_scenario_with_filters(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(PRACTICE)
    at.run()
    no_exception(at)
    every = at.selectbox(key="f-scenario").options
    at.selectbox(key="f-role").set_value("hotline").run()
    hotline = at.selectbox(key="f-scenario").options
    assert 0 < len(hotline) < len(every) and all("热线" in label for label in hotline)
    at.selectbox(key="f-role").set_value("counter").run()
    at.selectbox(key="f-domain").set_value("water").run()
    at.selectbox(key="f-scenario").set_value("water_payment").run()
    assert "供水窗口收取水费" in page_text(at)  # the brief of the chosen scenario is shown
    at.selectbox(key="f-level").set_value(3).run()
    hard = at.selectbox(key="f-scenario").options
    assert hard and all("供水" in o and "★★★" in o for o in hard)
    assert "客户要求与水价政策相悖" in hard[0]


@pytest.mark.slow
def test_practice_turns_retry_errors_and_finish(whisper_env: Path, scenarios_audio_dir: Path) -> None:
    folder = scenarios_audio_dir / "dev_payment_full"
    at = _app(PRACTICE)
    at.run()
    at.selectbox(key="f-scenario").set_value("payment").run()
    at.button(key="start").click().run()
    no_exception(at)
    run = at.session_state["practice_run"]
    assert run.scenario_id == "payment" and run.current == 1
    assert "（客户走到收费柜台前）" in page_text(at)

    # turn 1 through the browser microphone widget
    turn1 = (folder / "turn01.wav").read_bytes()
    at.audio_input[0].set_value(("turn01.wav", turn1, "audio/wav")).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    run = at.session_state["practice_run"]
    assert len(run.turns) == 1 and run.turns[0].audio == turn1 and run.turns[0].source == "microphone"
    page = page_text(at)
    assert 'class="hl-hit"' in page and "一笑" in page  # this turn's step, highlighted
    greet = next(s for s in run.score["steps"] if s["id"] == "greet")
    assert greet["status"] == "hit" and greet["turn"] == 1
    assert "识别和评分用时" in page

    # turn 2 as an uploaded file
    turn2 = (folder / "turn02.wav").read_bytes()
    at.file_uploader[0].set_value(("turn02.wav", turn2, "audio/wav")).run()
    no_exception(at)
    run = at.session_state["practice_run"]
    assert len(run.turns) == 2 and run.turns[1].source == "upload" and run.current == 3
    assert "二问" in page_text(at)

    # silence and an unknown format: friendly Chinese errors, nothing recorded
    at.audio_input[0].set_value(("silence.wav", silence_wav(), "audio/wav")).run()
    no_exception(at)
    assert at.error and "没有" in at.error[0].value
    at.file_uploader[0].set_value(("notes.wav", b"this is not audio at all" * 20, "audio/wav")).run()
    no_exception(at)
    assert at.error and "Traceback" not in at.error[0].value
    assert len(at.session_state["practice_run"].turns) == 2

    # retry turn 1 with another recording: replaced in place, turn 2 kept
    at.button(key=f"retry-{run.run_id}-1").click().run()
    assert at.session_state["practice_run"].current == 1
    retry = (scenarios_audio_dir / "dev_payment_fast" / "turn01.wav").read_bytes()
    at.audio_input[0].set_value(("retry.wav", retry, "audio/wav")).run()
    no_exception(at)
    run = at.session_state["practice_run"]
    assert [t.audio for t in run.turns] == [retry, turn2] and run.retries == 1 and run.current == 3

    # finish early: the whole performance is scored and saved with each turn's audio as recorded
    at.button(key="finish").click().run()
    no_exception(at)
    run = at.session_state["practice_run"]
    assert run.finished and run.saved_id
    store = SessionStore(whisper_env / "sessions")
    [summary] = store.list()
    assert summary.id == run.saved_id and summary.trainee_id == "E1024" and summary.turns == 2
    record = store.load(run.saved_id)
    assert record.kind == "practice" and record.engine == "whisper" and record.score == run.score
    assert store.audio_path(record.id, 1).read_bytes() == retry
    assert store.audio_path(record.id, 2).read_bytes() == turn2
    assert record.extra["inputs"] == ["microphone", "upload"] and record.extra["retries"] == 1
    assert len(record.steps) == 10 and sum(s["status"] == "missed" for s in record.steps) >= 7
    page = page_text(at)
    assert "练习已保存" in page and "没做到或不完整的步骤" in page and "收您××元。" in page
    assert [m.label for m in at.metric] == ["总分", "结果"]
    assert at.metric[0].value == f"{record.total:.1f}"


# --------------------------------------------------------------------------- history


def test_history_lists_own_sessions_with_chart(app_env: Path) -> None:
    _saved_session(app_env, started="2026-11-01T08:00:00Z")
    latest = _saved_session(app_env, texts=("您好！", "请问您办理什么业务？"), started="2026-11-02T08:00:00Z")
    _saved_session(app_env, trainee=("E2048", "李四"))
    at = _app(HISTORY)
    at.run()
    no_exception(at)
    assert len(at.get("vega_lite_chart")) == 1
    table = at.dataframe[0].value
    assert list(table["工号"]) == ["E1024", "E1024"]  # only this trainee's sessions
    assert at.selectbox(key="history-open").value == latest.id  # newest first
    page = page_text(at)
    assert "逐轮录音与识别文本" in page and 'class="hl-hit"' in page
    assert len(at.get("audio")) == 2


def test_history_empty(app_env: Path) -> None:
    at = _app(HISTORY, trainee=("E9", ""))
    at.run()
    no_exception(at)
    assert "还没有练习记录" in page_text(at)


# --------------------------------------------------------------------------- instructor


def test_instructor_page_explains_how_to_set_the_password(app_env: Path) -> None:
    at = _app(INSTRUCTOR, trainee=None)
    at.run()
    no_exception(at)
    assert "尚未设置教师密码" in page_text(at)
    assert any("trainer admin set-password" in c.value for c in at.code)
    assert not at.get("tabs") and not at.dataframe


def test_instructor_password_gate_and_review_saved(app_env: Path) -> None:
    set_password_in_config(app_env / "trainer.toml", PASSWORD)
    record = _saved_session(app_env)
    store = SessionStore(app_env / "sessions")
    session_json = store.session_dir(record.id) / "session.json"
    before = session_json.read_bytes()

    at = _app(INSTRUCTOR, trainee=None)
    at.run()
    at.text_input(key="instructor-password").input("wrong-password")
    next(b for b in at.button if b.label == "登录").click().run()
    no_exception(at)
    assert "密码不正确" in page_text(at) and not at.dataframe

    at.text_input(key="instructor-password").input(PASSWORD)
    next(b for b in at.button if b.label == "登录").click().run()
    no_exception(at)
    assert at.session_state["instructor_ok"] is True
    assert list(at.dataframe[0].value["编号"]) == [record.id]

    at.selectbox(key="t-open").set_value(record.id).run()
    no_exception(at)
    key = f"review-{record.id}"
    at.text_input(key=f"{key}-reviewer").input("王老师")
    at.radio(key=f"{key}-v-1").set_value("agree")
    at.radio(key=f"{key}-v-2").set_value("disagree")
    at.text_input(key=f"{key}-c-2").input("其实说了业务")
    at.radio(key=f"{key}-overall").set_value("override")
    at.number_input(key=f"{key}-total").set_value(72.0)
    at.radio(key=f"{key}-passed").set_value(False)
    at.text_area(key=f"{key}-comment").input("识别漏字，按录音改判")
    next(b for b in at.button if b.label == "保存复核").click().run()
    no_exception(at)
    assert "复核已保存" in page_text(at), page_text(at)

    files = list((store.session_dir(record.id) / "reviews").glob("*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text(encoding="utf-8"))
    assert saved["reviewer"] == "王老师" and saved["overall"] == "override" and saved["override_total"] == 72.0
    assert saved["steps"] == {"greet": {"verdict": "agree", "comment": ""}, "ask_business": {"verdict": "disagree", "comment": "其实说了业务"}}
    assert session_json.read_bytes() == before  # the machine score is never touched
    [summary] = store.list()
    assert summary.total == record.total and summary.effective_total == 72.0 and summary.effective_passed is False

    # the trainee sees the review on their history page
    history = _app(HISTORY)
    history.run()
    assert "王老师 改判为 72 分（未通过）" in page_text(history)


def test_instructor_override_without_comment_is_refused(app_env: Path) -> None:
    set_password_in_config(app_env / "trainer.toml", PASSWORD)
    record = _saved_session(app_env)
    at = _app(INSTRUCTOR, trainee=None)
    at.session_state["instructor_ok"] = True
    at.run()
    at.selectbox(key="t-open").set_value(record.id).run()
    key = f"review-{record.id}"
    at.text_input(key=f"{key}-reviewer").input("王老师")
    at.radio(key=f"{key}-overall").set_value("override")
    next(b for b in at.button if b.label == "保存复核").click().run()
    no_exception(at)
    assert any("改判时必须填写理由" in e.value for e in at.error)
    assert not (SessionStore(app_env / "sessions").session_dir(record.id) / "reviews").exists()


def test_instructor_filters_charts_and_export(app_env: Path) -> None:
    set_password_in_config(app_env / "trainer.toml", PASSWORD)
    good = _saved_session(app_env, texts=("您好！", "请问您是来交电费的吗？"))
    _saved_session(app_env, trainee=("E2048", "李四"), texts=("干什么？", "随便。"))
    at = _app(INSTRUCTOR, trainee=None)
    at.session_state["instructor_ok"] = True
    at.run()
    no_exception(at)
    assert len(at.dataframe[0].value) == 2
    at.text_input(key="t-trainee").input("张").run()
    assert list(at.dataframe[0].value["编号"]) == [good.id]
    at.text_input(key="t-trainee").input("").run()
    # progress (one line chart) and weak steps (one bar chart)
    assert len(at.get("vega_lite_chart")) == 2
    weak = at.dataframe[-1].value
    assert "遗漏率%" in weak.columns and len(weak) > 0
    at.button(key="t-export").click().run()
    no_exception(at)
    names = [d.proto.label for d in at.get("download_button")]
    assert names == ["导出 Excel", "导出 CSV（每次练习一行）", "导出 CSV（每个步骤一行）"]


# --------------------------------------------------------------------------- phrasebook


def test_phrasebook_browser_and_problems(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = app_env / "extra-phrasebooks"
    extra.mkdir()
    (extra / "broken.yaml").write_text("scenarios:\n  - id: broken\n    title: [\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_PHRASEBOOK_DIRS", str(extra))
    at = _app(PHRASEBOOK, trainee=None)
    at.run()
    no_exception(at)
    assert at.error and "broken.yaml" in visible(at.error[0].value)
    labels = [e.label for e in at.expander]
    assert any("柜台收费" in label for label in labels)
    at.selectbox(key="pb-role").set_value("hotline").run()
    assert all("热线" in e.label for e in at.expander)
    forbidden = at.table[-1].value  # static (wrapping) tables: every phrase and replacement readable in full
    assert {"忌语", "应该说"} <= set(forbidden.columns) and len(forbidden) > 5
