"""Normalise recogniser output and phrasebook text into one comparable form.

The pipeline is a list of small transforms over *units* (one output character
each, remembering which characters of the original text it came from), in the
spirit of jiwer's `Compose`:

1. traditional -> simplified (OpenCC `tw2s`: also Taiwan forms such as 著急, 裡), and the dialect
   personal pronouns read as the standard ones (俺 -> 我, 侬 -> 你): who is meant is what matters
   (这不是俺的事儿 is 这不是我的事情), and written Cantonese read as the Mandarin it means (唔该 -> 谢谢,
   冇 -> 没, 俾我睇下 -> 给我看下);
2. full width -> half width and lower case (Unicode NFKC);
3. filler words (嗯、啊、那个…) are recorded for fluency scoring; single-character
   interjections are dropped from the text, multi-character ones stay (they are
   also ordinary words: 那个 in 那个表) and are counted only when they stand alone;
4. punctuation, symbols and spaces (Vosk puts a space between words) removed;
   punctuation marks the start of a new clause;
5. numbers read aloud become Arabic digits: 一百零八 -> 108, 四十八点五 -> 48.5,
   幺三幺幺五 / 一三一一五 -> 13115 (digit strings), 一、四、七、点、五 -> 147.5 (read one
   digit at a time; not counting aloud, 一、二、三), 两个 -> 2个. Values go through
   cn2an; digit-by-digit readings are mapped here because cn2an reads them as
   one number only in some modes. A lone numeral stays a character unless a
   measure word follows (一下、一定 stay; 一个 -> 1个, 块五 -> 块5). A money
   unit or 百/千/万 written as a homophone inside an amount is read as what it
   sounds like (48快 -> 48块, 两摆快 -> 两百块); a unit's near sound only between two numbers
   (213跨6 -> 213块6). Lone Arabic digits with 千/百, as Whisper writes them, are read with them
   (2千 -> 2000, 1千2百 -> 1200). 半 after an amount's 块/元 is its 角 (两块半 -> 2块5).

Every output character keeps the [start, end) range of the original characters
it came from, so a span found in the normalised text maps back to the
transcript (and from there to word timings).

`to_chinese_numerals` goes the other way (digits -> numerals as read aloud).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import cn2an
import opencc

from trainer.text.pinyin import DIGIT_READINGS, syllables

CN_DIGITS = "零〇一二两三四五六七八九幺壹贰叁肆伍陆柒捌玖"
CN_MULTIPLIERS = "十百千万亿拾佰仟"
_CN_DIGIT_VALUE = {
    **dict(zip("零〇一二三四五六七八九", "00123456789")),
    "两": "2",
    "幺": "1",
    **dict(zip("壹贰叁肆伍陆柒捌玖", "123456789")),
}
_NUMERAL_CHARS = set(CN_DIGITS + CN_MULTIPLIERS)
# A lone numeral is a number (not part of a word such as 一下、一定) when one of these follows.
MEASURE_WORDS = set("元块角毛分个位号点天日月年岁次张份度户秒层楼栋室期项条台件周倍")
MEASURE_PREFIXES = ("小时", "工作日", "星期", "钟头")
# ... or when it follows one of these (四十八块五 = 48.5 元, 三点五).
AMOUNT_CONTEXT_BEFORE = set("元块角毛")
CLAUSE_PUNCTUATION = set("，。！？；：、,.!?;:…—\n")
# Recognisers write a money unit as a same-sounding character (48快, 六十圆, 七角 -> 七脚).
# Right after a numeral or digit, these are read as the unit they sound like.
MONEY_UNIT_HOMOPHONES = {
    **dict.fromkeys("快筷", "块"),
    **dict.fromkeys("圆园原员", "元"),
    **dict.fromkeys("脚饺缴叫较", "角"),
    "猫": "毛",
    # ... and the Cantonese money words (两百九十八蚊, 十三蚊五毫): not homophones, the same rule
    "蚊": "块",
    "毫": "毛",
}
NOT_UNIT_WORDS = frozenset({"员工", "园区", "原件", "原价", "毫米", "毫升", "毫安", "毫秒"})  # 三园区, 两原件, 五毫米: words
NOT_UNIT_IDIOMS = ("分一毫",)  # 一分一毫都不会少: no amount
# Near a unit's sound but not its homophone (跨 kua for 块 kuai): read as the unit only between two numbers
# (213跨6 is 213块6; 七跨院 stays a courtyard).
NEAR_UNITS_BETWEEN_NUMBERS = {"跨": "块"}
# Near 元 (yue for yuan), read as 元 only between two numbers with 角/毛 after the second (找你13月6角; 3月6号 stays a date).
NEAR_YUAN_BEFORE_JIAO = "月"
# A digit written as a same-sounding character right before a money unit (酒快吧 -> 九块八,
# 收泥石筷 -> 收您十块). 是 is left alone: 这是块… is a sentence, not an amount.
DIGIT_SYLLABLES = {
    **{reading: "〇一二三四五六七八九"[int(digit)] for digit, reading in DIGIT_READINGS.items() if digit != "0"},
    "shi": "十",
}
NOT_DIGIT_HOMOPHONES = set("是")
# ... and 百/千/万 between a numeral and a unit or numeral (两摆快 -> 两百块, 三钱五百 -> 三千五百).
MULTIPLIER_HOMOPHONES = {"摆": "百", "拜": "百", "败": "百", "白": "百", "柏": "百", "钱": "千", "前": "千", "签": "千", "完": "万", "晚": "万"}


@dataclass(frozen=True)
class Filler:
    """A filler word found in the original text, [start, end) in source characters."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Normalized:
    """Normalised text with a map back to the original (`source`) characters."""

    text: str
    starts: tuple[int, ...]  # per normalised character: first source index it came from
    ends: tuple[int, ...]  # per normalised character: one past the last source index
    clause_starts: tuple[bool, ...]  # per normalised character: begins a clause (text start or after punctuation)
    source: str
    fillers: tuple[Filler, ...] = ()

    def __len__(self) -> int:
        return len(self.text)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Source [start, end) of the normalised characters [start, end)."""
        if not self.text or end <= start:
            return (0, 0)
        start = max(0, min(start, len(self.text) - 1))
        end = max(start + 1, min(end, len(self.text)))
        return self.starts[start], self.ends[end - 1]

    def source_text(self, start: int, end: int) -> str:
        """The original text behind normalised characters [start, end)."""
        s, e = self.source_span(start, end)
        return self.source[s:e]


@dataclass
class _Unit:
    char: str
    start: int
    end: int
    clause_start: bool = False


Transform = Callable[[list[_Unit]], list[_Unit]]


@lru_cache(maxsize=1)
def _opencc_t2s() -> opencc.OpenCC:
    return opencc.OpenCC("tw2s")  # Taiwan-style text (Whisper) included: 著急 -> 着急


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese (OpenCC tw2s; simplified 么 kept, see _KEEP_SIMPLIFIED)."""
    converted = _opencc_t2s().convert(text)
    if len(converted) == len(text):
        converted = "".join(o if _KEEP_SIMPLIFIED.get(o) == c else c for o, c in zip(text, converted))
    return converted


