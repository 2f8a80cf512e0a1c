"""`trainer phrasebook check|show|list` through the real command entry point."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trainer.cli import main


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer trainer.toml or env settings leak into the CLI under test."""
    for var in [v for v in os.environ if v.startswith("TRAINER_")]:
        monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "trainer.toml"
    config.write_text('[placeholders]\ncompany = "城西供电公司"\n', encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))


def test_check_default_dirs_passes_with_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["phrasebook", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("词库检查通过：8 个文件，")
    assert "个场景" in out and "个步骤" in out and "条通用服务忌语" in out


def test_check_bad_file_prints_file_line_field_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    bad = folder / "bad.yaml"
    bad.write_text(
        "scenarios:\n  - id: demo\n    title: 演示\n    role: counter\n    brief: 简介\n    steps:\n"
        "      - id: greet\n        title: 问候\n        phrases: [您好]\n        weight: 0\n",
        encoding="utf-8",
    )
    assert main(["phrasebook", "check", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{bad}:10: scenarios[demo].steps[greet].weight: ")
    assert lines[-1].startswith("共 1 个问题")


def test_check_extra_file_against_shipped_scenarios(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "forbidden:\n  - id: local_rude\n    phrase: 你烦不烦\n    severity: major\n    reason: 不耐烦\n"
        "    replacement: 您还有什么需要，请慢慢说。\n    scenarios: [payment]\n",
        encoding="utf-8",
    )
    assert main(["phrasebook", "check", str(mine)]) == 0
    assert "1 个文件，0 个场景，0 个步骤，1 条通用服务忌语" in capsys.readouterr().out
    mine.write_text(mine.read_text(encoding="utf-8").replace("id: local_rude", "id: wei"), encoding="utf-8")
    assert main(["phrasebook", "check", str(mine)]) == 1
    assert "forbidden[wei].id" in capsys.readouterr().out


def test_show_prints_the_scenario_as_a_trainee_sees_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["phrasebook", "show", "wrong_number"]) == 0
    out = capsys.readouterr().out
    assert "客户打错电话" in out and "热线" in out
    assert "城西供电公司" in out  # placeholder from the config file
    assert "客户：" in out and "标准用语：" in out and "提示：" in out
    assert out.index("1. 接听") < out.index("2. 礼貌说明打错了") < out.index("4. 道别")


def test_show_renders_slots_readably(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["phrasebook", "show", "payment"]) == 0
    out = capsys.readouterr().out
    assert "〔收到的现金金额〕" in out and "{received}" not in out


def test_show_unknown_scenario_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["phrasebook", "show", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "未知的场景“nosuch”" in err and "payment" in err


def test_list_shows_all_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["phrasebook", "list"]) == 0
    out = capsys.readouterr().out
    for scenario_id in ("payment", "complaint", "wrong_number", "business", "fault_report", "reception", "gas_safety_visit"):
        assert scenario_id in out
    assert "柜台" in out and "燃气" in out
