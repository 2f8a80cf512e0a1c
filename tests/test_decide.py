"""Evidence -> step decision -> verdict (trainer/scoring/decide.py), and the dialogue and recogniser doubts in scoring."""

from __future__ import annotations

import dataclasses

import pytest

from trainer.asr.base import Transcript, Word
from trainer.config import Settings
from trainer.pipeline import load_library, score_turns
from trainer.scoring import decide
from trainer.scoring.decide import StepEvidence, decide_step, decide_verdict
from trainer.scoring.document import TurnText
from trainer.phrasebook.model import ForbiddenEntry
from trainer.scoring.document import build_doc
from trainer.scoring.forbidden import FORBIDDEN_EVIDENCE_KINDS, find_forbidden, hit_evidence
from trainer.scoring.result import HIT, MISSED, PARTIAL, ForbiddenHit, StepResult
from trainer.scoring.politeness import Politeness


@pytest.mark.parametrize(
    ("kind", "status", "certain"),
    [
        ("phrasing", HIT, True),
        ("cue", HIT, True),
        ("amount", HIT, True),
        ("content", HIT, False),
        ("restatement", HIT, False),
        ("own_turn", HIT, False),
        ("own_words", MISSED, False),  # typed; recognised speech: a hit (OWN_WORDS_HEARD)
        ("near_heard", HIT, True),
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


def test_own_words_the_clerk_confirms_with_the_customer_are_certain() -> None:
    assert decide_step(StepEvidence("content", confirmed=True)).certain
    assert not decide_step(StepEvidence("content", confirmed=False)).certain
    assert not decide_step(StepEvidence("trace", confirmed=True)).certain  # only own words that perform the step


@pytest.mark.parametrize(
    ("text", "certain"),
    [
        ("您好。您是来开增值税发票的对吧？", True),
        ("您好。是办光伏并网是不是？", True),
        ("您好。您是来开增值税发票的嘛？", False),  # a question, but not the request said back with a confirming tag
        ("您好。您这是办阶梯电价变更。", False),
    ],
)
def test_the_request_said_back_with_a_confirming_tag_is_sure_evidence(text: str, certain: bool) -> None:
    result = score_turns([TurnText(Transcript(text=text))], "business", Settings())
    need = result.step("ask_need")
    assert (need.status, need.evidence, need.certain) == (HIT, "content", certain)


def test_a_miss_the_recogniser_may_have_caused_is_never_certain() -> None:
    unsure = decide_step(StepEvidence("none", expected_turn=3, heard=0.4))
    assert (unsure.status, unsure.certain, unsure.doubt) == (MISSED, False, decide.WHY_ASR)
    homophone = decide_step(StepEvidence("partial", near_homophone=True))
    assert (homophone.certain, homophone.doubt) == (False, decide.WHY_ASR)
    assert decide_step(StepEvidence("phrasing", heard=0.3)).certain  # a hit stays a hit


def _step(step_id: str, status: str, certain: bool = True, required: bool = True) -> StepResult:
    return StepResult(step_id, status, 0.9, "", 1, None, None, "", required=required, certain=certain)


def _rule(steps, hits=()):  # type: ignore[no-untyped-def]
    return tuple(f"missed {s.id}" for s in steps if s.required and s.status == MISSED) + tuple(f"said {h.id}" for h in hits)


def _verdict(steps, hits=(), doubtful=()):  # type: ignore[no-untyped-def]
    return decide_verdict(steps, hits, doubtful, _rule)


def _hit(entry_id: str, certain: bool = True) -> ForbiddenHit:
    return ForbiddenHit(entry_id, entry_id, entry_id, 1, None, "major", "", certain=certain)


def test_verdict_is_review_only_when_the_doubt_decides_the_outcome() -> None:
    assert _verdict([_step("a", HIT), _step("b", HIT)]).verdict == "pass"
    assert _verdict([_step("a", HIT), _step("b", MISSED)]).verdict == "fail"
    doubtful = _verdict([_step("a", HIT), _step("b", HIT, certain=False)])
    assert (doubtful.verdict, doubtful.passed, doubtful.doubts) == ("review", True, ("b",))
    # a certain miss fails whatever the doubtful step turns out to be
    assert _verdict([_step("a", MISSED), _step("b", HIT, certain=False)]).verdict == "fail"
    # a doubt about an optional step changes nothing
    assert _verdict([_step("a", HIT), _step("b", MISSED, certain=False, required=False)]).verdict == "pass"


def test_an_uncertain_forbidden_hit_sends_an_otherwise_passing_performance_to_review() -> None:
    steps = [_step("a", HIT), _step("b", HIT)]
    assert _verdict(steps, [_hit("whatever")]).verdict == "fail"
    counted_unsure = _verdict(steps, [_hit("whatever", certain=False)])
    assert (counted_unsure.verdict, counted_unsure.passed, counted_unsure.doubts) == ("review", False, ("forbidden:whatever",))
    not_counted = _verdict(steps, (), [_hit("whatever", certain=False)])
    assert (not_counted.verdict, not_counted.passed) == ("review", True)
    # a performance that fails anyway is not sent to review for a doubtful 忌语
    assert _verdict([_step("a", MISSED)], (), [_hit("whatever", certain=False)]).verdict == "fail"
    # words certainly not a 忌语 here (not counted, and certain of it) leave no doubt
    assert _verdict(steps, (), [_hit("whatever", certain=True)]).verdict == "pass"


def _unsure(step_id: str, confidence: float, evidence: str = "content") -> StepResult:
    return StepResult(step_id, HIT, 0.9, "", 1, None, None, "", certain=False, confidence=confidence, evidence=evidence)


def test_a_review_leans_to_the_likelier_outcome_of_its_doubts_taken_together() -> None:
    sure = _step("a", HIT)
    one = _verdict([sure, _unsure("b", 0.8)])
    assert (one.verdict, one.passed) == ("review", True)
    # two doubts, each likely performed, are together more likely not both performed: 0.7 * 0.7 < 0.5
    two = _verdict([sure, _unsure("b", 0.7), _unsure("c", 0.7)])
    assert (two.verdict, two.passed) == ("review", False)
    assert decide.pass_probability([sure, _unsure("b", 0.7), _unsure("c", 0.7)], (), ()) == pytest.approx(0.49)
    # an uncounted 忌语 an instructor should check (2 in 3 not a 忌语) and a doubtful step (0.7): 0.47
    doubtful_hit = dataclasses.replace(_hit("whatever", certain=False), confidence=0.667)
    mixed = _verdict([sure, _unsure("b", 0.7)], (), [doubtful_hit])
    assert (mixed.verdict, mixed.passed) == ("review", False)
    # a doubt about an optional step weighs nothing
    optional = dataclasses.replace(_unsure("c", 0.1), required=False)
    assert decide.pass_probability([sure, _unsure("b", 0.8), optional], (), ()) == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("evidence", "step_confidence", "leans_pass"),
    [
        # the step's own figure applies where no figure for a deciding doubt is measured
        ("content", decide.EVIDENCE_CONFIDENCE["content"], True),
        # a whole free turn where the step belongs: 66 of 99 such reviews passed
        ("own_turn", decide.EVIDENCE_CONFIDENCE["own_turn"], True),
        # own words in recognised speech: performed step by step (0.708), but 40 of 96 such reviews passed
        ("own_words", decide.OWN_WORDS_HEARD, False),
    ],
)
def test_a_deciding_doubt_leans_by_its_measured_figure(evidence: str, step_confidence: float, leans_pass: bool) -> None:
    verdict = _verdict([_step("a", HIT), _unsure("b", step_confidence, evidence)])
    assert (verdict.verdict, verdict.passed) == ("review", leans_pass)


def test_a_review_of_a_performance_with_little_courtesy_leans_to_fail() -> None:
    """The writers passed few such reviews (LITTLE_COURTESY_PASSED): the leaning caps there; verdicts stay."""
    steps = [_step("a", HIT), _unsure("b", 0.9)]
    assert decide.pass_probability(steps, (), ()) == pytest.approx(0.9)
    assert decide.pass_probability(steps, (), (), little_courtesy=True) == pytest.approx(decide.LITTLE_COURTESY_PASSED)
    courteous = decide_verdict(steps, (), (), _rule)
    curt = decide_verdict(steps, (), (), _rule, little_courtesy=True)
    assert (courteous.verdict, courteous.passed) == ("review", True)
    assert (curt.verdict, curt.passed) == ("review", False)
    sure = [_step("a", HIT), _step("b", HIT)]
    assert decide_verdict(sure, (), (), _rule, little_courtesy=True).verdict == "pass", "never a doubt on its own"


@pytest.mark.parametrize(
    ("kind", "counted", "certain"),
    [
        ("phrase_alone", True, True),
        ("phrase_embedded", True, True),
        ("short_alone", True, True),
        ("reordered", True, False),
        ("negated", False, True),  # certainly not a 忌语 there (2 of 27 in failing performances, A-AJ)
        ("quoted", False, True),  # 0 of 8
        ("short_embedded", False, True),  # certainly not a 忌语 there (0 of 5)
        ("homophone", True, False),
        ("wondering", False, False),  # 0 of 2: not counted, an instructor decides
        ("conceded", False, False),  # 0 of 3: not counted, an instructor decides
        ("other_knower", False, False),  # 0 of 1: not counted, an instructor decides
    ],
)
def test_each_kind_of_forbidden_hit_gives_its_decision(kind: str, counted: bool, certain: bool) -> None:
    decision = decide.decide_forbidden(kind)
    assert (decision.counted, decision.certain) == (counted, certain)
    assert kind in FORBIDDEN_EVIDENCE_KINDS


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("随便，哪个窗口都一样。", "short_alone"),
        ("这个核对不是随便问的，是规定。", "negated"),
        ("不是哪个领导定的，是开听证会定的。", "negated"),  # the negation reaches over a determiner
        ("这个收费不是我们领导定的，是物价局的文件。", "negated"),  # ... and over a possessor
        ("这个水价不是我们公司领导定的，是听证会定的。", "negated"),  # ... and over the body named as possessor
        ("不是局里领导定的。", "negated"),
        ("这是我们领导定的。", "phrase_alone"),  # no negation: a 忌语
        ("这是我们公司领导定的。", "phrase_embedded"),  # counted (0.91): a 忌语
        ("这是领导定的，不是我。", "phrase_alone"),
        ("这个我们这儿没有办法办，我们只管电。", "capability"),  # a limit stated: 没有办法 + what cannot be done
        ("我们也没有办法了。", "phrase_alone"),
        ("是指示牌写得不清楚，真不好意思。", "short_embedded"),
        ("说实话具体原因我也不知道，得问抢修那边。", "phrase_embedded"),
        ("要不您等会儿再说，明早再打过来吧。", "phrase_embedded"),
        ("不知道你自己看", "short_alone"),  # no punctuation (a recogniser's text): the rest is another 忌语
        ("户号要是不清楚的话，缴费单上也印着。", "conditional"),  # a case considered, not said to the customer
        ("如果不知道怎么填，可以问门口的引导员。", "conditional"),
        ("对不起，我也不知道怎么就少录了一位，马上改。", "wondering"),  # wonders aloud: no refusal to answer
        ("准不准，光看谁也不知道，得验。", "other_knower"),  # what nobody can know: no refusal to answer
        ("户号您不知道也不怕，我帮您查。", "short_embedded"),  # not counted already: stays as it was
        ("这个他们也不知道。", "other_knower"),
        ("甭管该下班了没有，进门就给您办。", "conditional"),  # a case considered whichever way it goes
        ("管它该下班了没有，您来了就给您办。", "conditional"),
        ("无论随便哪个窗口，都能办。", "conditional"),
        ("这个我也不知道，您问别人吧。", "phrase_alone"),
        ("哪有该下班了就不办的道理，您坐。", "negated"),  # a rhetorical negation denies what follows
        ("哪能不知道呢，我给您查。", "negated"),
        ("不是说这事解决不了，是得先核实一下。", "negated"),  # "it is not that ...": denied the same way
        ("都五点半了，该下班了，你快点。", "phrase_alone"),
    ],
)
def test_where_forbidden_words_sit_gives_the_kind_of_hit(text: str, kind: str) -> None:
    result = score_turns([TurnText(Transcript(text=text))], "reception", Settings())
    kinds = {h.evidence for h in (*result.forbidden, *result.forbidden_doubtful)}
    assert kind in kinds, kinds


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("那可能是您家里的问题，我派师傅上门看一下。", "hedged"),  # a guess, and help follows
        ("应该是你家里的问题吧。", "hedged"),
        ("这是你家里的问题。", "phrase_alone"),
    ],
)
def test_a_forbidden_verdict_said_as_a_guess_is_hedged(text: str, kind: str) -> None:
    result = score_turns([TurnText(Transcript(text=text))], "fault_report", Settings())
    assert kind in {h.evidence for h in (*result.forbidden, *result.forbidden_doubtful)}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("按钟点是该下班了，不过您来了就给您办，不用赶。", "conceded"),  # granted, then taken back at once
        ("是该下班了但是您别急，我给您办完。", "conceded"),  # no comma (a recogniser's text)
        ("虽说该下班了，您进来了我们就给您办完。", "conceded"),  # a concession opens the clause
        ("尽管该下班了你快点也没用。", "conceded"),  # granted, whatever follows: an instructor decides
        ("该下班了，你快点。不过明天也能办。", "phrase_alone"),  # the concession is a sentence later
        ("该下班了，你快点。", "phrase_alone"),
    ],
)
def test_a_forbidden_phrase_taken_back_at_once_is_for_an_instructor(text: str, kind: str) -> None:
    result = score_turns([TurnText(Transcript(text=text))], "closing_time", Settings())
    hits = [*result.forbidden, *result.forbidden_doubtful]
    assert kind in {h.evidence for h in hits}
    if kind == "conceded":
        assert not any(h.certain for h in hits), "unmeasured: neither counted nor dismissed alone"


