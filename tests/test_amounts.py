"""唱收唱付: amounts said for bill, received and change; consistency; 收您/找您 spoken."""

from __future__ import annotations

import pytest

from trainer.asr.base import Transcript
from trainer.phrasebook.model import Lexicon, Scenario, Slot, Step
from trainer.scoring.document import TurnText, build_doc
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
    assert result.to_dict()["amounts"] == {"bill": 52, "received": 100, "change": 48, "consistent": True, "misheard": False}


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


def test_an_estimate_is_talked_about_not_sung() -> None:
    # 四十来度 / 九十来块 after the bill: figures talked about (a comparison with last month), not the amounts
    _, amounts = check("这个月电费是一百零五元八角，上个月才九十来块，这个月多用了四十来度电。", "收您二百元。", "找您九十四元二角。")
    assert (amounts.bill, amounts.received, amounts.change) == (105.8, 200, 94.2) and amounts.consistent
    _, amounts = check("这个月用了一百多方水，一共是三十六元。", "收您五十元。", "找您十四元。")
    assert amounts.bill == 36 and amounts.consistent


def test_money_with_yuan_stays_money_next_to_a_reading() -> None:
    _, amounts = check("止码三千三百，电费五十二元。", "收您一百元。", "找您四十八元。")
    assert amounts.bill == 52 and amounts.consistent


def test_unit_written_as_homophone_is_the_unit() -> None:
    _, amounts = check("本月电费是五十二圆。", "收您100快。", "找您四十八原，这是您的发票。")
    assert (amounts.bill, amounts.received, amounts.change) == (52, 100, 48)
    assert amounts.consistent


