"""Evidence -> step decision -> verdict (trainer/scoring/decide.py), and the dialogue and recogniser doubts in scoring."""

from __future__ import annotations

import pytest

from trainer.asr.base import Transcript, Word
from trainer.config import Settings
from trainer.pipeline import load_library, score_turns
from trainer.scoring import decide
from trainer.scoring.decide import StepEvidence, decide_step, decide_verdict
from trainer.scoring.document import TurnText
from trainer.scoring.result import HIT, MISSED, PARTIAL, StepResult


@pytest.mark.parametrize(
    ("kind", "status", "certain"),
    [
        ("phrasing", HIT, True),
        ("cue", HIT, True),
        ("amount", HIT, True),
        ("content", HIT, False),
        ("partial", PARTIAL, False),
        ("trace", MISSED, False),
        ("none", MISSED, True),
    ],
)
def test_each_kind_of_evidence_gives_its_decision(kind: str, status: str, certain: bool) -> None:
    decision = decide_step(StepEvidence(kind))
    assert (decision.status, decision.certain) == (status, certain)
    assert decision.confidence == decide.EVIDENCE_CONFIDENCE[kind]


def test_own_words_in_the_turn_that_answers_the_step_are_certain() -> None:
    assert decide_step(StepEvidence("content", expected_turn=2, turn=2)).certain
    assert not decide_step(StepEvidence("content", expected_turn=2, turn=5)).certain


def test_a_miss_the_recogniser_may_have_caused_is_never_certain() -> None:
    unsure = decide_step(StepEvidence("none", expected_turn=3, heard=0.4))
    assert (unsure.status, unsure.certain, unsure.doubt) == (MISSED, False, decide.WHY_ASR)
    homophone = decide_step(StepEvidence("partial", near_homophone=True))
    assert (homophone.certain, homophone.doubt) == (False, decide.WHY_ASR)
    assert decide_step(StepEvidence("phrasing", heard=0.3)).certain  # a hit stays a hit


def _step(step_id: str, status: str, certain: bool = True, required: bool = True) -> StepResult:
    return StepResult(step_id, status, 0.9, "", 1, None, None, "", required=required, certain=certain)


def _rule(steps):  # type: ignore[no-untyped-def]
    return tuple(f"missed {s.id}" for s in steps if s.required and s.status == MISSED)


def test_verdict_is_review_only_when_the_doubt_decides_the_outcome() -> None:
    assert decide_verdict([_step("a", HIT), _step("b", HIT)], _rule).verdict == "pass"
    assert decide_verdict([_step("a", HIT), _step("b", MISSED)], _rule).verdict == "fail"
    doubtful = decide_verdict([_step("a", HIT), _step("b", HIT, certain=False)], _rule)
    assert (doubtful.verdict, doubtful.passed, doubtful.doubts) == ("review", True, ("b",))
    # a certain miss fails whatever the doubtful step turns out to be
    assert decide_verdict([_step("a", MISSED), _step("b", HIT, certain=False)], _rule).verdict == "fail"
    # a doubt about an optional step changes nothing
    assert decide_verdict([_step("a", HIT), _step("b", MISSED, certain=False, required=False)], _rule).verdict == "pass"


def _turns(texts: list[str], *, dialogue: bool, confidence: float = 1.0) -> list[TurnText]:
    library = load_library(Settings())
    steps = library.scenario("payment").steps
    out = []
    for i, text in enumerate(texts):
        words = tuple(Word(c, i + k * 0.2, i + k * 0.2 + 0.2, confidence) for k, c in enumerate(text)) if confidence < 1 else ()
        expects = (steps[i].id,) if dialogue and i < len(steps) else ()
        out.append(TurnText(Transcript(text=text, words=words), f"turn{i + 1:02d}.wav", expects))
    return out


PAYMENT = ["您好！", "交电费是吧？", "来来，坐这儿。", "服务卡有吗？拿来我刷一下。", "您这个月一共一百二十元。",
           "您用现金还是扫码？", "收您两百元。", "找您八十元，这是发票，请收好。", "还有别的事吗？", "您慢走。"]


def test_curt_request_in_its_own_turn_performs_the_step_certainly() -> None:
    result = score_turns(_turns(PAYMENT, dialogue=True), "payment", Settings())
    account = result.step("ask_account")
    assert (account.status, account.certain) == (HIT, True)
    assert result.decision == "pass", result.fail_reasons


def test_without_the_dialogue_the_same_words_are_weaker_evidence() -> None:
    result = score_turns(_turns(PAYMENT, dialogue=False), "payment", Settings())
    account = result.step("ask_account")
    assert account.status == HIT and account.evidence in ("content", "cue", "phrasing")
    if account.evidence == "content":
        assert not account.certain and result.decision == "review"


def test_curt_performed_step_gets_a_politeness_finding_not_a_miss() -> None:
    result = score_turns(_turns(PAYMENT, dialogue=True), "payment", Settings())
    account = result.step("ask_account")
    assert account.status == HIT
    assert "没有用" in account.manner and "请" in account.manner


def test_poorly_heard_turn_makes_a_missing_step_a_review_not_a_fail() -> None:
    texts = list(PAYMENT)
    texts[3] = "哦那个嗯好"  # garbled by the recogniser: nothing of 询问户号 survives
    result = score_turns(_turns(texts, dialogue=True, confidence=0.3), "payment", Settings())
    account = result.step("ask_account")
    assert (account.status, account.certain, account.doubt) == (MISSED, False, "asr")
    assert result.decision == "review"
    assert not result.passed  # best single guess
