"""Vosk adapter against a real Kaldi model (the Korean small model from PyPI) and real (synthetic) Korean speech."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from trainer.asr.factory import get_recognizer
from trainer.asr.vosk_engine import VoskRecognizer, join_words, load_model
from trainer.audio import Audio, iter_chunks, load_audio
from trainer.config import Settings
from trainer.errors import ModelNotFoundError
from trainer.text.cer import cer

TOLERANCE = 0.3  # seconds: Kaldi word boundaries are at 30 ms frames, plus alignment slack


def _is_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


@pytest.fixture(scope="session")
def recognizer(vosk_ko_model_dir: Path) -> VoskRecognizer:
    return VoskRecognizer(vosk_ko_model_dir)


@pytest.fixture(scope="session")
def speech(korean_speech: tuple[Path, list[tuple[float, float]]]) -> tuple[Audio, list[tuple[float, float]]]:
    path, regions = korean_speech
    return load_audio(path), regions


@pytest.fixture(scope="session")
def batch(recognizer: VoskRecognizer, speech):
    return recognizer.transcribe(speech[0])


def test_join_words_spaces_only_between_non_chinese_words() -> None:
    assert join_words(["您好", "请", "坐"]) == "您好请坐"
    assert join_words(["打开", "wifi", "设置"]) == "打开wifi设置"
    assert join_words(["좋은", "아침"]) == "좋은 아침"
    assert join_words(["call", "me", " ", ""]) == "call me"
    assert join_words([]) == ""


def test_batch_transcript_has_korean_words_with_timings(batch, speech) -> None:
    audio, regions = speech
    assert batch.engine == "vosk" and batch.model == "model"
    assert batch.duration == pytest.approx(audio.duration)
    assert len(batch.words) >= 4
    hangul = [w for w in batch.words if _is_hangul(w.text)]
    assert len(hangul) >= 0.8 * len(batch.words), [w.text for w in batch.words]
    assert batch.text == join_words(w.text for w in batch.words) == " ".join(w.text for w in batch.words)
    starts = [w.start for w in batch.words]
    assert starts == sorted(starts)
    for w in batch.words:
        assert 0.0 <= w.start <= w.end <= audio.duration
        assert 0.0 < w.confidence <= 1.0
        middle = (w.start + w.end) / 2
        assert any(a - TOLERANCE <= middle <= b + TOLERANCE for a, b in regions), (w, regions)


def test_words_cover_both_utterances(batch, speech) -> None:
    """Timings stay absolute across Vosk's utterance boundaries: both spoken regions get words."""
    _, regions = speech
    for a, b in regions:
        inside = [w for w in batch.words if a - TOLERANCE <= (w.start + w.end) / 2 <= b + TOLERANCE]
        assert len(inside) >= 2, (a, b, batch.words)
    first, second = regions
    assert batch.words[0].start >= first[0] - TOLERANCE  # nothing "heard" in the leading silence
    assert batch.words[-1].end <= second[1] + TOLERANCE


def test_streaming_partials_then_final_equals_batch(recognizer: VoskRecognizer, speech, batch) -> None:
    audio, regions = speech
    stream = recognizer.stream()
    partials, finals_before_end = [], []
    for i, chunk in enumerate(iter_chunks(audio, 0.1)):
        result = stream.feed(chunk)
        partials.append(result.partial_text)
        if result.final_text:
            finals_before_end.append((i * 0.1, result.final_text))
        assert result.text == result.final_text + result.partial_text
    transcript = stream.finish()
    assert any(partials), "no partial text while streaming"
    # the pause after the first utterance settles it before the audio ends
    assert finals_before_end and finals_before_end[0][0] < regions[1][1]
    assert transcript.duration == pytest.approx(audio.duration)
    # Kaldi dithers its features with random noise, so two runs over the same audio can differ in
    # low-confidence words (frequent with this robotic voice); the rest must agree.
    assert cer(batch.text, transcript.text, normalize=False) <= 0.3, (batch.text, transcript.text)
    assert transcript.words[0].text == batch.words[0].text
    assert transcript.words[0].start == pytest.approx(batch.words[0].start, abs=0.05)
    assert stream.finish() == transcript  # idempotent
    with pytest.raises(RuntimeError):
        stream.feed(np.zeros(1600, dtype=np.int16))


def test_stream_rejects_non_int16_chunks(recognizer: VoskRecognizer) -> None:
    with pytest.raises(TypeError):
        recognizer.stream().feed(np.zeros(1600, dtype=np.float32))


def test_silence_gives_empty_transcript(recognizer: VoskRecognizer) -> None:
    transcript = recognizer.transcribe(Audio(np.zeros(16000, dtype=np.int16)))
    assert transcript.text == "" and transcript.words == ()
    assert transcript.duration == pytest.approx(1.0)


def test_model_loaded_once_and_shared(recognizer: VoskRecognizer, vosk_ko_model_dir: Path) -> None:
    assert load_model(vosk_ko_model_dir) is recognizer._model
    assert VoskRecognizer(str(vosk_ko_model_dir))._model is recognizer._model
    settings = Settings(vosk_model=vosk_ko_model_dir)
    via_factory = get_recognizer(settings)
    assert via_factory is get_recognizer(settings, engine="vosk", model_path=vosk_ko_model_dir)
    assert via_factory._model is recognizer._model  # type: ignore[attr-defined]


def test_concurrent_transcriptions_share_the_model(recognizer: VoskRecognizer, speech, batch) -> None:
    audio, _ = speech
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(recognizer.transcribe(audio).text)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    for text in results:  # see the dither note above: equal up to a few unsure words
        assert cer(batch.text, text, normalize=False) <= 0.3, (batch.text, text)


def test_missing_model_names_the_install_command(tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path)
    with pytest.raises(ModelNotFoundError) as info:
        get_recognizer(settings)
    assert "trainer models fetch vosk-small-cn" in info.value.user_message
    assert str(tmp_path / "vosk-model-small-cn-0.22") in info.value.user_message


def test_incomplete_model_is_reported(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError) as info:
        VoskRecognizer(tmp_path)
    assert "不完整" in info.value.user_message and "conf/mfcc.conf" in info.value.user_message
    assert "trainer models fetch vosk-small-cn" in info.value.user_message
