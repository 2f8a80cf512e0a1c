"""Phrasebooks: the standard-phrase library and the forbidden-phrase list, loaded from data files."""

from trainer.phrasebook.loader import check_paths, library_from_settings, load_library
from trainer.phrasebook.model import (
    ForbiddenEntry,
    Lexicon,
    Library,
    PhrasebookProblem,
    Scenario,
    Slot,
    Step,
)

__all__ = [
    "ForbiddenEntry",
    "Lexicon",
    "Library",
    "PhrasebookProblem",
    "Scenario",
    "Slot",
    "Step",
    "check_paths",
    "library_from_settings",
    "load_library",
]
