"""唱收唱付: the amounts said for the bill, the money received and the change, and whether they add up.

Where the amounts come from, in order of trust:
1. the slot of the step that says it (state_bill "{bill}", sing_receive
   "{received}", sing_change "{change}"): the number aligned with the slot in the
   matched span (rapidfuzz Indel alignment of the phrasing with the span);
2. otherwise a cue word right before a number: 收您 48 → received, 找您 → change,
   电费/一共/合计… → bill (characters, or the same folded pinyin: 说您/收您);
   A 收-word right after the amount also marks the money received: 两百整，收着了;
   an amount sung again later in the same turn is a correction and replaces the first, and so is the same
   amount said again right after it with the 角 the first saying lost (45块路矛，45.6);
   notes counted out are the money they make (收您两张五十 is 100, 一张一百两张五十 is 200: `counted_value`);
3. a bill still unknown is the last amount with a unit (or 整) said before the received one.

Recognisers garble spoken amounts (二十二块四 -> 22块死, 是八十六块五 -> 186块5). When
the three amounts as written do not add up, the readings the recogniser may
have garbled (`NumberToken.alternatives`), and for the bill the other amounts
said before the money was received, are tried; the first combination that adds
up, with the fewest departures from the text, is taken. A trainee who really
sings a wrong amount is still caught: that needs a coincidence between the
garbled text and the correct amount.

An exact payment has no change to sing: 刚好/正好/不用找零 said in the turn of 唱收 or
the next one is a change of 0, sung.

A long number said without a money unit (a card or account number read out, even
digit by digit) is an identifier, never money; so are an ordinal (第二户) and a count
of things (两户, 三个, 五次). The change is looked for after the money received.

Consistent = all three amounts known, bill + change = received, and both 收您…
and 找您… (or the exact-payment words) were actually spoken.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rapidfuzz.distance import Indel

from trainer.phrasebook.model import Scenario
from trainer.scoring.document import NOTE_COUNT_WORDS, NUMBER, Doc, NumberToken
from trainer.scoring.match import StepCandidate, contains_word, find_word
from trainer.scoring.result import AmountCheck
from trainer.text.normalize import NOTE_COUNTERS, is_numeral_or_digit  # NOTE_COUNTERS: 两张五十, two notes of fifty
from trainer.text.pinyin import syllables

ROLES = ("bill", "received", "change")
CUES: dict[str, tuple[str, ...]] = {
    "received": ("收您", "收你", "收到您", "收到", "实收", "收取您"),
    "change": ("找您", "找你", "找零", "找回", "找给您", "找"),
    "bill": ("电费是", "电费", "一共是", "一共", "合计", "总共", "应收", "应交", "应缴", "需交", "金额是", "费用是", "共计", "本期", "本月", "这个月", "这月"),
    # paid in parts (扫码一百，现金收您六十，一共一百六): a total said after the money received is the money received
    "total": ("一共", "总共", "合计", "加起来", "一起"),
}
BARE_CUES = {"received": "收", "change": "找", "bill": "共", "total": "共"}  # only right before the number
DUE_WORDS = ("应收",)  # 应收一百八十六块半 names the amount due (the bill), not money received

MONEY_CUES = tuple(cue for cues in CUES.values() for cue in cues if len(cue) >= 2)
# Acknowledging the money right after its amount also sings it: 两百整，收着了 / 一百块，收到了.
RECEIVED_AFTER = ("收着", "收了", "收啦", "收到了", "收到啦", "收好了", "收下了", "收下啦")
CUE_REACH = 4  # characters between the end of a cue and the number
# A number followed by one of these units is a quantity (electricity, gas, water, notes), never money.
QUANTITY_UNITS = ("千瓦时", "立方米", "立方", "度", "方", "吨", "升", "张")  # 张: banknotes counted (三张一百)
# A number followed by a measure word counts things (三个户, 两户, 第二位, 三份, 五次, 七天, 三号窗口), never money.
COUNT_WORDS = ("个", "户", "位", "份", "次", "天", "号")
# A number said as an estimate (四十来度, 九十来块, 一百多方) is a figure talked about, never an amount sung.
ESTIMATE_MARKS = ("来", "多", "余")
ESTIMATED_UNITS = QUANTITY_UNITS + COUNT_WORDS + ("块", "元", "毛", "角")
ORDINAL_MARK = "第"  # 第二户四百二十二元: the 二 is an ordinal
# Words that make the unit-less numbers after them meter readings (底码是3420，这个月是3593).
READING_WORDS = ("底码", "止码", "起码", "读数", "示数", "表码", "表底", "行码")
READING_REACH = 10  # characters from the end of a reading word to the number (same turn)
TOLERANCE = 0.005
IDENTIFIER_DIGITS = 6  # a unit-less whole number this long is a card/account/phone number
# Words after which unit-less numbers in the same turn are identifiers read out (卡号是 4401，2367).
IDENTIFIER_WORDS = ("卡号", "户号", "号码", "电话", "手机", "编号", "账号", "尾号")
DIGIT_CHARS = "0-9零〇一二两三四五六七八九幺"  # digits without place words (十百千万)
# Said when the money received is exactly the bill: the change is 0 and that is the 唱付.
EXACT_PAYMENT_WORDS = ("不用找", "不找零", "无需找零", "没有找零", "刚刚好", "刚好", "正好", "不多不少")


@dataclass(frozen=True)
class SaidAmount:
    role: str
    value: float
    position: int  # NUMBER index in Doc.form
    source: str  # "slot" | "cue" | "before_receive" | "corrected"
    replaced: int | None = None  # for a correction: the position of the amount it replaces


def _slot_number(doc: Doc, sc: StepCandidate, slot_index: int) -> NumberToken | None:
    """The number in the matched span aligned with the phrasing's slot (nearest one if not aligned)."""
    span_numbers = [doc.numbers[i] for i in range(sc.start, sc.end) if i in doc.numbers and not is_quantity(doc, i)]
    if not span_numbers:
        return None
    pattern_form = sc.candidate.pattern.form
    window = doc.form[sc.start : sc.end]
    aligned: NumberToken | None = None
    for op in Indel.opcodes(pattern_form, window):
        if op.tag == "equal" and op.src_start <= slot_index < op.src_end:
            position = sc.start + op.dest_start + (slot_index - op.src_start)
            if position in doc.numbers and not is_quantity(doc, position):
                aligned = doc.numbers[position]
                break
    if aligned is None:
        relative = slot_index / max(1, len(pattern_form))
        target = sc.start + relative * (sc.end - sc.start)
        aligned = min(span_numbers, key=lambda n: abs(n.position - target))
    if _money_like(doc, aligned.position):
        return aligned
    # a bare number (点一点, 一下) is not the amount when the span also holds one said as money
    money = [n for n in span_numbers if _money_like(doc, n.position)]
    return min(money, key=lambda n: abs(n.position - aligned.position)) if money else aligned


