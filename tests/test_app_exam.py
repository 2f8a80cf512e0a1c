"""The exam pages driven by streamlit.testing.v1.AppTest: the candidate flow (whisper-base on the
shared recordings), refused second attempt, hidden feedback, and the instructor roster, record,
override, extra attempt and seal verification (a flipped byte is named)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import trainer.exam
from trainer.app import exam_flow
from trainer.config import load_settings
from trainer.errors import ExamError
from trainer.exam import exam_key, load_papers, load_result, roster, run_exam, start_exam, verify_all
from trainer.phrasebook.loader import library_from_settings
from trainer.sessions import SessionStore

from exam_support import FakeMarker, score_dict
from app_support import log_in, make_account, no_exception, page_text, silence_wav

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
EXAM = APP_DIR / "pages" / "5_考试.py"
ADMIN = APP_DIR / "pages" / "6_考试管理.py"
KEY = "app-exam-key-0123456789abcdef"
PAPER = """id: reception_check
title: 引导迎送单项考核
questions: [reception]
time_limit_seconds: 60
attempts: 1
pass_mark: 70
feedback: end
rules:
  forbidden_fails: true
"""
HIDDEN_PAPER = """id: reception_hidden
title: 引导迎送复训（不显示明细）
questions: [reception]
time_limit_seconds: 60
feedback: hidden
"""


@pytest.fixture
def exam_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own config, sessions, exam key and papers (two small papers on the reception scenario)."""
    config = tmp_path / "trainer.toml"
    config.write_text("pass_mark = 80\n", encoding="utf-8")
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "reception_check.yaml").write_text(PAPER, encoding="utf-8")
    (papers / "reception_hidden.yaml").write_text(HIDDEN_PAPER, encoding="utf-8")
    monkeypatch.setenv("TRAINER_EXAM_PAPER_DIRS", str(papers))  # a centre's own papers, beside the shipped ones
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("TRAINER_EXAM_KEY", KEY)
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    return tmp_path


def _app(page: Path, timeout: float = 240) -> AppTest:
    at = AppTest.from_file(str(HOME), default_timeout=timeout)
    at.switch_page(str(page.relative_to(APP_DIR)))
    return at


def _account(candidate_id: str, name: str, role: str = "trainee", groups: str = "城东营业厅") -> None:
    from trainer.accounts import SqliteAccountStore

    sessions = load_settings().sessions_dir
    if SqliteAccountStore(sessions / "index.sqlite3").get(candidate_id) is None:
        make_account(sessions, candidate_id, role, groups, name=name)


def _to_confirmation(at: AppTest, paper_id: str, candidate_id: str, name: str) -> None:
    """`candidate_id` logs in (an account is made for them) and goes to the rules of `paper_id`."""
    _account(candidate_id, name)
    log_in(at, load_settings().sessions_dir, candidate_id)
    at.run()
    no_exception(at)
    assert not any(t.key in ("exam-cid", "exam-name") for t in at.text_input)  # no typed identity
    assert f"考生：**{name}**（工号 {candidate_id}）" in page_text(at)
    at.selectbox(key="exam-paper").set_value(paper_id).run()
    at.button(key="exam-next").click().run()
    no_exception(at)


def _sealed_exam(env: Path, paper_id: str, candidate_id: str, name: str, total: float = 88.0, forbidden: tuple[str, ...] = ()):
    """An exam sealed through the library with a stand-in marker (the real marking is tested with whisper)."""
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([env / "papers"], library.scenarios).get(paper_id)
    marker = FakeMarker({"reception": score_dict(total, forbidden)})
    answers = [[silence_wav(0.5) for _ in library.scenarios["reception"].steps]]
    return run_exam(paper, candidate_id, name, answers, settings, library, marker=marker, store=SessionStore(settings.sessions_dir))


# --------------------------------------------------------------------------- candidate