def test_the_words_of_a_possible_forbidden_phrase_serve_no_step() -> None:
    """Not counted but for an instructor to decide (conceded): its clause is no step's own words either."""
    texts = ["您好！按说是该下班了，不过来了就给您办，不用赶，慢慢说。", "什么事？", "好的，弄好了。", "慢走，再见。"]
    result = score_turns([TurnText(Transcript(text=t)) for t in texts], "closing_time", Settings())
    assert [h.evidence for h in result.forbidden_doubtful] == ["conceded"] and not result.forbidden
    assert all("下班" not in s.matched_text for s in result.steps), [(s.id, s.matched_text) for s in result.steps]


def test_a_concession_heard_as_a_word_of_its_sound_still_concedes_in_recognised_speech() -> None:
    """隨說 (a recogniser's 虽说) opens a concession in recognised speech; typed text is read as written."""
    text = "您好，随说五点该下班了，您人进来了我们就给您办完。"
    heard = score_turns([_heard(text)], "closing_time", Settings())
    typed = score_turns([TurnText(Transcript(text=text))], "closing_time", Settings())
    assert [(h.evidence, h.certain) for h in (*heard.forbidden, *heard.forbidden_doubtful)] == [("conceded", False)]
    assert [h.evidence for h in typed.forbidden] == ["phrase_embedded"]