# tw2s maps the simplified 么 to 幺 (Taiwan variant table): 什么 would become 什幺 and no
# longer equal 什麼 -> 什么 said elsewhere. A 么 in the input stays 么.
_KEEP_SIMPLIFIED = {"么": "幺"}


def _t2s(units: list[_Unit]) -> list[_Unit]:
    text = "".join(u.char for u in units)
    converted = to_simplified(text)
    if len(converted) == len(text):
        for unit, char in zip(units, converted):
            if _KEEP_SIMPLIFIED.get(unit.char) != char:
                unit.char = char
        return units
    # Phrase-level conversion changed the length: fall back to character by character.
    for unit in units:
        single = to_simplified(unit.char)
        unit.char = single if len(single) == 1 else unit.char
    return units


# Northern 俺 (I, we) and Wu 侬 (you): one character each, nothing else in the domain writes them.
DIALECT_PRONOUNS = {"俺": "我", "侬": "你"}

# Written Cantonese (and the southern 冇) read as the Mandarin it means: clerks in Guangdong and Guangxi
# halls say and type 唔该、冇问题、俾我睇下; the standard phrasings are Mandarin. Only words and characters
# that mean nothing else in Mandarin text are here (the longest word wins).
DIALECT_WORDS = {
    "唔该晒": "谢谢您",
    "唔该": "谢谢",
    "唔使": "不用",
    "唔紧要": "不要紧",
    "唔好意思": "不好意思",
    "对唔住": "对不住",
    "系咪": "是不是",
    "系唔系": "是不是",
    "乜嘢": "什么",
    "做乜": "做什么",
    "点解": "为什么",
    "边度": "哪里",
    "呢度": "这里",
    "嗰度": "那里",
    "呢个": "这个",
    "呢位": "这位",
    "呢边": "这边",
    "呢张": "这张",
    "仲有": "还有",
    "仲要": "还要",
    "而家": "现在",
    "记低": "记下",
    "搞掂": "办好",
    "慢慢行": "慢慢走",
    "唔": "不",
    "冇": "没",
    "喺": "在",
    "俾": "给",
    "畀": "给",
    "嘅": "的",
    "咗": "了",
    "啲": "些",
    "嚟": "来",
    "睇": "看",
    "佢": "他",
    "哋": "们",
    "咩": "什么",
    "乜": "什么",
    "嘢": "东西",
    "搵": "找",
    "揾": "找",
    "攞": "拿",
    "啱": "对",
    "嗰": "那",
}
_DIALECT = {**DIALECT_PRONOUNS, **DIALECT_WORDS}
_DIALECT_LONGEST = max(len(k) for k in _DIALECT)
# Cantonese 系 is 是 (系吧、真系、唔系), but not in the Mandarin words that hold 系.
_MANDARIN_XI_BEFORE = set("联关体派维干院直水星谱世母父嫡旁牵")
_MANDARIN_XI_AFTER = set("统列数")


