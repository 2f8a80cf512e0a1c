"""Monotonic alignment of steps across the whole performance.

Each step may have several candidate spans. We pick, by dynamic programming,
the set of candidates with the highest total value whose spans follow the
scenario's order (a weighted longest increasing subsequence): step i before
step j in the scenario means its span ends (nearly) before step j's begins.
Two steps can share an utterance (您好，请坐 performs greet and offer_seat) but
not the same words. A step performed outside that order is kept and marked
out of order, as long as its words are not already claimed by an in-order step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trainer.scoring.match import StepCandidate
from trainer.scoring.result import HIT


@dataclass(frozen=True)
class Assignment:
    candidate: StepCandidate | None
    out_of_order: bool = False


def _value(c: StepCandidate, weight: float) -> float:
    return weight * ((1.0 + c.similarity) if c.status == HIT else 0.5 * c.similarity)


def _allowed_overlap(a: StepCandidate, b: StepCandidate) -> int:
    return min(a.end - a.start, b.end - b.start) // 4


def _compatible(before: StepCandidate, after: StepCandidate) -> bool:
    return before.start <= after.start and before.end - _allowed_overlap(before, after) <= after.start


def _clashes(c: StepCandidate, chosen: Sequence[StepCandidate]) -> bool:
    return any(c.candidate.overlap(o.candidate) > _allowed_overlap(c, o) for o in chosen)


def align_steps(candidates: Sequence[Sequence[StepCandidate]], weights: Sequence[float] | None = None) -> list[Assignment]:
    """One assignment per step (same order as `candidates`)."""
    n = len(candidates)
    weights = list(weights) if weights is not None else [1.0] * n
    flat = [c for per_step in candidates for c in per_step]
    flat.sort(key=lambda c: (c.step_index, c.start))
    best = [0.0] * len(flat)
    back = [-1] * len(flat)
    for i, c in enumerate(flat):
        best[i] = _value(c, weights[c.step_index])
        for j in range(i):
            p = flat[j]
            if p.step_index < c.step_index and _compatible(p, c):
                total = best[j] + _value(c, weights[c.step_index])
                if total > best[i]:
                    best[i], back[i] = total, j
    result = [Assignment(None) for _ in range(n)]
    chain: list[StepCandidate] = []
    if flat:
        i = max(range(len(flat)), key=lambda k: best[k])
        while i >= 0:
            chain.append(flat[i])
            i = back[i]
    for c in chain:
        result[c.step_index] = Assignment(c)
    # Steps left out of the ordered chain: performed elsewhere (out of order) if their words are free.
    claimed = list(chain)
    leftovers = [c for c in flat if result[c.step_index].candidate is None and c.status == HIT]
    leftovers.sort(key=lambda c: -_value(c, weights[c.step_index]))
    for c in leftovers:
        if result[c.step_index].candidate is None and not _clashes(c, claimed):
            result[c.step_index] = Assignment(c, out_of_order=True)
            claimed.append(c)
    # Still unassigned: the best partial candidate anywhere that does not steal claimed words.
    for index, per_step in enumerate(candidates):
        if result[index].candidate is None:
            for c in per_step:
                if not _clashes(c, claimed):
                    result[index] = Assignment(c, out_of_order=False)
                    break
    return result