def _cue_after(doc: Doc, position: int, role: str) -> bool:
    """The money received acknowledged right after its amount, in the same turn (两百整，收着了)."""
    if role != "received":
        return False
    _, hi = doc.turn_range(doc.turn_at(position, position + 1))
    end = min(hi, position + 1 + CUE_REACH + 3)
    return any(contains_word(doc, position + 1, end, word) for word in RECEIVED_AFTER)


def _bare_cue(doc: Doc, position: int, role: str, *, by_sound: bool = False) -> bool:
    """The role's one-character cue right before the number (收五十 / 找四块二; `by_sound`: or a character
    of its sound), but not the 收 of 应收 (the amount due)."""
    if position < 1:
        return False
    said = contains_word(doc, position - 1, position, BARE_CUES[role]) if by_sound else doc.form[position - 1] == BARE_CUES[role]
    return said and doc.form[max(0, position - 2) : position] not in DUE_WORDS


def _cue_before(doc: Doc, position: int, role: str) -> bool:
    lo, _ = doc.turn_range(doc.turn_at(position, position + 1))
    start = max(lo, position - CUE_REACH - 3)
    if any(contains_word(doc, start, position, cue, fuzzy=len(cue) >= 2) for cue in CUES[role]):
        return True
    # A bare verb right before the number: 收五十 / 找四块二.
    if position > lo and _bare_cue(doc, position, role, by_sound=True):
        return True
    # 收您/找您 with 您 garbled (收音一百, 找年七块七, 收泥一百): the verb, then one 您-like syllable.
    return (
        role in ("received", "change")
        and position - 2 >= lo
        and doc.form[position - 2] == BARE_CUES[role]
        and _sounds_like_nin(doc.form[position - 1])
    )


