"""Cues (`Step.cues`): a short word sequence said in the trainee's own sentence proves the step."""

from __future__ import annotations

import dataclasses

import pytest

from trainer.asr.base import Transcript, Word
from trainer.config import Settings
from trainer.phrasebook.model import CUE_GAP, Lexicon, Scenario, Step
from trainer.scoring.cues import compile_cue, find_cue, find_cues
from trainer.scoring.document import TurnText, build_doc
from trainer.pipeline import score_text
from trainer.scoring.match import CUE_SIMILARITY
from trainer.scoring.result import HIT, MISSED, PARTIAL
from trainer.scoring.score import score_turn_texts

GREET = Step("greet", "问候", ("您好！",), keywords=(("您好", "你好"),))
SEAT = Step("offer_seat", "请坐", ("您请坐。",), keywords=(("坐",),), cues=("这边+坐", "请+坐"))
ASK_NEED = Step("ask_need", "问需求", ("请问您需要办理什么业务？",), keywords=(("办理",), ("业务",)), cues=("办+什么",))
WAIT = Step("ask_wait", "请稍候", ("请您稍等，我马上为您办理。",), keywords=(("稍等", "稍候"),), cues=("稍等+一下",))
FAREWELL = Step("farewell", "道别", ("请您慢走，再见！",), keywords=(("再见", "慢走"),))


def run(texts: list[str], *steps: Step):
    turns = [TurnText(Transcript(text=t), f"turn{i + 1:02d}.wav") for i, t in enumerate(texts)]
    return score_turn_texts(turns, Scenario("test", "测试", "counter", "", tuple(steps)), (), Lexicon())


def spans(cue: str, text: str) -> list[str]:
    compiled = compile_cue(cue)
    assert compiled is not None
    doc = build_doc([TurnText(Transcript(text=text))])
    return [doc.span_text(s, e) for s, e in find_cue(compiled, doc, 0)]


def test_cue_words_in_order_with_other_words_between() -> None:
    assert spans("办+什么", "您想办点什么？") == ["办点什么"]
    assert spans("办+什么", "今天过来办理什么手续") == ["办理什么"]
    assert spans("办+什么", "什么事情要办？") == []  # wrong order


def test_cue_gap_is_limited_to_the_window() -> None:
    inside = "办" + "啦" * CUE_GAP + "什么"
    outside = "办" + "啦" * (CUE_GAP + 1) + "什么"
    assert spans("办+什么", inside) != []
    assert spans("办+什么", outside) == []


def test_cue_words_must_be_in_the_same_turn() -> None:
    result = run(["您好，您来办", "什么业务？"], GREET, dataclasses.replace(ASK_NEED, phrases=("请问您办啥",), keywords=()))
    step = result.step("ask_need")
    assert step.evidence != "cue" and not (step.status == HIT and step.certain)


def test_a_final_particle_closes_its_own_sentence() -> None:
    assert spans("坐+吧", "您坐吧。") == ["坐吧"]
    assert spans("坐+吧", "坐坐坐，新装吧？") == ["坐坐坐，新装吧"]  # one sentence
    assert spans("坐+吧", "坐坐坐。新装是吧？") == []  # the 吧 asks about 新装


def test_a_one_character_last_word_stays_in_the_sentence() -> None:
    assert spans("100+收了", "二百元。收了。") != []  # a longer word may follow in the next sentence
    assert spans("坐+下", "来，坐。户号报一下。") == []  # the 下 of 报一下 is no 坐下
    assert spans("坐+下", "您坐下说。") == ["坐下"]
    assert spans("您+坐", "您好，交电费？您坐。") == ["您坐"]  # not from the 您 of 您好, a sentence before


def test_a_curt_seat_leaves_the_account_question_its_words() -> None:
    result = score_text("您好，缴电费是吧？来，坐。户号报一下。", "payment", Settings())
    assert result.step("offer_seat").status == HIT
    assert (result.step("ask_account").status, result.step("ask_account").matched_text) == (HIT, "户号报")


def test_long_words_tolerate_homophones_one_character_words_do_not() -> None:
    assert spans("稍等+一下", "请您烧等一下") == ["烧等一下"]  # 稍/烧 same folded pinyin
    assert spans("这边+坐", "这遍坐") == ["这遍坐"]
    assert spans("请+坐", "轻坐") == []  # 1-character words: exact characters only
    assert spans("办+什么", "伴什么") == []


def heard_spans(cue: str, text: str) -> list[str]:
    """As `spans`, on recognised speech (one timed word per character)."""
    compiled = compile_cue(cue)
    assert compiled is not None
    words = tuple(Word(ch, 0.2 * i, 0.2 * (i + 1)) for i, ch in enumerate(text))
    doc = build_doc([TurnText(Transcript(text=text, words=words, duration=0.2 * len(text)))])
    return [doc.span_text(s, e) for s, e in find_cue(compiled, doc, 0)]


