"""`trainer score`: the JSON contract, the readable report, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.cli import main

CONTRACT_KEYS = ["scenario", "engine", "transcript", "turns", "steps", "forbidden", "forbidden_doubtful", "amounts", "fluency", "score", "passed", "verdict", "feedback", "advice"]  # verdict: pass | fail | review; forbidden_doubtful: 忌语 words probably meant otherwise (issue 11); advice: feedback grouped by turn (issue 14)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_json_is_exactly_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys, "score", "--text", "您好！收您一百元。", "--text", "这是您的发票和找您的四十八元，请点清收好。不知道。", "--scenario", "payment", "--json"
    )
    assert code == 0, err
    data = json.loads(out)  # one object, nothing else on stdout
    assert list(data) == CONTRACT_KEYS
    assert data["scenario"] == "payment" and data["engine"] == "text"
    assert len(data["turns"]) == 2
    steps = {s["id"]: s for s in data["steps"]}
    assert steps["greet"]["status"] == "hit" and steps["greet"]["turn"] == 1
    assert steps["sing_change"]["status"] == "hit" and steps["sing_change"]["turn"] == 2
    assert steps["farewell"]["status"] == "missed" and steps["farewell"]["turn"] is None
    assert [f["phrase"] for f in data["forbidden"]] == ["不知道"]
    assert data["amounts"]["received"] == 100 and data["amounts"]["change"] == 48
    assert isinstance(data["passed"], bool) and data["passed"] is False
    assert all(isinstance(line, str) and line for line in data["feedback"])


def test_readable_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "score", "--text", "您好，请问有什么可以帮您？", "--scenario", "complaint")
    assert code == 0
    assert "总分" in out and "缺少步骤" in out and "标准用语步骤" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["score", "--text", "您好", "--scenario", "no_such"], "未知的场景"),
        (["score", "--text", "您好"], "--scenario"),
        (["score", "--scenario", "payment"], "录音文件"),
        (["score", "missing.wav", "--scenario", "payment"], "missing.wav"),
        (["score", "x.wav", "--text", "您好", "--scenario", "payment"], "不要同时给"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def test_corrupt_audio_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "turn01.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    code, out, err = run_cli(capsys, "score", str(bad), "--scenario", "payment", "--engine", "vosk", "--json")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_audio_turns_json_with_whisper(capsys: pytest.CaptureFixture[str], whisper_model_dir: Path, scenarios_audio_dir: Path) -> None:
    folder = scenarios_audio_dir / "dev_payment_full"
    turns = sorted(str(p) for p in folder.glob("turn*.wav"))
    code, out, err = run_cli(capsys, "score", *turns, "--scenario", "payment", "--engine", "whisper", "--model", str(whisper_model_dir), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == CONTRACT_KEYS
    assert data["engine"] == "whisper" and len(data["turns"]) == len(turns)
    assert [t["file"] for t in data["turns"]] == [Path(p).name for p in turns]
    assert data["turns"][1]["start"] == pytest.approx(data["turns"][0]["end"])
    assert data["amounts"] == {"bill": 52, "received": 100, "change": 48, "consistent": True, "misheard": False}
    assert data["passed"] is True
    receive = next(s for s in data["steps"] if s["id"] == "sing_receive")
    assert receive["status"] == "hit" and receive["turn"] == 7
    turn7 = data["turns"][6]
    assert turn7["start"] <= receive["start"] < receive["end"] <= turn7["end"] + 0.01
    assert data["fluency"]["chars_per_min"] > 0
