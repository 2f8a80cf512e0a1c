"""Every recording of the malformed-audio corpus (tests/audio_corpus.py) is handled cleanly: loaded
correctly, or refused with an AudioError that names what is wrong (issue 13 item 9)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio_corpus import CASES, Case, a_folder, stereo_one_silent_channel, stereo_opposite_phase_wav
from trainer.audio import load_audio
from trainer.errors import AudioError

HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
REPO = Path(__file__).resolve().parent.parent


def outcome(case: Case, folder: Path) -> str:
    """"" when handled cleanly, else what went wrong."""
    path = case.make(folder)
    try:
        audio = load_audio(path)
    except AudioError as exc:
        if case.expect != "error":
            return f"refused: {exc.user_message}"
        missing = [s for s in case.says if s not in exc.user_message]
        wrong = [s for s in case.not_says if s in exc.user_message]
        if missing or wrong or not exc.log_message:
            return f"message lacks {missing} / has {wrong}: {exc.user_message}"
        return ""
    except Exception as exc:  # noqa: BLE001 - exactly what the corpus is there to catch
        return f"{type(exc).__name__}: {exc}"
    if case.expect != "ok":
        return f"accepted as {audio.duration:.2f} s"
    if case.check is not None and not case.check(audio):
        return f"loaded wrongly: {audio.duration:.2f} s"
    return ""


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, tmp_path: Path) -> None:
    if case.needs_ffmpeg and not HAVE_FFMPEG:
        pytest.skip("ffmpeg/ffprobe not installed")
    assert outcome(case, tmp_path) == ""


def test_corpus_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """tried / handled cleanly, for the report (`pytest -s` shows the line)."""
    tried = [c for c in CASES if HAVE_FFMPEG or not c.needs_ffmpeg]
    failures = {}
    for i, case in enumerate(tried):
        folder = tmp_path / str(i)
        folder.mkdir()
        if problem := outcome(case, folder):
            failures[case.name] = problem
    with capsys.disabled():
        print(f"\naudio corpus: {len(tried)} tried, {len(tried) - len(failures)} handled cleanly "
              f"({sum(c.from_issue for c in tried)} from issue 13)")
    assert not failures, failures


def test_opposite_phase_downmix_keeps_the_level(tmp_path: Path) -> None:
    audio = load_audio(stereo_opposite_phase_wav(tmp_path))
    assert np.abs(audio.samples).max() > 0.25 * 32768  # the channel, not their cancelled mean


def test_one_silent_channel_is_still_the_mean(tmp_path: Path) -> None:
    audio = load_audio(stereo_one_silent_channel(tmp_path))
    assert 0.12 * 32768 < np.abs(audio.samples).max() < 0.17 * 32768  # half of the 0.3 peak, as before


def test_score_on_a_folder_names_the_folder(tmp_path: Path) -> None:
    folder = a_folder(tmp_path)
    env = {**os.environ, "TRAINER_CONFIG": ""}
    done = subprocess.run([sys.executable, "-m", "trainer", "score", "--scenario", "payment", str(folder)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert done.returncode == 2
    assert "文件夹" in done.stderr and "找不到" not in done.stderr and "turn01.wav" in done.stderr
