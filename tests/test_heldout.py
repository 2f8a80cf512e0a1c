"""Held-out text performances (tests/data/heldout): the matcher's generalisation, measured with `--oracle`.

Set A was written independently of the phrasebook and matcher; since this session it is the
development set for general mechanisms (never sentence-specific rules) — set B
(tests/data/heldout_b) is the measurement set and has no test. This test only keeps the
measured figures from sliding back. Floors = figure measured at the time of
writing − 0.05:

| figure (36 performances, turns) | before cues (b5e8fda) | cues + forbidden rules (07be16a) | candidate pruning, read-backs counted once, pass rule, keyword reach | major 忌语 fails | floor |
| --- | --- | --- | --- | --- | --- |
| step recall | 0.591 | 0.827 | 0.927 | 0.927 | 0.87 |
| step precision | 0.993 | 0.989 | 0.995 | 0.995 | 0.94 |
| forbidden recall | 1.0 | 1.0 | 1.0 | 1.0 | 0.95 |
| forbidden precision | 0.696 (6 hits on clean turns) | 1.0 (0) | 1.0 (0) | 1.0 (0) | 0.95 |
| pass/fail agreement | 0.722 | 0.889 | 0.972 | 1.0 | 0.95 |

Measured with `trainer eval DIR --oracle --mode turns` (the label texts as transcripts).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.cli import main

HELDOUT = Path(__file__).parent / "data" / "heldout" / "performances.json"

FLOORS = {
    "step_recall": 0.87,
    "step_precision": 0.94,
    "forbidden_recall": 0.95,
    "forbidden_precision": 0.95,
    "passed_agreement": 0.95,
}


@pytest.fixture(scope="module")
def heldout_dir(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`trainer eval DIR --oracle --mode turns --json` on the held-out set laid out as eval folders."""
    root = tmp_path_factory.mktemp("heldout")
    for performance in json.loads(HELDOUT.read_text(encoding="utf-8")):
        folder = root / performance["id"]
        folder.mkdir()
        for number, turn in enumerate(performance["turns"], start=1):
            turn.setdefault("file", f"turn{number:02d}.wav")  # texts only: the files are never read with --oracle
        (folder / "labels.json").write_text(json.dumps(performance, ensure_ascii=False), encoding="utf-8")
    return root


def test_heldout_oracle_figures_stay_above_their_floors(heldout_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", str(heldout_dir), "--oracle", "--mode", "turns", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    turns = json.loads(out)["modes"]["turns"]
    assert turns["performances"] == 36
    got = {
        "step_recall": turns["steps"]["recall"],
        "step_precision": turns["steps"]["precision"],
        "forbidden_recall": turns["forbidden"]["recall"],
        "forbidden_precision": turns["forbidden"]["precision"],
        "passed_agreement": turns["passed"]["rate"],
    }
    low = {name: value for name, value in got.items() if value < FLOORS[name]}
    assert not low, f"below the floor: {low} (floors {FLOORS}); disagreements: {turns['disagreements']}"
