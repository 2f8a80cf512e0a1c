"""Reproducible per-candidate draw of exam questions.

The seed is HMAC-SHA256(exam key, paper id | paper version | candidate id): the same candidate
always gets the same questions for the same paper version, different candidates get different
draws, and nobody without the exam key can work out in advance which scenarios a candidate will
get. Each pool scenario is ranked by sha256(seed | scenario id); the `draw` best ranked are taken
and asked in pool order. The method only uses hashing, so it does not depend on the Python
version's random module. The draw is recorded (and sealed) with every exam.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

from trainer.exam.paper import Paper

DRAW_METHOD = "hmac-sha256-rank-v1"


@dataclass(frozen=True)
class Draw:
    paper_id: str
    paper_version: int
    candidate_id: str
    method: str  # DRAW_METHOD, or "fixed" for a fixed question list
    seed: str  # hex HMAC (empty for a fixed list)
    pool: tuple[str, ...]
    count: int
    scenarios: tuple[str, ...]  # the questions, in the order they are asked

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pool"] = list(self.pool)
        data["scenarios"] = list(self.scenarios)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Draw":
        return cls(
            paper_id=data["paper_id"],
            paper_version=int(data["paper_version"]),
            candidate_id=data["candidate_id"],
            method=data["method"],
            seed=data["seed"],
            pool=tuple(data["pool"]),
            count=int(data["count"]),
            scenarios=tuple(data["scenarios"]),
        )


def draw_seed(key: bytes, paper: Paper, candidate_id: str) -> str:
    message = json.dumps([paper.id, paper.version, candidate_id], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def draw_questions(paper: Paper, candidate_id: str, key: bytes) -> Draw:
    """The questions `candidate_id` answers on `paper` (fixed list, or drawn from the pool)."""
    if not paper.is_drawn:
        return Draw(paper.id, paper.version, candidate_id, "fixed", "", paper.questions, len(paper.questions), paper.questions)
    seed = draw_seed(key, paper, candidate_id)
    ranked = sorted(paper.pool, key=lambda s: hashlib.sha256(f"{seed}|{s}".encode()).hexdigest())
    chosen = set(ranked[: paper.draw])
    scenarios = tuple(s for s in paper.pool if s in chosen)
    return Draw(paper.id, paper.version, candidate_id, DRAW_METHOD, seed, paper.pool, paper.draw, scenarios)


def check_draw(draw: Draw, paper: Paper, key: bytes) -> bool:
    """True when a recorded draw is exactly what the paper and key produce for that candidate."""
    return draw_questions(paper, draw.candidate_id, key) == draw
