"""The web practice page follows the customer's reactions and speaks the customer's line.

Recordings are the dev set's; what the recogniser "hears" is their labelled text (a scripted
recogniser), so these tests check the dialogue, not the ASR."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from trainer.app import services
from trainer.app.state import PracticeRun
from trainer.asr.base import Transcript
from trainer.config import load_settings
from trainer.dialogue import Cue
from trainer.phrasebook.loader import library_from_settings
from app_support import log_in, make_account, no_exception, page_text

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
ESCALATION = "你这什么态度！我要找你们领导！"


class TextRecognizer:
    engine = "scripted"
    model_name = "labels"

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)

    def transcribe(self, audio: Any) -> Transcript:
        return Transcript(text=self.texts.pop(0), duration=audio.duration, engine=self.engine)


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "trainer.toml"
    config.write_text("pass_mark = 80\n", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("TRAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    return tmp_path


def answered_run(folder: Path, count: int) -> PracticeRun:
    """A complaint run whose first `count` turns are the dev recordings of `folder`."""
    settings = load_settings()
    library = library_from_settings(settings)
    scenario = library.scenario("complaint")
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    run = PracticeRun("complaint", scenario.title, len(scenario.steps), "E1024", "张三")
    recognizer = TextRecognizer([t["text"] for t in labels["turns"]])
    for turn in labels["turns"][:count]:
        data = (folder / turn["file"]).read_bytes()
        services.process_recording(run, data, turn["file"], "upload", scenario, library, recognizer, settings)  # type: ignore[arg-type]
    return run


def test_a_forbidden_answer_escalates_and_inserts_the_apology_turn(app_env: Path, scenarios_audio_dir: Path) -> None:
    run = answered_run(scenarios_audio_dir / "dev_complaint_bad", 2)
    library = library_from_settings(load_settings())
    scenario = library.scenario("complaint")
    assert [t.step_id for t in run.turns] == ["greet", "soothe"]
    assert run.turns[1].reaction == "greet.missed" and run.turns[1].prompt.startswith("（客户敲了敲柜台）")
    assert services.current_cue(run, scenario) == Cue("deescalate", ESCALATION, "soothe.forbidden")
    assert run.steps_total == 9 and not run.all_answered  # the inserted turn counts

    # retrying the turn that escalated asks the same line again
    run.start_retry(2)
    assert services.current_cue(run, scenario).step_id == "soothe"  # type: ignore[union-attr]


def test_the_page_shows_and_speaks_the_escalated_line(app_env: Path, scenarios_audio_dir: Path) -> None:
    run = answered_run(scenarios_audio_dir / "dev_complaint_bad", 2)
    make_account(app_env / "sessions", "E1024", name="张三")
    at = AppTest.from_file(str(APP_DIR / "首页.py"), default_timeout=120)
    at.switch_page("pages/1_练习.py")
    log_in(at, app_env / "sessions", "E1024")
    at.session_state["practice_run"] = run
    at.run()
    no_exception(at)
    page = page_text(at)
    assert f"第 3 轮（共 9 轮）** · {ESCALATION}" in page or ESCALATION in page
    assert "客户对上一轮的服务忌语有反应" in page
    assert "上一轮漏了“问候客户”，客户有反应" in page  # turn 2's line, kept as said
    assert len(at.get("audio")) == 2  # the two answers
    (voice,) = at.get("iframe")  # the customer's line, said in the browser
    srcdoc = voice.proto.srcdoc
    assert json.dumps(ESCALATION, ensure_ascii=False) in srcdoc and "重听" in srcdoc
    assert ("data:audio/wav;base64," in srcdoc) is (shutil.which("espeak-ng") is not None)  # the server's voice as fallback


def test_finished_record_keeps_the_path(app_env: Path, scenarios_audio_dir: Path) -> None:
    run = answered_run(scenarios_audio_dir / "dev_complaint_bad", 3)
    settings = load_settings()
    record = services.finish_practice(run, settings, library_from_settings(settings), None)
    assert [t.prompt for t in record.turns][2] == ESCALATION
    assert [d["step"] for d in record.extra["dialogue"]] == ["greet", "soothe", "deescalate"]
    assert record.extra["dialogue"][2]["reaction"] == "soothe.forbidden"
    assert record.extra["status"] == "partial"


def test_finishing_right_after_the_escalation_counts_the_demanded_apology(app_env: Path, scenarios_audio_dir: Path) -> None:
    run = answered_run(scenarios_audio_dir / "dev_complaint_bad", 2)
    settings = load_settings()
    record = services.finish_practice(run, settings, library_from_settings(settings), None)
    steps = {s["id"]: s["status"] for s in record.score["steps"]}
    assert steps["deescalate"] == "missed"
    assert [s["id"] for s in record.score["steps"]][:3] == ["greet", "soothe", "deescalate"]


def test_phrasebook_view_shows_reactions_and_extra_steps() -> None:
    from trainer.app import views

    library = library_from_settings(load_settings())
    rows = views.step_rows(library.scenario("complaint"))
    soothe = next(r for r in rows if r["步骤"] == "安抚情绪")
    assert "说了忌语 → “你这什么态度！我要找你们领导！” 并要求先做「再次致歉安抚（客户被激怒后）」" in soothe["客户反应"]
    assert rows[-1]["序号"] == "补救" and rows[-1]["步骤"] == "再次致歉安抚（客户被激怒后）"
    assert "客户反应" not in views.step_rows(library.scenario("business"))[0]  # no reactions written there
