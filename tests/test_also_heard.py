"""Issue 11 item 3, "find every step wherever it was said": a performed step heard again in another
turn (the ID asked for in turn 2, 您是本人吧 in turn 3) keeps its one decision and turn, and reports the
other turn in `also_heard`; screens highlight and list it there, and `trainer eval` compares it turn by
turn in `steps_any_turn`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer.app import highlight, views
from trainer.asr.base import Transcript
from trainer.config import load_settings
from trainer.evaluation.runner import ModeReport, evaluate_performance
from trainer.pipeline import load_library, score_turns
from trainer.scoring.display import steps_heard_in
from trainer.scoring.result import ScoreResult

TURNS = [
    "您好，请坐，请问您办理什么业务？",
    "过户需要身份证和房产证，身份证给我看一下。",
    "收到了，谢谢。您是张强本人吧？",
    "请您稍等。",
    "这是您的证件，请收好。请在这里签字。",
    "还有别的需要吗？请慢走，再见。",
]


@pytest.fixture(scope="module")
def library():  # type: ignore[no-untyped-def]
    return load_library(load_settings())


@pytest.fixture(scope="module")
def scored(library):  # type: ignore[no-untyped-def]
    return score_turns([Transcript(text=t) for t in TURNS], "business", load_settings(), library=library, engine="text", dialogue=True)


def test_a_step_heard_again_keeps_its_turn_and_names_the_other(scored) -> None:  # type: ignore[no-untyped-def]
    verify = scored.step("verify_identity")
    assert (verify.status, verify.turn) == ("hit", 2)
    assert verify.also_heard == ((3, "本人吧"),)
    # words another step holds are not heard again: 请收好 is return_documents' only
    assert all(turn != 5 for s in scored.steps for turn, _ in s.also_heard if s.id != "return_documents")
    # one step is never heard again on the turn it was decided on
    assert all(turn != s.turn for s in scored.steps for turn, _ in s.also_heard)


def test_the_field_round_trips_and_an_older_score_has_none(scored) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(scored.to_dict(), ensure_ascii=False))
    [verify] = [s for s in data["steps"] if s["id"] == "verify_identity"]
    assert verify["also_heard"] == [{"turn": 3, "text": "本人吧"}] and verify["turn"] == 2
    assert ScoreResult.from_dict(data).step("verify_identity").also_heard == ((3, "本人吧"),)
    older = {**data, "steps": [{k: v for k, v in s.items() if k != "also_heard"} for s in data["steps"]]}
    assert ScoreResult.from_dict(older).step("verify_identity").also_heard == ()


def test_screens_show_the_step_on_both_turns(scored, library) -> None:  # type: ignore[no-untyped-def]
    data = scored.to_dict()
    assert "verify_identity" in [s["id"] for s in steps_heard_in(data, 3)]
    assert [s["matched_text"] for s in steps_heard_in(data, 3) if s["id"] == "verify_identity"] == ["本人吧"]
    spans = highlight.turn_spans(TURNS[2], 3, data, {"verify_identity": "核实客户身份"})
    assert any(TURNS[2][s.start : s.end] == "本人吧" and "核实客户身份" in s.tooltip for s in spans)
    scenario = library.scenario("business")
    assert "核实客户身份" in [line.title for line in views.turn_result(data, 3, scenario, library).steps]
    assert "核实客户身份" in [line.title for line in views.turn_result(data, 2, scenario, library).steps]


def _labelled(tmp_path: Path, verify_turn: int) -> object:
    from trainer.evaluation.dataset import load_dataset

    turns = [{"file": f"turn{i:02d}.wav", "text": t, "steps": [], "forbidden": []} for i, t in enumerate(TURNS, 1)]
    turns[verify_turn - 1]["steps"] = ["verify_identity"]
    folder = tmp_path / "p1"
    folder.mkdir()
    labels = {"id": "p1", "scenario": "business", "expect": {}, "turns": turns}
    (folder / "labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    [perf] = load_dataset(tmp_path)
    return perf


@pytest.mark.parametrize(("labelled_turn", "decided_right", "any_right"), [(2, 1, 1), (3, 0, 1), (4, 0, 0)])
def test_eval_counts_any_heard_turn_separately(tmp_path: Path, library, labelled_turn: int, decided_right: int, any_right: int) -> None:  # type: ignore[no-untyped-def]
    perf = _labelled(tmp_path, labelled_turn)
    settings = load_settings()
    report = ModeReport("turns")

    def score(turns, scenario_id):  # type: ignore[no-untyped-def]
        return score_turns(list(turns), scenario_id, settings, library=library, engine="oracle")

    evaluate_performance(perf, "turns", [Transcript(text=t) for t in TURNS], score, library, report)  # type: ignore[arg-type]
    other_steps = report.steps.fp - (1 - decided_right)  # every other step found is unlabelled here
    assert report.steps.tp == decided_right and report.steps.fn == 1 - decided_right
    assert report.steps_any_turn.tp == any_right and report.steps_any_turn.fn == 1 - any_right
    # once per performance: a step heard in two turns is one unit either way
    assert report.steps_any_turn.fp == other_steps + (1 - any_right)
