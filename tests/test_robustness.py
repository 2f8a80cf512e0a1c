"""Robustness without audio: the phrasebook's own phrasings with recogniser-like noise (seeded).

Measured on the shipped phrasebooks (numbers in the report of `python -m trainer.evaluation.noise`-style
runs; see benchmarks/README.md). The floors leave a margin for phrasebook edits.
"""

from __future__ import annotations

import random

import pytest

from trainer.config import Settings
from trainer.evaluation.noise import corrupt, homophones_of, robustness
from trainer.pipeline import load_library

# rate -> (step recall, forbidden recall) floors; false alarms must stay near zero at every level
FLOORS = {0.1: (0.93, 0.85), 0.2: (0.88, 0.75), 0.3: (0.8, 0.5)}
MAX_STEP_FALSE_ALARMS = 0.005
MAX_FORBIDDEN_FALSE_ALARMS = 0.01


def test_corrupt_is_seeded_and_recogniser_like() -> None:
    text = "这是您的发票和找您的四十八元，请点清收好。"
    a = corrupt(text, 0.3, random.Random(7))
    b = corrupt(text, 0.3, random.Random(7))
    assert a == b and a != text
    assert corrupt(text, 0.0, random.Random(7)) == text
    assert "轻" in homophones_of("清") or "青" in homophones_of("清")


@pytest.fixture(scope="module")
def levels():  # type: ignore[no-untyped-def]
    return robustness(load_library(Settings()), tuple(FLOORS), seed=1234)


def test_detection_recall_and_false_alarms_per_noise_level(levels) -> None:  # type: ignore[no-untyped-def]
    table = "\n".join(str(level.to_dict()) for level in levels)
    for level in levels:
        step_floor, forbidden_floor = FLOORS[level.rate]
        assert level.step_trials > 100 and level.forbidden_trials > 30, table
        assert level.step_recall >= step_floor, table
        assert level.forbidden_recall >= forbidden_floor, table
        assert level.step_false_alarm_rate <= MAX_STEP_FALSE_ALARMS, table
        assert level.forbidden_false_alarm_rate <= MAX_FORBIDDEN_FALSE_ALARMS, table
    recalls = [level.step_recall for level in levels]
    assert recalls == sorted(recalls, reverse=True), table  # more noise, fewer detections
