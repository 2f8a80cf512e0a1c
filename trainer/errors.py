"""Error types shared by every layer.

Every error the user can cause carries two messages: a Chinese one for the
trainee/instructor (shown in the UI and on the command line) and an English one
for logs. Code that catches a `TrainerError` shows `user_message` and never a
traceback.
"""

from __future__ import annotations


class TrainerError(Exception):
    """Base class for expected, user-facing failures."""

    def __init__(self, user_message: str, log_message: str | None = None) -> None:
        super().__init__(log_message or user_message)
        self.user_message = user_message
        self.log_message = log_message or user_message

    def __str__(self) -> str:
        return f"{self.user_message} ({self.log_message})" if self.log_message != self.user_message else self.user_message


class AudioError(TrainerError):
    """The audio cannot be used: empty, corrupt, unsupported, too long, silent."""


class ModelNotFoundError(TrainerError):
    """A speech model is not installed where the configuration points."""


class RecognizerError(TrainerError):
    """The speech engine failed or is not installed."""


class PhrasebookError(TrainerError):
    """A phrasebook file is invalid."""


class ScenarioNotFoundError(TrainerError):
    """The requested scenario id does not exist in the loaded phrasebooks."""


class SessionStoreError(TrainerError):
    """A session could not be saved, read or indexed."""


class ExamError(TrainerError):
    """An exam paper is invalid or an exam rule was broken."""


class StorageError(TrainerError):
    """The configured storage backend (e.g. the PostgreSQL database) cannot be used."""
