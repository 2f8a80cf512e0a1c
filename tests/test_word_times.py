"""Word starts settled on the audio (trainer.asr.word_times): a pause is a gap between words again."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.asr.base import Transcript, Word
from trainer.asr.word_times import settle_word_starts
from trainer.audio import SAMPLE_RATE, Audio
from trainer.config import Settings
from trainer.pipeline import score_turns
from trainer.scoring.document import TurnText


def recording(*spans: tuple[float, float], seconds: float = 2.0) -> Audio:
    """Quiet noise, with a loud tone over each (start, end) span in seconds."""
    rng = np.random.default_rng(7)
    samples = rng.normal(0.0, 30.0, int(seconds * SAMPLE_RATE))
    t = np.arange(len(samples)) / SAMPLE_RATE
    for start, end in spans:
        inside = (t >= start) & (t < end)
        samples[inside] += 8000.0 * np.sin(2 * np.pi * 220.0 * t[inside])
    return Audio(samples.astype(np.int16))


# 不知道。您是哪儿的？ as whisper times it: 您 from the end of 不知道, over the pause
WORDS = (Word("不知道", 0.0, 0.4), Word("您", 0.4, 1.06), Word("是", 1.06, 1.3), Word("哪", 1.3, 1.6), Word("儿", 1.6, 1.85), Word("的", 1.85, 1.96))
SPOKEN = recording((0.0, 0.4), (0.9, 1.96))


def test_a_word_starts_where_its_speech_starts() -> None:
    settled = settle_word_starts(Transcript(text="不知道您是哪儿的", words=WORDS), SPOKEN)
    starts = [w.start for w in settled.words]
    assert starts[1] == pytest.approx(0.9, abs=0.03)
    assert starts[:1] + starts[2:] == [w.start for w in WORDS[:1] + WORDS[2:]]
    assert [w.end for w in settled.words] == [w.end for w in WORDS]
    assert settle_word_starts(settled, SPOKEN) == settled  # idempotent


@pytest.mark.parametrize(
    "audio",
    [
        pytest.param(recording((0.0, 1.96)), id="no pause"),
        pytest.param(recording(), id="silence only"),
        pytest.param(recording((0.0, 0.4), (0.52, 1.96)), id="a pause shorter than a word's silence"),
        pytest.param(Audio(np.zeros(0, dtype=np.int16)), id="empty"),
        pytest.param(Audio(np.full(100, 5000, dtype=np.int16)), id="shorter than a frame"),
    ],
)
def test_words_without_silence_in_them_keep_their_times(audio: Audio) -> None:
    transcript = Transcript(text="不知道您是哪儿的", words=WORDS)
    assert settle_word_starts(transcript, audio) == transcript


def test_the_pause_ends_the_clause_again() -> None:
    """不知道 alone in its clause is the brush-off; run into 您是哪儿的 it is a polite 不知道您…."""
    raw = Transcript(text="不知道您是哪儿的", words=WORDS, duration=2.0, engine="whisper")
    said = [score_turns([TurnText(t)], "outage_enquiry", Settings(), engine="whisper").forbidden for t in (raw, settle_word_starts(raw, SPOKEN))]
    assert [[h.id for h in hits] for hits in said] == [[], ["dont_know"]]