def test_forbidden_words_meant_otherwise_cost_nothing_and_are_named_for_the_instructor() -> None:
    result = score_turns([TurnText(Transcript(text="您好，请坐。这个核对不是随便问的，是规定必须要做的。"))], "reception", Settings())
    assert not result.forbidden and [h.phrase for h in result.forbidden_doubtful] == ["随便"]
    assert result.score.dimensions["forbidden"] == 100.0 * min(1.0, result.score.dimensions["coverage"] / 100.0)
    assert any("可能是别的意思" in line for line in result.feedback)
    # negated: certainly no 忌语 (2 of 27 such hits lie in failing performances): no review on its account
    assert result.to_dict()["forbidden_doubtful"][0]["certain"] is True


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


def test_own_words_where_the_step_belongs_are_certain_elsewhere_an_instructor_decides() -> None:
    texts = list(PAYMENT)
    texts[3] = "卡在不在身上？"  # 询问户号 in own words, between 请坐 and 四总
    account = score_turns(_turns(texts, dialogue=False), "payment", Settings()).step("ask_account")
    assert (account.status, account.evidence, account.certain) == (HIT, "content", True)
    alone = score_turns(_turns(["卡在不在身上？"], dialogue=False), "payment", Settings()).step("ask_account")
    assert (alone.status, alone.evidence, alone.certain) == (HIT, "content", False), "no steps around it: nothing places it"
    texts[3] = "嗯。"
    texts[8] = "卡在不在身上？"  # after 唱付, where 询问户号 does not belong
    late = score_turns(_turns(texts, dialogue=False), "payment", Settings()).step("ask_account")
    assert (late.status, late.evidence, late.certain) == (HIT, "content", False)


