"""`trainer phrasebook record-lines`: customer lines recorded in the terminal (microphone path fed by
a FileSource, --from-files, --input-file), checked (sample rate, channels, length, silence, enough
speech for the line) and stored where the 话术库 page stores them. Real speech: the dev set's WAVs."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from rich.console import Console

from trainer.audio import Audio, load_audio, measure_levels
from trainer.cli import record_lines
from trainer.cli.record_lines import FileTakes, MicrophoneTakes, NumberedLine, Player, files_by_number, numbered_lines, walk
from trainer.config import Settings, load_settings
from trainer.errors import AudioError, TrainerError
from trainer.phrasebook.clips import ClipError, clip_path, clips_for_line, load_clip, prepare_clip
from trainer.phrasebook.loader import library_from_settings
from trainer.endpoint import EndpointConfig, EndReason
from trainer.practice.source import FileSource
from trainer.practice.take import record_take

REPO = Path(__file__).resolve().parent.parent
ANGRY = "你这什么态度！我要找你们领导！"  # complaint, line 1 (13 characters)
KNOCK = "（客户敲了敲柜台）喂，有没有人管啊？"  # complaint, line 2: a stage direction, then 7 characters


@pytest.fixture()
def turns(scenarios_audio_dir: Path):  # type: ignore[no-untyped-def]
    """Real recorded speech: dev_complaint_full's turn n (n = 1..8) as a path."""
    return lambda n: scenarios_audio_dir / "dev_complaint_full" / f"turn0{n}.wav"


@pytest.fixture()
def complaint():  # type: ignore[no-untyped-def]
    return library_from_settings(load_settings()).scenario("complaint")


def _wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype=subtype)
    return out.getvalue()


def _speech(path: Path, rate: int = 16000) -> np.ndarray:
    """Real speech as float32 at `rate`."""
    samples = load_audio(path).samples.astype(np.float32) / 32768.0
    return samples if rate == 16000 else soxr.resample(samples, 16000, rate).astype(np.float32)


def _console() -> Console:
    return Console(file=io.StringIO(), width=200, force_terminal=False, color_system=None)


def _text(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- checks


def test_a_44k_stereo_file_is_converted_and_cut_to_the_speech(turns) -> None:  # type: ignore[no-untyped-def]
    speech = _speech(turns(1), 44100)
    padded = np.concatenate([np.zeros(2 * 44100, np.float32), speech, np.zeros(44100, np.float32)])
    stereo = np.stack([padded, padded * 0.8], axis=1)
    clip = prepare_clip(ANGRY, _wav(stereo, 44100, "FLOAT"), "angry.wav")
    assert clip.source.startswith("WAV 44100 Hz 立体声")
    assert "立体声已合成为单声道" in clip.notes and "采样率 44100 Hz 已转换为 16000 Hz" in clip.notes
    assert clip.audio.sample_rate == 16000 and clip.audio.samples.dtype == np.int16
    original = load_audio(turns(1))
    # the 3 s of added silence are gone (0.25 s margin each side), the speech is all there
    assert clip.seconds < original.duration + 0.6
    assert clip.levels.speech_duration == pytest.approx(measure_levels(original).speech_duration, abs=0.15)
    assert clip.warnings == ()


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda s: _wav(_speech(s, 8000), 8000), ClipError, "8000 Hz"),
        (lambda s: _wav(np.stack([_speech(s)] * 3, axis=1), 16000), ClipError, "3 个声道"),
        (lambda s: _wav(np.zeros(3 * 16000, np.int16), 16000), AudioError, "没有检测到说话声"),
        (lambda s: _wav(np.tile(_speech(s), 12), 16000), AudioError, "太长"),
        (lambda s: b"RIFF\x24\x00\x00\x00WAVEfmt broken", AudioError, ""),
    ],
    ids=["8kHz", "3-channels", "silence", "too-long", "broken"],
)
def test_files_a_clip_cannot_be_made_of_are_refused_in_chinese(turns, make, error, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as caught:
        prepare_clip(ANGRY, make(turns(1)), "x.wav")
    assert words in caught.value.user_message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.user_message)


def test_too_little_speech_for_the_line_is_refused(turns, complaint) -> None:  # type: ignore[no-untyped-def]
    long_line = complaint.step("soothe").customer  # 25 characters
    with pytest.raises(ClipError, match="25 个字"):
        prepare_clip(long_line, turns(8).read_bytes(), "turn08.wav")  # 1.6 s of speech
    assert prepare_clip(long_line, turns(5).read_bytes(), "turn05.wav").levels.speech_duration > 3


