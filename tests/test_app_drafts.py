"""Nothing lost on reload: the practice page keeps the run in progress on the server (AppTest).

A new AppTest session with the same owner is what a reload (F5) or a reopened tab is. The fast
tests seed the draft from typed answers scored by the real scorer; the slow one records two turns
with whisper-base through the page's own widgets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from trainer.app import drafts as app_drafts
from trainer.app.services import score_run
from trainer.app.state import PracticeRun, TurnAttempt
from trainer.asr.base import Transcript
from trainer.config import load_settings
from trainer.phrasebook.loader import library_from_settings
from trainer.sessions import SessionStore
from trainer.sessions.drafts import DRAFT_FILE, DraftStore, drafts_dir
from app_support import log_in, make_account, no_exception, page_text, silence_wav

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
PRACTICE = APP_DIR / "pages" / "1_练习.py"
TRAINEE = ("E1024", "张三")


def practice_page(trainee: tuple[str, str] = TRAINEE, timeout: float = 180) -> AppTest:
    """The practice page as a fresh browser session of `trainee` (the one place that says how a
    user reaches the page: with accounts, log in here)."""
    from trainer.accounts import SqliteAccountStore

    at = AppTest.from_file(str(HOME), default_timeout=timeout)
    at.switch_page(str(PRACTICE.relative_to(APP_DIR)))
    sessions = load_settings().sessions_dir
    if SqliteAccountStore(sessions / "index.sqlite3").get(trainee[0]) is None:
        make_account(sessions, trainee[0], "trainee", name=trainee[1])
    log_in(at, sessions, trainee[0])
    return at


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
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


def _store(root: Path) -> DraftStore:
    return DraftStore(drafts_dir(root / "sessions"))


def _seed(texts: tuple[str, ...] = ("您好！", "请问您是来交电费的吗？"), version: str | None = None, scenario: str = "payment") -> PracticeRun:
    """A run of TRAINEE answered by typed text (scored with the real scorer), kept as their draft."""
    settings = load_settings()
    library = library_from_settings(settings)
    steps = library.scenarios["payment"].steps
    run = PracticeRun("payment", library.scenarios["payment"].title, len(steps), *TRAINEE, retries=1)
    for n, text in enumerate(texts, start=1):
        audio = silence_wav(0.5 + 0.1 * n)
        run.turns.append(TurnAttempt(n, steps[n - 1].customer, audio, f"turn{n}.wav", "microphone", Transcript(text=text).to_dict(), 1.0 + n, (), 0.5))
    run.score = score_run(run, [Transcript.from_dict(t.transcript) for t in run.turns], settings, library)
    run.last_turn = len(texts)
    draft = app_drafts.draft_of(run, TRAINEE[0], library.version if version is None else version)
    if scenario != "payment":
        from dataclasses import replace

        draft = replace(draft, scenario_id=scenario, scenario_title="已删除的场景")
    DraftStore(drafts_dir(settings.sessions_dir)).save(draft)
    return run


def test_a_reload_offers_the_unfinished_run_and_resume_restores_it(app_env: Path) -> None:
    seeded = _seed()
    at = practice_page()
    at.run()
    no_exception(at)
    notice = "\n".join(e.value for e in at.info)
    assert "你有一次未完成的练习：柜台收费（收费六步 · 唱收唱付），已答 2/10 轮，最后保存于 " in notice
    assert "话术库在那之后已更新" not in notice
    assert not at.selectbox and not at.button(key="draft-resume").disabled  # no scenario choice until decided

    at.button(key="draft-resume").click().run()
    no_exception(at)
    run = at.session_state["practice_run"]
    assert run.run_id == seeded.run_id and run.started_at == seeded.started_at and run.retries == 1
    assert [t.audio for t in run.turns] == [t.audio for t in seeded.turns]
    assert [t.transcript for t in run.turns] == [t.transcript for t in seeded.turns]
    assert run.score == seeded.score and run.current == 3 and run.last_turn == 2
    page = page_text(at)
    assert "第 1 轮" in page and "第 2 轮" in page and "第 3 轮（共 10 轮）" in page
    assert 'class="hl-hit"' in page  # the turns' feedback, highlighted as before
    assert len(at.get("audio")) == 2  # both recordings playable
    assert at.button(key="finish").label.startswith("提前结束并评分（已答 2/10 轮")
    assert _store(app_env).load(TRAINEE[0]) is not None  # kept until finished or given up

    # reloading again offers the same run again: nothing was consumed by resuming
    again = practice_page()
    again.run()
    assert "已答 2/10 轮" in "\n".join(e.value for e in again.info)


def test_discard_removes_the_draft_and_shows_the_scenario_choice(app_env: Path) -> None:
    _seed()
    at = practice_page()
    at.run()
    at.button(key="draft-discard").click().run()
    no_exception(at)
    assert "已放弃上次未完成的练习" in "\n".join(e.value for e in at.info)
    assert at.selectbox(key="f-scenario") is not None and "practice_run" not in at.session_state
    assert _store(app_env).load(TRAINEE[0]) is None
    assert not list(_store(app_env).root.glob("*/" + DRAFT_FILE))


def test_a_draft_is_only_offered_to_its_owner(app_env: Path) -> None:
    _seed()
    other = practice_page(("E2048", "李四"))
    other.run()
    no_exception(other)
    assert "未完成的练习" not in page_text(other) and other.selectbox(key="f-scenario") is not None


def test_giving_up_a_resumed_run_removes_its_draft(app_env: Path) -> None:
    _seed()
    at = practice_page()
    at.run()
    at.button(key="draft-resume").click().run()
    at.button(key="abandon").click().run()
    no_exception(at)
    assert "practice_run" not in at.session_state and _store(app_env).load(TRAINEE[0]) is None


def test_a_changed_phrasebook_is_announced_and_the_stored_transcripts_are_scored_again(app_env: Path) -> None:
    seeded = _seed(version="older-version")
    stale = json.loads(json.dumps(seeded.score))
    at = practice_page()
    at.run()
    assert "话术库在那之后已更新" in "\n".join(e.value for e in at.info)
    at.button(key="draft-resume").click().run()
    no_exception(at)
    assert "已按新的话术库重新评分已答的 2 轮" in "\n".join(e.value for e in at.info)
    run = at.session_state["practice_run"]
    settings = load_settings()
    library = library_from_settings(settings)
    assert run.score == score_run(run, [Transcript.from_dict(t.transcript) for t in run.turns], settings, library)
    assert run.score == stale  # the same library really: the score is recomputed, not invented
    draft = _store(app_env).load(TRAINEE[0])
    assert draft is not None and draft.phrasebook_version == library.version  # said once, not on every reload


def test_a_phrasebook_edited_since_the_draft_changes_the_score_on_resume(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The centre adds a 忌语 after the trainee left: the resumed run is scored with it, not with the old list."""
    extra = app_env / "ours"
    extra.mkdir()
    monkeypatch.setenv("TRAINER_PHRASEBOOK_DIRS", str(extra))
    seeded = _seed(texts=("您好！", "赶紧掏钱"))
    assert not seeded.score["forbidden"]
    (extra / "forbidden_local.yaml").write_text(
        "forbidden:\n  - id: local_test\n    phrase: 赶紧掏钱\n    severity: major\n"
        "    reason: 测试用\n    replacement: 请您出示缴费单据。\n",
        encoding="utf-8",
    )
    at = practice_page()
    at.run()
    no_exception(at)
    assert "话术库在那之后已更新" in "\n".join(e.value for e in at.info)
    at.button(key="draft-resume").click().run()
    no_exception(at)
    run = at.session_state["practice_run"]
    assert [f["phrase"] for f in run.score["forbidden"]] == ["赶紧掏钱"]
    assert run.score["score"]["total"] < seeded.score["score"]["total"]
    assert [t.transcript for t in run.turns] == [t.transcript for t in seeded.turns]
    assert "已按新的话术库重新评分" in "\n".join(e.value for e in at.info)


