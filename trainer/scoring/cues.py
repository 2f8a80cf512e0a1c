"""Cues: short word sequences that alone prove a step was performed (`Step.cues`, e.g. "办+什么").

A cue is found when all its words are said in one turn, in order, each word
starting at most `CUE_GAP` characters (of the matching form) after the end of
the previous one; a one-character word (坐, 吧, 您) is in the sentence of the word next to
it (坐坐坐。新装是吧 is no 坐+吧, 坐。户号报一下 no 坐+一下), longer words may reach over a
sentence end (您好！供电局 is 您好+供电局).
Words are compiled like transcript text (normalised, numbers collapsed). A word of two or more characters is found by its characters or by
its folded pinyin at a character boundary (homophones and the confusable
initials/finals tolerated, as for phrasings); a 1-character word only by its
exact character — one syllable alone is too easy to hear by chance — and so is a
word written "=word" (=再会: not 再回来, which sounds the same). A cue written "…好" is
the performance's opening clause: an address of 1-3 characters (any name or kin term:
张叔好, 刘姐好, 大家好) and then the word, exactly. In recognised
speech (a Doc with word timings), a cue made of 1-character words said without a
gap is also found by its joined pinyin, like a word of that length (您做 for 您+坐); and in a cue that
also holds a longer word, a 1-character word is found by its sound or as the recogniser writes it
(你 for 您: 你要办点 is 您+办点).

Pure functions over a `Doc`; the matcher turns the spans into step candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from bisect import bisect_left
from functools import lru_cache

import jieba.posseg

from trainer.phrasebook.model import CUE_ADDRESS, CUE_EXACT, CUE_GAP, CUE_SEPARATOR
from trainer.scoring.document import NUMBER, SENTENCE_END, TURN_SEPARATOR, Doc, cached_form, starts_of, syllable_starts
from trainer.scoring.patterns import Pattern
from trainer.text.pinyin import encode

MAX_CUE_SPANS = 4  # per cue and turn is plenty: the alignment needs alternatives, not every repetition


@dataclass(frozen=True)
class CueWord:
    form: str  # matching form
    pin: str  # folded pinyin, two symbols per character ("" for 1-character words and "=" words: exact only)
    marked_exact: bool = False  # written "=word" in the phrasebook


@dataclass(frozen=True)
class CompiledCue:
    text: str  # as written in the phrasebook ("办+什么")
    words: tuple[CueWord, ...]
    pattern: Pattern  # the words run together, for candidates and display
    opening: bool = False  # "…好": the performance's opening clause, an address and then the word


@lru_cache(maxsize=4096)
def compile_cue(text: str, fillers: tuple[str, ...] = ()) -> CompiledCue | None:
    """The cue's words in matching form; None when a word normalises to nothing (e.g. only punctuation)."""
    if text.startswith(CUE_ADDRESS):
        form = cached_form(text.removeprefix(CUE_ADDRESS), fillers)
        if not form:
            return None
        pattern = Pattern(text=text, form=form, pin=encode(form), pin_strict=encode(form, strict=True))
        return CompiledCue(text, (CueWord(form, "", True),), pattern, opening=True)
    words: list[CueWord] = []
    for raw in text.split(CUE_SEPARATOR):
        word = raw.strip()
        exact = word.startswith(CUE_EXACT)
        form = cached_form(word.removeprefix(CUE_EXACT), fillers)
        if not form:
            return None
        words.append(CueWord(form, encode(form) if len(form) >= 2 and not exact else "", exact))
    joined = "".join(w.form for w in words)
    pattern = Pattern(text=text, form=joined, pin=encode(joined), pin_strict=encode(joined, strict=True))
    return CompiledCue(text, tuple(words), pattern)


# What a recogniser writes for a one-character cue word that it hears but spells otherwise (whisper-base
# writes 你 for 您 more often than not: 你要办点啥 for 您要办点啥).
WRITTEN_FOR = {"您": "你"}


def _occurrences(word: CueWord, doc: Doc, heard_alike: bool = False) -> list[int]:
    """Start positions of `word` in Doc.form (characters, or folded pinyin for 2+ characters), within one
    turn. `heard_alike`: a one-character word (not written "=") also where a character of the same strict
    pinyin stands, or the character a recogniser writes for it (`WRITTEN_FOR`)."""
    n = len(word.form)
    found: set[int] = set()
    if heard_alike and n == 1 and not word.marked_exact:
        found.update(doc.sounding(encode(word.form, strict=True)))
        for written in WRITTEN_FOR.get(word.form, ""):  # 你 written for 您
            found.update(starts_of(doc.form, written))
    found.update(starts_of(doc.form, word.form))
    if word.pin:
        found.update(k for k in syllable_starts(doc.pin, word.pin) if doc.turn_of[k] == doc.turn_of[k + n - 1])
    return sorted(found)