def test_a_phrasing_said_in_part_where_the_step_belongs_is_sure_elsewhere_an_instructor_decides() -> None:
    texts = list(PAYMENT)
    texts[3] = "您提供一下信息。"  # 请您提供一下户号 said in part, between 请坐 and 四总
    result = score_turns(_turns(texts, dialogue=False), "payment", Settings())
    account = result.step("ask_account")
    assert (account.status, account.evidence, account.certain) == (PARTIAL, "partial", True)
    assert account.confidence == decide.PARTIAL_IN_PLACE
    assert result.decision == "pass", result.fail_reasons  # a partial costs coverage, it fails nothing
    alone = score_turns(_turns(["您提供一下信息。"], dialogue=False), "payment", Settings()).step("ask_account")
    assert (alone.status, alone.certain) == (PARTIAL, False), "no steps around it: nothing places it"
    texts[3] = "嗯。"
    texts[8] = "您提供一下信息。"  # after 唱付, where 询问户号 does not belong
    late = score_turns(_turns(texts, dialogue=False), "payment", Settings()).step("ask_account")
    assert (late.status, late.certain) == (PARTIAL, False)


def test_a_step_whose_key_word_was_heard_nearly_where_it_belongs_is_performed() -> None:
    texts = list(PAYMENT)
    texts[3] = "户后给我看一眼。"  # 户号 heard as 户后, in the step's place (between 请坐 and 四总)
    heard = score_turns(_turns(texts, dialogue=False, confidence=0.9), "payment", Settings())
    account = heard.step("ask_account")
    assert (account.status, account.evidence, account.certain, account.matched_text) == (HIT, "near_heard", True, "户后")
    assert heard.decision == "pass", heard.fail_reasons
    typed = score_turns(_turns(texts, dialogue=False), "payment", Settings()).step("ask_account")
    assert typed.evidence != "near_heard", "typed text is what was said: nothing was misheard"


