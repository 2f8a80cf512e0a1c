"""The practice turn loop: brief, then per step the customer's line and one recorded answer.

    result = run_practice(scenario, library, recognizer, source, ui, settings, options)

Each answer goes chunk by chunk from the `AudioSource` to the end-of-answer detector,
the level meter and the recogniser's stream (fed from a worker thread, so a slow
recogniser never stalls the meter or the pause detection). After each answer the
turns so far are scored and the steps and forbidden phrases of this turn are shown;
at the end the full score and feedback are shown and the session is saved.

- Ctrl-C ends the session: the answer being recorded is dropped, completed turns are
  scored and saved.
- A microphone that disconnects ends the session: what was recorded of the current
  answer is kept as its last turn, then scoring and saving go on as usual.
- A recording (file) that runs out ends the session; the missing steps count as missed.
- Any other expected failure during an answer (`TrainerError`, e.g. the recogniser)
  ends the session the same way: completed turns are scored and saved.
"""

from __future__ import annotations

import logging
import queue
import threading
from contextlib import nullcontext
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from trainer.asr.base import PartialResult, Recognizer, StreamingRecognition, Transcript
from trainer.audio import SAMPLE_RATE, Audio
from trainer.config import Settings
from trainer.dialogue import Cue, first_cue, next_cue, played_scenario, remaining_turns
from trainer.errors import TrainerError
from trainer.phrasebook.model import Library, Scenario, Step
from trainer.practice.capture import DeviceError
from trainer.endpoint import ChunkVerdict, EndpointConfig, EndpointDetector, EndReason, NoiseFloor
from trainer.practice.keys import KeyWatcher
from trainer.practice.source import AudioSource
from trainer.practice.take import read_until_end
from trainer.practice.ui import AdviceTurn, FinalView, ForbiddenLine, LiveState, PracticeUI, StepLine, TurnView
from trainer.scoring.advice import advice_of
from trainer.scoring.display import steps_heard_in, stored_certain
from trainer.sessions import SessionRecord, turn_records, utc_now
from trainer.storage.factory import session_store
from trainer.text.normalize import to_simplified

log = logging.getLogger(__name__)

STATUS_COMPLETED = "completed"  # every step got an answer
STATUS_INTERRUPTED = "interrupted"  # Ctrl-C
STATUS_DEVICE_LOST = "device_lost"  # the microphone went away
STATUS_INPUT_ENDED = "input_ended"  # the recording ran out before the last step
STATUS_FAILED = "failed"  # the recogniser (or another part) failed during an answer


@dataclass(frozen=True)
class PracticeOptions:
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    trainee_id: str = "anonymous"
    trainee_name: str = ""
    save: bool = True
    watch_keys: bool = True  # Enter ends an answer (only when the source is live and stdin is a terminal)


class Voice(Protocol):
    """Says a customer line aloud (trainer.practice.voice.TerminalVoice); returns a problem to show, else ""."""

    def say(self, line: str) -> str: ...


@dataclass(frozen=True)
class RecordedTurn:
    index: int  # 1-based
    step: Step
    samples: np.ndarray  # int16, 16 kHz
    transcript: Transcript
    end_reason: EndReason
    cue: Cue | None = None  # the customer's line this turn answered (None: the step's own line)

    @property
    def prompt(self) -> str:
        return self.cue.line if self.cue is not None else self.step.customer

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass
class PracticeResult:
    scenario: Scenario
    turns: list[RecordedTurn]
    status: str
    score: dict[str, Any] | None = None  # `trainer score --json` shape
    record: SessionRecord | None = None  # as saved (None: not saved)
    device_error: DeviceError | None = None
    error: TrainerError | None = None  # what ended a failed session (device_error for a lost microphone)
    unused_seconds: float = 0.0  # audio left in the input file after the last step


# Scores the transcripts of the turns so far, each answering the customer's line of the same
# position in `cues`; the last argument is the customer's line left unanswered (None: none):
# (scenario, library, transcripts, settings, cues, pending) -> score dict.
Scorer = Callable[[Scenario, Library, Sequence[Transcript], Settings, Sequence[Cue], "Cue | None"], dict[str, Any]]


