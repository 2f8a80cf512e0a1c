"""Terminal practice follows the customer's reactions: a 忌语 in the complaint scenario escalates and
inserts the extra apology step, which is scored; a good performance hears no escalation.

The fast tests feed the dev recordings with their labelled texts as what the recogniser heard (a
scripted recogniser: the reaction logic is under test, not the ASR); the slow test runs the real
command with whisper-base on the same recordings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from trainer.asr.base import PartialResult, Transcript
from trainer.audio import load_audio
from trainer.config import load_settings
from trainer.phrasebook.loader import library_from_settings
from trainer.practice.session import PracticeOptions, run_practice
from trainer.practice.source import FileSource
from trainer.practice.ui import PracticeUI
from trainer.sessions import SessionStore

ESCALATION = "你这什么态度！我要找你们领导！"


class ScriptedRecognizer:
    """Hears, answer by answer, the given texts (whatever the audio)."""

    engine = "scripted"
    model_name = "labels"

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)

    def transcribe(self, audio: Any) -> Transcript:
        return Transcript(text=self.texts.pop(0), duration=audio.duration, engine=self.engine)

    def stream(self) -> Any:
        text = self.texts.pop(0)
        seconds = [0.0]

        class Stream:
            def feed(self, chunk: Any) -> PartialResult:
                seconds[0] += len(chunk) / 16000
                return PartialResult("", "")

            def finish(self) -> Transcript:
                return Transcript(text=text, duration=seconds[0], engine="scripted", model="labels")

        return Stream()


@pytest.fixture()
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return load_settings()


def practise(folder: Path, settings: Any) -> tuple[str, Any]:
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    library = library_from_settings(settings)
    recordings = [load_audio(folder / t["file"]) for t in labels["turns"]]
    console = Console(record=True, width=200)
    result = run_practice(
        library.scenario(labels["scenario"]),
        library,
        ScriptedRecognizer([t["text"] for t in labels["turns"]]),  # type: ignore[arg-type]
        FileSource(recordings, fast=True),
        PracticeUI(console),
        settings,
        PracticeOptions(watch_keys=False),
    )
    return console.export_text(), result


def test_a_forbidden_phrase_escalates_and_the_apology_step_is_scored(scenarios_audio_dir: Path, settings: Any) -> None:
    out, result = practise(scenarios_audio_dir / "dev_complaint_bad", settings)
    assert ESCALATION in out
    assert [t.step.id for t in result.turns] == ["greet", "soothe", "deescalate"]
    assert result.turns[2].prompt == ESCALATION and result.turns[2].cue.reaction == "soothe.forbidden"
    assert "喂，有没有人管啊？" in result.turns[1].prompt  # greet was missed: the customer says so first
    steps = {s["id"]: s["status"] for s in result.score["steps"]}
    assert steps["deescalate"] == "missed"  # "你去投诉吧" is no apology
    assert "再次致歉安抚（客户被激怒后）" in out
    # the record keeps the path: the line each answer responded to and why it was said
    record = SessionStore(settings.sessions_dir).load(result.record.id, check_audio=False)
    assert [t.prompt for t in record.turns][2] == ESCALATION
    assert [d["step"] for d in record.extra["dialogue"]] == ["greet", "soothe", "deescalate"]
    assert record.extra["dialogue"][1]["reaction"] == "greet.missed"


def test_a_good_performance_hears_no_escalation(scenarios_audio_dir: Path, settings: Any) -> None:
    out, result = practise(scenarios_audio_dir / "dev_complaint_full", settings)
    assert ESCALATION not in out
    assert "deescalate" not in {s["id"] for s in result.score["steps"]}
    assert [t.step.id for t in result.turns] == [s.id for s in result.scenario.steps]
    assert result.score["passed"] is True
    assert "（客户坐了下来，语气缓和了一点）" in result.turns[2].prompt  # soothing done well calms the customer


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_cli_complaint_escalation_with_whisper(scenarios_audio_dir: Path, whisper_model_dir: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions"), "COLUMNS": "200"}
    env.pop("TRAINER_CONFIG", None)

    def run(name: str) -> str:
        folder = scenarios_audio_dir / name
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        args = [sys.executable, "-m", "trainer", "practice", "--scenario", "complaint", "--fast", "--no-save"]
        args += ["--engine", "whisper", "--model", str(whisper_model_dir)]
        for turn in labels["turns"]:
            args += ["--input-file", str(folder / turn["file"])]
        done = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    bad, full = run("dev_complaint_bad"), run("dev_complaint_full")
    assert ESCALATION in bad and ESCALATION not in full
    assert "再次致歉安抚（客户被激怒后）" in bad and "再次致歉安抚" not in full
