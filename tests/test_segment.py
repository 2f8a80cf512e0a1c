"""Splitting a whole recording into answers at pauses, on synthetic audio (no model, no shared assets)."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.audio import Audio
from trainer.endpoint import EndpointConfig, EndReason
from trainer.segment import answer_count_label, split_at_pauses

SR = 16000
rng = np.random.default_rng(11)


def tone(seconds: float, dbfs: float = -20.0, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(round(seconds * SR))) / SR
    amp = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def noise(seconds: float, dbfs: float) -> np.ndarray:
    return (rng.standard_normal(int(round(seconds * SR))) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SR)), dtype=np.int16)


def audio(*parts: np.ndarray) -> Audio:
    return Audio(np.concatenate(parts).astype(np.int16), SR)


def spans(answers) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(round(a.start, 2), round(a.end, 2)) for a in answers]


def test_three_answers_split_at_long_pauses_but_not_at_short_ones() -> None:
    # answer 1 has a 0.4 s pause inside it (shorter than the 1 s pause): it stays one answer
    rec = audio(tone(1.0), silence(0.4), tone(0.8), silence(1.5), tone(1.2), silence(1.5), tone(0.6))
    answers = split_at_pauses(rec, EndpointConfig(pause_seconds=1.0))
    assert len(answers) == 3
    assert spans(answers) == [(0.0, 2.4), (3.5, 5.1), (6.2, 7.0)]
    assert [a.end_reason for a in answers] == [EndReason.PAUSE, EndReason.PAUSE, EndReason.END_OF_INPUT]
    # each answer's audio is exactly that stretch of the recording
    first = answers[0]
    assert np.array_equal(first.audio.samples, rec.samples[: int(round(2.4 * SR))])
    assert answers[1].duration == pytest.approx(1.6)


def test_pause_length_decides_the_split() -> None:
    rec = audio(tone(1.0), silence(1.5), tone(1.0))
    assert len(split_at_pauses(rec, EndpointConfig(pause_seconds=1.0))) == 2
    assert len(split_at_pauses(rec, EndpointConfig(pause_seconds=2.0))) == 1


def test_no_pause_is_one_answer() -> None:
    rec = audio(tone(3.0))
    answers = split_at_pauses(rec)
    assert len(answers) == 1
    assert (answers[0].start, answers[0].end) == (0.0, 3.0)
    assert answers[0].end_reason is EndReason.END_OF_INPUT


def test_leading_and_trailing_silence_are_left_out() -> None:
    rec = audio(silence(2.0), tone(1.0), silence(3.0))
    answers = split_at_pauses(rec, pad_seconds=0.2)
    assert spans(answers) == [(1.8, 3.2)]


def test_a_short_blip_is_not_an_answer_nor_part_of_the_next() -> None:
    rec = audio(silence(0.5), tone(0.1, dbfs=-10), silence(2.0), tone(1.0), silence(2.0), tone(0.1, dbfs=-10), silence(0.5))
    answers = split_at_pauses(rec, EndpointConfig(pause_seconds=1.0), pad_seconds=0.0)
    assert spans(answers) == [(2.6, 3.6)]


def test_silence_only_gives_no_answers() -> None:
    assert split_at_pauses(audio(silence(5.0))) == []
    assert split_at_pauses(audio(noise(20.0, -50.0))) == []  # steady room noise, longer than no_speech_seconds
    assert split_at_pauses(Audio(np.zeros(0, dtype=np.int16), SR)) == []


def test_answers_in_steady_noise() -> None:
    bed = noise(9.0, -45.0)
    speech = np.zeros_like(bed)
    for start, seconds in ((1.0, 1.5), (4.0, 1.0), (7.0, 1.2)):
        a = int(start * SR)
        t = tone(seconds, dbfs=-18.0)
        speech[a : a + len(t)] = t
    rec = Audio((bed.astype(np.int32) + speech).clip(-32768, 32767).astype(np.int16), SR)
    answers = split_at_pauses(rec, EndpointConfig(pause_seconds=1.0), pad_seconds=0.0)
    assert spans(answers) == [(1.0, 2.5), (4.0, 5.0), (7.0, 8.2)]


def test_a_long_silence_does_not_end_the_listening() -> None:
    rec = audio(tone(1.0), silence(20.0), tone(1.0))  # longer than no_speech_seconds (15 s)
    answers = split_at_pauses(rec, pad_seconds=0.0)
    assert spans(answers) == [(0.0, 1.0), (21.0, 22.0)]


def test_an_answer_longer_than_the_limit_is_cut() -> None:
    rec = audio(tone(5.0))
    answers = split_at_pauses(rec, EndpointConfig(max_answer_seconds=2.0), pad_seconds=0.0)
    assert spans(answers) == [(0.0, 2.0), (2.0, 4.0), (4.0, 5.0)]
    assert answers[0].end_reason is EndReason.MAX_LENGTH


def test_padding_never_reaches_into_the_previous_answer() -> None:
    rec = audio(tone(1.0), silence(1.0), tone(1.0))
    answers = split_at_pauses(rec, EndpointConfig(pause_seconds=1.0), pad_seconds=0.8)
    assert len(answers) == 2
    assert answers[0].end <= answers[1].start
    assert answers[0].end == pytest.approx(1.8)
    assert answers[1].start == pytest.approx(1.8)


def test_negative_padding_is_refused() -> None:
    with pytest.raises(ValueError):
        split_at_pauses(audio(tone(1.0)), pad_seconds=-0.1)


def test_answer_count_label() -> None:
    assert answer_count_label(3, 3) == "exact"
    assert answer_count_label(4, 3) == "over"
    assert answer_count_label(2, 3) == "under"


def test_a_whole_transcript_is_shared_out_among_the_answers_by_word_times() -> None:
    from trainer.asr.base import Transcript, Word
    from trainer.segment import split_transcript

    words = (Word("您好", 0.3, 0.8), Word("请坐", 0.9, 1.6), Word("请问", 2.9, 3.4), Word("办什么", 3.5, 4.6), Word("再见", 6.0, 7.0))
    whole = Transcript("您好请坐请问办什么再见", words, 7.5, "fake", "m")
    pieces = split_transcript(whole, [(0.3, 1.7), (2.8, 4.7), (5.8, 7.2)])
    assert [p.transcript.text for p in pieces] == ["您好请坐", "请问办什么", "再见"]
    assert [(p.start, p.end) for p in pieces] == [(0.3, 1.7), (2.8, 4.7), (5.8, 7.2)]
    # word times run from each piece's own part of the recording (cut halfway through each pause)
    assert pieces[1].offset == 2.25 and pieces[1].transcript.words[0].start == 2.9 - 2.25
    assert sum(p.transcript.duration for p in pieces) == 7.5
    # an answer that got no word is left out; without word timings the transcript stays whole
    assert [p.transcript.text for p in split_transcript(whole, [(0.3, 1.7), (2.0, 2.5), (2.8, 7.2)])] == ["您好请坐", "请问办什么再见"]
    untimed = Transcript("您好请坐", (), 2.0)
    assert [p.transcript for p in split_transcript(untimed, [(0.1, 0.9), (1.2, 1.9)])] == [untimed]