def test_much_more_speech_than_the_line_needs_is_a_warning(turns) -> None:  # type: ignore[no-untyped-def]
    four = np.concatenate([_speech(turns(n)) for n in (4, 5, 6, 7)])
    clip = prepare_clip("那要等多久？", _wav(four, 16000), "x.wav")  # 5 characters, about 12 s of speech
    assert any("多录了别的话" in w for w in clip.warnings)


# --------------------------------------------------------------------------- files to lines


def test_files_are_matched_to_lines_by_their_leading_number(tmp_path: Path) -> None:
    for name in ("01.wav", "03-安抚情绪.flac", "README.txt", ".hidden.wav"):
        (tmp_path / name).write_bytes(b"x")
    files, ignored = files_by_number(tmp_path, 18)
    assert files == {1: tmp_path / "01.wav", 3: tmp_path / "03-安抚情绪.flac"} and ignored == ["README.txt"]
    (tmp_path / "3.wav").write_bytes(b"x")
    with pytest.raises(TrainerError, match="第 3 句有两个录音文件"):
        files_by_number(tmp_path, 18)
    (tmp_path / "3.wav").unlink()
    (tmp_path / "19.wav").write_bytes(b"x")
    with pytest.raises(TrainerError, match="编号 19 不存在"):
        files_by_number(tmp_path, 18)


# --------------------------------------------------------------------------- the command


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINER_")}
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    env.update(TRAINER_CONFIG=str(config), TRAINER_SESSIONS_DIR=str(tmp_path / "sessions"), PYTHONIOENCODING="utf-8")
    return env


def _trainer(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainer", "phrasebook", "record-lines", *args], env=env, cwd=REPO, input=stdin, capture_output=True, text=True, timeout=120
    )


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_from_files_stores_clips_where_the_page_and_practice_find_them(tmp_path: Path, turns, complaint) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "takes"
    folder.mkdir()
    (folder / "01-angry.wav").write_bytes(turns(1).read_bytes())
    (folder / "02.wav").write_bytes(_wav(np.stack([_speech(turns(2), 48000)] * 2, axis=1), 48000))
    (folder / "03.wav").write_bytes(turns(8).read_bytes())  # too short for line 3: refused
    shipped = _listing(REPO / "phrasebooks")
    env = _env(tmp_path)
    result = _trainer(["complaint", "--from-files", str(folder), "--yes", "--no-playback"], env)
    assert result.returncode == 1, result.stderr  # one file refused
    assert "保存 2 句" in result.stdout and "1 个文件没有通过检查（第 3 句）" in result.stdout
    assert "动作说明不用念" in result.stdout and "25 个字" in result.stdout
    overlay = tmp_path / "phrasebook_overlay"  # the default overlay beside the sessions
    for line in (ANGRY, KNOCK):
        stored = clip_path(overlay, "complaint", line)
        assert stored.parent == overlay / "customer_lines" / "complaint"
        with wave.open(str(stored)) as reader:
            assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (16000, 1, 2)
    assert load_clip(overlay, "complaint", complaint.step("soothe").customer) is None
    # a reaction line said before the next step's line is found as two clips, as on the page
    assert len(clips_for_line(overlay, complaint, KNOCK + ANGRY)) == 2
    assert _listing(REPO / "phrasebooks") == shipped  # the shipped phrasebook is never written

    listing = _trainer(["complaint", "--list"], env)
    assert listing.returncode == 0
    rows = {line.split("│")[1].strip(): line for line in listing.stdout.splitlines() if line.count("│") >= 4}
    assert "✓" in rows["1"] and "✓" in rows["2"] and "✓" not in rows["3"] and "—" in rows["3"]
    assert "（客户敲了敲柜台）" in rows["2"] and "已录 2/18 句" in listing.stdout


