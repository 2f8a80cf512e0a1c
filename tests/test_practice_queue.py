"""The practice page's queued path (services.submit_recording / collect_recording) with a fake
recogniser: each trainee's turn lands in its own run, errors in the run that caused them, and
a result that arrives after the run moved on is dropped."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from trainer.app import services
from trainer.app.state import PracticeRun
from trainer.asr.base import Transcript
from trainer.audio import Audio
from trainer.config import load_settings
from trainer.errors import RecognizerError
from trainer.fair_pool import FairPool
from trainer.pipeline import load_library

WAIT = 30.0


class ScriptedRecognizer:
    """Answers by recording length (the test knows which file is which); can be held or fail."""

    engine = "fake"
    model_name = "scripted"

    def __init__(self, texts: dict[int, str]) -> None:
        self.texts = texts
        self.hold = threading.Event()
        self.hold.set()
        self.fail_on: set[int] = set()

    def transcribe(self, audio: Audio) -> Transcript:
        assert self.hold.wait(WAIT)
        if len(audio.samples) in self.fail_on:
            raise RecognizerError("识别引擎出错。", "scripted failure")
        return Transcript(text=self.texts[len(audio.samples)], duration=audio.duration, engine="fake", model="scripted")

    def stream(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError


@pytest.fixture
def setup(tmp_path: Path, scenarios_audio_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    settings = dataclasses.replace(load_settings({}), sessions_dir=tmp_path / "sessions")
    library = load_library(settings)
    scenario = library.scenario("payment")
    performance = scenarios_audio_dir / "dev_payment_full"
    files = {name: (performance / name).read_bytes() for name in ("turn01.wav", "turn02.wav", "turn03.wav")}
    from trainer.audio import load_audio

    texts = {len(load_audio(data).samples): text for data, text in zip(files.values(), ("您好", "请问您是来交电费的吗", "您先请坐"))}
    assert len(texts) == 3  # the files differ in length
    pool = FairPool(2)
    yield settings, library, scenario, files, ScriptedRecognizer(texts), pool
    pool.shutdown()


def _run(scenario, trainee: str) -> PracticeRun:  # type: ignore[no-untyped-def]
    return PracticeRun(scenario.id, scenario.title, len(scenario.steps), trainee, trainee)


def test_each_trainee_gets_its_own_turn_and_score(setup) -> None:  # type: ignore[no-untyped-def]
    settings, library, scenario, files, recognizer, pool = setup
    runs = {"A": _run(scenario, "A"), "B": _run(scenario, "B")}
    answers = {"A": "turn01.wav", "B": "turn03.wav"}
    recognizer.hold.clear()  # both queued before either is recognised
    pending = {
        who: services.submit_recording(pool, who, run, files[answers[who]], answers[who], "upload", scenario, library, lambda: recognizer, settings)
        for who, run in runs.items()
    }
    assert all(p is not None for p in pending.values())
    assert runs["A"].turns == [] and runs["B"].turns == []  # nothing stored before collection
    recognizer.hold.set()
    for who, run in runs.items():
        turn = services.collect_recording(run, pending[who], timeout=WAIT)
        assert turn is not None and run.turns == [turn] and turn.audio == files[answers[who]]
    assert runs["A"].turns[0].transcript["text"] == "您好"
    assert runs["B"].turns[0].transcript["text"] == "您先请坐"
    statuses = {who: {s["id"]: s["status"] for s in run.score["steps"]} for who, run in runs.items()}
    assert statuses["A"]["greet"] == "hit" and statuses["B"]["greet"] != "hit"
    assert statuses["B"]["offer_seat"] == "hit" and statuses["A"]["offer_seat"] != "hit"
    # the same recording shown again by a rerun is not queued twice
    assert services.submit_recording(pool, "A", runs["A"], files["turn01.wav"], "x", "upload", scenario, library, lambda: recognizer, settings) is None


def test_an_engine_error_reaches_only_its_own_run(setup) -> None:  # type: ignore[no-untyped-def]
    settings, library, scenario, files, recognizer, pool = setup
    from trainer.audio import load_audio

    recognizer.fail_on.add(len(load_audio(files["turn02.wav"]).samples))
    good, bad = _run(scenario, "A"), _run(scenario, "B")
    p_good = services.submit_recording(pool, "A", good, files["turn01.wav"], "a.wav", "upload", scenario, library, lambda: recognizer, settings)
    p_bad = services.submit_recording(pool, "B", bad, files["turn02.wav"], "b.wav", "upload", scenario, library, lambda: recognizer, settings)
    assert services.collect_recording(bad, p_bad, timeout=WAIT) is None
    assert bad.error == "识别引擎出错。" and bad.turns == []
    assert services.collect_recording(good, p_good, timeout=WAIT) is not None
    assert good.error == "" and len(good.turns) == 1


def test_a_result_for_a_run_that_moved_on_is_dropped(setup) -> None:  # type: ignore[no-untyped-def]
    settings, library, scenario, files, recognizer, pool = setup
    run = _run(scenario, "A")
    first = services.submit_recording(pool, "A", run, files["turn01.wav"], "1.wav", "upload", scenario, library, lambda: recognizer, settings)
    assert services.collect_recording(run, first, timeout=WAIT) is not None
    run.start_retry(1)
    recognizer.hold.clear()
    retry = services.submit_recording(pool, "A", run, files["turn03.wav"], "3.wav", "upload", scenario, library, lambda: recognizer, settings)
    run.cancel_retry()  # the trainee cancelled while the retry was in the queue
    recognizer.hold.set()
    assert services.collect_recording(run, retry, timeout=WAIT) is None
    assert len(run.turns) == 1 and run.turns[0].transcript["text"] == "您好" and run.redo is None
