"""复述确认 in the trainee's own words (trainer/scoring/restate.py): the customer's facts said back, then 是吧/对吗."""

from __future__ import annotations

from trainer.asr.base import Transcript
from trainer.phrasebook.model import Lexicon, Scenario, Step
from trainer.scoring.document import TurnText, build_doc
from trainer.scoring.restate import restatement_spans
from trainer.scoring.score import score_turn_texts

CONFIRM = Step(
    "listen_confirm",
    "复述确认事实",
    ("您是说您家上个月的电费比平时多了一倍，对吗？",),
    keywords=(("对吗", "是这样吗"),),
    restates=True,
)
GREET = Step("greet", "问候", ("您好！",), keywords=(("您好",),))
COMPLAINT = Scenario("complaint", "投诉", "counter", "", (GREET, CONFIRM))


def turns(*pairs: tuple[str, str]) -> list[TurnText]:
    return [TurnText(Transcript(text=clerk), customer=customer) for customer, clerk in pairs]


def restated(*pairs: tuple[str, str]) -> list[str]:
    doc = build_doc(turns(*pairs))
    return [doc.form[s:e] for s, e in restatement_spans(doc)]


def step(result, step_id: str):
    return next(s for s in result.steps if s.id == step_id)


def test_the_customers_facts_said_back_with_a_question_are_a_restatement() -> None:
    spans = restated(("我都跑了三趟了！上礼拜交的材料！", "三趟，上礼拜交的材料，户名到今儿还没改过来，是吧？"))
    assert spans and spans[0].endswith("是吧")
    result = score_turn_texts(turns(("你好。", "您好。"), ("上周五交费，她多收了我二十块！", "上周五多收二十，是吧？")), COMPLAINT, (), Lexicon())
    confirm = step(result, "listen_confirm")
    assert confirm.status == "hit" and confirm.evidence == "restatement"
    assert not confirm.certain, "too few measured cases to decide alone: an instructor confirms"


def test_a_dialect_confirming_tag_closes_a_restatement_too() -> None:
    said = ("他敲门进来，鞋也不换，我说了两句还凶我。", "嗯。周二上午抄表员上门，没穿鞋套进屋，您提醒他还顶您两句，对伐？")
    assert restated(said) and restated(said)[0].endswith("对伐")


def test_a_summary_marker_stands_in_when_the_customers_words_are_unknown() -> None:
    assert restated(("", "就是水表读数不对，多收了你钱，是吧？"))
    assert not restated(("", "水表读数不对，多收了你钱，是吧？")), "no marker and nothing the customer said to repeat"


def test_a_short_question_or_one_repeating_nothing_is_not_a_restatement() -> None:
    assert not restated(("我来交费。", "交电费是吧？"))
    assert not restated(("我家电费怎么这么多？", "您先坐下慢慢说，是吧？"))
    assert not restated(("我家电费怎么这么多？", "我家电费怎么这么多。")), "no confirmation question"


def test_only_restating_steps_take_this_evidence() -> None:
    plain = Scenario("complaint", "投诉", "counter", "", (GREET, Step("listen_confirm", "复述", CONFIRM.phrases, keywords=CONFIRM.keywords)))
    result = score_turn_texts(turns(("上周五多收了我二十块！", "上周五多收二十，是吧？")), plain, (), Lexicon())
    assert step(result, "listen_confirm").status == "missed"


def test_stage_directions_in_the_customers_line_are_not_words_to_repeat() -> None:
    assert not restated(("（递过一百五十元现金）", "一百五十元现金，是吧？"))


def test_practice_turns_know_the_customer_line_they_answer() -> None:
    # In practice turn i answers step i's customer line, so the trainee can restate what the customer said.
    from trainer.config import load_settings
    from trainer.pipeline import load_library, score_turns

    settings = load_settings()
    library = load_library(settings)
    scenario = library.scenario("complaint")
    at = [s.id for s in scenario.steps].index("listen_confirm")
    said = ["您好。"] * len(scenario.steps)
    said[at] = "家里就俩人，突然要那么多钱，是吧？"
    texts = [Transcript(text=t) for t in said]
    with_dialogue = score_turns(texts, "complaint", settings, library=library, dialogue=True)
    assert step(with_dialogue, "listen_confirm").evidence == "restatement"
    without = score_turns(texts, "complaint", settings, library=library)
    assert step(without, "listen_confirm").status == "missed", "no customer line known, no summary marker"


def read_back(numbers: bool, *pairs: tuple[str, str]) -> list[str]:
    doc = build_doc(turns(*pairs))
    return [doc.form[s:e] for s, e in restatement_spans(doc, numbers=numbers)]


def test_a_number_the_customer_gave_read_back_confirms_key_info_only_where_numbers_count() -> None:
    pair = ("户号幺二零八五五六三，我想查一下电费。", "幺二零八五五六三，对吧？")
    assert read_back(True, pair)  # 复述确认重要内容: the digits are the facts
    assert not read_back(False, pair)  # 复述确认事实: a number alone is not the complaint's facts
    assert not read_back(True, ("户号幺二零八五五六三。", "幺二零八五五六四，对吧？"))  # another number
    assert not read_back(True, ("户号幺二零八五五六三。", "是幺二零八五五六三，我给您查"))  # no question
    assert not read_back(True, ("我想查一下电费。", "幺二零八五五六三，对吧？"))  # the customer never said it