def _spans(words: Sequence[CueWord], occurrences: Sequence[list[int]], doc: Doc) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) spans where the words are said in order within one turn, leftmost first.

    For each start of the first word, the shortest completion is kept: each later
    word is placed at the earliest occurrence that keeps the rest reachable.
    """
    spans: list[tuple[int, int]] = []
    last_end = -1
    per_turn: dict[int, int] = {}
    for first in occurrences[0]:
        turn = doc.turn_of[first]
        if first < last_end or per_turn.get(turn, 0) >= MAX_CUE_SPANS:
            continue
        end = _complete(words, occurrences, 1, first + len(words[0].form), doc)
        if end is not None and doc.turn_of[end - 1] == turn and TURN_SEPARATOR not in doc.form[first:end]:
            spans.append((first, end))
            last_end = end
            per_turn[turn] = per_turn.get(turn, 0) + 1
    return spans


def _overlaps(start: int, end: int, avoid: Sequence[tuple[int, int]]) -> bool:
    return any(min(end, e) > max(start, s) for s, e in avoid)


def find_cue(
    cue: CompiledCue, doc: Doc, turn: int | None = None, avoid: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """Spans in Doc.form where the cue is said (within one turn; only in `turn` when given).

    Word occurrences overlapping an `avoid` span (words another step already
    claims) are not used, so a later occurrence of the word can anchor the cue.
    """
    if cue.opening:
        spans = [(s, e) for s, e in _opening(cue.words[0].form, doc) if not _overlaps(s, e, avoid)]
    else:
        # in recognised speech a one-character word may be heard as a character of the same sound (哪里在想
        # for 哪里在响), when a longer word of the cue anchors it
        heard_alike = doc.timed and any(len(w.form) >= 2 for w in cue.words)
        occurrences = [
            [k for k in _occurrences(word, doc, heard_alike) if not _overlaps(k, k + len(word.form), avoid)] for word in cue.words
        ]
        spans = _spans(cue.words, occurrences, doc) if all(occurrences) else []
        if doc.timed and len(cue.words) > 1 and all(len(w.form) == 1 and not w.marked_exact for w in cue.words):
            spans = _joined(cue, doc, spans, avoid)
    return spans if turn is None else [(s, e) for s, e in spans if doc.turn_of[s] == turn]


@lru_cache(maxsize=1024)
def _ends_in_a_verb_or_adverb(text: str) -> bool:
    """The last word of `text` is a verb or an adverb (走好, 您走好, 准备好, 都好): not an address."""
    words = jieba.posseg.lcut(text, HMM=False)
    return bool(words) and words[-1].flag[:1] in ("v", "d")


# Characters that end no address: 那好, 还好, 挺好, 坐好, 拿好 and 好好 open no greeting.
NOT_AN_ADDRESS = frozenset("那还也都很挺真太就不没最正刚只说搞弄做办坐站拿收放好")
ADDRESS_MAX = 3  # characters of a name or kin term: 张叔, 刘姐, 王老师, 大家


def _opening(word: str, doc: Doc) -> list[tuple[int, int]]:
    """The performance's opening clause (the first of two or more characters: 哎 alone is passed over)
    when it is an address of 1-`ADDRESS_MAX` characters and then `word` (张叔好 for "…好")."""
    if not doc.turns:
        return []
    for start, end in doc.turn_clauses(0):
        if end - start < 2:
            continue
        address = doc.form[start : end - len(word)]
        said = doc.form[start:end].endswith(word) and 1 <= len(address) <= ADDRESS_MAX
        if said and address[-1] not in NOT_AN_ADDRESS and NUMBER not in address and not _ends_in_a_verb_or_adverb(address):
            return [(start, end)]
        return []
    return []


def _joined(cue: CompiledCue, doc: Doc, spans: list[tuple[int, int]], avoid: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """In recognised speech, a cue of one-character words said without a gap is also found by its joined
    pinyin, as a word of that length is (您做 heard for 您坐). Typed text is taken as written."""
    whole = CueWord(cue.pattern.form, cue.pattern.pin)
    n = len(whole.form)
    out = list(spans)
    for start in _occurrences(whole, doc):  # within one turn, at a character boundary
        if not _overlaps(start, start + n, [*avoid, *out]):
            out.append((start, start + n))
    return sorted(out)


def _complete(words: Sequence[CueWord], occurrences: Sequence[list[int]], k: int, previous_end: int, doc: Doc) -> int | None:
    """End of the earliest placement of words[k:] after `previous_end` (None if impossible)."""
    if k == len(words):
        return previous_end
    occ = occurrences[k]
    for start in occ[bisect_left(occ, previous_end) :]:
        if start - previous_end > CUE_GAP:
            break
        if _lone_character_over_a_sentence_end(words[k - 1], words[k], doc, previous_end, start):
            continue
        end = _complete(words, occurrences, k + 1, start + len(words[k].form), doc)
        if end is not None:
            return end
    return None


def _lone_character_over_a_sentence_end(before: CueWord, after: CueWord, doc: Doc, gap_start: int, gap_end: int) -> bool:
    """Two cue words in different sentences, one of them a single character (not a number): one character
    is too common to reach over a sentence end for (坐坐坐。新装是吧 is no 坐+吧, 坐。户号报一下 no 坐+一下, 您好，
    交电费？您坐 no 您+坐 from the 您 of 您好). Words of two or more characters may (您好！供电局 is 您好+供电局,
    二百元。收了 is 二百+收了)."""
    lone = any(len(word.form) == 1 and word.form != NUMBER for word in (before, after))
    return lone and SENTENCE_END.search(doc.span_text(gap_start - 1, gap_end + 1)) is not None


def find_cues(
    cues: Sequence[str], doc: Doc, fillers: Sequence[str] = (), avoid: Sequence[tuple[int, int]] = ()
) -> list[tuple[CompiledCue, int, int]]:
    """Every (cue, start, end) found in the performance.

    Where a span found overlaps an `avoid` span (another step's hit: "您好，您要办什么"
    anchors 您+办+什么 on the 您 of the greeting), the cue is also looked for
    without the avoided words, and those spans are added as alternatives.
    """
    out: list[tuple[CompiledCue, int, int]] = []
    key = tuple(fillers)
    for text in cues:
        cue = compile_cue(text, key)
        if cue is None:
            continue
        spans = find_cue(cue, doc)
        if avoid and any(_overlaps(s, e, avoid) for s, e in spans):
            spans = spans + [span for span in find_cue(cue, doc, avoid=avoid) if span not in spans]
        out.extend((cue, s, e) for s, e in spans)
    return out