def test_garbled_digit_after_the_unit_is_read_when_it_makes_the_amounts_add_up() -> None:
    # 一百二十七块六 / 一百五十 / 二十二块四, with 四 heard as 死.
    _, amounts = check("您这个月电费是127块6毛。", "好的，收您150元。", "这是您的发票，找您22块死，请您点清收好。")
    assert (amounts.bill, amounts.received, amounts.change) == (127.6, 150, 22.4)
    assert amounts.consistent
    # 四十五块八 heard as 45块吧, 四块二 as 四块儿, bare 收 and 找.
    _, amounts = check("45块吧，现金还是扫码。", "收五十。", "找四块儿，票拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (45.8, 50, 4.2)


def test_spurious_leading_one_is_dropped_only_when_that_adds_up() -> None:
    # 电费是八十六块五: 是 heard as 十 -> 186块5.
    _, amounts = check("这个月电费186块5。", "收您一百元。", "找您十三块五，这是您的发票。")
    assert (amounts.bill, amounts.change) == (86.5, 13.5) and amounts.consistent
    # A real 唱付 error is not explained away: no reading of the text adds up.
    result, amounts = check("这个月电费186块5。", "收您两百元。", "找您十三块死，这是您的发票。")
    assert not amounts.consistent and amounts.bill == 186.5 and amounts.change == 13
    assert not result.passed


def test_near_sounding_digit_after_the_unit_is_read_only_when_that_adds_up() -> None:
    # 六十四块四 / 七十 / 五块六 written by the recogniser as 64块色 and 5块柳.
    _, amounts = check("这个月电费64块色。", "收您七十。", "找您5块柳，发票拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (64.4, 70, 5.6) and amounts.consistent
    # 二十四块七毛 as 24块轻毛
    _, amounts = check("水费75块3。", "收您一百。", "找您24块轻毛，您点点。")
    assert amounts.change == 24.7 and amounts.consistent
    # 四十二块八 as 42块板
    _, amounts = check("这个月电费42块板。", "收您五十。", "找您7块2，发票拿好。")
    assert amounts.bill == 42.8 and amounts.consistent


def test_a_bare_number_in_the_sung_phrase_is_not_the_amount() -> None:
    # the change phrase reaches over 点一点 (a bare 一): the amount is the one said as money
    # (找零九十二块 written by the recogniser as 找092块)
    _, amounts = check("这个月是208块。", "收您300块。", "发票和找092块您拿好，点一点哈。")
    assert (amounts.bill, amounts.received, amounts.change) == (208, 300, 92) and amounts.consistent


def test_fen_after_a_zero_jiao() -> None:
    _, amounts = check("这次电费三块零五分。", "收您五块。", "找您一块九毛五，您拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (3.05, 5, 1.95) and amounts.consistent


def test_a_zero_before_jiao_is_said_not_counted() -> None:
    # 二十块零六毛 is 20.6: the 零 only joins 块 and 毛, it is no digit
    _, amounts = check("这次水费二十九块四。", "收您五十。", "找您二十块零六毛，您拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (29.4, 50, 20.6) and amounts.consistent


def test_the_money_received_is_never_the_bill_even_after_yi_gong() -> None:
    # 一共 before 收您 belongs to the money received, even where the library's 四总 matches 一共…
    from trainer.config import Settings
    from trainer.pipeline import score_turns

    turns = ["您好，请坐。", "交电费是吧，户号报一下。", "三张二十的，一共收您六十。", "找您十二块，发票拿好，慢走。"]
    amounts = score_turns([Transcript(text=t) for t in turns], "payment", Settings()).amounts
    assert (amounts.bill, amounts.received) == (None, 60) and not amounts.consistent  # no bill said: none made up
    turns[1] = "交电费是吧，户号报一下。您这回四十八块。"
    amounts = score_turns([Transcript(text=t) for t in turns], "payment", Settings()).amounts
    assert (amounts.bill, amounts.received, amounts.change) == (48, 60, 12) and amounts.consistent


def test_an_amount_corrected_after_bu_dui_is_the_one_sung() -> None:
    _, amounts = check("这个月电费是73，不对，73元6角。", "收您一百。", "找您26块4，发票拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (73.6, 100, 26.4) and amounts.consistent
    # the corrected bill is the one sung: the change then does not add up
    _, amounts = check("这个月电费是80，不对，75元。", "收您一百。", "找您20元。")
    assert amounts.bill == 75 and not amounts.consistent
    # said again and rounded after the correction: the corrected amount stands
    _, amounts = check("您这个月是三百——不对，两百九十八，二九八，就是三百差两块。", "收您三百块。", "找您两块。")
    assert (amounts.bill, amounts.received, amounts.change) == (298, 300, 2) and amounts.consistent


def test_a_jiao_digit_is_never_the_start_of_the_next_number() -> None:
    _, amounts = check("这个月电费73元6角73块6。", "收您一百。", "找您26块4。")
    assert amounts.bill == 73.6 and amounts.consistent


def test_digits_with_qian_and_bai_as_whisper_writes_them_are_one_number() -> None:
    # 收您二千元整 written 收捏2千圆整; 一千二百 as 1千2百; 两千零五 as 2千零5
    _, amounts = check("十二个月合计1947元6角。", "收捏2千圆整。", "找您五十二元四角，请您点清收好。")
    assert (amounts.bill, amounts.received, amounts.change) == (1947.6, 2000, 52.4) and amounts.consistent
    values = [[t.value for t in build_doc([TurnText(Transcript(text=text))]).numbers.values()] for text in ("收您1千2百元", "合计2千零5元", "12千", "1.5千")]
    assert values == [[1200], [2005], [12], [1.5]]


def test_notes_and_coins_counted_out_are_not_the_jiao() -> None:
    # 找您十一块四：十块一张、一块一个、一毛的四个 — 一张 is one note, not 10.1
    _, amounts = check("这个月水费三十八块六。", "收您五十。", "找您十一块四：十块一张、一块一个、一毛的四个。")
    assert (amounts.bill, amounts.received, amounts.change) == (38.6, 50, 11.4) and amounts.consistent
    doc = build_doc([TurnText(Transcript(text="五十块两张，十块一张"))])
    assert [t.value for t in doc.numbers.values()] == [50, 2, 10, 1]


def test_an_amount_said_twice_in_one_breath_is_two_numbers() -> None:
    # 二九八二百九十八块 (read out, then said in full) and 五毛五毛 (the change said twice, run together)
    values = [[t.value for t in build_doc([TurnText(Transcript(text=text))]).numbers.values()] for text in ("二九八二百九十八塊", "找你五毛五毛", "五毛五分", "找您五毛五")]
    assert values == [[298, 298], [0.5, 0.5], [0.55], [0.55]]
    # the last digit said again in full (186块5 186元5角; 两毛五 六十七元), a 角 followed by a coin counted
    # (4块4毛 4个一块; 两块五 一块的), a decimal read out then said (二点五 两块五), a decimal read digit by digit
    # before the amount (1,4,7,点5 147块5角: no thousands separator after 点)
    cases = {
        "是一百八十六块五一百八十六元五角": [186.5, 186.5],
        "找泥67塊兩毛五六十七元二角五分": [67.25, 67.25],
        "找您四塊四毛四個一塊": [4.4, 4, 1],
        "找您二点五两块五一块的": [2.5, 2.5, 1],
        "本期电费1,4,7,点5,147块5角": [147, 5, 147.5],
        "三块五一张": [3.5, 1],
        "二点五二": [2.52],
        "5,530": [5530],
    }
    for text, expected in cases.items():
        assert [t.value for t in build_doc([TurnText(Transcript(text=text))]).numbers.values()] == expected, text
    _, amounts = check("您这期电费二九八二百九十八块。", "收您三百块。", "找您两块钱。")
    assert (amounts.bill, amounts.received, amounts.change) == (298, 300, 2) and amounts.consistent


def test_the_same_amount_said_again_with_its_jiao_replaces_the_first() -> None:
    # 四十五块六毛，四五点六 written 45块路矛,45.6: the 角 was lost in the first saying, not in the second
    _, amounts = check("您家这两个月一共45块路矛,45.6", "收您五十块。", "找您四块四。")
    assert (amounts.bill, amounts.received, amounts.change) == (45.6, 50, 4.4) and amounts.consistent
    # another role's amount, or the same yuan said further away, is no read-back
    _, amounts = check("这个月一共45块，收您45.5。", "找您五毛。")
    assert (amounts.bill, amounts.received) == (45, 45.5)
    _, amounts = check("这个月电费一共是45块，上个月是45.6。", "收您五十块。", "找您五块。")
    assert amounts.bill == 45


def test_notes_counted_out_make_the_money_received() -> None:
    # 收您两张五十 is 100, 一张一百两张五十 is 200 (一百两张 is 100 and two notes, not 120)
    _, amounts = check("您这个月水费一共一百元整。", "收您两张五十，一百元。", "刚刚好，不用找零。")
    assert (amounts.bill, amounts.received, amounts.change) == (100, 100, 0) and amounts.consistent
    _, amounts = check("电费一百六十元。", "收您一张一百两张五十块。", "找您四十块。")
    assert (amounts.bill, amounts.received, amounts.change) == (160, 200, 40) and amounts.consistent
    doc = build_doc([TurnText(Transcript(text="一张一百两张五十块"))])
    assert [t.value for t in doc.numbers.values()] == [1, 100, 2, 50]
    # an abbreviated place is still read as one (一百二 = 120, 一百二十块)
    assert [t.value for t in build_doc([TurnText(Transcript(text="一百二，一百二十块"))]).numbers.values()] == [120, 120]
    # a count that is no note (三张表) or too many notes is left as it was
    _, amounts = check("电费五十元。", "收您一百，这是三张发票。", "找您五十。")
    assert (amounts.received, amounts.change) == (100, 50)


# Amounts a recogniser garbled, read as said only when that makes them add up; a real 唱付 error
# (the last text, said instead of the change) stays one.
GARBLED = [
    # 两百零八块四 written 2008块4
    (("这个月2008块4。", "收您250块。", "找您41块6，您数一数。"), (208.4, 250, 41.6), "找您42块6，您数一数。"),
    # 收您两百八 (280) written 2008
    (("这个月电费253块。", "收您2008。", "找您27块，发票拿好。"), (253, 280, 27), "找您37块，发票拿好。"),
    # 七十三块五 / 二十六块五 written 73块鱼 / 26块鱼
    (("这个月电费73块鱼。", "收您一百。", "找您26块鱼，发票拿好。"), (73.5, 100, 26.5), "找您28块鱼，发票拿好。"),
    # 找您八十七块二：五十、二十、十块… written without the pause: 87块250,20,10块
    (("水费412块8。", "收您500元。", "找您87块250,20,10块，您点一下。"), (412.8, 500, 87.2), "找您86块250,20,10块，您点一下。"),
    # 找您十一块四，十块一张… written 十一块四十块一张
    (("水费38块6。", "收您五十。", "找您十一块四十块一张。"), (38.6, 50, 11.4), "找您十二块四十块一张。"),
]


@pytest.mark.parametrize(("texts", "read", "wrong_change"), GARBLED)
def test_garbled_amounts_are_read_only_when_that_adds_up(texts: tuple[str, ...], read: tuple[float, ...], wrong_change: str) -> None:
    _, amounts = check(*texts)
    assert (amounts.bill, amounts.received, amounts.change) == read and amounts.consistent
    _, amounts = check(*texts[:-1], wrong_change)
    assert not amounts.consistent


def test_meter_reading_word_heard_as_homophone_is_still_a_reading() -> None:
    _, amounts = check("您上月抵马是三千二百一十五，本月电费是五十二元。", "收您一百元。", "找您四十八元，这是您的发票。")
    assert amounts.bill == 52 and amounts.consistent


def test_change_under_one_yuan() -> None:
    _, amounts = check("您这个月电费是九十九块八。", "收您一百元。", "找您两毛，这是您的发票。")
    assert (amounts.bill, amounts.received, amounts.change) == (99.8, 100, 0.2) and amounts.consistent
    _, amounts = check("本月电费是四十九元五角五分。", "收您五十元。", "找您四角五分，这是您的发票。")
    assert (amounts.bill, amounts.change) == (49.55, 0.45) and amounts.consistent
    _, amounts = check("您这期电费是五十九块九毛八。", "收您六十块。", "找您两分钱，发票您拿好。")  # 分 alone, with 钱
    assert (amounts.bill, amounts.received, amounts.change) == (59.98, 60, 0.02) and amounts.consistent


def test_stating_the_bill_in_any_words_performs_the_step() -> None:
    result, amounts = check("您这个月一百三十四块五。", "收您一百五十元。", "找您十五块五，这是您的发票。")
    step = next(s for s in result.steps if s.id == "state_bill")
    assert amounts.bill == 134.5 and step.status == "hit" and step.turn == 1
    assert step.matched_text == "您这个月一百三十四块五"
    # No bill said: the step stays missed.
    result, _ = check("您好。", "收您一百五十元。", "找您十五块五，这是您的发票。")
    assert next(s for s in result.steps if s.id == "state_bill").status == "missed"


def test_garbled_nin_digits_and_units_in_sung_amounts() -> None:
    # 九块八 / 收您十块整 / 找您两毛, as whisper-base wrote them.
    _, amounts = check("这俩月就用了四方水，酒快吧。", "收泥石筷整。", "找你两毛，这是收据发票。")
    assert (amounts.bill, amounts.received, amounts.change) == (9.8, 10, 0.2) and amounts.consistent
    _, amounts = check("您这个月是62块钱。", "收音一百。", "找您三十八，发票拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (62, 100, 38) and amounts.consistent


def test_decimal_number_before_receiving_is_the_bill() -> None:
    _, amounts = check("这个月134.5", "收您200块。", "找您75块5，这是发票。")
    assert amounts.bill == 134.5 and not amounts.consistent  # 134.5 + 75.5 = 210: a real 唱付 error


def test_more_garbled_change_readings_only_when_they_add_up() -> None:
    _, amounts = check("您这个月电费76块3。", "收您100块。", "找您23块去，发票您拿好。")  # 二十三块七
    assert amounts.change == 23.7 and amounts.consistent
    _, amounts = check("本期水费58块6毛。", "收您一百元整。", "找您41块次，您点清楚。")  # 四十一块四
    assert amounts.change == 41.4 and amounts.consistent
    _, amounts = check("本期燃气费是86.5元。", "收您一百元。", "找您是3.5元，发票在这儿。")  # 十三块五
    assert amounts.change == 13.5 and amounts.consistent
    _, amounts = check("本期燃气费是86.5元。", "收您一百元。", "找您是2.5元，发票在这儿。")
    assert amounts.change == 2.5 and not amounts.consistent


def test_bill_stated_after_a_near_miss_phrase_counts() -> None:
    result, _ = check("好，查到了，这个月是一百零五块。", "收您两百元。", "找您九十五元，这是您的发票。")
    assert next(s for s in result.steps if s.id == "state_bill").status == "hit"


def test_jiao_and_fen_said_as_mao_then_a_digit() -> None:
    _, amounts = check("本月电费是二百五十六块八毛四分。", "收您三百元整。", "这是找您的四十三块一毛六，请点清收好。")
    assert (amounts.bill, amounts.received, amounts.change) == (256.84, 300, 43.16)
    assert amounts.consistent


def test_a_number_never_runs_across_a_clause_boundary() -> None:
    # 三百块，一、二、三 counts notes: the received amount stays 300, not 300.1.
    _, amounts = check("本月电费是三百块整。", "收您三百块，一、二、三，三张一百。")
    assert amounts.received == 300


def test_exact_payment_is_a_change_of_zero_sung() -> None:
    _, amounts = check("本月电费是八十六块五毛。", "收您八十六元五角，金额刚好，不用找零了。这是您的发票。")
    assert (amounts.bill, amounts.received, amounts.change) == (86.5, 86.5, 0)
    assert amounts.consistent and amounts.change_said
    _, wrong = check("本月电费是五十二元。", "收您一百元，正好。")
    assert wrong.change == 0 and not wrong.consistent


def test_coins_counted_out_before_an_exact_payment_are_not_the_bill() -> None:
    """The last amount before 收您 is 八毛 of the coins counted; the bill said earlier makes an exact payment add up."""
    _, amounts = check("查着了，这俩月三十二块六。", "我数数，十块、二十、三十、三十二，一毛两毛……五毛六毛。收您三十二块六毛，刚好。")
    assert (amounts.bill, amounts.received, amounts.change) == (32.6, 32.6, 0) and amounts.consistent
    bill_at = dict(amounts.positions)["bill"]
    assert bill_at < dict(amounts.positions)["received"] - 8, "the bill is read where it was said, not at the coins"
    _, wrong = check("这两个月水费三十二块六。", "收您三十块，正好。")
    assert not wrong.consistent, "an exact payment of the wrong amount still fails"


def test_a_card_number_read_out_is_never_money() -> None:
    _, amounts = check("卡号是 4 4 0 1，2 3 6 7，0 0 5 9。本月电费是三百块。", "收您三百块。", "找您零元，这是您的发票，请收好。")
    assert amounts.bill == 300 and amounts.received == 300
    _, long_digits = check("户号 3 5 7 2 2 1 9 0 6 6，收您一百元。")
    assert long_digits.received == 100 and long_digits.bill is None


def test_digits_read_one_by_one_are_an_identifier_even_in_short_groups() -> None:
    _, amounts = check("卡号是 4 4 0 1，2 3 6 7。本月电费是三百块整。", "收您三百块，刚刚好，不用找了。")
    assert (amounts.bill, amounts.received, amounts.change) == (300, 300, 0) and amounts.consistent
    _, spoken = check("户号零三五七，二二一九。本月电费是八十元。", "收您一百元。", "找您二十元，这是您的发票，请收好。")
    assert (spoken.bill, spoken.received, spoken.change) == (80, 100, 20)


def test_money_acknowledged_right_after_its_amount_is_sung() -> None:
    # 两百整，收着了: the amount, then the receipt acknowledged; the bill is the amount said before it.
    _, amounts = check("您这个户号对上了。", "一百零八块五。", "两百整，收着了啊。", "找您九十一块五，票拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (108.5, 200, 91.5)
    assert amounts.consistent and amounts.received_said
    # an amount with no 收 anywhere near it is still not a sung receipt
    _, unsung = check("本月电费是一百零八块五。", "两百整。", "找您九十一块五。")
    assert unsung.received is None or not unsung.received_said


def test_an_exact_sum_with_zheng_is_money() -> None:
    _, amounts = check("两百整。", "收您三百元。", "找您一百元。")
    assert amounts.bill == 200 and amounts.consistent


def test_a_clerk_who_sings_again_corrects_the_amount() -> None:
    _, amounts = check("这个月两百零八块。", "收你两百——哦，不好意思，三张，收你三百块。", "找你九十二块，发票拿好。")
    assert (amounts.bill, amounts.received, amounts.change) == (208, 300, 92) and amounts.consistent
    # counting the notes or explaining the change is not a second 唱收/唱付
    _, counted = check("本月电费是三百块整。", "收您三百块，一、二、三，三张一百，刚刚好。")
    assert counted.received == 300
    _, explained = check("一共两百一十五块三毛。", "收您两百二十块。", "找您四块七毛，四块钱加七毛，发票您收好。")
    assert explained.change == 4.7 and explained.consistent


def heard(text: str, low: str = "", confidence: float = 0.9) -> Transcript:
    """A recognised turn: one word per character, `low` heard with confidence 0.3."""
    from trainer.asr.base import Word

    words = [Word(c, i * 0.2, (i + 1) * 0.2, 0.3 if c in low else confidence) for i, c in enumerate(text)]
    return Transcript(text=text, words=words, engine="whisper")


def check_heard(*turns: Transcript):
    result = score_turn_texts([TurnText(t) for t in turns], PAYMENT, (), Lexicon())
    return result, result.amounts


def test_an_amount_the_recogniser_may_have_garbled_goes_to_an_instructor_not_against_the_trainee() -> None:
    # 收您… heard, its amount not (收您人事 for 收您六十): a recognition doubt, so review, never a certain fail
    result, amounts = check_heard(heard("本月电费是五十二元"), heard("收您人事"), heard("找您八元，这是您的发票，请收好"))
    assert amounts.received is None and not amounts.consistent and amounts.misheard
    assert result.verdict == "review" and not result.passed
    assert not any("没有唱收" in line for line in result.feedback) and any("可能没听清" in line for line in result.feedback)
    # an amount that was read stands as read, whatever the word confidence: 55 + 4.4 is not 60
    result, amounts = check_heard(heard("本月电费是五十五块", low="五"), heard("收您六十元"), heard("找您四块四"))
    assert (amounts.bill, amounts.received, amounts.change) == (55, 60, 4.4)
    assert not amounts.misheard and result.verdict == "fail"
    # ...unless a syllable that reads as nothing follows its 块 where a 角 digit would make them add up (55.6)
    result, amounts = check_heard(heard("本月电费是五十五块泥"), heard("收您六十元"), heard("找您四块四"))
    assert amounts.bill == 55 and amounts.misheard and result.verdict == "review"
    # no 角 digit makes 55.x + 3.4 = 60: the amounts are wrong however that syllable was said
    result, amounts = check_heard(heard("本月电费是五十五块泥"), heard("收您六十元"), heard("找您三块四"))
    assert not amounts.misheard and result.verdict == "fail"
    # and typed text is what was said
    result, amounts = check("本月电费是五十五块泥。", "收您六十元。", "找您四块四。")
    assert not amounts.misheard and result.verdict == "fail"


def test_amounts_heard_as_a_payment_that_cannot_happen_go_to_an_instructor() -> None:
    # change given back on less money than the bill: 收您六十 heard as 收捏又是 and 三张二十 as 三招二十的
    result, amounts = check_heard(heard("您这期水费五十七块六"), heard("收您二十的，找您两块四"))
    assert (amounts.bill, amounts.received, amounts.change) == (57.6, 20, 2.4)
    assert amounts.misheard and result.verdict == "review"
    # a reading that makes it possible (这期 heard as 这7) leaves a plain wrong change: a certain fail
    result, amounts = check_heard(heard("您这7241块"), heard("收您三百"), heard("找您六十九块"))
    assert not amounts.misheard and result.verdict == "fail"
    # typed text is what was said
    result, amounts = check("您这期水费五十七块六。", "收您二十元，找您两块四。")
    assert not amounts.misheard and result.verdict == "fail"


def test_an_amount_in_a_form_nobody_says_goes_to_an_instructor() -> None:
    # 一百五十八块三 written 7.258塊3: three decimals, then a 角 after the unit
    result, amounts = check_heard(heard("谢谢，您家这期7.258塊3"), heard("收您一百六十块"), heard("找您一块七"))
    assert not amounts.consistent and amounts.misheard and result.verdict == "review"


GARBLED_UNITS = [
    # 找您十三元六角五分 written 13元6.5分: a decimal point after 元 and 角, which nobody says
    (("本期电费是七十六元三角五分", "收您九十元", "找您13元6.5分，您点一下"), True),
    # 找您一元六角 written 一人六角: 角 alone after a numeral and a syllable that is no unit (the 元 heard as 人)
    (("这个月电费三十八元四角", "收您四十元", "找您一人六角，请收好"), True),
    # a plain wrong change in 角 stays a certain fail
    (("这个月电费三十八元四角", "收您四十元", "找您六角，请收好"), False),
]


@pytest.mark.parametrize(("texts", "doubt"), GARBLED_UNITS)
def test_an_amount_whose_unit_was_garbled_goes_to_an_instructor(texts: tuple[str, ...], doubt: bool) -> None:
    result, amounts = check_heard(*(heard(text) for text in texts))
    assert not amounts.consistent and amounts.misheard == doubt
    assert result.verdict == ("review" if doubt else "fail")
    result, amounts = check(*(text + "。" for text in texts))  # typed text is what was said
    assert not amounts.misheard and result.verdict == "fail"


def test_amounts_that_add_up_without_their_cue_heard_go_to_an_instructor() -> None:
    # 找您 heard as 表您: the change was read and the amounts add up, only its 找您 was not heard
    result, amounts = check_heard(heard("本月电费是五十二元"), heard("收您一百元"), heard("这是您的发票，表您四十八元，请点清收好"))
    assert (amounts.bill, amounts.received, amounts.change) == (52, 100, 48)
    assert not amounts.consistent and amounts.misheard and result.verdict == "review"
    result, amounts = check("本月电费是五十二元。", "收您一百元。", "这是您的发票，四十八元。")  # typed: 找您 not said
    assert not amounts.consistent and not amounts.misheard and result.verdict == "fail"


def test_a_correction_corrects_the_amount_it_follows() -> None:
    # one breath (a whole recording): the correction after 找你 corrects the change, not the money received
    _, amounts = check("这期一共一百二十八块五毛，收你两百块，找你七十块五，啊不对，七十一块五，您点一下。")
    assert (amounts.bill, amounts.received, amounts.change) == (128.5, 200, 71.5) and amounts.consistent


def test_the_count_of_the_notes_run_into_the_change() -> None:
    # 找您十三块六：一张十块… written 13.61張10塊: notes are counted in whole numbers, so 13.61 before 張 is the
    # change with the 一 of 一张 run into it, read as 13.6 when that makes the amounts add up
    _, amounts = check_heard(heard("这个月电费一共是86块4"), heard("收您一百块"), heard("这是您的发票 找您13.61張10塊 三个一块 还有6毛"))
    assert (amounts.bill, amounts.received, amounts.change) == (86.4, 100, 13.6) and amounts.consistent
    # only a count right after it runs in: 13.61 at the end of its clause is read as said
    from trainer.scoring.document import misheard_values

    assert misheard_values("13.61", 13.61, "张10块") == (13.6,) and misheard_values("13.61", 13.61, "") == ()
    # a whole number before 张 is still a count (三张一百), and a kWh reading stays energy
    _, amounts = check("这个月用了十二点五度电，电费是五十二元。", "收您一百元，两张五十。", "找您四十八元。")
    assert (amounts.bill, amounts.received, amounts.change) == (52, 100, 48) and amounts.consistent


def test_three_heard_as_shan_after_the_unit() -> None:
    # 七十六块三毛 heard as 76块山毛 (s for sh): read as 76.3 when that makes the amounts add up
    _, amounts = check_heard(heard("这期水费76块山毛"), heard("收你一百块"), heard("找您二十三块七毛"))
    assert amounts.bill == 76.3 and amounts.consistent


def test_amounts_heard_clearly_or_typed_that_do_not_add_up_fail() -> None:
    result, amounts = check_heard(heard("本月电费是五十二元"), heard("收您一百元"), heard("找您五十八元，这是您的发票，请收好"))
    assert amounts.change == 58 and not amounts.misheard and result.verdict == "fail"
    result, amounts = check("本月电费是五十二元。", "收您人事。", "找您八元，这是您的发票，请收好。")  # typed: what was said
    assert not amounts.misheard and result.verdict == "fail"


def test_a_number_said_twice_is_not_one_long_number() -> None:
    # whisper writes 二百九十八，二百九十八 as "298 298": two numbers, the amount sung twice
    _, amounts = check_heard(heard("这期电费是298 298元整。"), heard("收您三百元。"), heard("找您两块钱。"))
    assert amounts.bill == 298 and amounts.consistent
    # as whisper gives it: the two numbers are two words, the text is rebuilt from the words
    from trainer.asr.base import Word

    words = (Word("这期电费是", 0.0, 1.0, 0.9), Word("29", 1.0, 1.3, 0.9), Word("8", 1.3, 1.5, 0.9), Word("29", 1.5, 1.8, 0.9), Word("8元整", 1.8, 2.5, 0.9))
    _, amounts = check_heard(Transcript(text="这期电费是298 298元整", words=words, engine="whisper"), heard("收您三百元。"), heard("找您两块钱。"))
    assert amounts.bill == 298 and amounts.consistent
    # a phone number heard in groups stays one number
    words = (Word("电话", 0.0, 0.5, 0.9), Word("138", 0.5, 1.0, 0.9), Word("0013", 1.0, 1.5, 0.9), Word("8000", 1.5, 2.0, 0.9))
    doc = build_doc([TurnText(Transcript(text="电话138 0013 8000", words=words, engine="whisper"))])
    assert [n.value for n in doc.numbers.values()] == [13800138000]


def test_a_digit_before_a_yuan_unit_starts_the_next_amount_never_the_fen_of_this_one() -> None:
    # 找您6块8角，6块8毛 heard run together: 6.8 twice, not 6.86 and then 8 毛
    doc = build_doc([TurnText(Transcript(text="找您6块8角6块8毛一张五块"))])
    assert [n.value for n in doc.numbers.values()][:2] == [6.8, 6.8]
    doc = build_doc([TurnText(Transcript(text="找您6块8角6分"))])  # a real 分 stays
    assert [n.value for n in doc.numbers.values()] == [6.86]


def test_an_ordinal_and_a_count_of_things_are_never_money() -> None:
    from trainer.pipeline import score_text

    # 两户 counts accounts, 第二户 is an ordinal: the bill is the 合计, and a wrong change is reported against it
    result = score_text(
        ["您好，请您提供两户的用水户号。", "第一户二百元，第二户三百一十二元，合计五百一十二元。", "收您六百元。", "找您九十八元，请点清。", "再见。"],
        "water_payment",
    )
    amounts = result.amounts
    assert (amounts.bill, amounts.received, amounts.change) == (512, 600, 98) and not amounts.consistent
    assert "应交 512 元" in amounts.problems[0]


def test_the_change_is_what_is_sung_after_the_money_received() -> None:
    # 好您 sounds like 找您 to the tolerant matcher; said before any money, it is no 唱付
    _, amounts = check("您好您好，三块钱的那个卡您有吗？本月电费是五十二元。", "收您一百元。", "这是发票。")
    assert amounts.received == 100 and amounts.change is None and not amounts.consistent


def test_shou_nin_heard_with_nin_as_ying_or_nie_still_sings_the_money_received() -> None:
    for said in ("收赢三百元", "收捏三百元"):
        _, amounts = check_heard(heard("本月电费是二百九十八元"), heard(said), heard("找您两元"))
        assert amounts.received == 300 and amounts.received_said and amounts.consistent, said


def test_the_money_acknowledged_with_a_curt_shou_le_is_sung() -> None:
    # 一百，收了: the money received, said after its amount; the bill is the amount said before it
    _, amounts = check("八十六块四。", "一百，收了。", "找您十三块六。")
    assert (amounts.bill, amounts.received, amounts.change) == (86.4, 100, 13.6)
    assert amounts.received_said and amounts.consistent


def test_money_paid_in_parts_is_received_as_the_total_sung_after_it() -> None:
    # card or phone, then cash: the total said after the money received is the money received, never the bill
    _, amounts = check("这期电费一百二十八块整。", "扫码一百，现金收您三十，一共一百三。", "找您两块，发票给您。")
    assert (amounts.bill, amounts.received, amounts.change, amounts.consistent) == (128, 130, 2, True)
    _, amounts = check("这期电费一百二十八块整。", "扫码一百，现金收您三十，一共一百三。", "找您三块，发票给您。")
    assert (amounts.bill, amounts.received, amounts.consistent) == (128, 130, False)  # 128 + 3 is not 130
    # 手机 names how it was paid here, not a phone number: a money cue stands between it and the amount
    _, amounts = check("本期电费一百六十三块七。", "手机一百，现金一百，一共收您两百。", "找您三十六块三。")
    assert (amounts.received, amounts.consistent) == (200, True)
    # a phone number is still no money
    _, amounts = check("您手机一三八零零一三八零零零，本期电费一百块。", "收您一百块。", "不用找了。")
    assert (amounts.bill, amounts.received) == (100, 100)


def test_a_recognisers_decimal_with_its_fen_after_mao_is_one_amount() -> None:
    """Whisper writes 四十七块三毛五 as 47.3毛5 and 两块六毛五 as 2.6毛5."""
    result, amounts = check_heard(heard("这期水费47.3毛5"), heard("收您50元"), heard("找您2.6毛5，发票您收好"))
    assert (amounts.bill, amounts.received, amounts.change) == (47.35, 50, 2.65) and amounts.consistent


def test_the_amount_due_said_as_yingshou_is_the_bill_and_half_a_yuan_is_five_jiao() -> None:
    """应收一百八十六块半 after 收您一百八十七 names the bill (186.5), never a second 唱收."""
    _, amounts = check("这个月一百八十六块五。", "收您一百八十七元。", "应收一百八十六块半，找您五毛，发票您收好。")
    assert (amounts.bill, amounts.received, amounts.change) == (186.5, 187, 0.5) and amounts.consistent
    _, half = check("电费两块半。", "收您五块。", "找您两块半。")
    assert (half.bill, half.change) == (2.5, 2.5) and half.consistent


def test_a_cue_names_the_first_amount_after_it() -> None:
    """一共收您六十块六，六十现金，六毛扫码: the 60 after 一共收您 is a part of the money, not a corrected bill."""
    _, amounts = check("这个月五十五块六毛。那一共收您六十块六毛，六十现金，六毛扫码。找您五块钱整，票您拿好。")  # one recording
    assert (amounts.bill, amounts.received, amounts.change) == (55.6, 60.6, 5) and amounts.consistent


def test_a_correction_heard_by_its_sound_still_corrects_the_amount() -> None:
    # 三百——不对不对，两百九十八 heard as 三百部队部队…298
    result, amounts = check_heard(heard("您这个月电费是三百部队部队看串行了298"), heard("收您三百块"), heard("找您两块，这是发票"))
    assert (amounts.bill, amounts.received, amounts.change) == (298, 300, 2) and amounts.consistent


def test_the_qi_of_zheqi_run_into_the_bill_is_read_away_when_that_makes_the_amounts_add_up() -> None:
    # 您这期是二百一十二元 heard as 您这7212元
    result, amounts = check_heard(heard("您这7212元"), heard("收您二百五十元"), heard("找您三十八元"))
    assert (amounts.bill, amounts.received, amounts.change) == (212, 250, 38) and amounts.consistent
    # a wrong change stays wrong: 212 + 48 is not 250
    result, amounts = check_heard(heard("您这7212元"), heard("收您二百五十元"), heard("找您四十八元"))
    assert not amounts.consistent and result.verdict == "fail"
