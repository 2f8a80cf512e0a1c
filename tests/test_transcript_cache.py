"""The transcript cache serves a transcript again only for the same samples, engine and model content."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from trainer.asr.base import Transcript
from trainer.evaluation.cache import TranscriptCache


def _model(folder: Path, content: bytes) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(content)
    return folder


def test_a_transcript_is_served_again_for_the_same_samples_engine_and_model(tmp_path: Path) -> None:
    cache = TranscriptCache(tmp_path / "cache")
    model = _model(tmp_path / "m", b"weights")
    samples = np.arange(1600, dtype=np.int16)
    key = cache.key(samples, "whisper", model)
    assert cache.get(key) is None
    cache.put(key, Transcript(text="您好，请坐", engine="whisper"))
    assert cache.get(cache.key(samples.copy(), "whisper", model)).text == "您好，请坐"
    assert cache.key(samples, "vosk", model) != key
    assert cache.key(samples + 1, "whisper", model) != key


def test_the_same_model_copied_again_keeps_its_transcripts_and_a_changed_one_does_not(tmp_path: Path) -> None:
    """A model folder unpacked or copied afresh (new path, new mtime) is the same model; new weights are not."""
    cache = TranscriptCache(tmp_path / "cache")
    model = _model(tmp_path / "m", b"weights")
    samples = np.zeros(800, dtype=np.int16)
    key = cache.key(samples, "whisper", model)
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    os.utime(copy / "model.bin", (1_000_000_000, 1_000_000_000))
    assert cache.key(samples, "whisper", copy) == key
    changed = _model(tmp_path / "changed", b"weightz")
    assert cache.key(samples, "whisper", changed) != key


def test_a_damaged_entry_is_a_miss_not_an_error(tmp_path: Path) -> None:
    cache = TranscriptCache(tmp_path / "cache")
    key = cache.key(np.zeros(10, dtype=np.int16), "whisper", None)
    cache.put(key, Transcript(text="好的", engine="whisper"))
    next((tmp_path / "cache").rglob("*.json")).write_text("{not json", encoding="utf-8")
    assert cache.get(key) is None
