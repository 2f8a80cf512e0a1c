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
import time
import pytest
from streamlit.testing.v1 import AppTest

from trainer.app import views
from trainer.asr.base import Transcript
from trainer.config import load_settings
from trainer.sessions import SessionRecord, SessionStore, turn_records, utc_now
from app_support import TEST_PASSWORD, log_in, make_account, no_exception, page_source, page_text, silence_wav, visible

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
PRACTICE = APP_DIR / "pages" / "1_练习.py"
HISTORY = APP_DIR / "pages" / "2_我的记录.py"
INSTRUCTOR = APP_DIR / "pages" / "3_教师.py"
PHRASEBOOK = APP_DIR / "pages" / "4_话术库.py"


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sessions in tmp_path and an empty config file of our own (the repo's trainer.toml is not read)."""
    config = tmp_path / "trainer.toml"
    config.write_text("pass_mark = 80\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    monkeypatch.delenv("TRAINER_VOSK_MODEL", raising=False)
    sessions = tmp_path / "sessions"
    make_account(sessions, "E1024", "trainee", "城东营业厅", name="张三")
    make_account(sessions, "E2048", "trainee", "城西营业厅", name="李四")
    make_account(sessions, "T1", "instructor", "城东营业厅", name="王老师")
    make_account(sessions, "A1", "admin", name="管理员")
    return tmp_path


@pytest.fixture
def whisper_env(app_env: Path, whisper_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAINER_ENGINE", "whisper")
    monkeypatch.setenv("TRAINER_WHISPER_MODEL", str(whisper_model_dir))
    return app_env


def _app(page: Path, user: str | None = "E1024", timeout: float = 180) -> AppTest:
    """The app as served (首页.py is the entry point, so page links resolve), switched to `page`,
    with `user` logged in (None: nobody)."""
    import os

    at = AppTest.from_file(str(HOME), default_timeout=timeout)
    if page != HOME:
        at.switch_page(str(page.relative_to(APP_DIR)))
    if user is not None:
        log_in(at, Path(os.environ["TRAINER_SESSIONS_DIR"]), user)
    return at


def _saved_session(root: Path, trainee: tuple[str, str] = ("E1024", "张三"), texts: tuple[str, ...] = ("您好！", "请问您是来交电费的吗？"), started: str | None = None, kind: str = "practice") -> SessionRecord:
    """A practice session scored by the real scorer from typed text, with (sine) audio per turn."""
    from trainer.pipeline import score_text

    settings = load_settings()
    score = score_text(list(texts), "payment", settings).to_dict()
    record = SessionRecord(
        kind=kind,
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


def _login(at: AppTest, user_id: str, password: str) -> None:
    at.text_input(key="login-id").input(user_id)
    at.text_input(key="login-password").input(password)
    next(b for b in at.button if b.label == "登录").click().run()
    no_exception(at)


def test_login_gate_and_missing_model_banner(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_ENGINE", "vosk")
    monkeypatch.setenv("TRAINER_MODELS_DIR", str(app_env / "no-models"))
    # not logged in: every page shows the login form and nothing else
    for page in (HOME, PRACTICE, HISTORY, INSTRUCTOR, PHRASEBOOK):
        gate = _app(page, user=None)
        gate.run()
        no_exception(gate)
        assert [t.key for t in gate.text_input] == ["login-id", "login-password"], page.name
        assert not gate.selectbox and not gate.dataframe and not gate.get("tabs") and not gate.expander, page.name
        assert "语音识别模型未安装" not in page_text(gate)

    at = _app(HOME, user=None)
    at.run()
    _login(at, "E1024", "wrong-password")
    assert "工号或密码不正确" in page_text(at) and "auth_token" not in at.session_state
    _login(at, "E1024", TEST_PASSWORD)  # at once: the growing delay refuses, without checking the password
    assert "请在 1 秒后再试" in page_text(at) and "auth_token" not in at.session_state
    time.sleep(1.1)
    _login(at, "E1024", TEST_PASSWORD)
    assert at.session_state["auth_token"] and "当前用户：张三（E1024） · 学员 · 城东营业厅" in page_text(at)
    banner = "\n".join(w.value for w in at.warning)
    assert "语音识别模型未安装" in banner and "trainer models fetch vosk-small-cn" in banner
    assert "TRAINER_ENGINE=whisper" in banner and "TRAINER_WHISPER_MODEL" in banner
    links = [link.proto.label for link in at.get("page_link")]
    assert links == ["练习", "我的记录", "话术库", "考试"]  # no instructor or admin pages offered to a trainee

    # the practice page cannot start without a model
    practice = _app(PRACTICE)
    practice.run()
    no_exception(practice)
    assert practice.button(key="start").disabled


def test_lockout_after_repeated_failures(app_env: Path) -> None:
    config = app_env / "trainer.toml"
    config.write_text("login_max_failures = 2\nlogin_lockout_minutes = 5\n", encoding="utf-8")
    at = _app(HOME, user=None)
    at.run()
    _login(at, "E1024", "wrong-1")
    time.sleep(1.1)
    _login(at, "E1024", "wrong-2")
    assert "已被锁定 5 分钟" in page_text(at)
    time.sleep(2.1)
    _login(at, "E1024", TEST_PASSWORD)
    assert "该工号已被锁定" in page_text(at) and "auth_token" not in at.session_state


def test_first_login_forces_a_password_change(app_env: Path) -> None:
    make_account(app_env / "sessions", "E3000", name="新学员", password="initial-1", must_change=True)
    at = _app(PRACTICE, user=None)
    at.run()
    _login(at, "E3000", "initial-1")
    assert "必须先修改密码" in page_text(at) and not at.selectbox  # nothing else until changed
    at.text_input(key="pw-old").input("initial-1")
    at.text_input(key="pw-new").input("my-own-pass")
    at.text_input(key="pw-repeat").input("my-own-pass-x")
    next(b for b in at.button if b.label == "修改密码").click().run()
    assert "两次输入的新密码不一致" in page_text(at)
    at.text_input(key="pw-new").input("my-own-pass")
    at.text_input(key="pw-repeat").input("my-own-pass")
    next(b for b in at.button if b.label == "修改密码").click().run()
    no_exception(at)
    assert at.selectbox(key="f-scenario") is not None  # the practice page itself


def test_logout_and_idle_timeout(app_env: Path) -> None:
    from trainer.accounts import SqliteAccountStore
    from trainer.accounts.login import token_hash

    at = _app(HOME)
    at.run()
    token = at.session_state["auth_token"]
    store = SqliteAccountStore(app_env / "sessions" / "index.sqlite3")
    assert store.session(token_hash(token)) is not None
    at.sidebar.button(key="logout").click().run()
    no_exception(at)
    assert "您已退出登录" in page_text(at) and at.text_input(key="login-id") is not None
    assert store.session(token_hash(token)) is None  # ended server-side: the token is worth nothing now

    # 30 minutes without activity: the next click asks for the login again
    at = _app(HISTORY)
    at.run()
    token = at.session_state["auth_token"]
    session = store.session(token_hash(token))
    store.touch_session(session.token_hash, session.last_seen_at - 31 * 60)
    at.run()
    no_exception(at)
    assert "由于长时间没有操作，您已自动退出" in page_text(at) and not at.dataframe
    assert at.text_input(key="login-id") is not None


def test_no_account_yet_explains_how_to_create_one(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "empty-sessions"))
    at = _app(HOME, user=None)
    at.run()
    no_exception(at)
    assert "还没有任何账号" in page_text(at)
    assert any("trainer users add admin" in c.value for c in at.code) and not at.text_input


def test_upgrade_the_instructor_password_becomes_the_admin_account(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer.auth import set_password_in_config

    set_password_in_config(app_env / "trainer.toml", "教师密码-2026")
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "upgraded-sessions"))
    at = _app(HOME, user=None)
    at.run()
    _login(at, "admin", "教师密码-2026")
    assert "必须先修改密码" in page_text(at)


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


def test_turn_hint_is_off_until_the_trainee_switches_it_on(whisper_env: Path) -> None:  # a model present: 开始练习 enabled
    """Issue 14 item 7: what the turn is for, as a hint the trainee can switch on (the exam page has none)."""
    at = _app(PRACTICE)
    at.run()
    at.selectbox(key="f-scenario").set_value("payment").run()
    at.button(key="start").click().run()
    no_exception(at)
    assert at.toggle(key="practice-hint").value is False and "本轮：" not in page_text(at)
    at.toggle(key="practice-hint").set_value(True).run()
    no_exception(at)
    assert "本轮：一笑：起身微笑问候" in page_text(at)
    exam_page = Path(APP_DIR / "pages" / "5_考试.py").read_text(encoding="utf-8")
    assert "practice-hint" not in exam_page and "turn_hint" not in exam_page


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
    assert "练习已保存" in page and "逐轮建议" in page and "收您××元。" in page
    # issue 14 item 3: one advice list; a missed step's standard phrasing is shown once, not in three places
    assert "改进建议" not in page and "没做到或不完整的步骤" not in page and page.count("收您××元。") == 1
    assert "第 1 轮** · 客户：" in page_source(at) and 'class="hl-' in page_source(at)  # each turn: customer, trainee highlighted
    assert [m.label for m in at.metric] == ["机评总分", "机评结果"]  # no 改判 yet: the machine score alone, labelled
    assert at.metric[0].value == views.score_text(record.total)


# --------------------------------------------------------------------------- history


def test_history_lists_own_sessions_with_chart(app_env: Path) -> None:
    _saved_session(app_env, started="2026-11-01T08:00:00Z")
    latest = _saved_session(app_env, texts=("您好！", "请问您办理什么业务？"), started="2026-11-02T08:00:00Z")
    other = _saved_session(app_env, trainee=("E2048", "李四"))
    at = _app(HISTORY)
    at.query_params["trainee"] = "E2048"  # the address cannot choose another trainee
    at.run()
    no_exception(at)
    assert len(at.get("vega_lite_chart")) == 1
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)  # issue 14 item 6: readable at a glance
    layers = json.dumps(spec, ensure_ascii=False)
    assert "strokeDash" in layers and "\"text\"" in layers and "说明" in layers and '"padding": 28' in layers and views.SERIES_COLOURS[0] in layers
    assert len(at.selectbox(key="history-open").options) == 2 and other.id not in list(table := at.dataframe[0].value["编号"]) and len(table) == 2
    table = at.dataframe[0].value
    assert list(table["工号"]) == ["E1024", "E1024"]  # only this trainee's sessions
    assert at.selectbox(key="history-open").value == latest.id  # newest first
    page = page_text(at)
    assert "逐轮建议" in page and 'class="hl-hit"' in page
    assert len(at.get("audio")) == 2  # each turn's box holds its recording
    # the score column is written as rounded (64.9, 100); Streamlit's "plain" showed 64.89999999999999 in Chromium
    assert json.loads(at.dataframe[0].proto.columns)["机评"]["type_config"]["format"] == "%g"


def test_history_empty(app_env: Path) -> None:
    _saved_session(app_env)  # E1024's: not shown to E2048
    at = _app(HISTORY, user="E2048")
    at.query_params["trainee"] = "E1024"
    at.run()
    no_exception(at)
    assert "还没有练习记录" in page_text(at) and not at.dataframe


def test_history_does_not_show_exam_sessions(app_env: Path) -> None:
    """An exam's per-question sessions carry the full feedback; a paper may hide it from the
    candidate, so 我的记录 lists practice only (the exam page shows what the paper allows)."""
    practice = _saved_session(app_env)
    exam = _saved_session(app_env, kind="exam")
    at = _app(HISTORY)
    at.run()
    no_exception(at)
    picker = at.selectbox(key="history-open")
    assert len(picker.options) == 1 and picker.value == practice.id and exam.id != practice.id


# --------------------------------------------------------------------------- instructor


def test_instructor_pages_refuse_trainees(app_env: Path) -> None:
    _saved_session(app_env)
    at = _app(INSTRUCTOR)
    at.run()
    no_exception(at)
    assert "本页面只对教师、管理员开放" in page_text(at)
    assert not at.get("tabs") and not at.dataframe


def test_instructor_sees_only_the_trainees_of_their_groups(app_env: Path) -> None:
    own = _saved_session(app_env)  # E1024, 城东营业厅 like T1
    _saved_session(app_env, trainee=("E2048", "李四"))  # 城西营业厅
    _saved_session(app_env, trainee=("X9", "无账号"))  # typed id from before accounts: admins only
    at = _app(INSTRUCTOR, user="T1")
    at.run()
    no_exception(at)
    assert list(at.dataframe[0].value["编号"]) == [own.id]
    assert at.selectbox(key="t-progress").options == ["张三（E1024）"]
    admin = _app(INSTRUCTOR, user="A1")
    admin.run()
    assert sorted(admin.dataframe[0].value["工号"]) == ["E1024", "E2048", "X9"]


def test_instructor_review_saved(app_env: Path) -> None:
    record = _saved_session(app_env)
    store = SessionStore(app_env / "sessions")
    session_json = store.session_dir(record.id) / "session.json"
    before = session_json.read_bytes()

    at = _app(INSTRUCTOR, user="T1")
    at.run()
    no_exception(at)
    assert list(at.dataframe[0].value["编号"]) == [record.id]

    at.selectbox(key="t-open").set_value(record.id).run()
    no_exception(at)
    key = f"review-{record.id}"
    assert "复核人：王老师（T1）" in page_text(at)
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
    assert saved["reviewer"] == "王老师（T1）" and saved["overall"] == "override" and saved["override_total"] == 72.0
    assert saved["steps"] == {"greet": {"verdict": "agree", "comment": ""}, "ask_business": {"verdict": "disagree", "comment": "其实说了业务"}}
    assert session_json.read_bytes() == before  # the machine score is never touched
    [summary] = store.list()
    assert summary.total == record.total and summary.effective_total == 72.0 and summary.effective_passed is False

    # the trainee sees the review on their history page
    history = _app(HISTORY)
    history.run()
    assert "王老师（T1） 改判为 72 分（未通过）" in page_text(history)
    # one truth: the machine score and the instructor's decision side by side, labelled, one rounding rule
    metrics = {m.label: m.value for m in history.metric}
    assert metrics["机评总分"] == views.score_text(record.total) and metrics["教师改判"] == "72" and metrics["改判结果"] == "未通过"
    table = history.dataframe[0].value
    assert list(table["机评"]) == [views.round_score(record.total)] and list(table["教师改判"]) == ["72"]
    label = history.selectbox(key="history-open").format_func(history.selectbox(key="history-open").value)
    assert label.endswith(f"机评 {views.score_text(record.total)} 分 · 教师改判 72 分")


def test_instructor_override_without_comment_is_refused(app_env: Path) -> None:
    record = _saved_session(app_env)
    at = _app(INSTRUCTOR, user="T1")
    at.run()
    at.selectbox(key="t-open").set_value(record.id).run()
    key = f"review-{record.id}"
    at.radio(key=f"{key}-overall").set_value("override")
    next(b for b in at.button if b.label == "保存复核").click().run()
    no_exception(at)
    assert any("改判时必须填写理由" in e.value for e in at.error)
    assert not (SessionStore(app_env / "sessions").session_dir(record.id) / "reviews").exists()


def test_instructor_filters_charts_and_export(app_env: Path) -> None:
    good = _saved_session(app_env, texts=("您好！", "请问您是来交电费的吗？"))
    _saved_session(app_env, trainee=("E2048", "李四"), texts=("干什么？", "随便。"))
    at = _app(INSTRUCTOR, user="A1")
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


def test_instructor_date_filter_is_chinese(app_env: Path) -> None:
    """Issue 14 item 5: presets and typed dates instead of the English calendar; a bad date is named."""
    old = _saved_session(app_env, started="2026-11-01T08:00:00Z")
    new = _saved_session(app_env, started="2026-11-20T08:00:00Z")
    at = _app(INSTRUCTOR, user="A1")
    at.run()
    no_exception(at)
    assert not at.get("date_input")
    assert at.selectbox(key="t-dates").options == ["全部时间", "今天", "最近 7 天", "最近 30 天", "指定日期"]
    at.selectbox(key="t-dates").set_value("指定日期").run()
    at.text_input(key="t-dates-from").input("2026/11/10").run()
    no_exception(at)
    assert list(at.dataframe[0].value["编号"]) == [new.id]
    at.text_input(key="t-dates-to").input("2026年11月15日").run()
    assert not at.dataframe and "符合条件的会话：0 个" in page_text(at)
    at.text_input(key="t-dates-from").input("").run()
    assert list(at.dataframe[0].value["编号"]) == [old.id]
    at.text_input(key="t-dates-to").input("11/15/2026").run()
    assert any("不是日期" in w.value for w in at.warning)


# --------------------------------------------------------------------------- phrasebook


def test_phrasebook_browser_and_problems(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = app_env / "extra-phrasebooks"
    extra.mkdir()
    (extra / "broken.yaml").write_text("scenarios:\n  - id: broken\n    title: [\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_PHRASEBOOK_DIRS", str(extra))
    at = _app(PHRASEBOOK)
    at.run()
    no_exception(at)
    assert at.error and "broken.yaml" in visible(at.error[0].value)
    labels = [e.label for e in at.expander]
    assert any("柜台收费" in label for label in labels)
    at.selectbox(key="pb-role").set_value("hotline").run()
    assert all("热线" in e.label for e in at.expander)
    forbidden = at.table[-1].value  # static (wrapping) tables: every phrase and replacement readable in full
    assert {"忌语", "应该说"} <= set(forbidden.columns) and len(forbidden) > 5
    # issue 14 item 8: one search box over scenarios, steps, phrasings and 忌语
    at.text_input(key="pb-search").input("请坐").run()
    no_exception(at)
    found = at.table[0].value
    assert list(found.columns) == ["场景", "位置", "内容", "文字"] and "标准用语" in list(found["内容"])
    assert any("请坐" in text for text in found["文字"])
    at.text_input(key="pb-search").input("不知道").run()
    assert any(where.startswith("服务忌语「不知道」") for where in at.table[0].value["位置"])
    at.text_input(key="pb-search").input("没有这个词语xyz").run()
    assert "话术库中没有找到" in page_text(at)