def _dialect_words(units: list[_Unit]) -> list[_Unit]:
    """DIALECT_PRONOUNS and DIALECT_WORDS replaced; each output character keeps the source range of the word it
    replaces."""
    chars = [u.char for u in units]
    out: list[_Unit] = []
    k = 0
    while k < len(units):
        for length in range(min(_DIALECT_LONGEST, len(units) - k), 0, -1):
            mandarin = _DIALECT.get("".join(chars[k : k + length]))
            if mandarin is not None:
                break
        else:  # no dialect word starts here
            length, mandarin = 1, None
            before, after = chars[k - 1] if k else "", chars[k + 1] if k + 1 < len(chars) else ""
            if chars[k] == "系" and before not in _MANDARIN_XI_BEFORE and after not in _MANDARIN_XI_AFTER:
                mandarin = "是"
        if mandarin is None:
            out.append(units[k])
        elif len(mandarin) == length:  # character for character: each keeps its own source range
            out += [_Unit(c, u.start, u.end, u.clause_start) for c, u in zip(mandarin, units[k : k + length])]
        else:
            first, last = units[k], units[k + length - 1]
            out += [_Unit(c, first.start, last.end, first.clause_start and i == 0) for i, c in enumerate(mandarin)]
        k += length
    return out


def _width_and_case(units: list[_Unit]) -> list[_Unit]:
    out: list[_Unit] = []
    for unit in units:
        folded = unicodedata.normalize("NFKC", unit.char).lower()
        for char in folded:
            out.append(_Unit(char, unit.start, unit.end, unit.clause_start))
    return out


