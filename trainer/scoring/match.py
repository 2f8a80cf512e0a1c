"""Locate phrasings in a performance: fuzzy alignment on characters and on folded pinyin.

For every pattern, all windows of the pattern's length are scored at once with
rapidfuzz (`process.cdist`, normalised Indel similarity) on the characters and
on the pinyin encoding; a window's similarity is the better of the two, so a
homophone error (清/轻) costs nothing and a near homophone (收/说) half. The
best windows (non-maximum suppression) are then refined: start and end move a
few characters to fit the phrase (the recogniser may have dropped or added
characters), never across a turn boundary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from trainer.phrasebook.model import Step
from trainer.scoring.cues import find_cues
from trainer.scoring.document import Doc, cached_form
from trainer.scoring.patterns import Pattern, compile_phrasing, step_thresholds
from trainer.scoring.result import HIT, PARTIAL
from trainer.text.pinyin import close_sounds, encode

MAX_CANDIDATES = 4  # per pattern


@dataclass(frozen=True)
class Candidate:
    start: int  # [start, end) in Doc.form
    end: int
    similarity: float  # max(char, pinyin)
    char_similarity: float
    pinyin_similarity: float
    pattern: Pattern

    def overlap(self, other: "Candidate") -> int:
        return max(0, min(self.end, other.end) - max(self.start, other.start))


def similarity(pattern: Pattern, doc: Doc, start: int, end: int, *, strict: bool = False) -> tuple[float, float]:
    """(character, pinyin) similarity of the pattern with Doc.form[start:end], 0..1."""
    pin = doc.pin_strict if strict else doc.pin
    pattern_pin = pattern.pin_strict if strict else pattern.pin
    return fuzz.ratio(pattern.form, doc.form[start:end]) / 100.0, fuzz.ratio(pattern_pin, pin[2 * start : 2 * end]) / 100.0


def _refine(pattern: Pattern, doc: Doc, start: int, end: int, strict: bool) -> Candidate:
    """Move start/end a little (coordinate ascent) to the best-fitting span within one turn."""
    start, end = doc.clamp_to_turn(start, end)
    turn = doc.turn_at(start, end)
    lo, hi = doc.turn_range(turn)
    slack = max(1, pattern.length // 3)

    def score(s: int, e: int) -> tuple[float, float, float]:
        c, p = similarity(pattern, doc, s, e, strict=strict)
        return max(c, p), c, p

    best = (start, end, *score(start, end))
    for _ in range(2):
        s0, e0 = best[0], best[1]
        for s in range(max(lo, s0 - slack), min(e0, s0 + slack + 1)):
            if s != s0:
                sc = score(s, e0)
                if sc[0] > best[2] + 1e-9:
                    best = (s, e0, *sc)
        s0 = best[0]
        for e in range(max(s0 + 1, e0 - slack), min(hi, e0 + slack) + 1):
            if e != e0:
                sc = score(s0, e)
                if sc[0] > best[2] + 1e-9:
                    best = (s0, e, *sc)
        if (best[0], best[1]) == (s0, e0):
            break
    s, e, sim, c, p = best
    return Candidate(s, e, sim, c, p, pattern)


def find_candidates(
    patterns: Sequence[Pattern],
    doc: Doc,
    min_similarity: Callable[[Pattern], float],
    *,
    strict: bool = False,
    limit: int = MAX_CANDIDATES,
) -> list[list[Candidate]]:
    """For each pattern, up to `limit` non-overlapping spans with similarity >= min_similarity(pattern)."""
    result: list[list[Candidate]] = [[] for _ in patterns]
    if not doc.form or not patterns:
        return result
    by_length: dict[int, list[int]] = {}
    for i, pattern in enumerate(patterns):
        if pattern.length:
            by_length.setdefault(pattern.length, []).append(i)
    for length, indices in by_length.items():
        windows, pin_windows = doc.windows(length, strict)
        group = [patterns[i] for i in indices]
        chars = process.cdist([p.form for p in group], windows, scorer=fuzz.ratio, dtype=np.uint8)
        pins = process.cdist([p.pin_strict if strict else p.pin for p in group], pin_windows, scorer=fuzz.ratio, dtype=np.uint8)
        scores = np.maximum(chars, pins)
        radius = max(1, length // 2)
        for row, i in enumerate(indices):
            pattern = patterns[i]
            floor = min_similarity(pattern)
            prefilter = int(max(0.0, floor - 0.15) * 100)
            line = scores[row]
            hits = np.nonzero(line >= prefilter)[0]
            if hits.size == 0:
                continue
            order = hits[np.argsort(-line[hits], kind="stable")]
            taken: list[int] = []
            found: list[Candidate] = []
            for pos in order:
                if len(taken) >= limit + 1:
                    break
                if any(abs(int(pos) - t) <= radius for t in taken):
                    continue
                taken.append(int(pos))
                end = min(len(doc.form), int(pos) + length)
                candidate = _refine(pattern, doc, int(pos), end, strict)
                if candidate.similarity >= floor and candidate.end > candidate.start:
                    if not any(c.overlap(candidate) > 0 for c in found):
                        found.append(candidate)
            found.sort(key=lambda c: -c.similarity)
            result[i] = found[:limit]
    return result


def contains_word(doc: Doc, start: int, end: int, word: str, *, strict: bool = False, fuzzy: bool = False) -> bool:
    """Is `word` said within Doc.form[start:end]? Exact characters or exact folded pinyin.

    With `fuzzy`, a word also counts when it sounds close (说 for 收: same
    initial, confusable final), or, for words of two or more characters, when
    one pinyin symbol differs and one character is exactly right (收等 for 稍等).
    """
    return find_word(doc, start, end, word, strict=strict, fuzzy=fuzzy) is not None


def find_word(doc: Doc, start: int, end: int, word: str, *, strict: bool = False, fuzzy: bool = False) -> int | None:
    """Where `word` is first said within Doc.form[start:end] (a Doc.form index), as `contains_word`
    finds it: its characters, then its folded pinyin, then (with `fuzzy`) a close sound."""
    form = cached_form(word)
    if not form:
        return start
    window = doc.form[start:end]
    if form in window:
        return start + window.index(form)
    pin_word = encode(form, strict=strict)
    pin = (doc.pin_strict if strict else doc.pin)[2 * start : 2 * end]
    k = pin.find(pin_word)
    while k >= 0:
        if k % 2 == 0:
            return start + k // 2
        k = pin.find(pin_word, k + 1)
    if fuzzy:
        n = len(form)
        for i in range(0, len(window) - n + 1):
            piece = pin[2 * i : 2 * (i + n)]
            if close_sounds(pin_word, piece):
                return start + i
            if n >= 2 and any(a == b for a, b in zip(form, window[i : i + n])):
                if sum(x != y for x, y in zip(pin_word, piece)) <= 1:
                    return start + i
    return None


@dataclass(frozen=True)
class StepCandidate:
    step_index: int
    status: str  # hit | partial
    candidate: Candidate
    missing_keywords: tuple[str, ...] = ()
    cue: str = ""  # the cue found ("办+什么") when the candidate comes from `Step.cues`

    @property
    def start(self) -> int:
        return self.candidate.start

    @property
    def end(self) -> int:
        return self.candidate.end

    @property
    def similarity(self) -> float:
        return self.candidate.similarity


KEYWORD_PAD = 6  # key words may sit this many characters outside the matched span


def _clause_bounds(doc: Doc, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """[start, end) widened to the clauses it touches (punctuation or a pause), within [lo, hi)."""
    s = start
    while s > lo and not doc.clause_start[s]:
        s -= 1
    e = end
    while e < hi and not doc.clause_start[e]:
        e += 1
    return s, e


def missing_keyword_groups(step: Step, doc: Doc, start: int, end: int) -> tuple[str, ...]:
    """Key word groups of the step not heard around [start, end): same turn, and in the
    same clause or within `KEYWORD_PAD` characters ("麻烦您在这张表上签个名": the fuzzy
    span may stop before 签)."""
    lo, hi = doc.turn_range(doc.turn_at(start, end))
    cs, ce = _clause_bounds(doc, start, end, lo, hi)
    s, e = max(lo, min(cs, start - KEYWORD_PAD)), min(hi, max(ce, end + KEYWORD_PAD))
    missing = []
    for group in step.keywords:
        if not any(contains_word(doc, s, e, word, fuzzy=True) for word in group):
            missing.append("/".join(group))
    return tuple(missing)


_CLAUSE_SPLIT = re.compile(r"[，。！？；：、,.!?;:…\s]+")


def _holds_essentials(step: Step, pattern: Pattern, whole: Pattern) -> bool:
    """A clause can stand for the step when it holds every key word group and every number slot of the phrasing."""
    if not step.keywords and not whole.slots:
        return False
    has_keywords = all(any(cached_form(w) and cached_form(w) in pattern.form for w in group) for group in step.keywords)
    return has_keywords and len(pattern.slots) == len(whole.slots)


def step_patterns(step: Step, fillers: Sequence[str] = ()) -> list[tuple[Pattern, bool]]:
    """(pattern, is_clause) for every phrasing of the step.

    Besides whole phrasings, each clause of a phrasing that holds all the step's
    key words (and its number slots) is a pattern of its own: "您好" performs the
    greeting even when the standard phrasing goes on with "请问有什么可以帮您";
    "找您48元" performs 唱付 without "这是您的发票".
    """
    seen: set[str] = set()
    patterns: list[tuple[Pattern, bool]] = []
    for text in step.all_phrasings:
        pattern = compile_phrasing(text, step.slots, fillers)
        if pattern.form and pattern.form not in seen:
            seen.add(pattern.form)
            patterns.append((pattern, False))
    for text in step.all_phrasings:
        clauses = [c for c in _CLAUSE_SPLIT.split(text) if c]
        if len(clauses) < 2:
            continue
        whole = compile_phrasing(text, step.slots, fillers)
        for clause in clauses:
            pattern = compile_phrasing(clause, step.slots, fillers)
            if len(pattern.form) >= 2 and pattern.form not in seen and _holds_essentials(step, pattern, whole):
                seen.add(pattern.form)
                patterns.append((pattern, True))
    return patterns


# A long phrasing said this closely, with nothing left out, is a hit even if the
# recogniser garbled the one key word it holds (交贴费 for 交电费).
NEAR_VERBATIM = 0.88
NEAR_VERBATIM_LENGTH = 8


CLAUSE_HIT = 0.9  # a single clause of a phrasing must be said nearly verbatim to count as the step


def _status(step: Step, candidate: Candidate, missing: tuple[str, ...], is_clause: bool) -> str:
    hit_threshold = step_thresholds(candidate.pattern.length)[0]
    if is_clause:
        hit_threshold = max(hit_threshold, CLAUSE_HIT)
    if candidate.similarity < hit_threshold:
        if not is_clause and not missing and _close_paraphrase(step, candidate, hit_threshold):
            return HIT
        return PARTIAL
    if not missing:
        return HIT
    if (
        len(missing) == 1
        and candidate.pattern.length >= NEAR_VERBATIM_LENGTH
        and candidate.similarity >= NEAR_VERBATIM
        and candidate.end - candidate.start >= candidate.pattern.length
        and _group_in_pattern(step, missing[0], candidate.pattern)
    ):
        return HIT  # the key word was said but misheard (replaced, not left out)
    return PARTIAL


# A phrasing said in other words but holding every key word group, just under the
# hit threshold ("办什么业务" for 请问您要办理什么业务, 0.667 < 0.7), is a hit: the
# key words carry the step. Steps without key words keep the strict threshold.
CLOSE_PARAPHRASE_MARGIN = 0.08
CLOSE_PARAPHRASE_FLOOR = 0.55


def _close_paraphrase(step: Step, candidate: Candidate, hit_threshold: float) -> bool:
    return bool(step.keywords) and candidate.similarity >= max(CLOSE_PARAPHRASE_FLOOR, hit_threshold - CLOSE_PARAPHRASE_MARGIN) - 1e-9


def _group_in_pattern(step: Step, group_label: str, pattern: Pattern) -> bool:
    for group in step.keywords:
        if "/".join(group) == group_label:
            return any(cached_form(w) and cached_form(w) in pattern.form for w in group)
    return False


# Courtesy words and particles every phrasing has: sharing only these with a phrasing is sharing nothing of the
# step (the 请 of 请出示您的卡 is no part of 请坐).
NOT_CONTENT = frozenset("请您你的了吧啊呢呀哈嘛好")


def _shares_content(pattern: Pattern, doc: Doc, start: int, end: int) -> bool:
    """form[start:end] says at least one of the phrasing's other characters, itself or by its sound (做 for 坐):
    compared by the strict pinyin both already hold, two symbols per character."""
    wanted = {pattern.pin_strict[2 * i : 2 * i + 2] for i, c in enumerate(pattern.form) if c not in NOT_CONTENT}
    said = {doc.pin_strict[2 * k : 2 * k + 2] for k in range(start, end) if doc.form[k] not in NOT_CONTENT}
    return bool(wanted & said)


# Reported similarity of a cue match (and its value in the alignment): the trainee
# performed the step in their own words, not the standard phrasing. Just below the
# lowest hit threshold of a phrasing (`step_thresholds`), so where a phrasing of
# the step is also a hit in a place that fits the order, that one is chosen (its
# slots give the amounts); a cue hit still beats any partial match.
CUE_SIMILARITY = 0.65


def cue_candidates(
    step: Step, index: int, doc: Doc, fillers: Sequence[str] = (), avoid: Sequence[tuple[int, int]] = ()
) -> list[StepCandidate]:
    """Hits from the step's cues (sufficient evidence on their own: no keyword check).

    `avoid`: spans of other steps' hits; a cue overlapping one is also tried on later words.
    """
    out = []
    for cue, start, end in find_cues(step.cues, doc, fillers, avoid):
        candidate = Candidate(start, end, CUE_SIMILARITY, CUE_SIMILARITY, CUE_SIMILARITY, cue.pattern)
        out.append(StepCandidate(index, HIT, candidate, (), cue.text))
    return out


def match_steps(steps: Sequence[Step], doc: Doc, fillers: Sequence[str] = ()) -> list[list[StepCandidate]]:
    """Candidate performances of every step, best first (hit or partial; missed steps get []).

    Candidates come from the step's phrasings (fuzzy similarity, key words
    required for a hit) and from its cues (a cue said is a hit on its own).
    """
    all_patterns: list[Pattern] = []
    owner: list[int] = []
    clause_flags: list[bool] = []
    for index, step in enumerate(steps):
        for pattern, is_clause in step_patterns(step, fillers):
            all_patterns.append(pattern)
            owner.append(index)
            clause_flags.append(is_clause)
    found = find_candidates(all_patterns, doc, lambda p: step_thresholds(p.length)[1])
    per_step: list[list[StepCandidate]] = [[] for _ in steps]
    clause_of = {p.form: is_clause for p, is_clause in zip(all_patterns, clause_flags)}
    for pattern, index, is_clause, candidates in zip(all_patterns, owner, clause_flags, found):
        for candidate in candidates:
            missing = missing_keyword_groups(steps[index], doc, candidate.start, candidate.end)
            status = _status(steps[index], candidate, missing, is_clause)
            if is_clause and status != HIT:
                continue  # a fragment of a phrasing only counts when said nearly verbatim
            if status == PARTIAL and not _shares_content(pattern, doc, candidate.start, candidate.end):
                continue
            per_step[index].append(StepCandidate(index, status, candidate, missing))
    for index, step in enumerate(steps):
        if step.cues:
            others = [(c.start, c.end) for j, per in enumerate(per_step) if j != index for c in per if c.status == HIT]
            per_step[index].extend(cue_candidates(step, index, doc, fillers, others))
    _add_trimmed(steps, doc, per_step, clause_of)
    for index, candidates in enumerate(per_step):
        candidates.sort(key=lambda c: (c.status != HIT, -c.similarity, -c.candidate.pattern.length))
        kept: list[StepCandidate] = []
        for c in candidates:  # phrasings of a step often find the same words: keep one per span
            if not any(_redundant(c, k) for k in kept):
                kept.append(c)
        per_step[index] = kept[: 2 * MAX_CANDIDATES]
    return per_step


def _redundant(c: StepCandidate, kept: StepCandidate) -> bool:
    """`c` adds nothing to `kept`: (nearly) the same words and no narrower.

    A narrower span is kept as an alternative even when a better candidate
    covers it: "您好，请问您办理什么业务" matches a variant with 您好 whole, but the
    greeting claims 您好, and only the clause without it fits the order.
    """
    width, kept_width = c.end - c.start, kept.end - kept.start
    near_same = c.candidate.overlap(kept.candidate) >= 0.8 * max(width, kept_width)
    return near_same and (width >= kept_width or kept.status == HIT and c.status != HIT)


def _trim_options(c: StepCandidate, other: StepCandidate) -> list[tuple[int, int]]:
    """Spans of `c` without the words `other` overlaps at its head or tail (none if nested)."""
    if c.candidate.overlap(other.candidate) == 0:
        return []
    if other.start <= c.start < other.end < c.end:
        return [(other.end, c.end)]
    if c.start < other.start < c.end <= other.end:
        return [(c.start, other.start)]
    return []


def _add_trimmed(steps: Sequence[Step], doc: Doc, per_step: list[list[StepCandidate]], clause_of: dict[str, bool]) -> None:
    """Add, for phrasing candidates that run into another step's hit, the same candidate without those words.

    The refinement lets a span grow over a neighbour's words when that raises the
    similarity a little ("请坐办什么业务" for 请问您要办理什么业务); without the
    neighbour's words the step may still be matched, and then both fit the order.
    """
    hits = [c for per in per_step for c in per if c.status == HIT]
    for index, candidates in enumerate(per_step):
        extra: list[StepCandidate] = []
        seen = {(c.start, c.end, c.candidate.pattern.form) for c in candidates}
        for c in candidates:
            if c.cue:
                continue
            pattern = c.candidate.pattern
            floor = step_thresholds(pattern.length)[1]
            for other in hits:
                if other.step_index == index:
                    continue
                for start, end in _trim_options(c, other):
                    if (start, end, pattern.form) in seen or end - start < 2:
                        continue
                    seen.add((start, end, pattern.form))
                    chars, pin = similarity(pattern, doc, start, end)
                    sim = max(chars, pin)
                    if sim < floor:
                        continue
                    trimmed = Candidate(start, end, sim, chars, pin, pattern)
                    missing = missing_keyword_groups(steps[index], doc, start, end)
                    is_clause = clause_of.get(pattern.form, False)
                    status = _status(steps[index], trimmed, missing, is_clause)
                    if is_clause and status != HIT:
                        continue
                    if status == PARTIAL and not _shares_content(pattern, doc, start, end):
                        continue
                    extra.append(StepCandidate(index, status, trimmed, missing))
        candidates.extend(extra)


PIECE_MIN_CHARS = 4  # a shorter piece of a clause (的话, 好的) carries no step


def _free_clauses(doc: Doc, taken: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Clauses no other step's words touch. In recognised speech, whose clauses are only as good as the
    recogniser's punctuation and pauses, also the pieces of a clause around another step's words."""
    out: list[tuple[int, int]] = []
    for turn in range(len(doc.turns)):
        for start, end in doc.turn_clauses(turn):
            touching = sorted((max(s, start), min(e, end)) for s, e in taken if min(end, e) > max(start, s))
            if not touching:
                if end > start:
                    out.append((start, end))
                continue
            if not doc.timed:
                continue
            k = start
            for s, e in touching:
                if s - k >= PIECE_MIN_CHARS:
                    out.append((k, s))
                k = max(k, e)
            if end - k >= PIECE_MIN_CHARS:
                out.append((k, end))
    return out