@pytest.mark.slow
def test_candidate_exam_end_to_end(exam_env: Path, whisper_model_dir: Path, scenarios_audio_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRAINER_ENGINE", "whisper")
    monkeypatch.setenv("TRAINER_WHISPER_MODEL", str(whisper_model_dir))
    turns = sorted((scenarios_audio_dir / "dev_reception_full").glob("turn*.wav"))
    assert len(turns) == 4
    at = _app(EXAM)
    _to_confirmation(at, "reception_check", "E2001", "李四")
    rules = page_text(at)
    assert "只录一次" in rules and "时限为 60 秒" in rules and "一票否决" in rules and "第 1 次参加" in rules
    assert at.button(key="exam-start").disabled  # rules not yet confirmed
    at.checkbox(key="exam-agree").check().run()
    at.button(key="exam-start").click().run()
    no_exception(at)
    assert "引导迎送" in page_text(at)
    next(b for b in at.button if b.label == "开始作答").click().run()
    no_exception(at)

    # A silent recording is not an answer: refused with the reason, the turn stays open.
    at.audio_input[0].set_value(("silence.wav", silence_wav(), "audio/wav")).run()
    no_exception(at)
    assert "没有检测到说话声" in page_text(at) and "本轮尚未作答" in page_text(at)
    assert at.session_state[exam_flow.EXAM_RUN].answered_per_question == [0]
    assert "计时从本轮客户的话出现时开始" in page_text(at) and "第 1 轮（共 4 轮）" in page_text(at)
    # no standard phrase is shown during the exam
    assert "欢迎光临" not in page_text(at)

    for index, path in enumerate(turns, 1):
        if index == 2:
            at.file_uploader[0].set_value((path.name, path.read_bytes(), "audio/wav")).run()
        else:
            at.audio_input[0].set_value((path.name, path.read_bytes(), "audio/wav")).run()
        no_exception(at)
        assert f"第 {index} 轮已提交" in page_text(at)
        run = at.session_state[exam_flow.EXAM_RUN]
        assert run.answered_per_question == [index]
        if index < len(turns):
            # the accepted turn is replaced by its "submitted" state; a fresh recorder for the next turn
            assert "已提交" in page_text(at) and at.audio_input[0].value is None
    assert [s.status for s in run.answers[0]] == ["answered"] * 4
    assert [s.source for s in run.answers[0]] == ["microphone", "upload", "microphone", "microphone"]
    assert not at.audio_input  # nothing left to record

    at.button(key="exam-submit").click().run()
    no_exception(at)
    text = page_text(at)
    assert "考试结果：通过" in text, text
    assert "各题得分" in text and "封印指纹" in text
    assert at.metric[0].label == "总分" and float(at.metric[0].value) >= 70

    settings = load_settings()
    store = SessionStore(settings.sessions_dir)
    result = load_result(store, run.result.exam_id)
    assert result.passed and result.candidate_id == "E2001" and result.engine == "whisper"
    record = store.load(result.questions[0].session_id)
    assert len(record.turns) == 4 and all(t.transcript["text"] for t in record.turns)
    assert [t["status"] for t in record.score["exam_turns"]] == ["answered"] * 4
    assert verify_all(store, exam_key(settings)).ok

    at.button(key="exam-done").click().run()
    no_exception(at)
    assert exam_flow.EXAM_RUN not in at.session_state

    # The same candidate cannot take the paper again (one attempt).
    again = _app(EXAM)
    _to_confirmation(again, "reception_check", "E2001", "李四")
    assert "不能再次参加" in page_text(again)
    assert "exam_pending" not in again.session_state


def test_time_limit_is_enforced_when_the_recording_arrives(exam_env: Path, whisper_model_dir: Path, scenarios_audio_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRAINER_ENGINE", "whisper")  # the model must be installed to start; it is not loaded here
    monkeypatch.setenv("TRAINER_WHISPER_MODEL", str(whisper_model_dir))
    at = _app(EXAM)
    _to_confirmation(at, "reception_check", "E2101", "钱二")
    at.checkbox(key="exam-agree").check().run()
    at.button(key="exam-start").click().run()
    next(b for b in at.button if b.label == "开始作答").click().run()
    run = at.session_state[exam_flow.EXAM_RUN]
    run.shown_at -= 65  # the customer's line appeared 65 s ago (limit 60 s)
    at.run()
    assert any("时间到" in w.value for w in at.warning)
    run.shown_at -= exam_flow.ACCEPT_GRACE_SECONDS  # and the recording comes in after the allowance too
    turn = scenarios_audio_dir / "dev_reception_full" / "turn01.wav"
    at.audio_input[0].set_value(("turn01.wav", turn.read_bytes(), "audio/wav")).run()
    no_exception(at)
    assert "第 1 轮超时" in page_text(at) and "本轮按未作答计" in page_text(at)
    assert [s.status for s in run.answers[0]] == ["late"]
    assert "第 2 轮（共 4 轮）" in page_text(at) and at.audio_input[0].value is None
    # skipping a turn is explicit and final
    next(b for b in at.button if b.label.startswith("本轮不作答")).click().run()
    assert [s.status for s in run.answers[0]] == ["late", "skipped"] and "第 3 轮（共 4 轮）" in page_text(at)


def test_second_attempt_is_refused(exam_env: Path) -> None:
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([exam_env / "papers"], library.scenarios).get("reception_check")
    start_exam(paper, "E3001", "王五", settings, library)  # first attempt (abandoned: it still counts)
    at = _app(EXAM)
    _to_confirmation(at, "reception_check", "E3001", "王五")
    text = page_text(at)
    assert "已参加过“引导迎送单项考核”考试 1 次" in text and "不能再次参加" in text
    assert not any(b.key == "exam-start" for b in at.button)
    # another candidate may start
    _to_confirmation(at, "reception_check", "E3002", "赵六")
    assert any(b.key == "exam-start" for b in at.button) and "第 1 次参加" in page_text(at)


def test_missing_exam_key_is_explained(exam_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No key set and none in the key file, while the ledger already holds records (a key is only
    generated on first use, for an empty ledger)."""
    monkeypatch.delenv("TRAINER_EXAM_KEY")
    (exam_env / "sessions").mkdir()
    (exam_env / "sessions" / "exam_ledger.jsonl").write_bytes(b'{"seq":1}\n')
    at = _app(EXAM)
    _account("E1", "张三")
    log_in(at, load_settings().sessions_dir, "E1")
    at.run()
    no_exception(at)
    assert "未配置考试密钥" in page_text(at) and not at.text_input and not any(b.key == "exam-next" for b in at.button)
    assert "请联系考核负责人" in at.error[0].value  # the candidate is told whom to ask, not how to set a key


def test_hidden_feedback_result_shows_pass_or_fail_only(exam_env: Path) -> None:
    # 55.5: a total that cannot show up inside the exam id's timestamp (55 did at hh:55 and mm:55)
    result = _sealed_exam(exam_env, "reception_hidden", "E4001", "孙七", total=55.5, forbidden=("喂",))
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([exam_env / "papers"], library.scenarios).get("reception_hidden")
    plan = dataclasses.replace(
        trainer.exam.plan_exam(paper, "E4002", "", settings, library), candidate_id=result.candidate_id, candidate_name=result.candidate_name
    )
    at = _app(EXAM)
    _account(result.candidate_id, result.candidate_name)
    log_in(at, settings.sessions_dir, result.candidate_id)
    at.session_state[exam_flow.EXAM_RUN] = exam_flow.ExamRun(plan, result=load_result(SessionStore(settings.sessions_dir), result.exam_id))
    at.run()
    no_exception(at)
    text = page_text(at)
    assert "考试结果：未通过" in text and "不向考生显示评分明细" in text
    assert not at.metric and not at.dataframe
    for hidden in ("55.5", "喂", "一票否决", "各题得分", "建议 ·"):
        assert hidden not in text, hidden


def test_shown_feedback_result_gives_one_advice_list_per_question(exam_env: Path) -> None:
    """Issue 14 item 3: the 忌语 once (in the advice of its turn, one severity word), no separate boxes."""
    result = _sealed_exam(exam_env, "reception_check", "E4101", "周八", total=55.5, forbidden=("喂",))
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([exam_env / "papers"], library.scenarios).get("reception_check")
    plan = dataclasses.replace(
        trainer.exam.plan_exam(paper, "E4102", "", settings, library), candidate_id=result.candidate_id, candidate_name=result.candidate_name
    )
    at = _app(EXAM)
    _account(result.candidate_id, result.candidate_name)
    log_in(at, settings.sessions_dir, result.candidate_id)
    at.session_state[exam_flow.EXAM_RUN] = exam_flow.ExamRun(plan, result=load_result(SessionStore(settings.sessions_dir), result.exam_id))
    at.run()
    no_exception(at)
    text = page_text(at)
    assert "考试结果：未通过" in text and "建议 · 第 1 题 · 引导迎送" in text and "第 1 轮" in text
    assert text.count("服务忌语「喂」（严重）") == 1 and "改进意见" not in text and "没做到或不完整的步骤" not in text
    assert not any("服务忌语 ·" in e.value for e in at.error)  # the old separate 忌语 boxes are gone


# --------------------------------------------------------------------------- time limit and marking (no model)


class _CountingRecognizer:
    engine = "fake"
    model_name = "fake-model"

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)
        self.calls = 0

    def transcribe(self, audio):
        from trainer.asr.base import Transcript

        self.calls += 1
        return Transcript(text=self.texts.pop(0), duration=audio.duration, engine=self.engine, model=self.model_name)


def test_late_and_skipped_turns_are_not_scored_and_their_timing_is_sealed(exam_env: Path) -> None:
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([exam_env / "papers"], library.scenarios).get("reception_check")
    plan = start_exam(paper, "E5001", "周八", settings, library)
    run = exam_flow.ExamRun(plan)
    run.open_question()
    speech, later, last = silence_wav(2.0), silence_wav(2.5), silence_wav(3.0)  # the stand-in recogniser decides what was "said"
    run.show_turn(now=1000.0)
    assert run.accept(speech, "t1.wav", "microphone", 2.0, now=1012.0).status == "answered"
    run.show_turn(now=1020.0)
    late = run.accept(later, "t2.wav", "upload", 2.0, now=1020.0 + 60 + exam_flow.ACCEPT_GRACE_SECONDS + 1)
    assert late.status == "late" and late.audio == later  # the late recording is kept for the record
    run.show_turn(now=1100.0)
    assert run.skip(now=1130.0).status == "skipped"
    run.show_turn(now=1200.0)
    run.accept(last, "t4.wav", "microphone", 2.0, now=1205.0)
    assert run.complete and run.position is None
    with pytest.raises(ExamError):
        run.skip()

    recognizer = _CountingRecognizer(["您好，欢迎光临！", "请走好，再见！"])
    marker = exam_flow.app_marker(settings, library, lambda: recognizer, run.slots_by_scenario())
    store = SessionStore(settings.sessions_dir)
    result = trainer.exam.submit_exam(plan, run.submission(), settings, library, marker=marker, store=store)
    assert recognizer.calls == 2  # the late and the skipped turn were not transcribed
    record = store.load(result.questions[0].session_id)
    assert [t.transcript["text"] for t in record.turns] == ["您好，欢迎光临！", "", "", "请走好，再见！"]
    timing = record.score["exam_turns"]
    assert [t["status"] for t in timing] == ["answered", "late", "skipped", "answered"]
    assert timing[0]["elapsed_seconds"] == 12.0 and timing[1]["source"] == "upload"
    assert verify_all(store, exam_key(settings)).ok


# --------------------------------------------------------------------------- instructor


def _admin(env: Path, user_id: str = "A1", role: str = "admin", groups: str = "") -> AppTest:
    _account(user_id, "陈老师", role, groups)
    at = _app(ADMIN)
    log_in(at, load_settings().sessions_dir, user_id)
    return at


def test_admin_page_is_for_instructors_and_admins_only(exam_env: Path) -> None:
    _sealed_exam(exam_env, "reception_check", "E6001", "吴九", total=91.0)
    _account("E6001", "吴九")
    at = _app(ADMIN)
    at.run()
    no_exception(at)
    assert at.text_input(key="login-id") is not None and not at.tabs  # not logged in
    log_in(at, load_settings().sessions_dir, "E6001")
    at.run()
    assert "本页面只对教师、管理员开放" in page_text(at) and not at.tabs and not at.dataframe


def test_instructor_sees_the_exams_of_their_groups_only(exam_env: Path) -> None:
    _account("E6001", "吴九", groups="城东营业厅")
    _account("E6002", "郑十", groups="城西营业厅")
    _sealed_exam(exam_env, "reception_check", "E6001", "吴九", total=91.0)
    _sealed_exam(exam_env, "reception_check", "E6002", "郑十", total=62.0)
    at = _admin(exam_env, "T1", "instructor", "城东营业厅")
    at.run()
    no_exception(at)
    assert list(at.dataframe[0].value["考生编号"]) == ["E6001"]
    # an extra attempt for someone outside the groups is refused
    at.selectbox(key="x-g-paper").set_value("reception_check")
    at.text_input(key="x-g-candidate").input("E6002")
    at.text_area(key="x-g-reason").input("设备故障")
    next(b for b in at.button if b.label == "登记补考").click().run()
    no_exception(at)
    assert "不在您的班组/营业厅中" in page_text(at)


def test_admin_roster_record_override_grant_and_tampering(exam_env: Path) -> None:
    passed = _sealed_exam(exam_env, "reception_check", "E6001", "吴九", total=91.0)
    failed = _sealed_exam(exam_env, "reception_hidden", "E6002", "郑十", total=62.0)
    at = _admin(exam_env)
    at.run()
    no_exception(at)
    table = at.dataframe[0].value
    assert list(table["考生编号"]) == ["E6002", "E6001"]  # newest first
    assert list(table["结果"]) == ["未通过", "通过"] and set(table["封印"]) == {"√ 完好"}
    labels = {b.label for b in at.get("download_button")}
    assert {"导出 Excel", "导出 CSV"} <= labels

    # filters: pass/fail, paper, candidate
    at.radio(key="x-passed").set_value("通过").run()
    assert list(at.dataframe[0].value["考生编号"]) == ["E6001"]
    at.radio(key="x-passed").set_value("全部")
    at.selectbox(key="x-paper").set_value("reception_hidden").run()
    assert list(at.dataframe[0].value["考生编号"]) == ["E6002"]
    at.selectbox(key="x-paper").set_value(None)
    at.text_input(key="x-candidate").input("吴九").run()
    assert list(at.dataframe[0].value["考生编号"]) == ["E6001"]

    # open a record: breakdown, per-turn audio, printable report
    at.selectbox(key="x-open").set_value(passed.exam_id).run()
    no_exception(at)
    text = page_text(at)
    assert "吴九（E6001）" in text and passed.fingerprint in text
    breakdown = at.dataframe[1].value
    assert list(breakdown["题号"]) == ["1", "平均"] and float(breakdown["本题总分"][0]) == 91.0
    assert len(at.get("audio")) == 4
    assert any(b.label.startswith("下载成绩单") for b in at.get("download_button"))
    assert any("第 1 轮" in m.value for m in at.markdown)

    # override: a new sealed entry with the comment; the roster shows it
    assert "考评员：陈老师（A1）" in page_text(at)
    at.radio(key="x-ov-passed").set_value(False)
    at.text_area(key="x-ov-comment").input("复听录音：第 3 轮未引导取号")
    next(b for b in at.button if b.label == "封存改判").click().run()
    no_exception(at)
    row = roster(load_settings().sessions_dir)[1]
    assert row.exam_id == passed.exam_id and row.overridden and not row.passed and row.machine_passed
    assert row.override_comment == "复听录音：第 3 轮未引导取号"
    assert "陈老师" in page_text(at)

    # extra attempt for the failed candidate
    at.selectbox(key="x-g-paper").set_value("reception_hidden")
    at.text_input(key="x-g-candidate").input("E6002")
    at.text_area(key="x-g-reason").input("设备故障")
    next(b for b in at.button if b.label == "登记补考").click().run()
    no_exception(at)
    assert "已登记：考生 E6002" in page_text(at)
    settings = load_settings()
    library = library_from_settings(settings)
    paper = load_papers([exam_env / "papers"], library.scenarios).get("reception_hidden")
    assert start_exam(paper, "E6002", "郑十", settings, library).attempt == 2

    # seals: all fine, then one flipped byte in the failed exam's audio is named
    at.button(key="x-verify").click().run()
    no_exception(at)
    assert any("全部通过" in s.value for s in at.success)
    store = SessionStore(settings.sessions_dir)
    audio = store.audio_path(failed.questions[0].session_id, 2)
    data = bytearray(audio.read_bytes())
    data[100] ^= 0x01
    audio.write_bytes(bytes(data))
    at.button(key="x-verify").click().run()
    no_exception(at)
    errors = "\n".join(e.value for e in at.error)
    assert "发现 1 处问题" in errors and failed.exam_id in errors and passed.exam_id not in errors
    assert "第 2 段录音" in page_text(at) and "被改动" in page_text(at)
    assert list(at.dataframe[-1].value["考试编号"]) == [failed.exam_id]
    # the roster's seal column checks the ledger entry; the audio change is found by the full check above
    at.text_input(key="x-candidate").input("").run()
    assert set(at.dataframe[0].value["封印"]) == {"√ 完好"}
