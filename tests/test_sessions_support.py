"""Builders shared by the session-store tests (no tests here).

Score dicts follow the `trainer score --json` shape of issue 4; they are built by hand so the
store tests do not depend on the scoring engine.
"""

from __future__ import annotations

import io
import math
import os
import time
import wave
from pathlib import Path
from typing import Any

from trainer.sessions import SessionRecord, SessionStore, TurnRecord

# The 收费六步 of a payment at the counter: (step id, expected phrase, turn, customer line before it).
PAYMENT_STEPS = (
    ("greet", "您好，请问您办理什么业务？", 1, "你好，我来交电费。"),
    ("seat", "请坐。", 1, ""),
    ("confirm", "请您核对一下户号和金额。", 2, "户号是一三一一五。"),
    ("receive", "收您100元。", 2, ""),
    ("change", "找您48元，请收好。", 3, "好的，给你一百。"),
    ("farewell", "请慢走，欢迎再来。", 3, "谢谢。"),
)


def wav_bytes(seconds: float = 0.3, freq: float = 440.0, rate: int = 16000) -> bytes:
    """A short real PCM WAV (a sine tone), distinct per frequency."""
    frames = int(seconds * rate)
    samples = bytearray()
    for n in range(frames):
        value = int(8000 * math.sin(2 * math.pi * freq * n / rate))
        samples += value.to_bytes(2, "little", signed=True)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return buf.getvalue()


def make_score(
    statuses: dict[str, str] | None = None,
    total: float = 86.5,
    passed: bool = True,
    forbidden: list[dict[str, Any]] | None = None,
    engine: str = "whisper",
) -> dict[str, Any]:
    statuses = statuses or {}
    steps = []
    for step_id, expected, turn, _ in PAYMENT_STEPS:
        status = statuses.get(step_id, "hit")
        steps.append({
            "id": step_id,
            "status": status,
            "similarity": {"hit": 0.96, "partial": 0.71, "missed": 0.0}[status],
            "matched_text": "" if status == "missed" else expected.rstrip("。？"),
            "turn": None if status == "missed" else turn,
            "start": None if status == "missed" else 0.4,
            "end": None if status == "missed" else 1.6,
            "expected": expected,
        })
    return {
        "scenario": "payment",
        "engine": engine,
        "transcript": "您好请问您办理什么业务请坐请您核对一下户号和金额收您100元找您48元请收好请慢走欢迎再来",
        "turns": [
            {"file": f"turn{i:02d}.wav", "text": text, "start": 0.0, "end": 2.5}
            for i, text in enumerate(("您好请问您办理什么业务请坐", "请您核对一下户号和金额收您100元", "找您48元请收好请慢走欢迎再来"), 1)
        ],
        "steps": steps,
        "forbidden": forbidden or [],
        "amounts": {"bill": 52, "received": 100, "change": 48, "consistent": True},
        "fluency": {"chars_per_min": 212.0, "fillers": 1, "long_pauses": 0},
        "score": {
            "total": total,
            "dimensions": {"coverage": 90.0, "order": 100.0, "forbidden": 100.0, "politeness": 80.0, "amounts": 100.0, "fluency": 75.0},
        },
        "passed": passed,
        "feedback": [f"漏说“{e}”" for s, e, _, _ in PAYMENT_STEPS if statuses.get(s) == "missed"],
    }


def make_turns(n: int = 3) -> tuple[TurnRecord, ...]:
    prompts = ["你好，我来交电费。", "户号是一三一一五。", "好的，给你一百。"]
    texts = ["您好 请问 您 办理 什么 业务 请坐", "请您 核对 一下 户号 和 金额 收您 一百 元", "找您 四十八 元 请 收好 请 慢走"]
    turns = []
    for i in range(n):
        words = [{"text": w, "start": 0.3 * k, "end": 0.3 * k + 0.25, "confidence": 0.9} for k, w in enumerate(texts[i % 3].split())]
        transcript = {"text": texts[i % 3].replace(" ", ""), "words": words, "duration": 2.5, "engine": "whisper", "model": "whisper-base"}
        turns.append(TurnRecord(index=i + 1, prompt=prompts[i % 3], transcript=transcript))
    return tuple(turns)


def make_record(
    trainee_id: str = "E1024",
    trainee_name: str = "张三",
    started_at: str = "2026-11-23T06:30:15Z",
    kind: str = "practice",
    scenario_id: str = "payment",
    score: dict[str, Any] | None = None,
    turns: int = 3,
    extra: dict[str, Any] | None = None,
) -> SessionRecord:
    return SessionRecord(
        kind=kind,
        trainee_id=trainee_id,
        trainee_name=trainee_name,
        scenario_id=scenario_id,
        scenario_title="营业厅收费（唱收唱付）" if scenario_id == "payment" else f"场景 {scenario_id}",
        started_at=started_at,
        finished_at=started_at[:-3] + "59Z",
        turns=make_turns(turns),
        score=make_score() if score is None else score,
        phrasebook_version="2026.11-test",
        engine="whisper",
        model="whisper-base",
        extra=extra or {},
    )


def audio_for(record: SessionRecord, base_freq: float = 300.0) -> list[bytes]:
    return [wav_bytes(0.2, base_freq + 50 * i) for i in range(len(record.turns))]


def save_many(root: str, worker: int, count: int) -> list[str]:
    """multiprocessing target: save `count` sessions from one process, return their ids."""
    store = SessionStore(Path(root))
    ids = []
    for n in range(count):
        record = make_record(trainee_id=f"W{worker}", trainee_name=f"学员{worker}", started_at="2026-11-23T06:30:15Z",
                             score=make_score(total=float(50 + n), passed=n % 2 == 0))
        ids.append(store.save(record, audio_for(record, 200.0 + worker * 10 + n)).id)
        time.sleep(0.001 * (os.getpid() % 3))
    return ids


def reindex_loop(root: str, rounds: int) -> int:
    """multiprocessing target: rebuild the index and list sessions repeatedly while others save."""
    store = SessionStore(Path(root))
    seen = 0
    for _ in range(rounds):
        store.reindex()
        seen = len(store.list())
        time.sleep(0.01)
    return seen