def default_scorer(
    scenario: Scenario,
    library: Library,
    transcripts: Sequence[Transcript],
    settings: Settings,
    cues: Sequence[Cue],
    pending: Cue | None = None,
) -> dict[str, Any]:
    """The dialogue as it went: steps a reaction inserted are scored too (`dialogue.played_scenario`)."""
    from trainer.pipeline import score_turns

    played = played_scenario(scenario, cues, pending)
    answered = [c.step_id for c in cues]
    return score_turns(list(transcripts), scenario.id, settings, library=library, dialogue=True, played=played, answered=answered).to_dict()


# --------------------------------------------------------------------------- recognition worker


class _RecognitionWorker:
    """Feeds the recogniser's stream from a thread; `partial` is the latest live result."""

    def __init__(self, stream: StreamingRecognition) -> None:
        self._stream = stream
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue()
        self.partial = PartialResult("", "")
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="recognition", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            if self._error is not None:
                continue
            try:
                self.partial = self._stream.feed(chunk)
            except BaseException as exc:  # reported from finish(), in the caller's thread
                self._error = exc

    def feed(self, chunk: np.ndarray) -> None:
        self._queue.put(chunk)

    def finish(self) -> Transcript:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._stream.finish()

    def abandon(self) -> None:
        self._queue.put(None)


# --------------------------------------------------------------------------- one answer


@dataclass(frozen=True)
class Answer:
    samples: np.ndarray
    transcript: Transcript
    end_reason: EndReason
    device_error: DeviceError | None = None


def record_answer(
    source: AudioSource,
    recognizer: Recognizer,
    detector: EndpointDetector,
    state: LiveState,
    ui: PracticeUI,
    keys: KeyWatcher | None = None,
) -> Answer:
    """Record one answer until the detector, the source or the stop key ends it.

    KeyboardInterrupt propagates (the caller drops this answer). A `DeviceError` from
    the source ends the answer with what was recorded so far. When the detector heard
    no speech at all, the transcript is empty and the recogniser is not asked.
    """
    worker = _RecognitionWorker(recognizer.stream())
    try:
        with ui.recording(state) as live:

            def heard(chunk: np.ndarray, verdict: ChunkVerdict) -> None:
                worker.feed(chunk)
                partial = worker.partial
                live.update(verdict, to_simplified(partial.final_text), to_simplified(partial.partial_text))

            samples, device_error = read_until_end(source, detector, keys, heard)
            if detector.speech_started:
                live.recognising()
                transcript = worker.finish()
            else:
                # nobody spoke: an empty answer (recognisers, whisper above all, invent text in silence)
                worker.abandon()
                transcript = Transcript(text="", duration=len(samples) / SAMPLE_RATE, engine=recognizer.engine, model=recognizer.model_name)
    except BaseException:
        worker.abandon()
        raise
    assert detector.ended is not None
    return Answer(samples, transcript, detector.ended, device_error)


# --------------------------------------------------------------------------- views from the score


def _step_line(step_score: dict[str, Any], scenario: Scenario) -> StepLine:
    try:
        step = scenario.step(str(step_score.get("id")))
        title, tip = step.title, step.tip
    except KeyError:
        title, tip = str(step_score.get("id")), ""
    return StepLine(
        title=title,
        status=str(step_score.get("status", "missed")),
        expected=str(step_score.get("expected") or ""),
        said=to_simplified(str(step_score.get("matched_text") or "")),
        tip=tip,
    )


def _forbidden_line(hit: dict[str, Any], library: Library) -> ForbiddenLine:
    reason = ""
    for entry in library.forbidden:
        if entry.id == hit.get("id"):
            reason = entry.reason
            break
    return ForbiddenLine(
        phrase=str(hit.get("phrase") or ""),
        said=to_simplified(str(hit.get("matched_text") or "")),
        severity=str(hit.get("severity") or ""),
        reason=reason,
        replacement=str(hit.get("suggestion") or ""),
        certain=stored_certain(hit),
    )


def turn_view(turn: RecordedTurn, total: int, score: dict[str, Any] | None, scenario: Scenario, library: Library) -> TurnView:
    """This turn's transcript with the steps and forbidden phrases the score places in it."""
    steps: tuple[StepLine, ...] = ()
    forbidden: tuple[ForbiddenLine, ...] = ()
    if score:
        steps = tuple(_step_line(s, scenario) for s in steps_heard_in(score, turn.index))
        forbidden = tuple(_forbidden_line(f, library) for f in score.get("forbidden", []) if f.get("turn") == turn.index)
    return TurnView(turn.index, total, to_simplified(turn.transcript.text), turn.end_reason, turn.seconds, steps, forbidden)


