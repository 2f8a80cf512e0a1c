"""Word start times that do not lie in silence: pure, numpy only.

Whisper stretches a word back over the pause before it: in 不知道。您是哪儿的？ it times 您 from the end of 不知道,
so the half-second pause between the two sentences shows as no gap at all, and the matcher, which starts a new
clause at a pause between words (`document.CLAUSE_PAUSE_SECONDS`), reads one clause 不知道您是哪儿的. Whisper also
often drops the full stop there. `settle_word_starts` moves each word's start past the silence it opens with, so
the pause is a gap between words again.

Silence is judged on the recording itself: a 20 ms frame whose level is less than `SPEECH_ABOVE_FLOOR_DB` above
the recording's noise floor (the level that `FLOOR_PERCENTILE` % of its frames stay under). Only a silence of at
least `MIN_SILENCE_SECONDS` counts (a stop consonant's closure is shorter), and a word keeps at least one frame.
Settling is idempotent: a settled word starts on speech and is left as it is.

Measured on the whisper-base transcripts of ten synthesised sets (AC, AD, AH-AN, AP: 697 performances, each
as turn files and as full.wav, 2026-12-07), before and after: right where decided 1103/1151 -> 1107/1154,
reviews 243 -> 240.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from trainer.asr.base import Transcript
from trainer.audio import Audio, frame_levels

FRAME_SECONDS = 0.02
FLOOR_PERCENTILE = 10
SPEECH_ABOVE_FLOOR_DB = 8.0
MIN_SILENCE_SECONDS = 0.15


def speech_frames(audio: Audio) -> np.ndarray:
    """One boolean per FRAME_SECONDS frame of `audio`: is it louder than silence?"""
    level = frame_levels(audio, FRAME_SECONDS)
    if len(level) == 0:
        return np.zeros(0, dtype=bool)
    return level > np.percentile(level, FLOOR_PERCENTILE) + SPEECH_ABOVE_FLOOR_DB


def settle_word_starts(transcript: Transcript, audio: Audio) -> Transcript:
    """`transcript` with each word's start moved past the silence (at least MIN_SILENCE_SECONDS) it opens with."""
    speech = speech_frames(audio)
    if not transcript.words or not speech.any():
        return transcript
    words = list(transcript.words)
    for index, word in enumerate(words):
        first, last = int(word.start / FRAME_SECONDS), min(int(word.end / FRAME_SECONDS), len(speech))
        frame = first
        while frame < last and not speech[frame]:
            frame += 1
        if frame < last and (frame - first) * FRAME_SECONDS >= MIN_SILENCE_SECONDS:
            words[index] = dataclasses.replace(word, start=round(frame * FRAME_SECONDS, 3))
    return dataclasses.replace(transcript, words=tuple(words))
