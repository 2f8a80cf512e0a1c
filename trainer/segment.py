"""Split a whole-performance recording into answers at pauses: pure, no recogniser.

A recording of a whole performance has no turns. Terminal practice with one WAV file
(`trainer practice --input-file`) already finds them with the end-of-answer detector
(`trainer.endpoint`): an answer ends at a pause of `pause_seconds` after speech. This
module runs the same detector over a recording in memory, so that `trainer score` and
`trainer eval --split-pauses` can score the answers as turns.

- One detector per answer, one `NoiseFloor` for the whole recording (as in practice).
- An answer is kept only when the detector heard speech in it (`min_speech_seconds` of
  speech chunks): a click or a short blip followed by a pause is not an answer, and is
  dropped rather than glued to the next answer.
- Long silence never ends anything: where practice would give up waiting (`no_speech_seconds`),
  the splitter just keeps listening.
- Each answer is cut from `pad_seconds` before its first speech chunk to `pad_seconds` after
  its last one (never into the previous answer), so leading and trailing silence is left out:
  recognisers, Whisper above all, invent words in silence.
- An answer still ends at `max_answer_seconds` (a turn that long is split in two, as in practice).
- A recording without speech gives no answers; the caller decides what that means.

The recording is recognised whole and its words are then shared out among the answers
(`split_transcript`), rather than each answer recognised alone: cut off from what was said
before, whisper-base heard far less (on set G re-synthesised with 1.5 s pauses, 8 of 14 labelled
服务忌语 in answers recognised alone, 13 of 14 in the whole recording).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trainer.asr.base import Transcript, Word, join_words
from trainer.audio import Audio, iter_chunks
from trainer.endpoint import EndpointConfig, EndpointDetector, EndReason, NoiseFloor

CHUNK_SECONDS = 0.1  # as `FileSource` feeds practice
PAD_SECONDS = 0.2


@dataclass(frozen=True)
class Answer:
    """One answer found in a recording: `audio` is `recording[start:end]` (seconds)."""

    start: float
    end: float
    audio: Audio
    end_reason: EndReason  # PAUSE, MAX_LENGTH or END_OF_INPUT

    @property
    def duration(self) -> float:
        return self.end - self.start


def split_at_pauses(
    audio: Audio,
    config: EndpointConfig | None = None,
    *,
    chunk_seconds: float = CHUNK_SECONDS,
    pad_seconds: float = PAD_SECONDS,
) -> list[Answer]:
    """The answers of `audio`, in order, split at pauses of at least `config.pause_seconds`."""
    if pad_seconds < 0:
        raise ValueError("pad_seconds must be >= 0")
    config = config or EndpointConfig()
    rate = audio.sample_rate
    samples = audio.samples
    floor = NoiseFloor(config.floor_window_seconds)
    pad = int(round(pad_seconds * rate))
    answers: list[Answer] = []
    last_end = 0  # sample where the previous answer's audio ended

    detector = EndpointDetector(config, floor, sample_rate=rate)
    first: int | None = None  # first sample of this answer's first speech chunk
    last = 0  # sample after this answer's last speech chunk

    def close(reason: EndReason) -> None:
        nonlocal last_end
        if not detector.speech_started or first is None:
            return  # nothing said, or only a blip: not an answer
        start = max(last_end, first - pad)
        end = min(len(samples), last + pad)
        answers.append(Answer(start / rate, end / rate, Audio(samples[start:end].copy(), rate), reason))
        last_end = end

    pos = 0
    for chunk in iter_chunks(audio, chunk_seconds):
        verdict = detector.push(chunk)
        if verdict.is_speech:
            if first is None:
                first = pos
            last = pos + len(chunk)
        pos += len(chunk)
        ended = detector.ended
        if ended is None and not detector.speech_started and first is not None and detector.silence >= config.pause_seconds - 1e-9:
            ended = EndReason.PAUSE  # a blip, then a pause: dropped by `close`
        if ended is None:
            continue
        if ended is not EndReason.NO_SPEECH:  # long silence: keep listening
            close(ended)
        detector = EndpointDetector(config, floor, sample_rate=rate)
        first = None
    close(EndReason.END_OF_INPUT)
    return answers


@dataclass(frozen=True)
class Piece:
    """The words of one answer, said from `start` to `end` (seconds in the recording). Its part of
    the recording runs from `offset` (halfway through the pause before it) for
    `transcript.duration`; `transcript`'s word times are seconds from `offset`."""

    start: float
    end: float
    offset: float
    transcript: Transcript


def split_transcript(transcript: Transcript, answers: Sequence[tuple[float, float]]) -> list[Piece]:
    """Share the words of a whole recording's transcript out among its answers (start, end seconds).

    A word belongs to the answer its middle falls in, the cut between two answers lying halfway
    through the pause between them. Answers that got no word are left out. Without word timings
    (or with one answer) the transcript stays whole.
    """
    duration = transcript.duration or max((w.end for w in transcript.words), default=0.0)
    if not transcript.words or len(answers) <= 1:
        start, end = answers[0] if len(answers) == 1 else (0.0, duration)
        return [Piece(start, end, 0.0, transcript)]
    cuts = [(a_end + b_start) / 2 for (_, a_end), (b_start, _) in zip(answers, answers[1:])]
    bounds = [0.0, *cuts, max(duration, answers[-1][1])]
    shares: list[list[Word]] = [[] for _ in answers]
    for word in transcript.words:
        middle = (word.start + word.end) / 2
        shares[sum(middle >= cut for cut in cuts)].append(word)
    pieces = []
    for k, words in enumerate(shares):
        if not words:
            continue
        offset, end = bounds[k], bounds[k + 1]
        moved = tuple(Word(w.text, w.start - offset, w.end - offset, w.confidence) for w in words)
        text = join_words(w.text for w in words)
        part = Transcript(text, moved, end - offset, transcript.engine, transcript.model)
        pieces.append(Piece(answers[k][0], answers[k][1], offset, part))
    return pieces


def answer_count_label(pieces: int, turns: int) -> str:
    """How a split compares with the labelled turns: "exact", "over" (more pieces) or "under"."""
    return "exact" if pieces == turns else ("over" if pieces > turns else "under")


__all__ = ["Answer", "CHUNK_SECONDS", "PAD_SECONDS", "Piece", "answer_count_label", "split_at_pauses", "split_transcript"]