NIN_LIKE_SYLLABLES = frozenset({"nin", "ni", "nian", "ning", "nie", "yin", "ying", "lin", "li", "lian", "ling", "nen", "neng"})


def _sounds_like_nin(char: str) -> bool:
    names = syllables(char)
    return bool(names) and names[0] in NIN_LIKE_SYLLABLES


def is_quantity(doc: Doc, position: int) -> bool:
    """Is the number at `position` a quantity or a meter reading rather than money?

    Money is said with 元/块 (then it is money whatever surrounds it). A number
    followed by 度/方/吨… is energy, gas or water used; an estimate (四十来度,
    九十来块) is a figure talked about, not an amount sung; a unit-less number
    shortly after 底码/止码/读数 in the same turn is a meter reading.
    """
    token = doc.numbers.get(position)
    if token is None or token.has_unit:
        return False
    if token.text.isdigit() and (len(token.text) >= IDENTIFIER_DIGITS or _read_digit_by_digit(doc, position)):
        return True  # an identifier read out (卡号 4401 2367…, 零三五七), not money
    after = doc.form[position + 1 : position + 4]
    if any(after.startswith(unit) for unit in QUANTITY_UNITS + COUNT_WORDS) and not _fraction_before_a_count(token, after):
        return True
    if after[:1] in ESTIMATE_MARKS and not doc.clause_start[position + 1] and any(after[1:].startswith(unit) for unit in ESTIMATED_UNITS):
        return True
    if position > 0 and doc.form[position - 1] == ORDINAL_MARK:
        return True
    lo, _ = doc.turn_range(doc.turn_at(position, position + 1))
    start = max(lo, position - READING_REACH - 2)
    words = READING_WORDS + IDENTIFIER_WORDS
    ends = [at + len(word) for word in words if (at := find_word(doc, start, position, word)) is not None]  # 抵马 = 底码 by sound
    if not ends:
        return False
    # 手机一百，现金一百，一共收您两百: a money cue between the identifier word and the number makes it money
    return not any(contains_word(doc, max(ends), position, cue) for cue in MONEY_CUES)


def _fraction_before_a_count(token: NumberToken, after: str) -> bool:
    """A number with 角/分 before 张/个 (13.61张): notes and coins are counted in whole numbers, so it is an amount
    with the count run into it (十三块六，一张十块), not a count."""
    return after[:1] != "" and after[0] in NOTE_COUNT_WORDS and not float(token.value).is_integer()


def _read_digit_by_digit(doc: Doc, position: int) -> bool:
    """Three or more digits said one by one (零三五七 / 4 4 0 1), not as a quantity (三百五十七 / 357)."""
    raw = doc.span_text(position, position + 1).strip()
    said = re.sub(r"\s+", "", raw)
    if len(said) < 3 or not re.fullmatch(f"[{DIGIT_CHARS}]+", said):
        return False
    return bool(re.fullmatch(f"[{DIGIT_CHARS}](\\s+[{DIGIT_CHARS}])+", raw)) or not said.isdigit()


def said_amounts(scenario: Scenario, doc: Doc, chosen: Sequence[StepCandidate | None]) -> dict[str, SaidAmount]:
    """Bill, received and change as said (missing roles are absent)."""
    said: dict[str, SaidAmount] = {}
    used: set[int] = set()
    for step, sc in zip(scenario.steps, chosen):
        if sc is None:
            continue
        for index, name in sc.candidate.pattern.slots:
            if name in ROLES and name not in said:
                token = _slot_number(doc, sc, index)
                if name == "bill" and token is not None and (_right_after_receiving(doc, token.position) or _total_of_parts(doc, token.position)):
                    continue  # 一共收您一百五 / 现金收您六十，一共一百六: the money received, even inside a wide match of 四总
                if token is not None and token.position not in used and not is_quantity(doc, token.position):
                    said[name] = SaidAmount(name, counted_value(doc, token.position), token.position, "slot")
                    used.add(token.position)
    for role in ("received", "change", "bill"):  # a total sung after the money received is that money, not the bill
        if role in said:
            said[role] = _corrected(doc, said[role], used)
            used.add(said[role].position)
    for role in ("received", "change", "bill"):
        if role in said:
            continue
        # the change is sung after the money received (找您 heard in 您好您好 before any money is not 唱付)
        after = said["received"].position if role == "change" and "received" in said else -1
        for position in sorted(doc.numbers):
            if position in used or position <= after or is_quantity(doc, position):
                continue
            if _cue_before(doc, position, role) or _cue_after(doc, position, role):
                said[role] = _corrected(doc, SaidAmount(role, counted_value(doc, position), position, "cue"), used | {position})
                used.update({position, said[role].position})
                break
    if "bill" not in said and "received" in said:
        # A bare amount said before 唱收 ("五十二元。" … "收您100元") is the bill.
        before = [p for p in sorted(doc.numbers) if p < said["received"].position and p not in used and _money_like(doc, p)]
        if before:
            said["bill"] = SaidAmount("bill", doc.numbers[before[-1]].value, before[-1], "before_receive")
    return said


