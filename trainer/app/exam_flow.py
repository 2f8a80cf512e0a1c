"""A candidate's exam in the web app, kept in st.session_state as plain data (no Streamlit here).

`ExamRun` holds the started `ExamPlan` and, for each question, one `AnswerSlot` per turn, filled
in order. A turn is answered once: after a recording is accepted (or refused as late, or skipped)
the run moves on and there is no way back. The time limit is enforced here, on the server, with
the time the turn was first shown: a recording that arrives later than the limit plus a short
allowance for stopping and uploading is refused and the turn counts as unanswered.

At submission `app_marker` marks the questions: answered turns are transcribed and scored,
unanswered ones are scored as nothing said (the recogniser is not asked about them), and every
turn's status and timing is added to the question's score dict as `exam_turns`, so it is sealed
with the record.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trainer.asr.base import Recognizer, Transcript
from trainer.audio import Audio, load_audio
from trainer.config import Settings
from trainer.errors import AudioError, ExamError
from trainer.exam.runner import ExamPlan, MarkedAnswer, Marker
from trainer.exam.records import ExamResult
from trainer.phrasebook.model import Library, Scenario
from trainer.scoring.document import TurnText

ACCEPT_GRACE_SECONDS = 10.0  # stopping the recorder and uploading take a moment after the limit
SILENT_SECONDS = 1.0  # the audio stored for a turn with no recording at all (skipped)
EXAM_RUN = "exam_run"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def silent_wav(seconds: float = SILENT_SECONDS) -> bytes:
    return Audio(np.zeros(int(16000 * seconds), dtype=np.int16)).to_wav_bytes()


@dataclass(frozen=True)
class AnswerSlot:
    """One turn as it will be submitted."""

    audio: bytes  # the recording as given (late: kept for the record but not scored); skipped: silence
    name: str
    source: str  # "microphone" | "upload" | "" (skipped)
    status: str  # "answered" | "late" | "skipped"
    seconds: float  # length of the audio
    elapsed: float  # from the turn being shown to the recording being accepted

    @property
    def scored(self) -> bool:
        return self.status == "answered"

    def timing(self, turn: int) -> dict[str, Any]:
        return {"turn": turn, "status": self.status, "source": self.source, "elapsed_seconds": round(self.elapsed, 1), "audio_seconds": round(self.seconds, 2)}


def check_recording(data: bytes, settings: Settings, name: str) -> float:
    """Seconds of a new recording; AudioError (Chinese) when it is unusable: empty, corrupt, too
    long, or without any speech. Such a recording is not an answer: the candidate may record again
    within the time left."""
    audio = load_audio(data, max_seconds=settings.max_audio_seconds, require_speech=True, name=name)
    return audio.duration


@dataclass
class ExamRun:
    plan: ExamPlan
    answers: list[list[AnswerSlot]] = field(default_factory=list)
    opened: set[int] = field(default_factory=set)  # questions whose brief was read and answering began (1-based)
    shown_at: float | None = None  # when the current turn was first shown (time.time())
    nonce: int = 0  # bumped after every accepted or refused recording: fresh, empty recorder widgets
    error: str = ""  # the last recording's problem (Chinese)
    notice: str = ""  # the last turn's outcome (Chinese), shown once
    processed: set[str] = field(default_factory=set)
    result: ExamResult | None = None
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    def __post_init__(self) -> None:
        if not self.answers:
            self.answers = [[] for _ in self.plan.questions]

    # ---- where we are

    @property
    def turns_per_question(self) -> list[int]:
        return [len(q.prompts) for q in self.plan.questions]

    @property
    def answered_per_question(self) -> list[int]:
        return [len(a) for a in self.answers]

    @property
    def complete(self) -> bool:
        return all(len(a) >= n for a, n in zip(self.answers, self.turns_per_question))

    @property
    def position(self) -> tuple[int, int] | None:
        """(question, turn), both 1-based, of the next turn to answer; None when all are answered."""
        for q, (done, total) in enumerate(zip(self.answered_per_question, self.turns_per_question), 1):
            if done < total:
                return q, done + 1
        return None

    @property
    def time_limit(self) -> float:
        pos = self.position
        question = self.plan.questions[(pos[0] if pos else 1) - 1]
        return float(question.time_limit_seconds)

    @property
    def recorder_key(self) -> str:
        q, t = self.position or (0, 0)
        return f"exam-rec-{self.run_id}-{q}-{t}-{self.nonce}"

    @property
    def uploader_key(self) -> str:
        q, t = self.position or (0, 0)
        return f"exam-upl-{self.run_id}-{q}-{t}-{self.nonce}"

    def needs_opening(self) -> bool:
        pos = self.position
        return pos is not None and pos[0] not in self.opened

    def open_question(self) -> None:
        pos = self.position
        if pos is not None:
            self.opened.add(pos[0])
            self.shown_at = None

    def show_turn(self, now: float | None = None) -> float:
        """Start the current turn's clock on first display; returns the seconds elapsed since."""
        now = time.time() if now is None else now
        if self.shown_at is None:
            self.shown_at = now
        return max(0.0, now - self.shown_at)

    # ---- answering

    def _put(self, slot: AnswerSlot) -> None:
        pos = self.position
        if pos is None:
            raise ExamError("所有题目都已作答，请交卷。", "answer given after the last turn")
        self.answers[pos[0] - 1].append(slot)
        self.shown_at = None
        self.nonce += 1

    def accept(self, data: bytes, name: str, source: str, seconds: float, now: float | None = None) -> AnswerSlot:
        """Take a checked recording as the current turn's answer, or refuse it as late (the turn then
        counts as unanswered). Either way the turn is closed."""
        pos = self.position
        if pos is None:
            raise ExamError("所有题目都已作答，请交卷。", "answer given after the last turn")
        elapsed = self.show_turn(now)
        late = elapsed > self.time_limit + ACCEPT_GRACE_SECONDS
        slot = AnswerSlot(bytes(data), name, source, "late" if late else "answered", float(seconds), elapsed)
        self._put(slot)
        self.processed.add(digest(data))
        return slot

    def skip(self, now: float | None = None) -> AnswerSlot:
        """Leave the current turn unanswered (nothing said)."""
        elapsed = self.show_turn(now)
        slot = AnswerSlot(silent_wav(), "未作答.wav", "", "skipped", SILENT_SECONDS, elapsed)
        self._put(slot)
        return slot

    def refuse(self, data: bytes, message: str) -> None:
        """A recording that is not an answer (no speech, unreadable): the candidate may record again."""
        self.processed.add(digest(data))
        self.error = message
        self.nonce += 1

    # ---- submitting

    def submission(self) -> list[list[bytes]]:
        if not self.complete:
            raise ExamError("还有未作答的轮次，不能交卷。", "submission before every turn is answered")
        return [[s.audio for s in slots] for slots in self.answers]

    def slots_by_scenario(self) -> dict[str, list[AnswerSlot]]:
        return {q.scenario_id: self.answers[q.index - 1] for q in self.plan.questions}