def _is_kept(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def _is_boundary(units: list[_Unit], index: int) -> bool:
    """True at the text ends and on punctuation/spaces."""
    return index < 0 or index >= len(units) or not _is_kept(units[index].char)


def _make_filler_transform(fillers: Sequence[str], found: list[Filler]) -> Transform:
    singles = {f for f in fillers if len(f) == 1}
    multis = sorted((f for f in fillers if len(f) > 1), key=len, reverse=True)

    def transform(units: list[_Unit]) -> list[_Unit]:
        text = "".join(u.char for u in units)
        out: list[_Unit] = []
        i = 0
        while i < len(units):
            char = units[i].char
            if char in singles:
                found.append(Filler(char, units[i].start, units[i].end))
                i += 1
                continue
            for word in multis:
                if text.startswith(word, i) and _is_boundary(units, i - 1) and _is_boundary(units, i + len(word)):
                    found.append(Filler(word, units[i].start, units[i + len(word) - 1].end))
                    break
            out.append(units[i])
            i += 1
        return out

    return transform


# Before these a digit's homophone is read as the digit. Of the units' own homophones only 块's
# (快, 筷: 酒快吧 -> 九块吧): those of 元 and 角 are everyday words (原件, 叫, 缴费), and two
# homophones in a row would make amounts of 把原件 (八元件), 就叫 (九角) and 把缴费单 (八角费单).
_UNITS_AND_HOMOPHONES = AMOUNT_CONTEXT_BEFORE | set("元") | set("快筷")


@lru_cache(maxsize=4096)
def digit_homophone(char: str) -> str | None:
    """The numeral a character sounds like (酒 -> 九, 期 -> 七, 石 -> 十), if any."""
    if char in _NUMERAL_CHARS or char in NOT_DIGIT_HOMOPHONES or not ("\u4e00" <= char <= "\u9fff"):
        return None
    return DIGIT_SYLLABLES.get(syllables(char)[0])


def _money_homophones(units: list[_Unit]) -> list[_Unit]:
    """酒快吧 -> 九块吧, 两摆快 -> 两百块, 48快 -> 48块: homophones inside an amount.

    A digit's homophone counts right before a money unit or a unit's homophone;
    百/千/万's between a numeral and a unit or numeral; a unit's right after a
    numeral or digit.
    """
    for k in range(len(units) - 1):
        before = units[k - 1].char if k else ""
        if units[k + 1].char in _UNITS_AND_HOMOPHONES and not before.isdigit() and before not in _NUMERAL_CHARS:
            digit = digit_homophone(units[k].char)
            if digit:
                units[k].char = digit
    for k in range(1, len(units) - 1):
        replacement = MULTIPLIER_HOMOPHONES.get(units[k].char)
        following = units[k + 1].char
        if (
            replacement
            and units[k - 1].char in CN_DIGITS
            and (following in _NUMERAL_CHARS or following in AMOUNT_CONTEXT_BEFORE or following in MONEY_UNIT_HOMOPHONES)
        ):
            units[k].char = replacement
    for k in range(1, len(units)):
        previous, unit = units[k - 1], units[k]
        following = units[k + 1].char if k + 1 < len(units) else ""
        replacement = MONEY_UNIT_HOMOPHONES.get(unit.char)
        if replacement and (previous.char in _NUMERAL_CHARS or previous.char.isdigit()) and unit.char + following not in NOT_UNIT_WORDS:
            if not "".join(u.char for u in units[max(0, k - 3) : k + 1]).endswith(NOT_UNIT_IDIOMS):
                unit.char = replacement
        near = NEAR_UNITS_BETWEEN_NUMBERS.get(unit.char)
        if near and is_numeral_or_digit(previous.char) and is_numeral_or_digit(following):
            unit.char = near
        after = units[k + 2].char if k + 2 < len(units) else ""
        if unit.char in NEAR_YUAN_BEFORE_JIAO and is_numeral_or_digit(previous.char) and is_numeral_or_digit(following) and after in ("角", "毛"):
            unit.char = "元"  # 13月6角: a month is never followed by 角
    return units


def is_numeral_or_digit(char: str) -> bool:
    return char in _NUMERAL_CHARS or (char.isascii() and char.isdigit())


def _digit_run(units: list[_Unit], start: int, step: int, decimal: bool = False) -> str:
    """The ASCII digits next to `start` going in direction `step` (±1), in reading order; with `decimal`,
    a decimal point between two digits too (86.5)."""
    chars = []
    k = start
    while 0 <= k < len(units):
        char = units[k].char
        point = decimal and char == "." and bool(chars) and 0 <= k + step < len(units) and units[k + step].char.isdigit()
        if not (char.isascii() and char.isdigit()) and not point:
            break
        chars.append(char)
        k += step
    return "".join(chars if step > 0 else reversed(chars))


def _repeats_a_number(units: list[_Unit], i: int) -> bool:
    """A space between a number and the same number again (298 298, 86.5 86.5: said twice, as when singing
    an amount), where the recogniser wrote no punctuation: two numbers, not 298298."""
    before, after = _digit_run(units, i - 1, -1, decimal=True), _digit_run(units, i + 1, 1, decimal=True)
    return len(before) >= 2 and before == after


def _digits_then_numerals(units: list[_Unit], i: int) -> bool:
    """A space between digits and a Chinese numeral (298 二九八: Whisper writes the amount, then the amount read out
    again in numerals): two numbers. No recogniser writes one number half in digits with a space in it; Vosk's spaces
    between numerals (二 百 九 十 八) are within one number and stay so."""
    if not 0 < i < len(units) - 1:
        return False
    before, after = units[i - 1], units[i + 1]
    return (_is_ascii_digit(before) and after.char in _NUMERAL_CHARS) or (before.char in _NUMERAL_CHARS and _is_ascii_digit(after))


def _thousands_separator(units: list[_Unit], i: int) -> bool:
    """A comma inside a number written with digit groups (5,530 / 1,234,567), as Whisper writes large amounts.
    Not a number said twice (298,298), nor the end of an amount with its 角 (187块6,187块6毛), nor the decimal
    of a number read out (1,4,7,点5,147块5角)."""
    if units[i].char != ",":
        return False
    before, after = _digit_run(units, i - 1, -1), _digit_run(units, i + 1, 1)
    k = i - 1 - len(before)
    leading = units[k].char if k >= 0 else ""
    return 1 <= len(before) <= 3 and len(after) == 3 and before != after and leading not in AMOUNT_CONTEXT_BEFORE | {".", "点"}


def _ends_an_amount(units: list[_Unit], i: int) -> bool:
    """A space after an amount's last digit (2块6毛5 2个一块: 两块六毛五, then 两个一块) and before another
    digit: the amount is complete, the next number is another one."""
    before = _digit_run(units, i - 1, -1)
    k = i - 1 - len(before)
    unit = units[k].char if k >= 0 else ""
    said_unit = unit in AMOUNT_CONTEXT_BEFORE or unit in MONEY_UNIT_HOMOPHONES or unit in NEAR_UNITS_BETWEEN_NUMBERS  # 213跨6 213跨6
    return bool(before) and said_unit and _digit_run(units, i + 1, 1) != ""


DIGIT_BY_DIGIT_SEPARATORS = "、"  # the enumeration comma: 零八八三，九十六块 is two numbers
# Whisper writes a number read digit by digit as digits with commas or dashes: 1,4,7 / 1-4-2 / 2,3,6.8
ASCII_DIGIT_BY_DIGIT_SEPARATORS = "、,，-"
DIGIT_BY_DIGIT_MIN = 3  # items: 一、四、七 (147), 二、点、五 (2.5); 一、二 may be a list


def _digit_by_digit(units: list[_Unit]) -> set[int]:
    """Separators inside a number read digit by digit, one numeral at a time (一、四、七、点、五 is
    147.5; 三、五、零、二 a 户号 read out): the number is one, no clause starts inside it. Not
    counting aloud (一、二、三、四: each one more than the last, from 一)."""
    joined: set[int] = set()
    i = 0
    while i < len(units):
        if not _single_numeral(units, i) or (i > 0 and (is_numeral_or_digit(units[i - 1].char) or units[i - 1].char == ".")):
            i += 1
            continue
        items = [i]
        k = i
        separators = ASCII_DIGIT_BY_DIGIT_SEPARATORS if _is_ascii_digit(units[i]) else DIGIT_BY_DIGIT_SEPARATORS
        while (
            k + 2 < len(units)
            and units[k + 1].char in separators
            and _single_numeral(units, k + 2)
            and _is_ascii_digit(units[k + 2]) == _is_ascii_digit(units[i])
        ):
            k += 2
            items.append(k)
        chars = "".join(units[k].char for k in items)
        digits = "".join(c if c.isascii() else _CN_DIGIT_VALUE.get(c, ".") for c in chars)
        counting = digits.startswith("1") and all(int(b) == int(a) + 1 for a, b in zip(digits, digits[1:]) if a != "." and b != ".")
        if len(items) >= DIGIT_BY_DIGIT_MIN and digits.count(".") <= 1 and not digits.startswith(".") and not digits.endswith(".") and not counting:
            joined.update(k + 1 for k in items[:-1])
        i = items[-1] + 1
    return joined


def _is_ascii_digit(unit: _Unit) -> bool:
    return unit.char.isascii() and unit.char.isdigit()


def _single_numeral(units: list[_Unit], k: int) -> bool:
    """units[k] is one digit (a numeral, 点, or an Arabic digit) standing alone between separators;
    an Arabic digit may end in a decimal part (2,3,6.8)."""
    if _is_ascii_digit(units[k]):
        return k + 1 >= len(units) or not _is_ascii_digit(units[k + 1])
    if units[k].char not in _CN_DIGIT_VALUE and units[k].char != "点":
        return False
    return k + 1 >= len(units) or units[k + 1].char not in _NUMERAL_CHARS


def _strip_punctuation(units: list[_Unit]) -> list[_Unit]:
    out: list[_Unit] = []
    pending_clause = True
    digit_by_digit = _digit_by_digit(units)
    for i, unit in enumerate(units):
        char = unit.char
        if i in digit_by_digit:
            continue  # one number read digit by digit: no clause starts inside it
        if char.isspace() and (_repeats_a_number(units, i) or _ends_an_amount(units, i) or _digits_then_numerals(units, i)):
            pending_clause = True
        elif _thousands_separator(units, i) and i - 2 not in digit_by_digit:  # 2,5,0,250: read out, then said
            continue  # one number: no clause starts inside it
        elif _is_kept(char):
            unit.clause_start = unit.clause_start or pending_clause
            pending_clause = False
            out.append(unit)
        elif char == "." and out and out[-1].char.isascii() and out[-1].char.isdigit() and i + 1 < len(units) and units[i + 1].char.isascii() and units[i + 1].char.isdigit():
            out.append(unit)  # decimal point
        elif char in CLAUSE_PUNCTUATION or unicodedata.category(char).startswith("P"):
            pending_clause = True
    return out


def _format_number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def chinese_number_value(run: str) -> str | None:
    """Arabic form of a run of Chinese numerals, or None when it is not a number.

    Runs without 十百千万亿 are digit strings read one by one (一零八 -> "108",
    幺三幺幺五 -> "13115"); others are values (一百零八 -> "108", 四十八点五 -> "48.5").
    """
    if not run:
        return None
    if "点" not in run and not any(c in CN_MULTIPLIERS for c in run):
        if all(c in _CN_DIGIT_VALUE for c in run):
            return "".join(_CN_DIGIT_VALUE[c] for c in run)
        return None
    try:
        value = cn2an.cn2an(run.replace("幺", "一"), "normal")
    except (ValueError, KeyError, IndexError):
        return None
    return _format_number(value)


COUNTED = "张个枚"  # measure words of notes and coins counted out: 十块一张 is one ten-yuan note
NOTE_COUNTERS = "张枚"  # those that count notes and coins only (两张五十; 两个 counts anything)


def _numeral_run_end(units: list[_Unit], start: int) -> int:
    """End of the Chinese numeral run starting at `start` (点 only between numerals). A run never
    crosses punctuation: 零八八三，九十六块 is a number read out, then 96 块."""
    end = start
    while end < len(units):
        if end > start and units[end].clause_start:
            break
        char = units[end].char
        if char in _NUMERAL_CHARS:
            end += 1
        elif char == "点" and end > start and end + 1 < len(units) and units[end + 1].char in _NUMERAL_CHARS:
            end += 1
        else:
            break
        if char == "两" and "点" in "".join(u.char for u in units[start : end - 1]):
            end -= 1  # 二点五两块五: 两 is never a decimal digit (二点五二), it starts the next number
            break
    # 一张一百两张五十: a digit after 百/千/万 that counts notes or coins (两张) starts the next count; it
    # is not the abbreviated next place (一百二 = 120).
    if end - start >= 3 and end < len(units) and units[end].char in NOTE_COUNTERS:
        if units[end - 1].char in _CN_DIGIT_VALUE and units[end - 2].char in "百千万":
            end -= 1
    return end


def _is_number_context(units: list[_Unit], start: int, end: int) -> bool:
    """A lone numeral counts as a number only next to a measure word or an amount unit."""
    if end - start >= 2:
        return True
    following = "".join(u.char for u in units[end : end + 3])
    if following[:1] in MEASURE_WORDS or following.startswith(MEASURE_PREFIXES):
        return True
    return start > 0 and units[start - 1].char in AMOUNT_CONTEXT_BEFORE


# A lone digit and 千/百, then any lone digits with 百/十/零 (2千, 1千2百, 2千零5, 3百5十)
_LONE_DIGIT_AND_MULTIPLIER = re.compile(r"(?<![0-9.])[0-9][千百](?:零?[0-9](?![0-9.])[百十]?)*")


def _digit_before_multiplier(units: list[_Unit]) -> list[_Unit]:
    """Lone Arabic digits with 千 or 百 (as Whisper writes 两千, 一千二百, 两千零五: 2千, 1千2百, 2千零5) become
    Chinese numerals, so that the run is read as one number (2000, 1200, 2005). A digit next to another
    digit or a decimal point (12千, 1.5千) is left as it is."""
    out = list(units)
    chars = "".join(u.char for u in units)
    for match in _LONE_DIGIT_AND_MULTIPLIER.finditer(chars):
        for i in range(match.start(), match.end()):
            if chars[i] in _DIGIT_NAMES:
                out[i] = _Unit(_DIGIT_NAMES[chars[i]], units[i].start, units[i].end, units[i].clause_start)
    return out


def _jiao_then_count(units: list[_Unit], start: int, end: int) -> bool:
    """Two digits without places right after 块/元 and before a unit or a measure word of notes and coins
    (两块五一块的, 三块五一张): the 角 of the amount before, then a new number, not 五十一."""
    if end - start != 2 or start == 0 or units[start - 1].char not in "块元":
        return False
    if any(u.char not in _CN_DIGIT_VALUE for u in units[start:end]):
        return False
    return end < len(units) and units[end].char in "块元" + COUNTED


def _read_out_then_said(run: str) -> int:
    """Where a numeral run that is no one number splits into digits and then an amount said with its places:
    the digits read one by one (二九八 | 二百九十八, a clerk saying the bill twice in one breath), or the last
    digit of the amount before, said again in full (一百八十六块五 | 一百八十六元五角, 两毛五 | 六十七元); 0 when
    it does not."""
    first_place = next((k for k, c in enumerate(run) if c in CN_MULTIPLIERS), -1)
    split = first_place - 1
    if split < 1 or any(c in CN_MULTIPLIERS or c == "点" for c in run[:split]):
        return _said_twice_in_full(run)
    return split if chinese_number_value(run[split:]) is not None else 0


def _said_twice_in_full(run: str) -> int:
    """Where a numeral run that is no one number splits into two amounts, each said with its places
    (两百九十八二百九十八: the bill said twice in one breath, both to the same highest place); 0 when it does not.
    An estimate (一百二三十, 120 or 130) is no such pair. The longest first amount is taken."""
    for split in range(len(run) - 1, 1, -1):
        first, second = run[:split], run[split:]
        places = [next((c for c in part if c in CN_MULTIPLIERS), "") for part in (first, second)]
        if second[0] not in _CN_DIGIT_VALUE or not places[0] or places[0] != places[1]:
            continue
        if chinese_number_value(first) is not None and chinese_number_value(second) is not None:
            return split
    return 0


def _numbers_to_digits(units: list[_Unit]) -> list[_Unit]:
    out: list[_Unit] = []
    i = 0
    while i < len(units):
        if units[i].char not in _NUMERAL_CHARS:
            out.append(units[i])
            i += 1
            continue
        end = _numeral_run_end(units, i)
        run = "".join(u.char for u in units[i:end])
        if len(run) > 1 and run[0] in "零〇" and any(c in CN_MULTIPLIERS for c in run):
            out.append(units[i])  # 找零一百元: 零 belongs to 找零, the number starts after it
            i += 1
            continue
        if len(run) > 2 and run[0] == "十" and run[1] != "一" and chinese_number_value(run) is None and chinese_number_value(run[1:]) is not None:
            out.append(units[i])  # 电费十八十六元: 是 heard as 十 before the number (八十六), not part of it
            i += 1
            continue
        if _jiao_then_count(units, i, end):
            end, run = i + 1, run[:1]  # 两块五一块的: the 角 of 两块五, then one 一块 coin
        elif chinese_number_value(run) is None and (said_twice := _read_out_then_said(run)):
            end = i + said_twice  # 二九八二百九十八: the digits read out, then the amount said in full
            run = run[:said_twice]
        digits = chinese_number_value(run) if _is_number_context(units, i, end) else None
        if digits is None:
            out.extend(units[i:end])
        else:
            first, last = units[i], units[end - 1]
            # a run cut off the one before it (一百|两张) is a separate number: a boundary keeps them apart
            cut = i > 0 and units[i - 1].char in _NUMERAL_CHARS
            for k, char in enumerate(digits):
                out.append(_Unit(char, first.start, last.end, (first.clause_start or cut) and k == 0))
        i = end
    return out


@lru_cache(maxsize=64)
def _simplified_fillers(fillers: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f for f in (to_simplified(x) for x in fillers) if f)


def _half_yuan(units: list[_Unit]) -> list[_Unit]:
    """半 right after an amount's 块/元 is its 角: 186块半 -> 186块5, 两块半 -> 2块5 (not 一个半小时)."""
    for k in range(2, len(units)):
        following = units[k + 1].char if k + 1 < len(units) else ""
        if units[k].char == "半" and units[k - 1].char in "块元" and units[k - 2].char.isdigit() and not following.isdigit():
            units[k].char = "5"
    return units


def normalize(text: str, *, fillers: Iterable[str] = (), numbers: bool = True) -> Normalized:
    """Normalise `text` for matching; see the module docstring for the steps."""
    found: list[Filler] = []
    transforms: list[Transform] = [_t2s, _dialect_words, _width_and_case]
    filler_list = _simplified_fillers(tuple(fillers))
    if filler_list:
        transforms.append(_make_filler_transform(filler_list, found))
    transforms.append(_strip_punctuation)
    if numbers:
        transforms += [_money_homophones, _digit_before_multiplier, _numbers_to_digits, _half_yuan]
    units = [_Unit(char, i, i + 1) for i, char in enumerate(text)]
    for transform in transforms:
        units = transform(units)
    return Normalized(
        text="".join(u.char for u in units),
        starts=tuple(u.start for u in units),
        ends=tuple(u.end for u in units),
        clause_starts=tuple(u.clause_start for u in units),
        source=text,
        fillers=tuple(found),
    )


@lru_cache(maxsize=8192)
def normalize_text(text: str, fillers: tuple[str, ...] = ()) -> str:
    """Only the normalised string (cached; for phrasebook text)."""
    return normalize(text, fillers=fillers).text


_DIGIT_NAMES = dict(zip("0123456789", "零一二三四五六七八九"))
_DIGIT_STRING = re.compile(r"(?<![\d.])(?:\d{5,}|0\d+)(?![\d.])")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?")


def to_chinese_numerals(text: str) -> str:
    """Arabic digits -> Chinese numerals as read aloud: 48元 -> 四十八元, 95598 -> 九五五九八."""
    text = _DIGIT_STRING.sub(lambda m: "".join(_DIGIT_NAMES[d] for d in m.group(0)), text)
    return _AMOUNT.sub(lambda m: cn2an.an2cn(m.group(0), "low"), text)