DENOMINATIONS = frozenset({100.0, 50.0, 20.0, 10.0, 5.0, 2.0, 1.0, 0.5, 0.2, 0.1})
MAX_NOTES = 50


def _count_before(doc: Doc, position: int, lo: int) -> float | None:
    """The number of notes or coins counted right before the note at `position` (两张|五十), if any."""
    if position - 2 < lo or doc.form[position - 1] not in NOTE_COUNTERS or position - 2 not in doc.numbers:
        return None
    count = doc.numbers[position - 2].value
    if not float(count).is_integer() or not 1 <= count <= MAX_NOTES or doc.numbers[position].value not in DENOMINATIONS:
        return None
    return count


def counted_value(doc: Doc, position: int) -> float:
    """The amount at `position`, or, when it names a note counted out (收您两张五十, 一张一百两张五十), the
    money those notes make: each count times its note, added up over the groups said in a row."""
    value = doc.numbers[position].value
    lo, hi = doc.turn_range(doc.turn_at(position, position + 1))
    count = _count_before(doc, position, lo)
    if count is None:
        return value
    total, at = count * value, position + 3
    while at < hi and (more := _count_before(doc, at, lo)) is not None:
        total, at = total + more * doc.numbers[at].value, at + 3
    return round(total, 2)


def _total_of_parts(doc: Doc, position: int) -> bool:
    """The number is a total (一共/合计…) said after money received earlier in its turn: 卡刷了一百，现金收您六十，一共一百六."""
    lo, _ = doc.turn_range(doc.turn_at(position, position + 1))
    if not _cue_again(doc, lo, position, "total"):
        return False
    return any(p < position and (_cue_before(doc, p, "received") or _cue_after(doc, p, "received")) for p in doc.numbers if p >= lo)


def _right_after_receiving(doc: Doc, position: int) -> bool:
    """The number follows 收您/收你/收 with nothing between."""
    before = doc.form[max(0, position - 2) : position]
    return _bare_cue(doc, position, "received") or before in CUES["received"]


def _corrected(doc: Doc, amount: SaidAmount, used: set[int]) -> SaidAmount:
    """The amount as finally sung: a clerk who sings the same role again later in the turn, or says
    another amount right after 不对/说错了, corrected themselves (收你两百——哦不，收你三百块;
    电费是八十六……不对，八十六块五)."""
    _, hi = doc.turn_range(doc.turn_at(amount.position, amount.position + 1))
    later = [
        p
        for p in sorted(doc.numbers)
        if amount.position < p < hi
        and p not in used
        and not is_quantity(doc, p)
        and (
            _cue_again(doc, amount.position + 1, p, amount.role)
            or (amount.role == "received" and _cue_again(doc, amount.position + 1, p, "total"))
            or (_after_correction(doc, amount.position + 1, p) and not _other_role_between(doc, amount, p))
            or _read_back_exactly(doc, amount.position, p)
        )
    ]
    if not later:
        return amount
    return SaidAmount(amount.role, doc.numbers[later[-1]].value, later[-1], "corrected", replaced=amount.position)


READ_BACK_REACH = 3  # characters between an amount and the same amount said again more exactly


