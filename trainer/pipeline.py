"""Audio or transcripts in, `ScoreResult` out: shared by the CLI, the web app, terminal practice and exams.

- `score_turns(turns, scenario_id, settings)`: score transcripts you already have
  (one `Transcript` per turn, in order; or `TurnText` to name the files).
- `score_text(text, scenario_id, settings)`: score typed text (one string per
  turn; no timings, so no fluency dimension).
- `transcribe_turns(sources, settings, engine)`: load and transcribe audio files
  (paths, bytes or `Audio`), optionally through a `TranscriptCache`.
- `transcribe_and_score(sources, scenario_id, settings, engine)`: both.
- `answer_turns(transcript, answers, name)`: a whole-performance recording's transcript shared
  out among its answers found at pauses (`trainer.segment`), as turns named by where they lie
  (recognised whole: an answer recognised alone loses what came before).

Several sources are the turns of one performance in order; one source is a whole
performance, scored as one turn, or, with `split_pauses`, as the answers found between
its pauses. The scenario is checked before any audio is decoded, so an unknown
scenario fails fast. Expected failures raise `TrainerError` subclasses.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from trainer.asr.base import Recognizer, Transcript
from trainer.asr.whisper_engine import ENGINE as WHISPER
from trainer.asr.word_times import settle_word_starts
from trainer.audio import Audio, load_audio
from trainer.config import Settings, load_settings
from trainer.endpoint import EndpointConfig
from trainer.errors import AudioError, TrainerError
from trainer.evaluation.cache import TranscriptCache
from trainer.phrasebook.loader import library_cache_key, library_from_settings
from trainer.phrasebook.model import Library, Scenario
from trainer.scoring.document import TurnText
from trainer.scoring.result import ScoreResult
from trainer.scoring.score import score_turn_texts
from trainer.segment import split_at_pauses, split_transcript

Source = str | Path | bytes | Audio

_library_cache: dict[tuple, Library] = {}
_library_lock = threading.Lock()


def load_library(settings: Settings) -> Library:
    """The phrase library for these settings, reloaded only when a phrasebook file changed."""
    key = library_cache_key(settings)  # phrasebook and approved-overlay files: an approval applies at once
    with _library_lock:
        library = _library_cache.get(key)
        if library is None:
            library = library_from_settings(settings)
            _library_cache.clear()
            _library_cache[key] = library
        return library


def _as_turns(turns: Sequence[Transcript | TurnText]) -> list[TurnText]:
    return [t if isinstance(t, TurnText) else TurnText(t, "") for t in turns]


def score_turns(
    turns: Sequence[Transcript | TurnText],
    scenario_id: str,
    settings: Settings | None = None,
    *,
    library: Library | None = None,
    engine: str | None = None,
    exam: bool = False,
    dialogue: bool = False,
    played: Scenario | None = None,
    answered: Sequence[str] | None = None,
) -> ScoreResult:
    """Score a performance given as transcribed turns (in order).

    `dialogue`: the turns answer the scenario's customer lines one by one (practice and exams:
    turn i answers step i's line), which makes own-words evidence in the answering turn strong.
    `played`: the scenario as the dialogue went (`trainer.dialogue.played_scenario`: with the extra
    steps the customer's reactions inserted), scored instead of the library's; `answered`: the id
    of the step each turn answered (default: the played scenario's steps in order).
    """
    settings = settings or load_settings()
    library = library or load_library(settings)
    scenario = library.scenario(scenario_id)  # raises ScenarioNotFoundError
    if played is not None:
        scenario = played
    turn_texts = _as_turns(turns)
    if dialogue:
        ids = list(answered) if answered is not None else [s.id for s in scenario.steps]
        lines = {s.id: s.customer for s in (*scenario.steps, *scenario.extra_steps)}
        turn_texts = [
            TurnText(t.transcript, t.file, (ids[i],), t.customer or lines.get(ids[i], "")) if i < len(ids) else t
            for i, t in enumerate(turn_texts)
        ]
    if engine is None:
        engine = next((t.transcript.engine for t in turn_texts if t.transcript.engine), "")
    return score_turn_texts(
        turn_texts,
        scenario,
        library.forbidden_for(scenario_id),
        library.lexicon,
        weights=settings.scoring_weights,
        pass_mark=settings.pass_mark,
        exam=exam,
        engine=engine,
        library_version=library.version,
    )


def score_text(
    text: str | Sequence[str],
    scenario_id: str,
    settings: Settings | None = None,
    *,
    library: Library | None = None,
    exam: bool = False,
) -> ScoreResult:
    """Score typed text: one string per turn (a single string is one turn)."""
    texts = [text] if isinstance(text, str) else list(text)
    if not any(t.strip() for t in texts):
        raise TrainerError("没有可评分的文字：请输入学员说的话。", "empty text given for scoring")
    turns = [TurnText(Transcript(text=t), "") for t in texts]
    return score_turns(turns, scenario_id, settings, library=library, engine="text", exam=exam)


def _label(source: Source, index: int) -> str:
    if isinstance(source, (str, Path)):
        return Path(source).name
    return f"turn{index + 1:02d}"


def transcribe_turns(
    sources: Sequence[Source],
    settings: Settings,
    engine: str | None = None,
    *,
    model_path: Path | None = None,
    recognizer: Recognizer | None = None,
    cache: TranscriptCache | None = None,
    names: Sequence[str] | None = None,
) -> list[TurnText]:
    """Load (16 kHz mono, validated) and transcribe each source; one `TurnText` per source."""
    if not sources:
        raise TrainerError("没有录音文件：请至少给出一个录音。", "no audio sources given")
    engine = engine or settings.engine
    resolved_model = Path(model_path) if model_path else settings.model_path(engine)
    audios: list[Audio] = []
    for index, source in enumerate(sources):
        if isinstance(source, Audio):
            audios.append(source)
        else:
            name = names[index] if names and index < len(names) else None
            audios.append(load_audio(source, max_seconds=settings.max_audio_seconds, name=name))
    if recognizer is None:
        from trainer.asr.factory import get_recognizer

        recognizer = get_recognizer(settings, engine=engine, model_path=model_path)
    turns: list[TurnText] = []
    for index, (source, audio) in enumerate(zip(sources, audios)):
        key = cache.key(audio.samples, recognizer.engine, resolved_model) if cache is not None else ""
        transcript = cache.get(key) if cache is not None else None
        if transcript is not None and transcript.engine == WHISPER:
            # an entry written before the recogniser settled its word starts (trainer.asr.word_times); idempotent
            transcript = settle_word_starts(transcript, audio)
        if transcript is None:
            transcript = recognizer.transcribe(audio)
            if cache is not None:
                cache.put(key, transcript)
        label = names[index] if names and index < len(names) else _label(source, index)
        turns.append(TurnText(transcript, label))
    return turns


def transcribe_and_score(
    sources: Sequence[Source] | Source,
    scenario_id: str,
    settings: Settings | None = None,
    engine: str | None = None,
    *,
    model_path: Path | None = None,
    recognizer: Recognizer | None = None,
    library: Library | None = None,
    exam: bool = False,
    cache: TranscriptCache | None = None,
    names: Sequence[str] | None = None,
    split_pauses: float | None = None,
) -> ScoreResult:
    """Transcribe the turns of one performance and score them against the scenario.

    `split_pauses`: when there is one source (a whole performance), cut it into answers at
    pauses of that many seconds and score each answer as a turn.
    """
    settings = settings or load_settings()
    library = library or load_library(settings)
    library.scenario(scenario_id)  # unknown scenario: fail before decoding any audio
    if isinstance(sources, (str, Path, bytes, Audio)):
        sources = [sources]
    if split_pauses is not None and len(sources) == 1:
        audio, label = _whole_recording(sources[0], settings, names[0] if names else None)
        answers = split_at_pauses(audio, EndpointConfig(pause_seconds=split_pauses))
        if not answers:
            raise AudioError(
                f"{label} 里没有找到一句完整的回答：听到的声音都太短（不到 0.2 秒）。"
                "请靠近麦克风清楚地说，然后重新录制；或加 --no-split 把整段录音当作一句评分。",
                f"{label}: split at {split_pauses}s pauses found no answer",
            )
        whole = transcribe_turns([audio], settings, engine, model_path=model_path, recognizer=recognizer, cache=cache, names=[label])
        turns = answer_turns(whole[0].transcript, [(a.start, a.end) for a in answers], label)
    else:
        turns = transcribe_turns(
            list(sources), settings, engine, model_path=model_path, recognizer=recognizer, cache=cache, names=names
        )
    return score_turns(turns, scenario_id, settings, library=library, engine=recognizer.engine if recognizer else engine or settings.engine, exam=exam)


def answer_turns(transcript: Transcript, answers: Sequence[tuple[float, float]], name: str = "") -> list[TurnText]:
    """The whole recording's transcript shared out among its answers (start, end seconds), as turns
    named by where they lie ("full.wav 3.5–7.1s")."""
    prefix = f"{name} " if name else ""
    return [TurnText(p.transcript, f"{prefix}{p.start:.1f}–{p.end:.1f}s") for p in split_transcript(transcript, answers)]


def _whole_recording(source: Source, settings: Settings, name: str | None) -> tuple[Audio, str]:
    if isinstance(source, Audio):
        return source, name or "录音"
    return load_audio(source, max_seconds=settings.max_audio_seconds, name=name), name or _label(source, 0)