def final_view(
    score: dict[str, Any],
    scenario: Scenario,
    library: Library,
    completed: int,
    pass_mark: float,
    total_turns: int | None = None,
    prompts: Sequence[str] = (),
) -> FinalView:
    """The final panel: score, dimensions, step checklist and the advice grouped by turn as on the web
    (scoring/advice.py); `prompts`: the customer's line before each turn."""
    inner = score.get("score") or {}
    reasons = {e.id: e.reason for e in library.forbidden_for(scenario.id)} if scenario.id in library.scenarios else {}
    texts = [to_simplified(str(t.get("text", ""))) for t in score.get("turns") or []]
    advice = tuple(
        AdviceTurn(
            group.turn,
            prompts[group.turn - 1] if group.turn is not None and 0 < group.turn <= len(prompts) else "",
            texts[group.turn - 1] if group.turn is not None and 0 < group.turn <= len(texts) else "",
            tuple((item.kind, to_simplified(item.text)) for item in group.items),
        )
        for group in advice_of(score, scenario, reasons)
    )
    return FinalView(
        total=float(inner.get("total", 0.0)),
        passed=bool(score.get("passed")),
        pass_mark=pass_mark,
        steps=tuple(_step_line(s, scenario) for s in score.get("steps", [])),
        advice=advice,
        dimensions={str(k): float(v) for k, v in (inner.get("dimensions") or {}).items()},
        completed_turns=completed,
        total_turns=total_turns if total_turns is not None else len(scenario.steps),
    )


# --------------------------------------------------------------------------- the session


def _save(
    result: PracticeResult,
    library: Library,
    recognizer: Recognizer,
    settings: Settings,
    options: PracticeOptions,
    started_at: str,
    source: AudioSource,
) -> SessionRecord:
    record = SessionRecord(
        kind="practice",
        trainee_id=options.trainee_id,
        trainee_name=options.trainee_name,
        scenario_id=result.scenario.id,
        scenario_title=result.scenario.title,
        started_at=started_at,
        finished_at=utc_now(),
        turns=turn_records([t.prompt for t in result.turns], [t.transcript.to_dict() for t in result.turns]),
        score=result.score or {},
        phrasebook_version=library.version,
        engine=recognizer.engine,
        model=recognizer.model_name,
        extra={
            "client": "terminal",
            "input": "microphone" if source.live else "file",
            "status": result.status,
            "end_reasons": [t.end_reason.value for t in result.turns],
            "steps_answered": [t.step.id for t in result.turns],
            "dialogue": [t.cue.to_dict() if t.cue is not None else {"step": t.step.id, "line": t.prompt, "reaction": ""} for t in result.turns],
        },
    )
    audio = [Audio(t.samples).to_wav_bytes() if len(t.samples) else None for t in result.turns]
    return session_store(settings).save(record, audio)


def _say(ui: PracticeUI, voice: Voice | None, index: int, total: int, cue: Cue, step_title: str) -> None:
    ui.show_customer(index, total, cue.line, step_title, reacted=bool(cue.reaction))
    if voice is not None:
        problem = voice.say(cue.line)
        if problem:
            ui.notice(problem)


def _cues(turns: Sequence[RecordedTurn]) -> list[Cue]:
    return [t.cue if t.cue is not None else Cue(t.step.id, t.step.customer) for t in turns]


def _score(
    scorer: Scorer,
    scenario: Scenario,
    library: Library,
    turns: Sequence[RecordedTurn],
    settings: Settings,
    pending: Cue | None = None,
) -> dict[str, Any]:
    """Score the turns; `pending` (the customer's line left unanswered) has its step counted, e.g.
    the apology a 忌语 made the customer demand (it was "inserted" with the scenario's extras)."""
    return scorer(scenario, library, [t.transcript for t in turns], settings, _cues(turns), pending)