def test_a_draft_whose_scenario_is_gone_can_only_be_discarded(app_env: Path) -> None:
    _seed(scenario="no_such_scenario")
    at = practice_page()
    at.run()
    no_exception(at)
    assert "已不在话术库中，无法继续，只能放弃" in "\n".join(e.value for e in at.warning)
    assert at.button(key="draft-resume").disabled
    at.button(key="draft-discard").click().run()
    assert _store(app_env).load(TRAINEE[0]) is None and at.selectbox(key="f-scenario") is not None


def test_a_corrupt_draft_is_skipped_with_a_chinese_message(app_env: Path) -> None:
    _seed()
    folder = _store(app_env).folder(TRAINEE[0])
    (folder / DRAFT_FILE).write_text('{"format": 1, "turns": [', encoding="utf-8")
    at = practice_page()
    at.run()
    no_exception(at)
    warning = "\n".join(e.value for e in at.warning)
    assert "上次未完成的练习记录已损坏" in warning and "已保存的练习记录不受影响" in warning
    assert at.selectbox(key="f-scenario") is not None  # the trainee can practise at once
    assert not SessionStore(app_env / "sessions").list()
    reloaded = practice_page()
    reloaded.run()
    assert "已损坏" not in page_text(reloaded)  # reported once: moved aside


