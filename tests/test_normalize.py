"""Normalisation: t2s, width, punctuation, numbers both ways, fillers, and the map back to the source."""

from __future__ import annotations

import pytest

from trainer.text.normalize import chinese_number_value, normalize, normalize_text, to_chinese_numerals
from trainer.text.pinyin import encode, fold_syllable, same_sound

FILLERS = ("嗯", "啊", "呃", "那个", "就是说", "然后呢")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("請您稍等，謝謝！", "请您稍等谢谢"),  # traditional -> simplified, punctuation removed
        ("您 好 请 坐", "您好请坐"),  # Vosk spacing
        ("ＡＢＣ１２３", "abc123"),  # full width -> half width, lower case
        ("收您一百元，找您四十八元。", "收您100元找您48元"),
        ("工号一零八为您服务", "工号108为您服务"),  # digit-by-digit reading
        ("账号幺三幺幺五", "账号13115"),  # 幺 = 1 in digit strings
        ("拨打九五五九八", "拨打95598"),
        ("两个工作日", "2个工作日"),  # 两 before a measure word
        ("四十八点五元", "48.5元"),
        ("48.5元", "48.5元"),  # decimal point survives punctuation removal
        ("四十八块五", "48块5"),
        ("两千三百元", "2300元"),
        ("请稍等一下，我们一定改进", "请稍等一下我们一定改进"),  # lone numerals inside words stay
        ("万一", "万一"),  # not a number: cn2an refuses, text kept
        ("1 3 1 1 5", "13115"),
        ("您要办什么？怎么了", "您要办什么怎么了"),  # simplified 么 stays (OpenCC tw2s would write 幺)
        ("您要辦什麼", "您要办什么"),  # and Whisper's traditional 麼 meets it
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_whisper_and_phrasebook_spellings_meet() -> None:
    assert normalize_text("找您48元，请收好。") == normalize_text("找您四十八元请收好")
    assert normalize_text("工號108為您服務") == normalize_text("工号一零八为您服务")


def test_source_map_points_back_to_original_characters() -> None:
    raw = "您好，收您 一百元！"
    norm = normalize(raw)
    assert norm.text == "您好收您100元"
    start = norm.text.index("100")
    assert norm.source_text(start, start + 3) == "一百"
    assert norm.source_text(start, start + 4) == "一百元"
    assert norm.source_span(0, 2) == (0, 2)
    assert norm.source_text(2, 4) == "收您"


def test_clause_starts_follow_punctuation() -> None:
    norm = normalize("喂，你找谁？好的")
    assert norm.text == "喂你找谁好的"
    assert norm.clause_starts == (True, True, False, False, True, False)


def test_fillers_recorded_single_ones_dropped() -> None:
    norm = normalize("嗯，您好，那个，请坐，啊", fillers=FILLERS)
    assert norm.text == "您好那个请坐"
    assert [f.text for f in norm.fillers] == ["嗯", "那个", "啊"]
    # 那个 used as a word (那个表) is not a filler
    assert normalize("那个表坏了", fillers=FILLERS).fillers == ()


def test_number_values() -> None:
    assert chinese_number_value("一百零八") == "108"
    assert chinese_number_value("一零八") == "108"
    assert chinese_number_value("幺三幺幺五") == "13115"
    assert chinese_number_value("两") == "2"
    assert chinese_number_value("万一") is None


def test_digits_back_to_chinese() -> None:
    assert to_chinese_numerals("找您48元") == "找您四十八元"
    assert to_chinese_numerals("热线95598") == "热线九五五九八"
    assert to_chinese_numerals("48.5元") == "四十八点五元"
    assert normalize(to_chinese_numerals("收您100元")).text == "收您100元"


def test_pinyin_folds_common_confusions() -> None:
    assert same_sound("您好", "你好")
    assert same_sound("请坐", "轻坐")
    assert same_sound("是", "四")  # sh/s
    assert same_sound("难", "兰")  # n/l
    assert same_sound("帮", "班")  # ang/an
    assert same_sound("清", "琴")  # ing/in
    assert same_sound("您好", "宁好")  # nin and ning are one syllable once in/ing is folded, so 宁 is 您 too
    assert not same_sound("收", "找")
    assert fold_syllable("zhuang") == ("z", "uan")
    assert len(encode("收您100元")) == 2 * len("收您100元")


def test_pinyin_half_credit_for_near_homophones() -> None:
    from rapidfuzz import fuzz

    assert fuzz.ratio(encode("收"), encode("说")) == 50.0  # same initial, other final
    assert fuzz.ratio(encode("收"), encode("找")) == 0.0


def test_money_unit_homophone_after_a_number() -> None:
    assert normalize_text("找您22快4") == "找您22块4"
    assert normalize_text("收您六十圆") == "收您60元"
    assert normalize_text("七元七脚") == "7元7角"
    assert normalize_text("快点，不快") == "快点不快"  # no number before it: unchanged
    assert normalize_text("收您两擺快") == "收您200块"  # 两百块, with 百 and 块 misheard
    assert normalize_text("收您三钱五百元") == "收您3500元"
    assert normalize_text("一白天，明白") == "一白天明白"  # not inside an amount: unchanged
    assert normalize_text("酒快吧") == "9块吧"  # a digit's homophone before 块's homophone
    # ... but not before those of 元 and 角, everyday words: two homophones in a row are no amount
    for said in ("我这就叫他们", "把缴费单给我", "一会儿叫您", "把原件给我", "就原来那个"):
        assert normalize_text(said) == said, said