def _read_back_exactly(doc: Doc, position: int, later: int) -> bool:
    """The amount said again right after it, with the 角 the first saying lost (45块路矛, 45.6: 六毛 heard as 路矛):
    the same yuan, and only the later one with 角/分."""
    if later - position - 1 > READ_BACK_REACH or any(k in doc.numbers for k in range(position + 1, later)):
        return False
    if any(contains_word(doc, position + 1, later, cue) for cue in MONEY_CUES):
        return False  # 一共45块，收您45.5: another role's amount
    first, again = doc.numbers[position].value, doc.numbers[later].value
    return float(first).is_integer() and not float(again).is_integer() and int(again) == int(first)


CORRECTION_WORDS = ("不对", "说错了", "错了", "哦不", "应该是")
CORRECTION_REACH = 4  # characters between the correction word and the corrected amount


def _after_correction(doc: Doc, after: int, position: int) -> bool:
    """A correction word said after `after` and right before the number at `position`, with no other
    number between (三百——不对，两百九十八，二九八，就是三百差两块: the 三百 after 二九八 is no correction).
    In recognised speech the word may be written with other characters of the same sound (不对 as 部队)."""
    start = max(after, position - CORRECTION_REACH - 3)
    ends = [end for word in CORRECTION_WORDS if (end := _last_said_end(doc, start, position, word)) is not None]
    return bool(ends) and NUMBER not in doc.form[max(ends) : position]


def _last_said_end(doc: Doc, start: int, end: int, word: str) -> int | None:
    """Where the last saying of `word` within Doc.form[start:end] ends: its characters, or in recognised
    speech also its sound."""
    last = None
    while (at := _said_at(doc, start, end, word)) is not None:
        last, start = at + len(word), at + 1
    return last


def _said_at(doc: Doc, start: int, end: int, word: str) -> int | None:
    if doc.timed:
        return find_word(doc, start, end, word)
    at = doc.form.find(word, start, end)
    return at if at >= 0 else None


def _other_role_between(doc: Doc, amount: SaidAmount, position: int) -> bool:
    """Another role's cue said between the amount and the number at `position`: a correction there corrects
    that role (收你两百，找你七十块五，啊不对，七十一块五 corrects the change, not the money received)."""
    others = (cue for role, cues in CUES.items() if role not in (amount.role, "total") for cue in cues if len(cue) >= 2)
    return any(contains_word(doc, amount.position + 1, position, cue) for cue in others)


def _cue_again(doc: Doc, after: int, position: int, role: str) -> bool:
    """The role's cue said again, after `after` and right before the number at `position`
    (收您三百块，一、二、三 is counting, not a second 唱收). A cue names the first amount after it: in 一共收您六十块六，
    六十现金 the 一共 is the 60.6, and the 60 after it sings nothing again."""
    start = max(after, position - CUE_REACH - 3)
    start = max(start, doc.form.rfind(NUMBER, start, position) + 1)
    if any(contains_word(doc, start, position, cue) for cue in CUES[role] if len(cue) >= 2):
        return True
    return position - 1 >= after and _bare_cue(doc, position, role)


def _reconcile(doc: Doc, said: dict[str, SaidAmount], exact_payment: bool = False) -> dict[str, SaidAmount]:
    """Amounts that add up, read from garbled text where the literal reading does not (see module doc).

    `exact_payment`: no change was sung because none was due (刚好/不用找零): the change is 0 and the
    bill is read among the amounts said before the money received (四十七块八 … 一毛两毛…八毛，收您四十七块八毛).
    """
    roles = ("bill", "received") if exact_payment else ROLES
    if any(role not in said for role in roles):
        return said

    def adds_up(values: Mapping[str, float]) -> bool:
        return _adds_up(values["bill"], values["received"], 0.0 if exact_payment else values["change"])

    if adds_up({role: said[role].value for role in roles}):
        return said
    options: dict[str, dict[float, int]] = {}  # role -> reading -> the position it is read at (first reading kept)
    for role in roles:
        position = said[role].position
        options[role] = dict.fromkeys((said[role].value, *doc.numbers[position].alternatives), position)
    # a corrected-away amount never explains the amounts away (80，不对，75 is 75)
    used = {a.position for a in said.values()} | {a.replaced for a in said.values() if a.replaced is not None}
    received_at = said["received"].position
    for position in sorted(doc.numbers, reverse=True):
        if position < received_at and position not in used and not is_quantity(doc, position):
            token = doc.numbers[position]
            for value in (token.value, *token.alternatives):
                options["bill"].setdefault(value, position)
    choices = itertools.product(*(enumerate(options[r].items()) for r in roles))
    ranked = sorted(choices, key=lambda combo: sum(k > 0 for k, _ in combo))
    for combo in ranked:
        chosen = dict(zip(roles, (reading for _, reading in combo)))  # role -> (value, position)
        if adds_up({role: value for role, (value, _) in chosen.items()}):
            return {**said, **{role: replace(said[role], value=value, position=at) for role, (value, at) in chosen.items()}}
    return said