def test_input_files_follow_the_chosen_lines_and_the_instructor_decides(tmp_path: Path, turns) -> None:  # type: ignore[no-untyped-def]
    env = _env(tmp_path)
    # line 2 kept (Enter), line 4 read again (r) then skipped (s)
    result = _trainer(["complaint", "--line", "4", "--line", "2", "--input-file", str(turns(2)), "--input-file", str(turns(3)), "--no-playback"], env, "\nr\ns\n")
    assert result.returncode == 0, result.stderr
    assert "保存 1 句，跳过 1 句" in result.stdout
    overlay = tmp_path / "phrasebook_overlay"
    assert load_clip(overlay, "complaint", KNOCK) is not None
    assert load_clip(overlay, "complaint", "（客户嗓门更大了）你倒是说句话啊！") is None
    too_many = _trainer(["complaint", "--line", "2", "--input-file", str(turns(2)), "--input-file", str(turns(3))], env)
    assert too_many.returncode == 2 and "要录的台词只有 1 句" in too_many.stderr
    assert "--yes 只能" in _trainer(["complaint", "--yes"], env).stderr
    missing = _trainer(["complaint", "--missing", "--line", "2", "--input-file", str(turns(2))], env)
    assert missing.returncode == 0 and "都已经有录音" in missing.stdout


def _args(**given: object) -> argparse.Namespace:
    values: dict[str, object] = dict(
        scenario="complaint", list=False, line=None, missing=False, device=None, from_files=None, input_file=None,
        yes=False, no_playback=False, pause_seconds=1.0,
    )
    values.update(given)
    return argparse.Namespace(**values)


def test_playback_then_keep_redo_skip_quit(tmp_path: Path, turns) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(sessions_dir=tmp_path / "sessions")
    played: list[bytes] = []
    answers = iter(["", "s", "q"])
    console = _console()
    code = record_lines.run(
        _args(input_file=[turns(1), turns(2), turns(3)]), settings, console, ask=lambda prompt: next(answers), play=played.append
    )
    assert code == 0
    assert len(played) == 3  # each take played back before the question
    with wave.open(io.BytesIO(played[0])) as reader:
        assert reader.getframerate() == 16000 and reader.getnframes() > 16000
    text = _text(console)
    assert "保存 1 句，跳过 1 句，已提前结束" in text
    assert load_clip(settings.overlay_dir, "complaint", ANGRY) is not None


def test_playback_failing_is_reported_once_and_recording_goes_on(tmp_path: Path, turns) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(sessions_dir=tmp_path / "sessions")
    calls: list[int] = []

    def no_device(wav: bytes) -> None:
        calls.append(len(wav))
        raise OSError("Error querying device -1")

    console = _console()
    code = record_lines.run(_args(input_file=[turns(1), turns(2)], yes=True), settings, console, play=no_device)
    assert code == 0 and len(calls) == 1
    assert _text(console).count("无法回放录音") == 1 and "保存 2 句" in _text(console)


def test_microphone_takes_end_at_the_pause_and_are_kept(tmp_path: Path, turns, complaint) -> None:  # type: ignore[no-untyped-def]
    """The microphone path, fed by one recording of two lines said with a pause between them."""
    gap = np.zeros(int(2.0 * 16000), np.int16)
    first, second = load_audio(turns(1)), load_audio(turns(2))
    spoken = Audio(np.concatenate([first.samples, gap, second.samples, gap]))
    takes = MicrophoneTakes(FileSource([spoken], fast=True), pause_seconds=1.0)
    items = [n for n in numbered_lines(complaint) if n.number in (1, 2)]
    answers = iter(["", "", "", ""])  # Enter: start recording, Enter: keep (twice)
    console = _console()
    outcome = walk(items, complaint, tmp_path, takes, console, ask=lambda prompt: next(answers), player=Player(None))
    takes.close()
    assert outcome.kept == [1, 2] and not outcome.refused
    for line, source in ((ANGRY, first), (KNOCK, second)):
        stored = load_audio(clip_path(tmp_path, "complaint", line))
        # the take ended at the pause: about this line's speech, not the other one's
        assert abs(measure_levels(stored).speech_duration - measure_levels(source).speech_duration) < 0.3
    assert "第 1 句" in _text(console) and "（客户敲了敲柜台）" in _text(console)


def test_a_take_ends_at_the_pause_after_speech(turns) -> None:  # type: ignore[no-untyped-def]
    speech = load_audio(turns(1))
    source = FileSource([Audio(np.concatenate([speech.samples, np.zeros(3 * 16000, np.int16)]))], fast=True)
    source.open()
    take = record_take(source, EndpointConfig(pause_seconds=1.0, max_answer_seconds=30.0))
    assert take is not None and take.end_reason is EndReason.PAUSE and take.speech_heard
    assert speech.duration < take.audio.duration < speech.duration + 1.5
    rest = record_take(source, EndpointConfig(pause_seconds=1.0, max_answer_seconds=30.0))
    assert rest is not None and not rest.speech_heard  # only the trailing silence was left