BUSINESS = ["您好，请坐，请问您办理什么业务？", "身份证。", "办过户要带房产证和户口本，一次跟您说全。", "谢谢，资料收到了。",
            "请您稍等，我马上给您办。", "好了，证件还给您，请收好。", "请您在这里签个字。", "请慢走，再见。"]


def test_some_key_words_of_a_step_in_recognised_speech_perform_it_typed_they_go_to_an_instructor() -> None:
    # 核对身份 with only 身份证 of its key words: heard, the rest of the step may have been misheard
    heard = score_turns(_turns(BUSINESS, dialogue=False, confidence=0.9), "business", Settings())
    identity = heard.step("verify_identity")
    assert (identity.status, identity.evidence, identity.certain, identity.matched_text) == (HIT, "trace", True, "身份证")
    assert identity.confidence == decide.TRACE_HEARD and heard.decision == "pass"
    typed = score_turns(_turns(BUSINESS, dialogue=False), "business", Settings())
    identity = typed.step("verify_identity")
    assert (identity.status, identity.evidence, identity.certain) == (MISSED, "trace", False)
    assert typed.decision == "review"


def test_a_near_homophone_outside_the_steps_place_performs_nothing() -> None:
    texts = list(PAYMENT)
    texts[3] = "嗯。"
    texts[-1] = "户后的事下回再说，您慢走。"  # after 唱付: not where 询问户号 belongs
    result = score_turns(_turns(texts, dialogue=False, confidence=0.9), "payment", Settings())
    account = result.step("ask_account")
    assert (account.status, account.evidence) == (MISSED, "none")
    assert result.decision == "fail"


def test_little_courtesy_needs_a_long_performance_and_counts_nin_said_often() -> None:
    def politeness(words: tuple[str, ...], nin: int, chars: int) -> Politeness:
        return Politeness(nin=nin, ni=0, words_used=words, chars=chars)

    assert politeness(("再见",), 0, 80).little_courtesy and not politeness(("再见", "请"), 0, 80).little_courtesy
    assert not politeness(("再见",), 3, 80).little_courtesy, "您 said again and again is courtesy too"
    assert not politeness((), 0, 10).little_courtesy, "a short answer is no evidence about manner"