def _adds_up(bill: float | None, received: float | None, change: float | None) -> bool:
    return None not in (bill, received, change) and abs(bill + change - received) < TOLERANCE  # type: ignore[operator]


def _money_like(doc: Doc, position: int) -> bool:
    """Said with a money unit or as an exact sum (两百整), or written with 1–2 decimals (Whisper writes
    一百三十四块五 as 134.5)."""
    token = doc.numbers[position]
    decimals = token.text.partition(".")[2]
    if token.has_unit or (doc.form[position + 1 : position + 2] == "整" and not is_quantity(doc, position)):
        return True
    return 0 < len(decimals) <= 2 and decimals.isdigit() and not is_quantity(doc, position)


def _spoken(doc: Doc, amount: SaidAmount | None, role: str) -> bool:
    return amount is not None and (_cue_before(doc, amount.position, role) or _cue_after(doc, amount.position, role))


def check_amounts(scenario: Scenario, doc: Doc, chosen: Sequence[StepCandidate | None]) -> AmountCheck | None:
    """The 唱收唱付 check, or None when the scenario does not handle money."""
    if not scenario.checks_amounts:
        return None
    said = said_amounts(scenario, doc, chosen)
    exact_payment = "change" not in said and "received" in said and _exact_payment_said(doc, said["received"].position)
    said = _reconcile(doc, said, exact_payment)
    bill, received, change = (said[r].value if r in said else None for r in ROLES)
    received_said = _spoken(doc, said.get("received"), "received")
    change_said = _spoken(doc, said.get("change"), "change")
    if exact_payment:
        change, change_said = 0.0, True
    problems: list[str] = []
    if bill is None:
        problems.append("没有报出应交金额（四总）")
    if received is None:
        problems.append("没有唱收：应说出收到的金额，如“收您100元”")
    elif not received_said:
        problems.append("唱收时没有说“收您……元”")
    if change is None:
        problems.append("没有唱付：应说出找零金额，如“找您48元”")
    elif not change_said:
        problems.append("唱付时没有说“找您……元”")
    adds_up = _adds_up(bill, received, change)
    if None not in (bill, received, change) and not adds_up:
        problems.insert(0, f"金额对不上：应交 {_yuan(bill)} 元 + 找零 {_yuan(change)} 元 ≠ 实收 {_yuan(received)} 元")
    consistent = bool(adds_up and received_said and change_said)
    positions = tuple((role, said[role].position) for role in ROLES if role in said)
    return AmountCheck(bill, received, change, consistent, received_said, change_said, tuple(problems), positions)


def _exact_payment_said(doc: Doc, received_at: int) -> bool:
    """刚好/不用找零… said after the received amount, in its turn or the next one."""
    turn = doc.turn_at(received_at, received_at + 1)
    end = doc.turn_range(min(turn + 1, len(doc.turns) - 1))[1]
    return any(contains_word(doc, received_at, end, word) for word in EXACT_PAYMENT_WORDS)


