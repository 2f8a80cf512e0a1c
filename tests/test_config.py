"""Configuration: defaults < trainer.toml < environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trainer import config
from trainer.config import SHIPPED_EXAM_PAPERS, SHIPPED_PHRASEBOOKS, ConfigError, load_settings


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no ./trainer.toml unless a test writes one
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path / "project")  # nor a developer's <repo>/trainer.toml
    return tmp_path


def test_defaults_without_any_file(workdir: Path) -> None:
    settings = load_settings({})
    assert settings.engine == "vosk"
    assert settings.vosk_model_path.name == "vosk-model-small-cn-0.22"
    assert settings.all_phrasebook_dirs == (SHIPPED_PHRASEBOOKS,)
    assert settings.all_exam_paper_dirs == (SHIPPED_EXAM_PAPERS,)
    assert settings.max_audio_seconds == 600.0


def test_file_then_environment_win(workdir: Path) -> None:
    (workdir / "trainer.toml").write_text(
        'engine = "whisper"\nwhisper_model = "m/whisper"\nsessions_dir = "data/sessions"\n'
        'phrasebook_dirs = ["ours"]\nexam_paper_dirs = ["papers"]\npass_mark = 85\n'
        '[placeholders]\ncompany = "国网某某供电公司"\n',
        encoding="utf-8",
    )
    settings = load_settings({})
    assert settings.engine == "whisper"
    assert settings.whisper_model_path == (workdir / "m" / "whisper").resolve()  # relative to the file
    assert settings.sessions_dir == (workdir / "data" / "sessions").resolve()
    assert settings.all_phrasebook_dirs == (SHIPPED_PHRASEBOOKS, (workdir / "ours").resolve())
    assert settings.all_exam_paper_dirs == (SHIPPED_EXAM_PAPERS, (workdir / "papers").resolve())
    assert settings.pass_mark == 85.0
    assert settings.placeholders["company"] == "国网某某供电公司"
    assert settings.placeholders["hotline"] == "95598"  # defaults kept for keys the file does not set

    env = {"TRAINER_ENGINE": "vosk", "TRAINER_EXAM_PAPER_DIRS": os.pathsep.join(["a", "b"]), "TRAINER_EXAM_KEY": "k"}
    settings = load_settings(env)
    assert settings.engine == "vosk"
    assert settings.exam_paper_dirs == ((workdir / "a").resolve(), (workdir / "b").resolve())
    assert settings.exam_key == "k"


def test_unknown_engine_is_named(workdir: Path) -> None:
    with pytest.raises(ConfigError, match="未知的识别引擎“kaldi”"):
        load_settings({"TRAINER_ENGINE": "kaldi"})


def test_broken_toml_names_the_file(workdir: Path) -> None:
    (workdir / "trainer.toml").write_text('engine = "vosk\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="格式错误") as info:
        load_settings({})
    assert "trainer.toml" in info.value.user_message


def test_missing_config_named_by_env(workdir: Path) -> None:
    with pytest.raises(ConfigError, match="TRAINER_CONFIG"):
        load_settings({"TRAINER_CONFIG": str(workdir / "nope.toml")})


def test_recognition_workers_and_threads(workdir: Path) -> None:
    assert (load_settings({}).asr_workers, load_settings({}).asr_threads) == (0, 0)  # 0: from the cores
    (workdir / "trainer.toml").write_text("asr_workers = 3\nasr_threads = 1\n", encoding="utf-8")
    assert (load_settings({}).asr_workers, load_settings({}).asr_threads) == (3, 1)
    settings = load_settings({"TRAINER_ASR_WORKERS": "2", "TRAINER_ASR_THREADS": "2"})
    assert (settings.asr_workers, settings.asr_threads) == (2, 2)
    for bad in ("-1", "two", "1.5"):
        with pytest.raises(ConfigError) as info:
            load_settings({"TRAINER_ASR_WORKERS": bad})
        assert "TRAINER_ASR_WORKERS" in info.value.user_message and "0 或正整数" in info.value.user_message
    (workdir / "trainer.toml").write_text("asr_threads = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="asr_threads"):
        load_settings({})


def test_draft_max_age_days_from_the_file(workdir: Path) -> None:
    assert load_settings({}).draft_max_age_days == 14.0
    (workdir / "trainer.toml").write_text("draft_max_age_days = 3\n", encoding="utf-8")
    assert load_settings({}).draft_max_age_days == 3.0
    (workdir / "trainer.toml").write_text("draft_max_age_days = 0\n", encoding="utf-8")
    assert load_settings({}).draft_max_age_days == 0.0
    for bad in ("-1", '"soon"', "nan"):
        (workdir / "trainer.toml").write_text(f"draft_max_age_days = {bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="draft_max_age_days") as info:
            load_settings({})
        assert "不小于 0 的数字" in info.value.user_message
