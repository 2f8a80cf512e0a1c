"""Helpers for the exam tests: a small real Library, WAV bytes and a marker with chosen scores.

The marker stands in for the speech pipeline in the unit tests of sealing, verification and
attempts (the end-to-end test in test_exam_e2e.py uses the real recogniser and scorer).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trainer.audio import Audio
from trainer.config import Settings
from trainer.exam.runner import MarkedAnswer
from trainer.phrasebook.model import Library, Scenario, Step

KEY = "unit-test-exam-key-0123456789abcdef"


def step(step_id: str, phrase: str, customer: str = "") -> Step:
    return Step(id=step_id, title=step_id, phrases=(phrase,), customer=customer)


def small_library() -> Library:
    scenarios = {
        "payment": Scenario("payment", "柜台收费", "counter", "客户来交电费。", (
            step("greet", "您好"), step("ask_business", "请问您办理什么业务？", "我来交电费。"), step("farewell", "请慢走，再见！"))),
        "complaint": Scenario("complaint", "投诉处理", "hotline", "客户来电投诉。", (
            step("greet", "您好"), step("apologize", "非常抱歉给您带来不便", "你们怎么搞的！"))),
        "wrong_number": Scenario("wrong_number", "打错电话", "hotline", "客户打错电话。", (
            step("answer_greet", "您好，这里是供电公司"), step("farewell", "再见"))),
        "reception": Scenario("reception", "引导迎送", "guide", "客户进入营业厅。", (
            step("greet_welcome", "您好，欢迎光临"), step("farewell", "请慢走"))),
    }
    return Library(scenarios=scenarios, forbidden=(), version="testlib")


def wav_bytes(seed: int, seconds: float = 0.5) -> bytes:
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal(int(16000 * seconds)) * 3000).astype(np.int16)
    return Audio(samples).to_wav_bytes()


def score_dict(total: float, forbidden: Sequence[str] = (), dims: dict[str, float] | None = None) -> dict[str, Any]:
    dims = dims if dims is not None else {"coverage": total, "order": total, "politeness": total}
    return {
        "scenario": "x",
        "engine": "test",
        "transcript": "您好",
        "turns": [],
        "steps": [{"id": "greet", "status": "hit", "similarity": 1.0, "matched_text": "您好", "turn": 1, "start": 0.0, "end": 0.4, "expected": "您好"}],
        "forbidden": [{"id": f"f{i}", "phrase": p, "matched_text": p, "turn": 1, "start": 0.0, "severity": "major", "suggestion": "您好"} for i, p in enumerate(forbidden)],
        "amounts": None,
        "fluency": {"chars_per_min": 180.0, "fillers": 0, "long_pauses": 0},
        "score": {"total": total, "dimensions": dims},
        "passed": total >= 80 and not forbidden,
        "feedback": [f"总分 {total}"],
    }


class FakeMarker:
    """Marks with fixed score dicts per scenario; transcripts and durations from the audio given."""

    def __init__(self, scores: dict[str, dict[str, Any]] | None = None, default: float = 90.0) -> None:
        self.scores = scores or {}
        self.default = default
        self.calls: list[str] = []

    def __call__(self, scenario: Scenario, answers: Sequence[bytes | Path]) -> MarkedAnswer:
        self.calls.append(scenario.id)
        audio = tuple(a.read_bytes() if isinstance(a, Path) else bytes(a) for a in answers)
        transcripts = tuple({"text": f"{scenario.id} 第{i}段", "words": [], "duration": 0.5, "engine": "test", "model": "fake"} for i, _ in enumerate(audio, 1))
        score = self.scores.get(scenario.id) or score_dict(self.default)
        return MarkedAnswer(audio, transcripts, tuple(0.5 for _ in audio), score, "test", "fake", "testlib")


def settings_for(root: Path, key: str = KEY) -> Settings:
    return dataclasses.replace(Settings(), sessions_dir=root, exam_key=key, pass_mark=80.0)
