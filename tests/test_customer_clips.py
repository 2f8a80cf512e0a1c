"""Customer lines recorded by instructors (trainer.phrasebook.clips): stored in the overlay, found
for a line (also for a reaction's line joined with the next step's line), preferred over speech
synthesis on the page, recorded on the 话术库 page by an instructor."""

from __future__ import annotations

import io
import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from trainer.app import services
from trainer.audio import Audio, load_audio
from trainer.config import Settings, load_settings
from trainer.errors import AudioError
from trainer.phrasebook.clips import ClipError, clip_path, clips_for_line, delete_clip, load_clip, save_clip, written_lines
from trainer.phrasebook.loader import library_from_settings
from app_support import log_in, make_account, no_exception

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"


@pytest.fixture()
def speech(scenarios_audio_dir: Path):  # type: ignore[no-untyped-def]
    """Real recorded speech (the dev set's answers), n = 1..8."""
    return lambda n=1: (scenarios_audio_dir / "dev_complaint_full" / f"turn0{n}.wav").read_bytes()


@pytest.fixture()
def complaint():  # type: ignore[no-untyped-def]
    return library_from_settings(load_settings()).scenario("complaint")


def test_written_lines_cover_steps_reactions_and_extra_steps(complaint) -> None:  # type: ignore[no-untyped-def]
    lines = written_lines(complaint)
    spoken = [w.spoken for w in lines]
    assert "你们这电费怎么回事？上个月比平时多了一倍，是不是乱收费！" in spoken
    assert "你这什么态度！我要找你们领导！" in spoken and spoken.count("你这什么态度！我要找你们领导！") == 1
    assert "连句道歉都没有？我今天非投诉你不可！" in spoken  # an extra step's reaction, stage direction left out
    assert all("（" not in s for s in spoken)  # only words to say


def test_save_find_and_delete_a_clip(tmp_path: Path, complaint, speech) -> None:  # type: ignore[no-untyped-def]
    line = "（客户敲了敲柜台）喂，有没有人管啊？"
    path = save_clip(tmp_path, "complaint", line, speech())
    assert path == clip_path(tmp_path, "complaint", "喂，有没有人管啊？")  # keyed by the words only
    assert path.parent == tmp_path / "customer_lines" / "complaint"
    stored = load_clip(tmp_path, "complaint", line)
    assert stored is not None and stored.startswith(b"RIFF")
    # a reaction's line joined with the next step's line: one clip per part, both needed
    joined = line + complaint.step("soothe").customer
    assert clips_for_line(tmp_path, complaint, joined) == []
    save_clip(tmp_path, "complaint", complaint.step("soothe").customer, speech(5))
    parts = clips_for_line(tmp_path, complaint, joined)
    assert len(parts) == 2 and parts[0] == stored
    assert delete_clip(tmp_path, "complaint", line) and not delete_clip(tmp_path, "complaint", line)
    assert clips_for_line(tmp_path, complaint, joined) == []


def test_bad_clips_are_refused(tmp_path: Path, speech) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClipError):
        save_clip(tmp_path, "complaint", "（递上客户服务卡）", speech())
    with pytest.raises(AudioError):
        save_clip(tmp_path, "complaint", "你好。", b"RIFF not really audio")
    silence = io.BytesIO()
    with wave.open(silence, "wb") as writer:
        writer.setnchannels(1), writer.setsampwidth(2), writer.setframerate(16000), writer.writeframes(b"\0\0" * 16000)
    with pytest.raises(AudioError):
        save_clip(tmp_path, "complaint", "你好。", silence.getvalue())


def test_a_recorded_clip_is_preferred_to_speech_synthesis(tmp_path: Path, complaint, speech) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(phrasebook_overlay_dir=tmp_path)
    line = complaint.step("soothe").customer
    save_clip(tmp_path, "complaint", line, speech(5))
    html, problem = services.customer_voice(line, settings, "k", once=False, scenario=complaint)
    config = json.loads(re.search(r"const c=(\{.*?\});", html).group(1))  # type: ignore[union-attr]
    assert problem == "" and len(config["clips"]) == 1 and config["clips"][0].startswith("data:audio/wav;base64,")
    assert "<audio id=\"a\" preload=\"auto\"></audio>" in html  # no synthesised audio needed


def test_instructor_records_a_line_on_the_phrasebook_page(own_config: Path, speech) -> None:  # type: ignore[no-untyped-def]
    tmp_path = own_config
    make_account(tmp_path / "sessions", "T100", role="instructor", name="王老师")
    at = AppTest.from_file(str(APP_DIR / "首页.py"), default_timeout=120)
    at.switch_page("pages/4_话术库.py")
    log_in(at, tmp_path / "sessions", "T100")
    at.run()
    no_exception(at)
    at.selectbox(key="clip-scenario").set_value("complaint").run()
    at.audio_input(key="clip-rec-0").set_value(("line.wav", speech(), "audio/wav")).run()
    at.button(key="clip-save-0").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    settings = load_settings()
    first = written_lines(library_from_settings(settings).scenario("complaint"))[0]
    assert load_clip(settings.overlay_dir, "complaint", first.line) is not None


def test_the_recording_tab_is_for_instructors_only(own_config: Path) -> None:
    tmp_path = own_config
    make_account(tmp_path / "sessions", "E1024", name="张三")  # a trainee
    at = AppTest.from_file(str(APP_DIR / "首页.py"), default_timeout=120)
    at.switch_page("pages/4_话术库.py")
    log_in(at, tmp_path / "sessions", "E1024")
    at.run()
    no_exception(at)
    assert any("教师专用" in i.value for i in at.info)
    assert not [s for s in at.selectbox if s.key == "clip-scenario"]


def test_the_page_says_what_it_saved_and_what_to_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenarios_audio_dir: Path) -> None:
    """A take with much more speech than its line gets a warning after saving (same checks as the terminal)."""
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.delenv("TRAINER_PHRASEBOOK_DIRS", raising=False)
    make_account(tmp_path / "sessions", "T100", role="instructor", name="王老师")
    folder = scenarios_audio_dir / "dev_complaint_full"
    answers = [load_audio(folder / f"turn0{n}.wav").samples for n in (4, 5, 6, 7)]
    long_take = Audio(np.concatenate(answers)).to_wav_bytes()  # four answers (about 12 s of speech) for a 13-character line
    at = AppTest.from_file(str(APP_DIR / "首页.py"), default_timeout=120)
    at.switch_page("pages/4_话术库.py")
    log_in(at, tmp_path / "sessions", "T100")
    at.run()
    at.selectbox(key="clip-scenario").set_value("complaint").run()
    at.audio_input(key="clip-rec-0").set_value(("line.wav", long_take, "audio/wav")).run()
    at.button(key="clip-save-0").click().run()
    no_exception(at)
    first = written_lines(library_from_settings(load_settings()).scenario("complaint"))[0]
    assert [s.value for s in at.success] == [f"已保存：{first.spoken}"]
    assert any("多录了别的话" in w.value for w in at.warning)