def answering_clauses(
    doc: Doc, taken: Sequence[tuple[int, int]], asked: Sequence[str], says: Callable[[int, int], bool]
) -> list[tuple[int, int]]:
    """Clauses on words no other step holds, in a turn answering a customer line that holds one of the
    `asked` words (stage directions included: 都带了，给。（递上身份证）), of which `says(start, end)` holds."""
    if not asked:
        return []
    answering = {turn.index for turn in doc.turns if any(word in turn.customer_line for word in asked)}
    if not answering:
        return []
    return [(start, end) for start, end in _free_clauses(doc, taken) if doc.turn_at(start, end) in answering and says(start, end)]


def keyword_clauses(step: Step, doc: Doc, taken: Sequence[tuple[int, int]] = ()) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(content, trace): clauses on words no other step holds that say every key word group of the
    step in exact words (its purpose carried in the trainee's own words: "服务卡有吗", "坐这儿"), and
    clauses that say at least one of its key words. Weaker evidence than a phrasing or a cue (see
    decide.py for how sure each makes us)."""
    content: list[tuple[int, int]] = []
    trace: list[tuple[int, int]] = []
    if not step.keywords:
        return content, trace
    for start, end in _free_clauses(doc, taken):
        said = [any(contains_word(doc, start, end, word) for word in group) for group in step.keywords]
        if all(said):
            content.append((start, end))
        if any(said):
            trace.append((start, end))
    return content, trace
