"""唱收唱付: amounts said for bill, received and change; consistency; 收您/找您 spoken."""

from __future__ import annotations

from trainer.asr.base import Transcript
from trainer.phrasebook.model import Lexicon, Scenario, Slot, Step
from trainer.scoring.document import TurnText
from trainer.scoring.score import score_turn_texts

STEPS = (
    Step("state_bill", "四总", ("您本月的电费是{bill}元。",), slots=(Slot("bill", "amount"),)),
    Step("sing_receive", "唱收", ("收您{received}元。",), keywords=(("收",),), slots=(Slot("received", "amount"),)),
    Step(
        "sing_change",
        "唱付",
        ("这是您的发票和找您的{change}元，请点清收好。", "找您{change}元，这是您的发票，请收好。"),
        keywords=(("找",),),
        slots=(Slot("change", "amount"),),
    ),
)
PAYMENT = Scenario("payment", "收费", "counter", "", STEPS)


def check(*texts: str):
    result = score_turn_texts([TurnText(Transcript(text=t)) for t in texts], PAYMENT, (), Lexicon())
    return result, result.amounts


def test_consistent_amounts() -> None:
    result, amounts = check("您上月底码是三千二百一十五，本月电费是五十二元。", "收您一百元。", "这是您的发票和找您的四十八元，请点清收好。")
    assert (amounts.bill, amounts.received, amounts.change) == (52, 100, 48)
    assert amounts.consistent and amounts.received_said and amounts.change_said
    assert result.to_dict()["amounts"] == {"bill": 52, "received": 100, "change": 48, "consistent": True}


def test_wrong_change_is_a_serious_error() -> None:
    result, amounts = check("本月电费是五十二元。", "收您一百元。", "这是您的发票和找您的五十八元，请点清收好。")
    assert amounts.change == 58 and not amounts.consistent
    assert not result.passed
    assert result.score.dimensions["amounts"] == 0
    assert any("金额对不上" in line and "52" in line and "58" in line for line in result.feedback)


def test_digits_decimals_and_kuai() -> None:
    _, amounts = check("本月电费是51块5。", "收您100元", "找您48块5，这是您的发票")
    assert (amounts.bill, amounts.received, amounts.change) == (51.5, 100, 48.5)
    assert amounts.consistent
    _, amounts = check("本月电费是五十一点五元。", "收您一百元", "找您四十八元五角，这是您的发票")
    assert (amounts.bill, amounts.change) == (51.5, 48.5) and amounts.consistent


def test_change_not_sung_is_inconsistent() -> None:
    result, amounts = check("本月电费是五十二元。", "收您一百元。", "这是您的发票，请收好。")
    assert amounts.change is None and not amounts.consistent
    assert any("唱付" in line for line in result.feedback)


def test_received_without_shou_nin_is_not_sung() -> None:
    _, amounts = check("本月电费是五十二元。", "一百元。", "找您四十八元。")
    assert not amounts.consistent
    assert amounts.received is None or not amounts.received_said


def test_homophone_cue_accepted() -> None:
    _, amounts = check("本月店费是五十二元。", "说您一百元。", "找您四十八人。")  # 店费, 说您, 元->人
    assert (amounts.bill, amounts.received, amounts.change) == (52, 100, 48)
    assert amounts.consistent


def test_bare_bill_before_receive_and_one_turn() -> None:
    _, amounts = check("五十二元，收您一百元，找您四十八元，这是您的发票。")
    assert (amounts.bill, amounts.received, amounts.change) == (52, 100, 48)
    assert amounts.consistent


def test_meter_readings_are_not_the_bill() -> None:
    _, amounts = check("您上月的电表底码是三千二百一十五，本月止码是三千三百一十五，本月电费是五十二元。", "收您一百元。", "找您四十八元。")
    assert amounts.bill == 52


def test_no_amount_check_outside_payment() -> None:
    scenario = Scenario("greet", "问候", "counter", "", (Step("greet", "问候", ("您好",)),))
    result = score_turn_texts([TurnText(Transcript(text="您好，收您一百元"))], scenario, (), Lexicon())
    assert result.amounts is None and result.to_dict()["amounts"] is None


def test_missing_step_feedback_fills_the_expected_change() -> None:
    result, _ = check("本月电费是五十二元。", "收您一百元。")
    assert any("找您的48元" in line for line in result.feedback)


def test_energy_and_readings_are_never_money() -> None:
    # 电费 misheard: the only cue left is 一共, and it precedes the kWh used
    _, amounts = check("底码是三千四百二十，这个月是三千五百九十三，一共用了一百七十三度，编分八十六块五。", "收您一百元。", "找您十三块五。")
    assert amounts.bill != 173
    assert amounts.bill in (None, 86.5)
    _, amounts = check("本月用水十二方，一共是三十六元。", "收您五十元。", "找您十四元。")
    assert (amounts.bill, amounts.received, amounts.change) == (36, 50, 14) and amounts.consistent
    # a reading right after 底码 without 元 is not the bill, even when it is the last number before 唱收
    _, amounts = check("您这个月的读数是二百五十。", "收您一百元。", "找您四十八元。")
    assert amounts.bill is None


def test_money_with_yuan_stays_money_next_to_a_reading() -> None:
    _, amounts = check("止码三千三百，电费五十二元。", "收您一百元。", "找您四十八元。")
    assert amounts.bill == 52 and amounts.consistent