def test_a_refused_microphone_take_can_be_recorded_again(tmp_path: Path, turns, complaint) -> None:  # type: ignore[no-untyped-def]
    gap = np.zeros(int(2.0 * 16000), np.int16)
    short, enough = load_audio(turns(8)), load_audio(turns(5))  # 1.6 s, then 4 s of speech for a 25-character line
    takes = MicrophoneTakes(FileSource([Audio(np.concatenate([short.samples, gap, enough.samples, gap]))], fast=True), pause_seconds=1.0)
    item = next(n for n in numbered_lines(complaint) if n.number == 3)
    answers = iter(["", "r", ""])  # start, 重录 after the refusal, keep
    console = _console()
    outcome = walk([item], complaint, tmp_path, takes, console, ask=lambda prompt: next(answers))
    takes.close()
    assert outcome.kept == [3]
    assert "25 个字" in _text(console)
    assert measure_levels(load_audio(clip_path(tmp_path, "complaint", item.line.line))).speech_duration > 3


def test_file_takes_name_the_missing_line(tmp_path: Path, complaint) -> None:  # type: ignore[no-untyped-def]
    item = NumberedLine(5, numbered_lines(complaint)[4].line)
    assert FileTakes({}).take(item, _console()) is None


def test_the_command_records_from_the_chosen_microphone(tmp_path: Path, own_config: Path, turns, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`--device USB`: the input device is opened through sounddevice (a fake PortAudio whose
    microphone hears real speech while a take is being recorded), and the take is stored."""
    import threading

    from test_practice_capture import FakeSoundDevice
    from trainer.cli import main
    from trainer.practice import capture

    speech = load_audio(turns(1)).samples
    signal = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(4 * 16000, np.int16)])
    recording = threading.Event()  # the instructor speaks once the take begins
    fake = FakeSoundDevice(signal, block_interval=0.002, gate=recording.is_set)
    monkeypatch.setattr(capture, "_import_sounddevice", lambda: fake)
    real_take = record_lines.record_take

    def take(*args, **kwargs):  # type: ignore[no-untyped-def]
        recording.set()
        try:
            return real_take(*args, **kwargs)
        finally:
            recording.clear()

    monkeypatch.setattr(record_lines, "record_take", take)
    answers = iter(["", ""])  # Enter: record; Enter: keep
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))

    assert main(["phrasebook", "record-lines", "complaint", "--line", "1", "--device", "USB", "--no-playback", "--pause-seconds", "1"]) == 0
    assert fake.opened and fake.opened[0]["device"] == 2 and fake.opened[0]["channels"] == 1
    stored = load_audio(clip_path(tmp_path / "phrasebook_overlay", "complaint", ANGRY))
    assert abs(measure_levels(stored).speech_duration - measure_levels(Audio(speech)).speech_duration) < 0.3


def test_terminal_practice_plays_the_recorded_clips_first(tmp_path: Path, turns, complaint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A clip recorded with record-lines is what `trainer practice` plays through the speakers,
    also without espeak-ng; a line without a clip falls back to speech synthesis (reported once)."""
    from trainer import speech
    from trainer.practice.voice import TerminalVoice

    settings = Settings(sessions_dir=tmp_path / "sessions")
    assert record_lines.run(_args(line=[1, 2], input_file=[turns(1), turns(2)], yes=True, no_playback=True), settings, _console()) == 0
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)  # no espeak-ng
    played: list[bytes] = []
    voice = TerminalVoice(settings, play=played.append, scenario=complaint)
    assert voice.say(ANGRY) == ""
    assert played == [load_clip(settings.overlay_dir, "complaint", ANGRY)]
    assert voice.say(KNOCK + ANGRY) == "" and len(played) == 3  # a reaction line joined with the next: two clips
    assert "espeak-ng" in voice.say("那要等多久？") and len(played) == 3  # no clip, no espeak: text only, said once
    assert voice.say(ANGRY) == "" and len(played) == 4  # clips still play
    assert TerminalVoice(settings, play=played.append).say(ANGRY) != "" and len(played) == 4  # without the scenario: no clips
