"""What the app keeps per browser session (st.session_state), as plain dataclasses.

`PracticeRun` is the trainee's dialogue in progress: one `TurnAttempt` per answered
step, in step order. A retry replaces a turn in place. The functions taking `state`
accept any mutable mapping, so they work on `st.session_state` and on a dict in tests.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from trainer.sessions.model import utc_now

PRACTICE_RUN = "practice_run"
PENDING_TURN = "pending_turn"  # services.PendingTurn: a recording in the recognition queue


@dataclass
class TurnAttempt:
    index: int  # 1-based: the step this answers
    prompt: str  # the customer's line shown before it
    audio: bytes  # exactly as recorded or uploaded
    audio_name: str
    source: str  # "microphone" | "upload"
    transcript: dict[str, Any]  # Transcript.to_dict()
    seconds: float
    warnings: tuple[str, ...] = ()  # recording-quality hints (Chinese)
    processing_seconds: float = 0.0  # decode + recognise + score
    step_id: str = ""  # the step the customer's line asked for (trainer.dialogue.Cue)
    reaction: str = ""  # why the customer said this line: "<step id>.<kind>", "" = as scripted


@dataclass
class PracticeRun:
    scenario_id: str
    scenario_title: str
    steps_total: int  # turns of the dialogue as far as known: the customer's reactions may add some
    trainee_id: str
    trainee_name: str
    started_at: str = field(default_factory=utc_now)
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    turns: list[TurnAttempt] = field(default_factory=list)
    redo: int | None = None  # a turn being recorded again (1-based), else None
    score: dict[str, Any] | None = None  # score of all turns so far (`trainer score --json` shape)
    last_turn: int | None = None  # the turn whose result is shown
    finished: bool = False
    saved_id: str = ""
    error: str = ""  # the last recording's problem (Chinese), shown until the next recording
    draft_problem: str = ""  # why the progress could not be kept on the server (Chinese), "" when kept
    retries: int = 0
    nonce: int = 0  # bumped after every processed recording: fresh, empty recorder widgets
    processed: set[str] = field(default_factory=set)  # digests of recordings already handled

    @property
    def current(self) -> int:
        """The turn to record next (1-based); steps_total + 1 when every step is answered."""
        return self.redo if self.redo is not None else len(self.turns) + 1

    @property
    def all_answered(self) -> bool:
        return len(self.turns) >= self.steps_total

    @property
    def recorder_key(self) -> str:
        return f"rec-{self.run_id}-{self.current}-{self.nonce}"

    @property
    def uploader_key(self) -> str:
        return f"upl-{self.run_id}-{self.current}-{self.nonce}"

    def put_turn(self, turn: TurnAttempt, score: dict[str, Any] | None) -> None:
        """Add the answer to the current step, or replace the turn being retried."""
        if turn.index != self.current:
            raise ValueError(f"turn {turn.index} given while turn {self.current} is expected")
        if self.redo is not None:
            self.turns[turn.index - 1] = turn
            self.redo = None
        else:
            self.turns.append(turn)
        self.score = score
        self.last_turn = turn.index
        self.nonce += 1

    def start_retry(self, index: int) -> None:
        """Record turn `index` again; its old answer stays until the new one is processed."""
        if not 1 <= index <= len(self.turns) or self.finished:
            raise ValueError(f"cannot retry turn {index}")
        self.redo = index
        self.retries += 1
        self.nonce += 1

    def cancel_retry(self) -> None:
        self.redo = None
        self.nonce += 1


def practice_run(state: MutableMapping[str, Any]) -> PracticeRun | None:
    run = state.get(PRACTICE_RUN)
    return run if isinstance(run, PracticeRun) else None


def start_practice(state: MutableMapping[str, Any], run: PracticeRun) -> PracticeRun:
    state[PRACTICE_RUN] = run
    return run


def end_practice(state: MutableMapping[str, Any]) -> None:
    state.pop(PRACTICE_RUN, None)