def run_practice(
    scenario: Scenario,
    library: Library,
    recognizer: Recognizer,
    source: AudioSource,
    ui: PracticeUI,
    settings: Settings,
    options: PracticeOptions | None = None,
    scorer: Scorer = default_scorer,
    voice: Voice | None = None,
) -> PracticeResult:
    """Run the whole session. Opening the source may raise DeviceError (nothing recorded yet).
    With a `voice` each customer line is also spoken (before the microphone listens)."""
    options = options or PracticeOptions()
    total = len(scenario.steps)  # as scripted: reactions may insert steps
    started_at = utc_now()
    result = PracticeResult(scenario=scenario, turns=[], status=STATUS_COMPLETED)
    cue: Cue | None = None  # the customer's line being answered; after the loop, the one left unanswered
    floor = NoiseFloor(options.endpoint.floor_window_seconds)

    source.open()
    try:
        ui.show_brief(scenario.title, scenario.brief, source.description, total, options.endpoint.pause_seconds)
        watcher = KeyWatcher() if options.watch_keys and source.live else nullcontext(None)
        with watcher as opened:
            keys = opened if opened is not None and opened.active else None
            try:
                cue = first_cue(scenario)
                while cue is not None:
                    index = len(result.turns) + 1
                    total = remaining_turns(scenario, [t.cue for t in result.turns if t.cue is not None], cue)
                    step = scenario.step(cue.step_id)
                    if source.live:  # spoken before the turn begins: the microphone drops what it heard meanwhile
                        _say(ui, voice, index, total, cue, step.title)
                    if not source.begin_turn():
                        result.status = STATUS_INPUT_ENDED
                        break
                    if not source.live:
                        _say(ui, voice, index, total, cue, step.title)
                    if keys is not None:
                        keys.clear()
                    state = LiveState(index, total, live_input=keys is not None, pause_seconds=options.endpoint.pause_seconds)
                    detector = EndpointDetector(options.endpoint, floor)
                    answer = record_answer(source, recognizer, detector, state, ui, keys)
                    if answer.end_reason is EndReason.END_OF_INPUT and not detector.speech_started:
                        result.status = STATUS_INPUT_ENDED  # only the recording's trailing silence was left
                        break
                    if answer.device_error is not None:
                        result.device_error = answer.device_error
                        result.status = STATUS_DEVICE_LOST
                        ui.error(answer.device_error.user_message)
                        if len(answer.samples) == 0:
                            break
                    turn = RecordedTurn(index, step, answer.samples, answer.transcript, answer.end_reason, cue)
                    result.turns.append(turn)
                    result.score = _score(scorer, scenario, library, result.turns, settings)
                    ui.show_turn_result(turn_view(turn, total, result.score, scenario, library))
                    if result.status == STATUS_DEVICE_LOST:
                        break
                    cue = next_cue(scenario, _cues(result.turns), result.score)
            except KeyboardInterrupt:
                result.status = STATUS_INTERRUPTED
                ui.notice(f"已中断：保存已完成的 {len(result.turns)} 轮。")
            except TrainerError as exc:  # e.g. the recogniser failed: keep the completed turns
                result.status = STATUS_FAILED
                result.error = exc
                ui.error(exc.user_message)
        remaining = getattr(source, "remaining_seconds", 0.0)
        result.unused_seconds = float(remaining) if result.status == STATUS_COMPLETED else 0.0
    finally:
        source.close()

    pending = cue if result.status != STATUS_COMPLETED else None
    total = len(played_scenario(scenario, _cues(result.turns), pending).steps)
    if result.status == STATUS_INPUT_ENDED:
        ui.notice(f"录音只够 {len(result.turns)}/{total} 轮，其余步骤按未完成计分。")
    if result.unused_seconds > 0.5:
        ui.notice(f"录音在最后一轮之后还有 {result.unused_seconds:.1f} 秒没有用到。")
    if not result.turns:
        ui.notice("没有完成任何一轮，不评分也不保存。")
        return result
    # scored again over exactly the turns kept (Ctrl-C may have come between a turn and its score)
    result.score = _score(scorer, scenario, library, result.turns, settings, pending)
    prompts = [turn.prompt for turn in result.turns]
    ui.show_final(final_view(result.score, scenario, library, len(result.turns), settings.pass_mark, total, prompts))
    if options.save:
        result.record = _save(result, library, recognizer, settings, options, started_at, source)
        ui.notice(f"已保存练习记录：{result.record.id}", style="green")
    return result

