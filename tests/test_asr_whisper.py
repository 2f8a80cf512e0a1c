"""faster-whisper adapter and the Chinese end-to-end check on real recordings."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from trainer.asr import whisper_engine
from trainer.asr.factory import get_recognizer
from trainer.asr.whisper_engine import WhisperRecognizer, load_model
from trainer.audio import Audio, iter_chunks, load_audio
from trainer.cli import main
from trainer.config import Settings
from trainer.errors import ModelNotFoundError, RecognizerError
from trainer.text.cer import cer, corpus_cer

# Measured with whisper-base int8 over all 99 files (see benchmarks/README.md): 0.160 with the
# has_latin rows, 0.148 without. The bounds leave 0.05 for CPU/library variation; a pipeline that
# feeds the wrong sample rate, drops segments or skips normalisation lands far above them.
CER_BOUND_ALL = 0.21
CER_BOUND_NO_LATIN = 0.20
CLEAN_FILE = "wav/BAC009S0150W0051.wav"  # 想听歌曲又见山里红


def _manifest(real_audio_dir: Path) -> list[dict[str, str]]:
    with (real_audio_dir / "manifest.tsv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="session")
def whisper(whisper_model_dir: Path) -> WhisperRecognizer:
    return WhisperRecognizer(whisper_model_dir)


@pytest.fixture(scope="session")
def clean_audio(real_audio_dir: Path) -> Audio:
    return load_audio(real_audio_dir / CLEAN_FILE)


@pytest.mark.slow
def test_transcribe_words_and_timings(whisper: WhisperRecognizer, clean_audio: Audio) -> None:
    transcript = whisper.transcribe(clean_audio)
    assert transcript.engine == "whisper" and transcript.model == "whisper-base"
    assert transcript.duration == pytest.approx(clean_audio.duration)
    assert cer("想听歌曲又见山里红", transcript.text) <= 0.2, transcript.text
    assert len(transcript.words) >= 5
    assert "".join(w.text for w in transcript.words) in transcript.text.replace(" ", "")
    for w in transcript.words:
        assert 0.0 <= w.start <= w.end <= clean_audio.duration + 0.05
        assert 0.0 <= w.confidence <= 1.0
    assert [w.start for w in transcript.words] == sorted(w.start for w in transcript.words)


@pytest.mark.slow
def test_stream_gives_partials_then_full_transcript(whisper: WhisperRecognizer, clean_audio: Audio) -> None:
    stream = whisper.stream()
    partials = [stream.feed(chunk).partial_text for chunk in iter_chunks(clean_audio, 0.1)]
    assert not any(partials[:19])  # nothing before 2 s of audio
    assert any(partials[20:]), "no partial after 2 s of audio"
    final = stream.finish()
    assert cer("想听歌曲又见山里红", final.text) <= 0.2, final.text
    assert final.duration == pytest.approx(clean_audio.duration)
    with pytest.raises(RuntimeError):
        stream.feed(np.zeros(160, dtype=np.int16))


@pytest.mark.slow
def test_model_shared_and_empty_input(whisper: WhisperRecognizer, whisper_model_dir: Path) -> None:
    assert load_model(whisper_model_dir) is whisper._model
    settings = Settings(engine="whisper", whisper_model=whisper_model_dir, asr_workers=2, asr_threads=1)
    recognizer = get_recognizer(settings)
    # the factory loads the model once for its worker plan (2 replicas of 1 thread here) and shares it
    assert recognizer._model is load_model(whisper_model_dir, cpu_threads=1, num_workers=2)  # type: ignore[attr-defined]
    assert get_recognizer(settings) is recognizer
    empty = whisper.stream().finish()
    assert empty.text == "" and empty.words == ()


def test_missing_model_says_how_to_configure(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        get_recognizer(Settings(engine="whisper", models_dir=tmp_path))
    assert "TRAINER_WHISPER_MODEL" in info.value.user_message and "--model" in info.value.user_message
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="model.bin"):
        WhisperRecognizer(tmp_path / "half")


def test_missing_faster_whisper_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model.bin").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # makes `import faster_whisper` fail
    with pytest.raises(RecognizerError) as info:
        WhisperRecognizer(tmp_path)
    assert "pip install '.[whisper]'" in info.value.user_message
    assert tmp_path.resolve() not in {path for path, *_ in whisper_engine._models}


def test_unknown_engine(tmp_path: Path) -> None:
    with pytest.raises(RecognizerError, match="未知的识别引擎"):
        get_recognizer(Settings(models_dir=tmp_path), engine="kaldi")


@pytest.mark.slow
def test_chinese_end_to_end_cer(
    whisper_model_dir: Path, real_audio_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`trainer transcribe --engine whisper --json` over all 99 real recordings, scored by CER."""
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    rows = _manifest(real_audio_dir)
    assert len(rows) == 99
    files = [str(real_audio_dir / row["file"]) for row in rows]
    code = main(["transcribe", "--engine", "whisper", "--model", str(whisper_model_dir), "--json", *files])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert document["engine"] == "whisper" and len(document["files"]) == 99
    texts = {item["file"]: item["text"] for item in document["files"]}
    for item in document["files"]:
        assert item["words"] and item["duration"] > 0
    pairs_all = [(row["transcript_plain"], texts[f]) for row, f in zip(rows, files)]
    pairs_zh = [(row["transcript_plain"], texts[f]) for row, f in zip(rows, files) if row["has_latin"] == "0"]
    cer_all, cer_zh = corpus_cer(pairs_all), corpus_cer(pairs_zh)
    with capsys.disabled():
        print(f"\nwhisper-base CER: {cer_all:.3f} (99 files), {cer_zh:.3f} without has_latin ({len(pairs_zh)} files)")
    assert cer_all <= CER_BOUND_ALL
    assert cer_zh <= CER_BOUND_NO_LATIN