def test_in_recognised_speech_one_character_cue_words_said_together_tolerate_homophones() -> None:
    """做 heard for 坐: a cue of one-character words said without a gap is as safe as a 2-character word."""
    assert heard_spans("您+坐", "大爷您好您做您做") == ["您做", "您做"]
    assert heard_spans("请+坐", "您好轻坐") == ["轻坐"]
    assert heard_spans("请+坐", "请您先做") == []  # with a gap between them: exact characters only
    assert heard_spans("请+坐", "请做") == ["请做"]
    assert spans("请+坐", "请做") == []  # typed text is taken as written


def test_in_recognised_speech_a_one_character_word_anchored_by_a_longer_one_may_be_heard_alike() -> None:
    """哪里在想 heard for 哪里在响: the 2-character 哪里 anchors the cue, and 想 sounds xiang like 响."""
    assert heard_spans("哪里+响", "是哪里在想") == ["哪里在想"]
    assert spans("哪里+响", "是哪里在想") == []  # typed text is taken as written
    assert heard_spans("哪里+响", "是哪里在闹") == []  # another sound
    assert heard_spans("哪里+=响", "是哪里在想") == []  # a word marked exact stays exact
    assert heard_spans("请+坐", "请您先做") == []  # no longer word to anchor it: exact characters only


def test_a_cue_word_marked_exact_takes_no_homophone() -> None:
    """=再会: 再会 said alone is a farewell; 再回来 (same pinyin) is not, typed or heard."""
    assert spans("=再会", "好嘞，再会！") == ["再会"]
    assert spans("=再会", "我明天再回来") == []
    assert spans("再会", "我明天再回来") == ["再回"]  # unmarked: homophones tolerated
    assert heard_spans("=再会", "我明天再回来") == []
    assert heard_spans("您+=早", "您找哪位") == []  # a marked word is never joined by pinyin either
    assert heard_spans("您+早", "您找哪位") == ["您找"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("张叔好，来了来了，坐。", ["张叔好"]),
        ("王老师好！您坐。", ["王老师好"]),
        ("嗯，刘姐好，先别急。", ["刘姐好"]),  # an interjection alone is passed over
        ("大家好", ["大家好"]),
        ("那好，先别急。", []),  # 那好, 挺好, 坐好, 好好: no address
        ("坐好，我给您查。", []),
        ("好好好，马上。", []),
        ("走好。", []),  # a farewell: the last word is a verb
        ("您走好，再见。", []),
        ("都准备好了。", []),
        ("您先坐，刘姐好。", []),  # only the opening clause
        ("欢迎光临的各位好", []),  # longer than an address
        ("5号好", []),
    ],
)
def test_an_address_cue_is_the_opening_clause_an_address_and_the_word(text: str, found: list[str]) -> None:
    assert spans("…好", text) == found


def test_an_address_cue_looks_only_at_the_first_turn() -> None:
    compiled = compile_cue("…好")
    assert compiled is not None
    doc = build_doc([TurnText(Transcript(text="来了？")), TurnText(Transcript(text="张叔好。"))])
    assert find_cue(compiled, doc) == []


def test_cue_hit_without_the_standard_phrasing_or_its_keywords() -> None:
    result = run(["您好，想办点什么？"], GREET, ASK_NEED)
    step = result.step("ask_need")
    assert step.status == HIT
    assert step.matched_text == "办点什么"
    assert step.turn == 1
    assert step.similarity == CUE_SIMILARITY


def test_several_steps_in_one_utterance() -> None:
    result = run(["您好，这边请坐，您想办点什么？"], GREET, SEAT, ASK_NEED)
    assert [s.status for s in result.steps] == [HIT, HIT, HIT]
    assert not any(s.out_of_order for s in result.steps)


def test_no_cue_falls_back_to_phrasings() -> None:
    plain = dataclasses.replace(ASK_NEED, cues=())
    assert run(["您好，想办点什么？"], GREET, plain).step("ask_need").status != HIT
    assert run(["您好，今天天气不错。"], GREET, ASK_NEED).step("ask_need").status == MISSED
    assert run(["您好，请问您需要办理什么业务？"], GREET, ASK_NEED).step("ask_need").status == HIT
    # without its cue, a weak phrasing match stays what it was
    said = "您好，请问您需要办业务吗？"
    assert run([said], GREET, plain).step("ask_need").status in (PARTIAL, MISSED)


def test_cue_beats_a_weaker_partial_phrase_match() -> None:
    weak = dataclasses.replace(ASK_NEED, keywords=(("办理",), ("业务",)))
    said = ["您好，您想办点什么业务呢？"]
    assert run(said, GREET, dataclasses.replace(weak, cues=())).step("ask_need").status != HIT
    assert run(said, GREET, weak).step("ask_need").status == HIT


