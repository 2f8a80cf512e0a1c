"""Stored practice and exam sessions: folders on disk, an SQLite index, reviews and exports."""

from trainer.sessions.model import (
    KIND_LABELS,
    KINDS,
    SessionFilter,
    SessionRecord,
    SessionSummary,
    StepRow,
    StepStat,
    TurnRecord,
    canonical_json,
    new_session_id,
    utc_now,
)
from trainer.sessions.review import Review, StepVerdict, review_now
from trainer.sessions.store import CorruptSession, ReindexReport, SessionStore, turn_records

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "CorruptSession",
    "ReindexReport",
    "Review",
    "SessionFilter",
    "SessionRecord",
    "SessionStore",
    "SessionSummary",
    "StepRow",
    "StepStat",
    "StepVerdict",
    "TurnRecord",
    "canonical_json",
    "new_session_id",
    "review_now",
    "turn_records",
    "utc_now",
]
