"""Assign each step its words in the performance: every step is found wherever it was said.

Each step may have several candidate spans. Three passes:
1. the in-order chain: by dynamic programming, the candidates with the highest
   total value whose spans follow the scenario's order (a weighted longest
   increasing subsequence). It only chooses *among* a step's candidates, so
   that, say, the 找您 that follows 收您 is the one taken for 唱付;
2. every step the chain left without a hit takes its best hit elsewhere, as long
   as those words are not another step's hit; it may take words the chain gave
   to another step's *partial* match (a step said out of order is performed and
   is never lost to a partial guess of a later step), and is marked out of order.
   A step still without a hit may share: when its hit lies inside the words of one
   other step's hit, and that step also has a hit on the rest of those words
   (a wide match of 是来交电费的吧 reaching back over a 您坐 before it), both are performed;
   so are both when that step's match only ran over a clause boundary into the clause where the
   step is said, and keeps a partial match without those words (不是燃气公司 reaching into the
   next sentence's 您打燃气公司的客服电话);
3. steps still without a hit take their best partial candidate on free words.

Two steps can share an utterance (您好，请坐 performs greet and offer_seat) but not
the same words. Order is reported, never used to drop a step: `out_of_order` marks
the performed steps outside the longest run that follows the scenario's order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from trainer.scoring.match import StepCandidate
from trainer.scoring.result import HIT


@dataclass(frozen=True)
class Assignment:
    candidate: StepCandidate | None
    out_of_order: bool = False


TIE_BREAK = 0.001  # too small to outweigh any difference in similarity


def _value(c: StepCandidate, weight: float) -> float:
    """A hit is worth more than any partial. Between equal similarities, the words said as written win over
    words that only sound the same (再见 over 在建, 再讲): pinyin tolerance is for the recogniser's errors."""
    base = (1.0 + c.similarity) if c.status == HIT else 0.5 * c.similarity
    return weight * (base + TIE_BREAK * c.candidate.char_similarity)


def _allowed_overlap(a: StepCandidate, b: StepCandidate) -> int:
    return min(a.end - a.start, b.end - b.start) // 4


def _compatible(before: StepCandidate, after: StepCandidate) -> bool:
    return before.start <= after.start and before.end - _allowed_overlap(before, after) <= after.start


def _clash(a: StepCandidate, b: StepCandidate) -> bool:
    """`a` and `b` say the same words (more than the overlap two steps may share)."""
    return a.candidate.overlap(b.candidate) > _allowed_overlap(a, b)


def _clashes(c: StepCandidate, chosen: Sequence[StepCandidate]) -> bool:
    return any(_clash(c, o) for o in chosen)


def align_steps(
    candidates: Sequence[Sequence[StepCandidate]],
    weights: Sequence[float] | None = None,
    clause_starts: Collection[int] = (),
) -> list[Assignment]:
    """One assignment per step (same order as `candidates`). `clause_starts`: positions where a clause
    begins (punctuation or a pause), used only to let a step take back words a wider match of
    another step reached over a clause boundary for."""
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
    chain: list[StepCandidate] = []
    if flat:
        i = max(range(len(flat)), key=lambda k: best[k])
        while i >= 0:
            chain.append(flat[i])
            i = back[i]
    chosen: list[StepCandidate | None] = [None] * n
    for c in chain:
        if c.status == HIT:
            chosen[c.step_index] = c
    # Pass 2: hits anywhere, best first, on words no other hit holds.
    hits = [c for c in flat if chosen[c.step_index] is None and c.status == HIT]
    hits.sort(key=lambda c: -_value(c, weights[c.step_index]))
    for c in hits:
        if chosen[c.step_index] is None and not _clashes(c, [x for x in chosen if x is not None]):
            chosen[c.step_index] = c
    for c in hits:  # then, for a step still without a hit, another step may give up part of its words
        if chosen[c.step_index] is None:
            _share_words(c, chosen, candidates, weights, clause_starts)
    # Pass 3: partial matches (the chain's first, then the best) on words no hit holds.
    in_chain = {id(c) for c in chain}
    for index, per_step in enumerate(candidates):
        if chosen[index] is None:
            ordered = sorted(per_step, key=lambda c: (id(c) not in in_chain,))
            for c in ordered:
                if not _clashes(c, [x for x in chosen if x is not None]):
                    chosen[index] = c
                    break
    late = _out_of_order([c for c in chosen if c is not None and c.status == HIT])
    return [Assignment(c, out_of_order=c is not None and c.step_index in late) for c in chosen]


def _share_words(
    c: StepCandidate,
    chosen: list[StepCandidate | None],
    candidates: Sequence[Sequence[StepCandidate]],
    weights: Sequence[float],
    clause_starts: Collection[int],
) -> None:
    """A step hit `c` whose words are one other step's hit: when that step also has a hit on part
    of its words that leaves `c`'s free (the 来交电费 of a wide match that reached back over 您坐), or one that
    shares some of its words and runs on past them (地址跟电话 for a 您的+地址 that reached back over 派师傅),
    that step keeps that hit and both are performed. When the other step's words only ran over a clause boundary into
    the clause where `c` lies, a partial match of its own on the rest will do."""
    held = [x for x in chosen if x is not None]
    clashing = [o for o in held if _clash(c, o)]
    if len(clashing) != 1:
        return
    other = clashing[0]
    rest = [x for x in held if x is not other] + [c]
    moves = [
        a
        for a in candidates[other.step_index]
        if a is not other
        and (a.status == HIT or _reaches_into(other, c, clause_starts))
        and (other.start <= a.start and a.end <= other.end or (a.status == HIT and a.start < other.end and other.start < a.end))
        and _across_clauses(c, a, clause_starts)
        and not _clashes(a, rest)
    ]
    if moves:
        chosen[other.step_index] = max(moves, key=lambda a: _value(a, weights[a.step_index]))
        chosen[c.step_index] = c


def _reaches_into(other: StepCandidate, c: StepCandidate, clause_starts: Collection[int]) -> bool:
    """`other`'s words run over a clause boundary into the clause where all of `c`'s lie, and not past it."""
    if other.start < c.start:
        return any(other.start < k <= c.start for k in clause_starts) and other.end <= c.end
    return any(c.end <= k < other.end for k in clause_starts) and c.start <= other.start


def _across_clauses(a: StepCandidate, b: StepCandidate, clause_starts: Collection[int]) -> bool:
    """`a` and `b` lie on two sides of a clause boundary (one ends before a clause start, the other begins after it)."""
    first, second = (a, b) if a.start <= b.start else (b, a)
    return any(first.end <= k <= second.start for k in clause_starts)


def _out_of_order(performed: Sequence[StepCandidate]) -> set[int]:
    """Step indices of the performed steps outside the longest run that follows the scenario's order."""
    ordered = sorted(performed, key=lambda c: c.step_index)
    if not ordered:
        return set()
    length = [1] * len(ordered)
    back = [-1] * len(ordered)
    for i, c in enumerate(ordered):
        for j in range(i):
            if _compatible(ordered[j], c) and length[j] + 1 > length[i]:
                length[i], back[i] = length[j] + 1, j
    i = max(range(len(ordered)), key=lambda k: length[k])
    keep: set[int] = set()
    while i >= 0:
        keep.add(ordered[i].step_index)
        i = back[i]
    return {c.step_index for c in ordered} - keep