def test_a_curt_but_complete_performance_passes_and_hears_about_its_courtesy() -> None:
    """Manner is not a doubt (decide.py, item 5): the verdict follows the pass rule; the trainee reads the finding."""
    # (an order to speak, 说吧, would be a 忌语 of its own: forbidden.yaml order_to_speak)
    curt = ["你好，供电抢修。什么事？", "哪儿没电？就你家还是全楼？", "地址，电话。", "行，派人了，两个钟头之内到。", "没别的了吧？再见。"]
    result = score_turns([Transcript(text=t) for t in curt], "fault_report", Settings())
    assert result.verdict == "pass" and result.passed
    assert any(line.startswith("只听到 1 个文明用语（再见）") and "服务态度显得生硬" in line for line in result.feedback)
    assert result.score.dimensions["politeness"] < 50, "the 礼貌用语 dimension, which an exam paper can set a minimum for"
    polite = ["您好，供电服务热线，请讲。", "请问是您家停电还是整栋楼？", "麻烦您说一下地址和电话。", "好的，已经派人，两小时内到，谢谢您。", "还有别的吗？再见。"]
    polite_result = score_turns([Transcript(text=t) for t in polite], "fault_report", Settings())
    assert polite_result.verdict == "pass"
    assert not any("服务态度" in line for line in polite_result.feedback)


CLOSING = ["您好，能办，您请坐。", "您别着急，给您办完我再下班。", "请问您要办什么业务？"]
OWN_WORDS_TURN = "户口本和身份证都带齐了，表格上这两栏我替您填好了。"  # 耐心办理 in words no cue names
FAREWELL = "不客气，路上慢点，再见！"


def _closing(turns: list[str]):  # type: ignore[no-untyped-def]
    settings = Settings()
    texts = [TurnText(Transcript(text=t, engine="oracle")) for t in turns]
    result = score_turns(texts, "closing_time", settings, library=load_library(settings))
    return result, {s.id: s for s in result.steps}


def test_the_only_missing_step_with_a_turn_of_its_own_goes_to_an_instructor_not_to_a_fail() -> None:
    result, steps = _closing([*CLOSING, OWN_WORDS_TURN, FAREWELL])
    step = steps["handle_patiently"]
    assert (step.status, step.evidence, step.certain, step.turn) == (HIT, "own_turn", False, 4)
    assert step.matched_text.startswith("户口本和身份证")
    assert (result.verdict, result.passed) == ("review", True)
    assert any("耐心办理" in line and "请教师复核" in line for line in result.feedback)


def test_a_short_acknowledgement_is_no_turn_of_its_own() -> None:
    result, steps = _closing([*CLOSING, "好的。", FAREWELL])
    assert (steps["handle_patiently"].status, steps["handle_patiently"].evidence) == (MISSED, "none")
    assert result.verdict == "fail"


def test_with_two_steps_found_nowhere_a_free_turn_is_not_given_to_either() -> None:
    result, steps = _closing([CLOSING[0], CLOSING[1], OWN_WORDS_TURN, FAREWELL])
    assert steps["ask_need"].evidence == steps["handle_patiently"].evidence == "none"
    assert result.verdict == "fail"


def _heard(text: str) -> TurnText:
    """`text` as one recognised recording (word timings and confidences)."""
    words = tuple(Word(c, k * 0.2, k * 0.2 + 0.2, 0.9) for k, c in enumerate(text))
    return TurnText(Transcript(text=text, words=words, engine="whisper"))


def test_in_a_whole_recording_free_words_where_the_step_belongs_go_to_an_instructor() -> None:
    settings = Settings()
    recording = "".join([*CLOSING, OWN_WORDS_TURN, FAREWELL])  # one turn: no turn can be free
    result = score_turns([_heard(recording)], "closing_time", settings, library=load_library(settings))
    step = result.step("handle_patiently")
    assert (step.status, step.evidence, step.certain) == (HIT, "own_words", False)
    assert step.confidence == decide.OWN_WORDS_HEARD
    assert step.matched_text.startswith("户口本和身份证")
    # the step's best guess is performed, but as the one doubt of a review it leans to fail (DECIDING_CONFIDENCE)
    assert (result.verdict, result.passed) == ("review", False)
    assert any("耐心办理" in line and "请教师复核" in line for line in result.feedback)


def test_typed_free_words_where_the_step_belongs_are_a_doubtful_miss() -> None:
    # typed text is read as written: most such words are not the step (25 of 60), but some are
    for turns in (["".join([*CLOSING, OWN_WORDS_TURN, FAREWELL])], [*CLOSING[:2], CLOSING[2] + OWN_WORDS_TURN, FAREWELL]):
        result, steps = _closing(turns)
        step = steps["handle_patiently"]
        assert (step.status, step.evidence, step.certain) == (MISSED, "own_words", False)
        assert step.matched_text.startswith("户口本和身份证")
        assert (result.verdict, result.passed) == ("review", False)


