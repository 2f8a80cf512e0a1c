"""The practice loop end to end: shared scenario recordings through `trainer practice --input-file`,
Ctrl-C and a microphone that disconnects (sounddevice replaced at its boundary), all with a real
recogniser (whisper-base through the same streaming interface Vosk uses live).
"""

from __future__ import annotations

import io
import json
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trainer.cli import main
from trainer.config import Settings
from trainer.errors import RecognizerError
from trainer.phrasebook.loader import library_from_settings
from trainer.practice import capture, session
from trainer.practice.source import AudioSource, FileSource
from trainer.sessions import SessionStore

from test_practice_capture import FakeSoundDevice

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, whisper_model_dir: Path) -> dict[str, Any]:
    sessions = tmp_path / "sessions"
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(sessions))
    monkeypatch.setenv("TRAINER_ENGINE", "whisper")
    monkeypatch.setenv("TRAINER_WHISPER_MODEL", str(whisper_model_dir))
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray trainer.toml
    return {"sessions": sessions, "store": SessionStore(sessions)}


@pytest.fixture(scope="module")
def library() -> Any:
    return library_from_settings(Settings())


def labels(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "labels.json").read_text(encoding="utf-8"))


def wav_samples(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def only_session(store: SessionStore) -> Any:
    summaries = store.list()
    assert len(summaries) == 1, summaries
    return store.load(summaries[0].id)


def assert_steps_in_labelled_turns(score: dict[str, Any], label: dict[str, Any], turns: int) -> None:
    """Every labelled step was hit, in the turn the label puts it in (so the answers were split right)."""
    by_id = {s["id"]: s for s in score["steps"]}
    for number, turn in enumerate(label["turns"][:turns], start=1):
        for step_id in turn["steps"]:
            assert by_id[step_id]["status"] == "hit", (step_id, by_id[step_id])
            assert by_id[step_id]["turn"] == number, (step_id, by_id[step_id])


def test_one_recording_is_split_into_answers_scored_and_saved(
    env: dict[str, Any], scenarios_audio_dir: Path, library: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = scenarios_audio_dir / "dev_reception_full"
    label = labels(folder)
    scenario = library.scenario(label["scenario"])
    code = main(["practice", "--scenario", scenario.id, "--input-file", str(folder / "full.wav"), "--fast",
                 "--trainee", "T001", "--name", "张三"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out

    record = only_session(env["store"])
    assert (record.kind, record.trainee_id, record.trainee_name, record.scenario_id) == ("practice", "T001", "张三", scenario.id)
    assert record.engine == "whisper" and record.model == "whisper-base"
    assert record.phrasebook_version == library.version
    assert record.extra["status"] == "completed" and record.extra["input"] == "file"
    assert len(record.turns) == len(scenario.steps) == len(label["turns"])
    assert [t.prompt for t in record.turns] == [s.customer for s in scenario.steps]

    # the saved answers are consecutive pieces of the one recording, in order, nothing lost or repeated
    folder_path = env["store"].session_dir(record.id)
    pieces = [wav_samples((folder_path / t.audio_file).read_bytes()) for t in record.turns]
    with wave.open(str(folder / "full.wav")) as wav:
        full = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.array_equal(np.concatenate(pieces), full)
    assert all(len(p) > 16000 for p in pieces)

    assert record.passed is label["expect"]["passed"]
    assert_steps_in_labelled_turns(record.score, label, len(label["turns"]))
    assert not record.score["forbidden"]
    assert f"{record.total:.1f}" in out and "已保存练习记录" in out and record.id in out


def test_one_file_per_answer_with_forbidden_phrases(
    env: dict[str, Any], scenarios_audio_dir: Path, library: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = scenarios_audio_dir / "dev_wrong_number_rude"
    label = labels(folder)
    files = [str(folder / t["file"]) for t in label["turns"]]
    args = ["practice", "--scenario", label["scenario"], "--fast"]
    for name in files:
        args += ["--input-file", name]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out

    record = only_session(env["store"])
    assert len(record.turns) == len(files)
    scenario = library.scenario(label["scenario"])
    expected_status = "completed" if len(files) >= len(scenario.steps) else "input_ended"
    assert record.extra["status"] == expected_status
    assert record.passed is False
    spoken = {p for t in label["turns"] for p in t["forbidden"]}
    found = {f["phrase"] for f in record.score["forbidden"]}
    assert spoken <= found, (spoken, found)
    assert all(f["turn"] == 1 for f in record.score["forbidden"])  # said in the first answer only
    assert "服务忌语" in out


class InterruptingSource(AudioSource):
    """A recording that the trainee interrupts with Ctrl-C during answer `at_turn`."""

    def __init__(self, inner: FileSource, at_turn: int) -> None:
        super().__init__(inner.chunk_seconds)
        self.inner = inner
        self.at_turn = at_turn
        self.turn = 0
        self.reads = 0

    @property
    def description(self) -> str:
        return self.inner.description

    def begin_turn(self) -> bool:
        self.turn += 1
        self.reads = 0
        return self.inner.begin_turn()

    def read(self) -> np.ndarray | None:
        self.reads += 1
        if self.turn == self.at_turn and self.reads == 5:
            raise KeyboardInterrupt
        return self.inner.read()


def test_ctrl_c_saves_the_completed_turns(
    env: dict[str, Any], scenarios_audio_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trainer.cli import practice as practice_cli

    original = practice_cli.build_source
    monkeypatch.setattr(practice_cli, "build_source", lambda args, settings: InterruptingSource(original(args, settings), at_turn=3))
    folder = scenarios_audio_dir / "dev_reception_full"
    code = main(["practice", "--scenario", "reception", "--input-file", str(folder / "full.wav"), "--fast"])
    out = capsys.readouterr().out
    assert code == 130
    assert "已中断" in out

    record = only_session(env["store"])
    assert record.extra["status"] == "interrupted"
    assert len(record.turns) == 2
    assert all(t.audio_file and t.transcript["text"] for t in record.turns)
    assert_steps_in_labelled_turns(record.score, labels(folder), 2)
    assert record.passed is False  # the steps never reached count as missed


def test_microphone_disconnect_keeps_what_was_recorded(
    env: dict[str, Any], scenarios_audio_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = scenarios_audio_dir / "dev_reception_full"
    with wave.open(str(folder / "full.wav")) as wav:
        signal = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").copy()
    cut_block = 60  # 6.0 s: inside the second answer (the first ends at about 3.5 s)
    answering = threading.Event()  # the speaker talks only from the prompt until the answer is judged over
    fake = FakeSoundDevice(signal, disconnect_after_blocks=cut_block, block_interval=0.005, gate=answering.is_set)
    monkeypatch.setattr(capture, "_import_sounddevice", lambda: fake)

    class Listening(session.EndpointDetector):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            answering.set()

        def push(self, chunk: np.ndarray) -> Any:
            verdict = super().push(chunk)
            if verdict.ended:
                answering.clear()
            return verdict

    monkeypatch.setattr(session, "EndpointDetector", Listening)

    code = main(["practice", "--scenario", "reception", "--device", "USB"])
    captured = capsys.readouterr()
    assert code == 2
    assert "中断" in captured.out and "保留" in captured.out
    assert fake.opened and fake.opened[0]["device"] == 2

    record = only_session(env["store"])
    assert record.extra["status"] == "device_lost" and record.extra["input"] == "microphone"
    assert len(record.turns) == 2
    assert record.extra["end_reasons"] == ["pause", "device_lost"]
    second = wav_samples((env["store"].session_dir(record.id) / record.turns[1].audio_file).read_bytes())
    end = cut_block * 1600
    assert len(second) > 8000
    assert np.array_equal(second, signal[end - len(second) : end])  # kept up to the moment the device went away


class FailingRecognizer:
    """The real recogniser, whose stream breaks down during answer `at_turn` (e.g. the engine crashed)."""

    def __init__(self, inner: Any, at_turn: int) -> None:
        self.inner = inner
        self.engine = inner.engine
        self.model_name = inner.model_name
        self.at_turn = at_turn
        self.streams = 0

    def transcribe(self, audio: Any) -> Any:
        return self.inner.transcribe(audio)

    def stream(self) -> Any:
        self.streams += 1
        stream = self.inner.stream()
        if self.streams != self.at_turn:
            return stream
        outer = self

        class Broken:
            def feed(self, chunk: np.ndarray) -> Any:
                raise RecognizerError("识别引擎出错了。", f"engine failure injected in turn {outer.at_turn}")

            def finish(self) -> Any:
                return stream.finish()

        return Broken()


def test_recogniser_failure_keeps_the_completed_turns(env: dict[str, Any], scenarios_audio_dir: Path, library: Any) -> None:
    from rich.console import Console

    from trainer.asr.factory import get_recognizer
    from trainer.audio import load_audio
    from trainer.config import load_settings
    from trainer.practice.session import STATUS_FAILED, PracticeOptions, run_practice
    from trainer.practice.ui import PracticeUI

    settings = load_settings()
    folder = scenarios_audio_dir / "dev_reception_full"
    recordings = [load_audio(folder / name) for name in ("turn01.wav", "turn02.wav", "turn03.wav")]
    console = Console(record=True, width=100)
    recognizer = FailingRecognizer(get_recognizer(settings), at_turn=2)
    result = run_practice(library.scenario("reception"), library, recognizer, FileSource(recordings, fast=True), PracticeUI(console),
                          settings, PracticeOptions(trainee_id="T002"))  # fmt: skip
    assert result.status == STATUS_FAILED
    assert isinstance(result.error, RecognizerError)
    assert "识别引擎出错了" in console.export_text()
    record = only_session(env["store"])
    assert len(record.turns) == 1 and record.extra["status"] == "failed"
    assert record.steps[0]["status"] == "hit" and record.steps[0]["turn"] == 1


def test_an_answer_without_speech_is_empty_not_invented(whisper_model_dir: Path) -> None:
    from rich.console import Console

    from trainer.asr.factory import get_recognizer
    from trainer.audio import Audio
    from trainer.endpoint import EndpointConfig, EndpointDetector, EndReason
    from trainer.practice.session import record_answer
    from trainer.practice.ui import LiveState, PracticeUI

    recognizer = get_recognizer(Settings(), engine="whisper", model_path=whisper_model_dir)
    room = (np.random.default_rng(3).standard_normal(16000 * 4) * 30).astype(np.int16)  # about -60 dBFS of hiss
    source = FileSource([Audio(room)], fast=True)
    assert source.begin_turn()
    detector = EndpointDetector(EndpointConfig(no_speech_seconds=2.0))
    answer = record_answer(source, recognizer, detector, LiveState(1, 1, live_input=False), PracticeUI(Console(record=True)))
    assert answer.end_reason is EndReason.NO_SPEECH
    assert answer.transcript.text == "" and answer.transcript.engine == "whisper"
    assert len(answer.samples) == 20 * 1600
