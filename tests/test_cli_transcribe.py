"""`trainer transcribe` end to end through trainer.cli.main, with the Korean Vosk model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from trainer.cli import main


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./trainer.toml
    for var in ("TRAINER_CONFIG", "TRAINER_ENGINE", "TRAINER_VOSK_MODEL", "TRAINER_WHISPER_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TRAINER_MODELS_DIR", str(tmp_path / "models"))


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def test_text_for_one_file(vosk_ko_model_dir: Path, korean_speech, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = korean_speech
    assert main(["transcribe", "--engine", "vosk", "--model", str(vosk_ko_model_dir), str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and any("\uac00" <= ch <= "\ud7a3" for ch in out[0])


def test_json_with_words_and_model_from_env(
    vosk_ko_model_dir: Path, korean_speech, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINER_VOSK_MODEL", str(vosk_ko_model_dir))
    path, _ = korean_speech
    assert main(["transcribe", "--json", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["engine"] == "vosk" and document["model"] == vosk_ko_model_dir.name
    [item] = document["files"]
    assert item["file"] == str(path) and item["text"] and item["duration"] > 5
    assert item["text"] == " ".join(w["text"] for w in item["words"])
    assert all(0 <= w["start"] <= w["end"] <= item["duration"] for w in item["words"])


def test_bad_file_among_good_ones(
    vosk_ko_model_dir: Path, korean_speech, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = korean_speech
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    code = main(["transcribe", "--model", str(vosk_ko_model_dir), str(path), str(empty)])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}\t")
    [error] = _error_lines(captured.err)
    assert error.startswith("错误：") and "empty.wav" in error


def test_bad_single_file_exits_with_one_line(vosk_ko_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    noise = tmp_path / "random.wav"
    noise.write_bytes(bytes(range(256)) * 64)
    assert main(["transcribe", "--model", str(vosk_ko_model_dir), str(noise)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [error] = _error_lines(captured.err)
    assert error.startswith("错误：")


def test_missing_file(vosk_ko_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", "--model", str(vosk_ko_model_dir), str(tmp_path / "nope.wav")]) == 2
    [error] = _error_lines(capsys.readouterr().err)
    assert error.startswith("错误：") and "nope.wav" in error


def _tone_wav(path: Path) -> Path:
    """Syllable-like tone bursts with pauses: passes the audio checks (unlike a steady tone)."""
    t = np.arange(3200) / 16000
    bursts = [np.concatenate([0.3 * np.sin(2 * np.pi * f * t) * np.hanning(len(t)), np.zeros(1600)]) for f in (180, 240, 210, 260, 200)]
    sf.write(path, np.concatenate([np.zeros(4000), *bursts, np.zeros(4000)]).astype(np.float32), 16000, subtype="PCM_16")
    return path


def test_missing_default_model_names_the_fetch_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(_tone_wav(tmp_path / "a.wav"))]) == 2
    [error] = _error_lines(capsys.readouterr().err)
    assert "trainer models fetch vosk-small-cn" in error


def test_missing_whisper_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", "--engine", "whisper", str(_tone_wav(tmp_path / "a.wav"))]) == 2
    [error] = _error_lines(capsys.readouterr().err)
    assert "TRAINER_WHISPER_MODEL" in error


def test_bad_file_is_reported_before_a_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stub = tmp_path / "a.wav"
    stub.write_bytes(b"RIFF")
    assert main(["transcribe", str(stub)]) == 2
    [error] = _error_lines(capsys.readouterr().err)
    assert "a.wav" in error and "trainer models fetch" not in error


def test_unknown_engine_is_rejected_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["transcribe", "--engine", "kaldi", "a.wav"])
    assert info.value.code == 2