def test_in_a_whole_recording_a_short_remark_is_no_evidence() -> None:
    result, steps = _closing(["".join([*CLOSING, "好的好的。", FAREWELL])])
    assert (steps["handle_patiently"].status, steps["handle_patiently"].evidence) == (MISSED, "none")
    assert result.verdict == "fail"


FAULT = ["您好，这里是95598。", "是就您一户没电，还是整栋楼都没电？", "麻烦说一下地址，留个电话。"]


def test_in_recognised_speech_a_clause_shared_with_another_step_still_holds_own_words() -> None:
    # recognisers often leave out punctuation: 给您派 (promise_dispatch) and the time run together
    settings = Settings()
    said = [*FAULT, "好的我给您派师傅过去下午三点到四点之间到", "那您等师傅电话再见"]
    heard = score_turns([_heard(t) for t in said], "fault_report", settings, library=load_library(settings))
    arrival = heard.step("inform_arrival_time")
    assert (arrival.status, arrival.evidence) == (HIT, "content")
    assert arrival.matched_text.endswith("下午三点到四点之间到") and "给您派" not in arrival.matched_text
    typed = score_turns([TurnText(Transcript(text=t)) for t in said], "fault_report", settings, library=load_library(settings))
    assert typed.step("inform_arrival_time").evidence == "none", "typed text: the writer's clause is the clause"


def test_free_words_inside_a_recognised_turn_that_holds_other_steps_go_to_an_instructor() -> None:
    # turn files: words where the step belongs, inside a turn that performs another step (decide.py, own_words)
    settings = Settings()
    turns = [_heard(t) for t in (*CLOSING[:2], CLOSING[2] + OWN_WORDS_TURN, FAREWELL)]
    result = score_turns(turns, "closing_time", settings, library=load_library(settings))
    step = result.step("handle_patiently")
    assert (step.status, step.evidence, step.certain) == (HIT, "own_words", False)
    assert (result.verdict, result.passed) == ("review", False), "one doubt of own words leans to fail"
    short = [_heard(t) for t in (*CLOSING[:2], CLOSING[2] + "好的好的。", FAREWELL)]
    assert score_turns(short, "closing_time", settings, library=load_library(settings)).verdict == "fail"


def test_a_free_turn_outside_the_steps_place_is_not_its_evidence() -> None:
    # the free turn comes before the greeting: handle_patiently belongs between 询问 and 道别
    result, steps = _closing([OWN_WORDS_TURN, *CLOSING, FAREWELL])
    assert steps["handle_patiently"].evidence == "none"
    assert result.verdict == "fail"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("上次那位同事跟您说“这不是我的事情”，是他不对。", True),
        ("您说的那个小伙子说这不是我的事情，对吧？", True),
        ("他们说了这不是我的事情，您别往心里去。", True),
        ("您问他电费的事，他回您这不是我的事情，是吧？", True),  # heard without quotation marks
        ("那个师傅讲这不是我的事情，对伐？", True),
        ("我回您一句，这不是我的事情。", False),
        ("我跟您说，这不是我的事情。", False),
        ("这不是我的事情。", False),
    ],
)
def test_someone_elses_words_reported_are_not_said_to_the_customer(text: str, quoted: bool) -> None:
    entry = ForbiddenEntry("not_my_business", "这不是我的事情", "critical", "推诿", "这件事我帮您联系相关部门。")
    doc = build_doc([TurnText(Transcript(text=text))])
    (match,) = find_forbidden((entry,), doc)
    assert (hit_evidence(match, doc) == "quoted") == quoted
    assert decide.decide_forbidden(hit_evidence(match, doc)).counted is not quoted


def test_in_one_long_recording_a_promised_time_must_be_said_with_the_promise_not_after_another_step() -> None:
    said = "您好，95598供电服务热线。请问您家地址是哪里？好的，您那片是线路计划检修停电，给您添麻烦了，真对不起。{promise}感谢您来电，再见。{after}"
    late = said.format(promise="修好了就会来电。", after="明天我们会回访。")  # the time belongs to what follows the farewell
    restore = score_turns([TurnText(Transcript(text=late))], "outage_enquiry", Settings()).step("inform_restore_time")
    assert (restore.status, restore.evidence) == (MISSED, "untimed")
    timed = said.format(promise="修好了就会来电，估计下午五点左右。", after="")
    restore = score_turns([TurnText(Transcript(text=timed))], "outage_enquiry", Settings()).step("inform_restore_time")
    assert restore.status == HIT
