"""Marking exam answers with the configured recogniser and the scoring pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from trainer.audio import load_audio
from trainer.config import Settings
from trainer.errors import AudioError
from trainer.exam.runner import Answer, Marker, MarkedAnswer
from trainer.phrasebook.model import Library, Scenario


def _read(answer: Answer, index: int) -> tuple[bytes, str]:
    if isinstance(answer, Path):
        try:
            return answer.read_bytes(), answer.name
        except OSError as exc:
            raise AudioError(f"无法读取录音 {answer}：{exc}", f"cannot read {answer}: {exc}") from exc
    return bytes(answer), f"turn{index:02d}"


def pipeline_marker(settings: Settings, library: Library) -> Marker:
    """A marker that loads each answer (validated, 16 kHz mono), transcribes it and scores the turns
    in exam mode. The recogniser is created once, on first use."""
    from trainer.pipeline import score_turns, transcribe_turns

    def mark(scenario: Scenario, answers: Sequence[Answer]) -> MarkedAnswer:
        from trainer.asr.factory import get_recognizer

        recognizer = get_recognizer(settings)
        raw = [_read(a, i) for i, a in enumerate(answers, 1)]
        # A silent answer is an answer (it scores as nothing said), not an error that would void the attempt.
        audios = [load_audio(data, max_seconds=settings.max_audio_seconds, require_speech=False, name=name) for data, name in raw]
        turns = transcribe_turns(audios, settings, recognizer=recognizer, names=[name for _, name in raw])
        result = score_turns(turns, scenario.id, settings, library=library, engine=recognizer.engine, exam=True)
        return MarkedAnswer(
            audio=tuple(data for data, _ in raw),
            transcripts=tuple(t.transcript.to_dict() for t in turns),
            durations=tuple(a.duration for a in audios),
            score=result.to_dict(),
            engine=recognizer.engine,
            model=recognizer.model_name,
            phrasebook_version=library.version,
        )

    return mark


def check_answer(data: bytes, settings: Settings, name: str = "录音") -> float:
    """Check one recorded answer as soon as it is captured (decodable, not too long); returns its
    length in seconds. Raises AudioError with the reason. Shows nothing about the score."""
    return load_audio(data, max_seconds=settings.max_audio_seconds, require_speech=False, name=name).duration