def test_old_drafts_are_removed_when_the_server_starts(app_env: Path) -> None:
    import os
    import time

    _seed()
    path = _store(app_env).folder(TRAINEE[0]) / DRAFT_FILE
    old = time.time() - 15 * 86400
    os.utime(path, (old, old))
    assert app_drafts.cleanup(app_env / "sessions", 14) == []
    assert _store(app_env).load(TRAINEE[0]) is None


@pytest.mark.slow
def test_two_recorded_turns_survive_a_reload_and_finishing_removes_the_draft(whisper_env: Path, scenarios_audio_dir: Path) -> None:
    folder = scenarios_audio_dir / "dev_payment_full"
    turn1, turn2 = (folder / "turn01.wav").read_bytes(), (folder / "turn02.wav").read_bytes()
    at = practice_page()
    at.run()
    at.selectbox(key="f-scenario").set_value("payment").run()
    at.button(key="start").click().run()
    at.audio_input[0].set_value(("turn01.wav", turn1, "audio/wav")).run()
    assert _store(whisper_env).load(TRAINEE[0]).answered == 1  # type: ignore[union-attr]  # saved after every turn
    at.file_uploader[0].set_value(("turn02.wav", turn2, "audio/wav")).run()
    no_exception(at)
    before = at.session_state["practice_run"]
    assert len(before.turns) == 2 and not before.draft_problem

    # retry turn 1: the draft follows
    at.button(key=f"retry-{before.run_id}-1").click().run()
    retry = (scenarios_audio_dir / "dev_payment_fast" / "turn01.wav").read_bytes()
    at.audio_input[0].set_value(("retry.wav", retry, "audio/wav")).run()
    no_exception(at)
    before = at.session_state["practice_run"]
    assert before.last_turn == 1
    assert [t.audio for t in _store(whisper_env).load(TRAINEE[0]).turns] == [retry, turn2]  # type: ignore[union-attr]

    # F5: a new session of the same trainee
    reloaded = practice_page()
    reloaded.run()
    no_exception(reloaded)
    assert "你有一次未完成的练习：柜台收费（收费六步 · 唱收唱付），已答 2/10 轮" in "\n".join(e.value for e in reloaded.info)
    reloaded.button(key="draft-resume").click().run()
    no_exception(reloaded)
    run = reloaded.session_state["practice_run"]
    assert [t.audio for t in run.turns] == [retry, turn2]
    assert [t.transcript for t in run.turns] == [t.transcript for t in before.turns]  # not transcribed again
    assert [t.source for t in run.turns] == ["microphone", "upload"] and run.retries == 1
    assert run.score == before.score and run.current == 3 and run.last_turn == 1  # the retried turn's feedback, as before
    assert len(reloaded.get("audio")) == 2 and "识别和评分用时" in page_text(reloaded)

    # finishing saves the session and removes the draft
    reloaded.button(key="finish").click().run()
    no_exception(reloaded)
    run = reloaded.session_state["practice_run"]
    assert run.finished and run.saved_id
    assert _store(whisper_env).load(TRAINEE[0]) is None
    store = SessionStore(whisper_env / "sessions")
    [summary] = store.list()
    assert summary.id == run.saved_id and summary.turns == 2
    assert store.audio_path(run.saved_id, 1).read_bytes() == retry
    again = practice_page()
    again.run()
    assert "未完成的练习" not in page_text(again)


def test_a_second_tab_does_not_overwrite_the_first_tabs_run(app_env: Path) -> None:
    first = _seed()
    settings = load_settings()
    library = library_from_settings(settings)
    second = PracticeRun("payment", "柜台收费", 10, *TRAINEE)
    second.turns.append(TurnAttempt(1, "客户", silence_wav(0.7), "a.wav", "upload", Transcript(text="您好").to_dict(), 0.7))
    problem = app_drafts.keep(settings, TRAINEE[0], second, library)
    assert "另一个浏览器窗口" in problem and second.draft_problem == problem
    assert _store(app_env).load(TRAINEE[0]).run_id == first.run_id  # type: ignore[union-attr]
    first.turns.pop()
    assert app_drafts.keep(settings, TRAINEE[0], first, library) == "" and not first.draft_problem
    assert _store(app_env).load(TRAINEE[0]).answered == 1  # type: ignore[union-attr]