def app_marker(
    settings: Settings,
    library: Library,
    get_recognizer: Callable[[], Recognizer],
    slots_by_scenario: dict[str, list[AnswerSlot]],
) -> Marker:
    """Marks a question of an app exam: answered turns are transcribed, unanswered (late, skipped)
    turns count as nothing said; each turn's status and timing is sealed in the score as `exam_turns`."""
    from trainer.pipeline import score_turns

    def mark(scenario: Scenario, answers: Sequence[bytes | Path]) -> MarkedAnswer:
        slots = slots_by_scenario[scenario.id]
        if len(slots) != len(answers):
            raise ExamError("作答记录与录音数量不一致，无法评分。", f"{scenario.id}: {len(slots)} slots, {len(answers)} answers")
        recognizer = get_recognizer()
        turns: list[TurnText] = []
        durations: list[float] = []
        for index, (slot, data) in enumerate(zip(slots, answers), 1):
            raw = data.read_bytes() if isinstance(data, Path) else bytes(data)
            try:
                audio = load_audio(raw, max_seconds=settings.max_audio_seconds, require_speech=False, name=slot.name)
            except AudioError as exc:
                raise AudioError(f"“{scenario.title}”第 {index} 轮的录音无法读取：{exc.user_message}", exc.log_message) from exc
            durations.append(audio.duration)
            if slot.scored:
                transcript = recognizer.transcribe(audio)
            else:
                transcript = Transcript(text="", duration=audio.duration, engine=recognizer.engine, model=recognizer.model_name)
            turns.append(TurnText(transcript, f"turn{index:02d}"))
        result = score_turns(turns, scenario.id, settings, library=library, engine=recognizer.engine, exam=True)
        score = result.to_dict()
        score["exam_turns"] = [slot.timing(i) for i, slot in enumerate(slots, 1)]
        return MarkedAnswer(
            audio=tuple(s.audio for s in slots),
            transcripts=tuple(t.transcript.to_dict() for t in turns),
            durations=tuple(durations),
            score=score,
            engine=recognizer.engine,
            model=recognizer.model_name,
            phrasebook_version=library.version,
        )

    return mark