def _yuan(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def amounts_misheard(doc: Doc, check: AmountCheck, performed: Mapping[str, bool]) -> bool:
    """A failed 唱收唱付 check that the recogniser may have caused (not the trainee's fault).

    Only for recognised speech (typed text is what was said). `performed`: role -> whether the step
    that says it (四总 / 唱收 / 唱付) was performed. In doubt when
    - a role was not read although its step was performed: 收您… was heard, its amount was not (收您人事 for 收您六十);
    - every amount was read and they add up, but 收您/找您 was not heard with its amount (表您 for 找您);
    - the amounts as heard describe a payment that cannot happen: change given back on no more money than the
      bill (收您二十 on a bill of 57.6, with 找您两块四: 三张二十 heard as 三招二十的);
    - an amount was heard in a form nobody says (7.258塊3, 057.250: digits the recogniser garbled);
    - a whole-yuan amount is followed by a syllable that reads as nothing (45块量), and a 角 digit there would make
      the amounts add up: the digit may have been lost (四十五块六 heard as 45块量);
    - an amount's unit was garbled: a decimal point after 元 and 角 (12元6.5分), or 角 alone after a numeral and a
      syllable that is no unit (一人三角 for 一元三角).
    Word confidences do not tell a garbled amount from a clear one (whisper-base wrote garbled 角 digits at
    confidence 0.5 and above, and clearly read amounts below it), so they are not used.
    """
    if check.consistent or not doc.timed:
        return False
    if _adds_up(check.bill, check.received, check.change):
        return True  # every amount read and they add up: only 收您/找您 was not heard (表您四十七元六角三分)
    read = dict(check.positions)
    if any(role not in read and performed.get(role, False) for role in ROLES):
        return True
    return (
        _impossible_payment(doc, read)
        or any(_garbled_numeral(doc.numbers[p].text) or _unit_garbled(doc, p) for p in read.values())
        or _lost_jiao(doc, check)
    )


def _impossible_payment(doc: Doc, read: Mapping[str, int]) -> bool:
    """Change given back on no more money than the bill, in every reading of the amounts (这7241块 may be 241)."""
    if any(role not in read for role in ROLES):
        return False
    readings = [(doc.numbers[read[role]].value, *doc.numbers[read[role]].alternatives) for role in ROLES]
    return all(change > 0 and received <= bill + TOLERANCE for bill, received, change in itertools.product(*readings))


# Number forms nobody says: a leading zero (057), three or more decimals (7.258), a decimal with a 角 after the unit (7.2块3).
GARBLED_NUMERAL = re.compile(r"0\d.*|\d+\.\d{3,}.*|\d+\.\d+[元块]\d.*")
# What may follow a whole-yuan amount without a 角 digit lost between: 钱/整, a particle, a money cue.
AFTER_WHOLE_YUAN = "钱整的了啊呀吗嘛呢哦噢哈啦呗吧" + "".join({cue[0] for cue in MONEY_CUES})


def _garbled_numeral(text: str) -> bool:
    return GARBLED_NUMERAL.fullmatch(text) is not None


def _unit_garbled(doc: Doc, position: int) -> bool:
    """An amount whose unit the recogniser garbled: a decimal point written after an amount in 元 and 角
    (12元6.5分 for 十二元六角五分), or an amount of 角 alone right after a numeral and a syllable that is no unit
    (一人三角 for 一元三角: the 元 heard as another word, its yuan not read)."""
    token = doc.numbers[position]
    after = doc.form[position + 1 : position + 3]
    if re.fullmatch(r"\d+[元块]\d", token.text) and len(after) == 2 and after[0] == "." and after[1] == NUMBER:
        return True
    before = doc.form[max(0, position - 2) : position]
    return (
        token.text.endswith(("角", "毛"))
        and token.value < 1
        and len(before) == 2
        and is_numeral_or_digit(before[0])
        and "\u4e00" <= before[1] <= "\u9fff"
        and not is_numeral_or_digit(before[1])
        and before[1] not in "元块"
        and not doc.clause_start[position - 1]
    )


def _lost_jiao(doc: Doc, check: AmountCheck) -> bool:
    """A whole-yuan amount followed in its clause by a syllable that reads as nothing, where a 角 digit would make
    the amounts add up (45块量 on a bill of 45.6)."""
    def adds_up_with(role: str, value: float) -> bool:
        amounts = {"bill": check.bill, "received": check.received, "change": check.change, role: value}
        return _adds_up(amounts["bill"], amounts["received"], amounts["change"])

    for role, position in check.positions:
        after = position + 1
        if not re.fullmatch(r"\d+[元块]", doc.numbers[position].text) or after >= len(doc.form) or doc.clause_start[after]:
            continue
        char = doc.form[after]
        if not "\u4e00" <= char <= "\u9fff" or char in AFTER_WHOLE_YUAN or doc.turn_of[after] != doc.turn_of[position]:
            continue
        if any(adds_up_with(role, doc.numbers[position].value + digit / 10) for digit in range(1, 10)):
            return True
    return False


__all__ = ["amounts_misheard", "check_amounts", "said_amounts", "SaidAmount", "NUMBER"]