def test_cue_span_has_times_from_word_timings() -> None:
    words = tuple(Word(ch, 0.2 * i, 0.2 * (i + 1)) for i, ch in enumerate("您好请问要办什么"))
    turns = [TurnText(Transcript("您好请问要办什么", words=words, duration=2.0), "t1.wav")]
    result = score_turn_texts(turns, Scenario("test", "测试", "counter", "", (GREET, ASK_NEED)), (), Lexicon())
    step = result.step("ask_need")
    assert step.status == HIT
    assert step.start is not None and abs(step.start - 1.0) < 1e-6 and abs(step.end - 1.6) < 1e-6


def test_out_of_order_cue_is_reported() -> None:
    result = run(["请您稍等一下。", "您好，这边请坐。"], GREET, SEAT, WAIT)
    assert result.step("ask_wait").status == HIT
    assert result.step("greet").status == HIT and result.step("offer_seat").status == HIT
    assert result.step("ask_wait").out_of_order


def test_cue_word_with_normalised_text() -> None:
    # traditional characters (Whisper) and spaces (Vosk) are normalised like the transcript
    assert spans("办+什么", "想 要 辦 什 麼") == ["辦 什 麼"]
    assert spans("办+什么", "想要办什么") == ["办什么"]


def test_amount_of_a_cued_step_comes_from_its_slot_phrasing_in_the_same_turn() -> None:
    from trainer.phrasebook.model import Slot

    bill = Step("state_bill", "四总", ("您本月的电费是{bill}元。",), keywords=(("电费",),), slots=(Slot("bill", "amount"),), cues=("读数",))
    receive = Step("sing_receive", "唱收", ("收您{received}元。",), keywords=(("收",),), slots=(Slot("received", "amount"),))
    change = Step("sing_change", "唱付", ("找您{change}元。",), keywords=(("找",),), slots=(Slot("change", "amount"),))
    said = ["读数一千二百，两个月一共一百零四元，您本月要交的是五十二元。", "收您一百元。", "找您四十八元。"]
    result = run(said, bill, receive, change)
    assert result.step("state_bill").status == HIT and result.step("state_bill").matched_text == "读数"
    assert result.amounts is not None
    assert (result.amounts.bill, result.amounts.received, result.amounts.change) == (52, 100, 48)
    assert result.amounts.consistent


def test_a_phrasing_hit_is_preferred_to_a_cue_hit_of_the_same_step() -> None:
    from trainer.phrasebook.model import Slot

    bill = Step("state_bill", "四总", ("您本月的电费是{bill}元。",), keywords=(("电费",),), slots=(Slot("bill", "amount"),), cues=("读数",))
    result = run(["读数一千二百，您这月的电费是五十二元。"], bill)
    step = result.step("state_bill")
    assert step.status == HIT and step.matched_text.startswith("您这月的电费") and step.similarity > CUE_SIMILARITY


def test_cue_tries_a_later_word_when_the_first_belongs_to_another_step() -> None:
    doc = build_doc([TurnText(Transcript(text="您好，这边您要办什么"))])
    found = [doc.span_text(s, e) for _, s, e in find_cues(("您+办+什么",), doc, avoid=((0, 2),))]
    assert "您要办什么" in found  # the 您 of 您好 (avoided) is not the only anchor tried
    assert [doc.span_text(s, e) for _, s, e in find_cues(("您+办+什么",), doc)] == ["您好，这边您要办什么"]
    ask = Step("ask_need", "问需求", ("请问您需要办理什么业务？",), keywords=(("业务",),), cues=("您+办+什么",))
    result = run(["您好，这边您要办什么"], GREET, ask)
    assert result.step("greet").status == HIT
    step = result.step("ask_need")
    assert step.status == HIT and step.matched_text == "您要办什么" and step.similarity == CUE_SIMILARITY


def test_a_recogniser_writing_ni_for_nin_still_says_a_cue_word() -> None:
    """whisper-base writes 你 for 您: in recognised speech the cue 您+办点 is said in 你要办点杀 (啥 heard as 杀)."""
    from trainer.config import Settings
    from trainer.pipeline import score_turns
    from trainer.scoring.document import TurnText

    text = "你要办点杀"
    words = tuple(Word(c, i * 0.2, i * 0.2 + 0.2, 0.9) for i, c in enumerate(text))
    heard = score_turns([TurnText(Transcript(text=text, words=words, engine="whisper"), "a.wav")], "long_wait", Settings())
    typed = score_turns([TurnText(Transcript(text=text))], "long_wait", Settings())
    assert [s.status for s in heard.steps if s.id == "ask_need"] == ["hit"]
    assert [s.status for s in typed.steps if s.id == "ask_need"] == ["missed"]  # typed text is taken as written