def test_a_numeral_run_never_crosses_punctuation() -> None:
    # an account number read out, then the amount: two numbers, not one unparsable run
    assert normalize("零八八三四七一二零九，九十六块。").text == "088347120996块"
    assert normalize("一百，二十").text == "10020"
    assert normalize("一百，二十").clause_starts[3] is True


def test_a_number_read_digit_by_digit_is_one_number_but_counting_aloud_is_not() -> None:
    assert normalize("本期电费，一、四、七、点、五。").text == "本期电费147.5"
    assert normalize("户号三、五、零、二、一、七、八、八，对的。").text == "户号35021788对的"
    assert normalize("找您二、点、五").text == "找您2.5"
    assert normalize("一、二、三、四，四张一百。").clause_starts[1]  # counting the notes aloud
    assert normalize("选一、二项").text == "选一2项"  # two items: a list, not a number
    assert normalize("零八八三，九十六块").clause_starts[4]  # a comma still ends the number
    # as Whisper writes it: digits with commas or dashes, then the amount said whole
    assert normalize("本期电费2,3,6.8,236块8角").text == "本期电费236.8236块8角"
    assert normalize("本期电费2,3,6.8,236块8角").clause_starts[9]
    assert normalize("收你2,5,0,250元").clause_starts[5]  # not the digit group 0,250
    assert normalize("找你1-4-2").text == "找你142"
    assert normalize("1,2,3,4").clause_starts[1]  # counting


def test_whisper_digit_groups_are_one_number_but_a_repeat_or_an_amounts_end_is_not() -> None:
    assert normalize("收您2,400元").text == "收您2400元" and not any(normalize("收您2,400元").clause_starts[3:])
    assert normalize("合计1,234,567元").text == "合计1234567元"
    for text, second in (("是298,298整", 4), ("187块6,187块6毛", 5), ("找你2块6毛5 2个一块", 7)):
        # said twice, an amount ending in its 角/分 and the next number: two numbers
        assert normalize(text).clause_starts[second], text


def test_a_near_sound_of_a_unit_counts_only_between_two_numbers() -> None:
    assert normalize("本期水费213跨6").text == "本期水费213块6"
    assert normalize("西跨院7跨院9号").text == "西跨院7跨院9号"  # a courtyard, not an amount
    assert normalize("本期水费213跨6 213跨6").clause_starts[9]  # sung twice: two amounts


def test_a_money_units_homophone_after_a_number_but_not_inside_a_word() -> None:
    assert normalize("找您两员").text == "找您2元"
    assert normalize("六十圆").text == "60元"
    for text in ("四员工", "二园区", "带两原件"):
        assert "元" not in normalize(text).text, text


def test_a_number_repeated_after_a_space_starts_a_new_clause() -> None:
    repeated = normalize("是298 298人整")
    assert repeated.text == "是298298人整" and repeated.clause_starts[4]
    for text in ("13812 345678", "298 2980", "幺 三 九"):  # different digits: one number (Vosk spaces every word)
        assert not any(normalize(text).clause_starts[1:]), text
    decimal = normalize("电费86.5 86.5角")  # a decimal amount said twice: not 86.586.5
    assert decimal.text == "电费86.586.5角" and decimal.clause_starts[6]
    assert not any(normalize("电费86.5 6.5角").clause_starts[1:])  # not the same number: left as it is


def test_dialect_personal_pronouns_read_as_the_standard_ones() -> None:
    # who is meant is what matters: 俺 (northern) is 我, 侬 (Wu) is 你; each stays one character, mapped back
    said = normalize("俺们给侬查一下")
    assert said.text == "我们给你查一下"
    assert (said.starts[0], said.ends[0]) == (0, 1)


def test_written_cantonese_reads_as_the_mandarin_it_means() -> None:
    said = normalize("唔该，身份证俾我睇下。系咪改电话？")
    assert said.text == "谢谢身份证给我看下是不是改电话"
    assert said.source_text(0, 2) == "唔该"
    # a word replaced by a longer one: every character maps back to the whole word
    asked = normalize("你想办乜？")
    assert asked.text == "你想办什么" and asked.source_text(3, 5) == "乜"
    assert normalize("我哋冇办法").text == "我们没办法"  # so a 忌语 said in Cantonese is still found


def test_mandarin_words_holding_xi_are_left_alone() -> None:
    assert normalize("联系电话在系统里").text == "联系电话在系统里"
    assert normalize("真系唔好意思").text == "真是不好意思"


def test_cantonese_money_words_are_the_units_after_a_number() -> None:
    assert normalize("电费八十六蚊五毫").text == "电费86块5毛"
    assert normalize("找你两蚊，发票").text == "找你2块发票"
    # not after a number, or inside a word or idiom: left alone
    for text in ("丝毫不差", "三毫米的管子", "一分一毫都不会少", "有蚊子"):
        assert "毛" not in normalize(text).text and "块" not in normalize(text).text, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("298 二九八", "298298"),  # digits, a space, numerals: two numbers (clause start between)
        ("两百九十八二百九十八", "298298"),  # said twice in full, one breath
        ("一百二三十块", "一百二三十块"),  # an estimate is no pair of amounts
        ("找你13月6角", "找你13元6角"),  # a month is never followed by 角
        ("3月6号来", "3月6号来"),
        ("日期是3月6", "日期是3月6"),  # nothing after the 6: no 角, so a date
        ("本月电费十八十六元四角", "本月电费十86元4角"),  # 是 heard as 十 before 八十六
        ("十一十二", "十一十二"),
    ],
)
def test_numbers_a_recogniser_runs_together_or_mishears(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_an_amount_said_again_in_numerals_starts_a_new_number() -> None:
    starts = normalize("298 二九八").clause_starts
    assert starts[3] and normalize("两百九十八二百九十八").clause_starts[3]
