"""Fluency from word timings: speaking rate (字/分钟), fillers, long pauses.

- Rate: normalised characters (fillers excluded) over speaking time; speaking
  time runs from the first to the last word of each turn, minus pauses longer
  than the lexicon's `long_pause_seconds` (a long silence is not slow speech).
- Fillers: 嗯、呃… (and multi-character ones standing alone), per the lexicon.
- Long pauses: silences between words of one turn longer than the threshold.
Without timings (typed text) the rate is 0.0 and `timed` is False.
"""

from __future__ import annotations

from trainer.phrasebook.model import Lexicon
from trainer.scoring.document import Doc
from trainer.scoring.result import Fluency


def measure_fluency(doc: Doc, lexicon: Lexicon) -> Fluency:
    filler_words = tuple(f.text for turn in doc.turns for f in turn.norm.fillers)
    chars = sum(len(turn.norm.text) for turn in doc.turns)
    speaking = 0.0
    long_pauses = 0
    timed = False
    for turn in doc.turns:
        words = [w for w in turn.transcript.words if w.text.strip()]
        if not words:
            continue
        timed = True
        span = max(0.0, words[-1].end - words[0].start)
        for before, after in zip(words, words[1:]):
            gap = after.start - before.end
            if gap > lexicon.long_pause_seconds:
                long_pauses += 1
                span -= gap
        speaking += max(0.0, span)
    rate = chars / (speaking / 60.0) if timed and speaking > 0 else 0.0
    return Fluency(
        chars_per_min=rate,
        fillers=len(filler_words),
        long_pauses=long_pauses,
        speaking_seconds=speaking,
        filler_words=filler_words,
        timed=timed,
    )


def fluency_score(fluency: Fluency, lexicon: Lexicon) -> float | None:
    """0..100, or None without timings. Rate inside the band is full marks; fillers and long pauses cost."""
    if not fluency.timed or fluency.speaking_seconds <= 0:
        return None
    score = 100.0
    rate = fluency.chars_per_min
    if rate < lexicon.rate_min:
        score -= min(40.0, (lexicon.rate_min - rate) / lexicon.rate_min * 100.0)
    elif rate > lexicon.rate_max:
        score -= min(40.0, (rate - lexicon.rate_max) / lexicon.rate_max * 100.0)
    minutes = max(fluency.speaking_seconds / 60.0, 0.25)
    fillers_per_minute = fluency.fillers / minutes
    score -= min(30.0, max(0.0, fillers_per_minute - 2.0) * 5.0)
    score -= min(30.0, fluency.long_pauses * 10.0)
    return max(0.0, score)
