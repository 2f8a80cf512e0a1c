"""A performance (one or more transcribed turns) prepared for matching.

All turns are normalised (trainer.text.normalize) and laid end to end in one
matching string, separated by TURN_SEPARATOR, with per-character maps back to
the turn, the original transcript text and the time in seconds. Numbers are
collapsed to NUMBER (one character, its value kept aside) so that a phrase
with an amount slot matches whatever amount was said; the currency unit after
a number (元/块, 48块5) is part of it and does not appear in the matching form,
so a misheard unit (找您48人) costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from trainer.asr.base import Transcript
from trainer.text.normalize import COUNTED, Normalized, chinese_number_value, digit_homophone, is_numeral_or_digit, normalize
from trainer.text.stage import without_stage_directions
from trainer.text.pinyin import encode, syllables

NUMBER = "#"
LONG_DIGITS = re.compile(r"\d{4,}")  # a number read digit by digit: 户号, 电话
TURN_SEPARATOR = "|"
SENTENCE_END = re.compile(r"[。！？!?]")  # ends a sentence in the transcript text (commas only end a clause)
CLAUSE_PAUSE_SECONDS = 0.35  # a silence this long between words starts a new clause

# An amount as normalised text says it: 48, 48.5, 48元, 48块5, 48元5角, 48元5角3分, 43块1毛6,
# 分 after a zero 角 (一百零二块零五分 -> 102块05分 is 102.05, 两块零八 is 2.08), a 零 before 角 (十块零三毛 -> 10块03毛
# is 10.3),
# and change under one yuan: 2毛 (两毛), 4角5分, 1毛6, 3分钱; a recogniser's 47.3毛5 (47.35). A number never runs across a clause
# boundary (收您300块，一、二、三 is 300, then 1, 2, 3; a card number read in groups is several),
# and a digit of 角 or 分 is never the first digit of the next number (86元5角86块5 is 86.5, 86.5; 6块8角6块8毛 is 6.8
# twice), nor a count of notes or coins (十块一张 is 10 and one note, not 10.1).
_AMOUNT = re.compile(
    r"(?P<fen_only_money>\d)分钱"  # change in 分 alone (找您三分钱 is 0.03; 3分 alone may be minutes or points)
    r"|(?P<jiao_only>\d)[角毛](?:(?P<fen_only>\d)(?![\d元块角毛" + COUNTED + r"])分?)?"
    # a recogniser's decimal that holds the 角, then the 分 (四十七块三毛五 written 47.3毛5 is 47.35)
    r"|(?P<decimal>\d+\.\d)[角毛](?P<fen_decimal>\d)(?![\d元块角毛" + COUNTED + r"])分?"
    r"|(?P<yuan>\d+(?:\.\d+)?)(?:(?P<unit>[元块])(?:0(?P<fen_after_zero>\d)(?![\d元块角毛])分?|0?(?P<jiao>\d)(?!\d)(?![" + COUNTED + r"])(?:[角毛](?:(?P<fen>\d)(?![\d元块" + COUNTED + r"])分?)?)?)?)?"
)
MONEY_UNITS = "元块角毛"


def _amount_value(match: re.Match[str]) -> float:
    if match.group("fen_only_money"):
        return int(match.group("fen_only_money")) / 100
    if match.group("jiao_only"):
        return round(int(match.group("jiao_only")) / 10 + int(match.group("fen_only") or 0) / 100, 2)
    if match.group("decimal"):
        return round(float(match.group("decimal")) + int(match.group("fen_decimal")) / 100, 2)
    value = float(match.group("yuan"))
    value += int(match.group("jiao") or 0) / 10 + int(match.group("fen") or match.group("fen_after_zero") or 0) / 100
    return round(value, 2)


@dataclass(frozen=True)
class TurnText:
    """One turn to score: a transcript and the file it came from ("" for typed text)."""

    transcript: Transcript
    file: str = ""
    # Step ids whose customer line this turn answers (practice and exams: turn i answers step i);
    # empty when unknown (typed text, a whole-performance recording).
    expects: tuple[str, ...] = ()
    # What the customer said before this turn ("" when unknown); stage directions are ignored.
    customer: str = ""


@dataclass(frozen=True)
class NumberToken:
    position: int  # index of the NUMBER character in Doc.form
    value: float
    text: str  # as normalised, e.g. "48块5"
    has_unit: bool  # said with a money unit (元/块/角/毛)
    turn: int  # 0-based
    # Other values the recogniser may have garbled into this one (see misheard_values);
    # used only to explain amounts that do not add up.
    alternatives: tuple[float, ...] = ()


@dataclass
class DocTurn:
    index: int  # 0-based
    file: str
    text: str  # transcript text as the recogniser wrote it
    source: str  # the text the normalisation maps back to (words joined, or `text`)
    norm: Normalized
    char_times: list[tuple[float, float]] | None  # per source character
    offset: float  # start of the turn on the performance timeline
    duration: float
    transcript: Transcript
    customer: str = ""  # matching form of the customer's line this turn answers ("" when unknown)
    customer_numbers: tuple[str, ...] = ()  # digit strings (4+ digits: 户号, 电话) the customer said in that line
    customer_line: str = ""  # that line as given, stage directions included (（递上资料）)


@dataclass
class Doc:
    form: str
    pin: str
    pin_strict: str
    turn_of: list[int]  # per character; -1 for separators
    norm_start: list[int]  # per character: [start, end) in the turn's normalised text
    norm_end: list[int]
    clause_start: list[bool]
    turns: list[DocTurn]
    numbers: dict[int, NumberToken]
    timed: bool
    turn_bounds: list[tuple[int, int]]
    _windows: dict[tuple[int, bool], tuple[list[str], list[str]]] = field(default_factory=dict)
    _sounds: dict[str, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.form)

    def turn_range(self, turn: int) -> tuple[int, int]:
        """[start, end) of a turn's characters in `form`."""
        return self.turn_bounds[turn]

    def clamp_to_turn(self, start: int, end: int) -> tuple[int, int]:
        """Shrink [start, end) to the turn that holds most of it."""
        counts: dict[int, int] = {}
        for t in self.turn_of[start:end]:
            if t >= 0:
                counts[t] = counts.get(t, 0) + 1
        if not counts:
            return start, start
        turn = max(counts, key=lambda t: counts[t])
        while start < end and self.turn_of[start] != turn:
            start += 1
        while end > start and self.turn_of[end - 1] != turn:
            end -= 1
        return start, end

    def turn_at(self, start: int, end: int) -> int:
        for t in self.turn_of[start:end]:
            if t >= 0:
                return t
        return 0

    def clause_bounds(self, position: int) -> tuple[int, int]:
        """[start, end) of the clause (within its turn) that holds form[position]."""
        lo, hi = self.turn_range(self.turn_at(position, position + 1))
        start = max((k for k in range(lo, position + 1) if self.clause_start[k]), default=lo)
        end = next((k for k in range(position + 1, hi) if self.clause_start[k]), hi)
        return start, end

    def turn_clauses(self, turn: int) -> list[tuple[int, int]]:
        """[start, end) of each clause of a turn, in order."""
        lo, hi = self.turn_range(turn)
        clauses: list[tuple[int, int]] = []
        k = lo
        while k < hi:
            start, end = self.clause_bounds(k)
            clauses.append((start, end))
            k = max(end, k + 1)
        return clauses

    def span_text(self, start: int, end: int) -> str:
        """The transcript text behind form[start:end] (within one turn)."""
        start, end = self.clamp_to_turn(start, end)
        if end <= start:
            return ""
        turn = self.turns[self.turn_of[start]]
        return turn.norm.source_text(self.norm_start[start], self.norm_end[end - 1])

    def span_times(self, start: int, end: int) -> tuple[float | None, float | None]:
        """Performance-timeline seconds of form[start:end], or (None, None) without timings."""
        start, end = self.clamp_to_turn(start, end)
        if end <= start:
            return None, None
        turn = self.turns[self.turn_of[start]]
        if turn.char_times is None:
            return None, None
        s, e = turn.norm.source_span(self.norm_start[start], self.norm_end[end - 1])
        if e <= s or s >= len(turn.char_times):
            return None, None
        return turn.offset + turn.char_times[s][0], turn.offset + turn.char_times[min(e, len(turn.char_times)) - 1][1]

    def sounding(self, syllable: str) -> list[int]:
        """Positions (within turns) of the characters whose strict pinyin is `syllable` (two symbols,
        `encode(char, strict=True)`): 想 and 响 both sound xiang."""
        if self._sounds is None:
            sounds: dict[str, list[int]] = {}
            for k in range(len(self.form)):
                if self.turn_of[k] >= 0:
                    sounds.setdefault(self.pin_strict[2 * k : 2 * k + 2], []).append(k)
            self._sounds = sounds
        return self._sounds.get(syllable, [])

    def windows(self, length: int, strict: bool = False) -> tuple[list[str], list[str]]:
        """All substrings of `length` characters (and their pinyin), one per start position."""
        key = (length, strict)
        cached = self._windows.get(key)
        if cached is None:
            pin = self.pin_strict if strict else self.pin
            n = len(self.form)
            if n <= length:
                cached = ([self.form], [pin])
            else:
                cached = (
                    [self.form[i : i + length] for i in range(n - length + 1)],
                    [pin[2 * i : 2 * (i + length)] for i in range(n - length + 1)],
                )
            self._windows[key] = cached
        return cached


def _char_times(transcript: Transcript) -> tuple[str, list[tuple[float, float]] | None]:
    """Source text for the turn and one (start, end) per character, from word timings."""
    words = [w for w in transcript.words if w.text]
    if not words:
        return transcript.text, None
    source: list[str] = []
    times: list[tuple[float, float]] = []
    for word in words:
        n = len(word.text)
        step = max(0.0, word.end - word.start) / n
        source.extend(word.text)
        times.extend((word.start + k * step, word.start + (k + 1) * step) for k in range(n))
    for k in reversed(_spaces_between_digits(transcript.text, "".join(source))):
        # a number said twice (298 298): the recogniser's space between them is kept, normalize() splits there
        source.insert(k, " ")
        times.insert(k, (times[k - 1][1], times[k - 1][1]))
    return "".join(source), times


def _spaces_between_digits(text: str, joined: str) -> list[int]:
    """Where `text` (the recogniser's text) has a space between two digits or numerals (298 298, 298 二九八), as
    positions in `joined` (its words joined, which drop the spaces); none if the two do not hold the same characters."""
    if re.sub(r"\s+", "", text) != joined:
        return []
    positions: list[int] = []
    k = 0
    for i, char in enumerate(text):
        if not char.isspace():
            k += 1
        elif 0 < i < len(text) - 1 and is_numeral_or_digit(text[i - 1]) and is_numeral_or_digit(text[i + 1]) and k not in positions:
            positions.append(k)
    return positions


def _near_digit(char: str) -> int | None:
    """The digit a character written after a money unit is near in sound (色 -> 4), if any."""
    if not char or not ("\u4e00" <= char <= "\u9fff"):
        return None
    return NEAR_DIGIT_SYLLABLES_AFTER_UNIT.get(syllables(char)[0])


def _digit_sounding(char: str) -> int | None:
    """The digit 1–9 `char` sounds like (死 -> 4, 吧 -> 8, 儿 -> 2), if any."""
    numeral = digit_homophone(char) if char else None
    value = chinese_number_value(numeral) if numeral and numeral != "十" else None
    return int(value) if value else None


# Syllables whisper-base writes for a digit after 块 that are near it but not homophones
# (二十三块七 -> 23块钱 / 23块去 / 23块轻, 一百二十三块四 -> 123块色 / 4块素 / 41块次, 四十二块八 -> 42块板, 八十六块五 -> 86块鱼,
# 四十五块六 -> 45块轮, 七十六块三毛 -> 76块山毛).
NEAR_DIGIT_SYLLABLES_AFTER_UNIT = {"qian": 7, "qu": 7, "qing": 7, "su": 4, "se": 4, "ci": 4, "ban": 8, "yu": 5, "lun": 6, "shan": 3}
SHI_SYLLABLE_CHARS = "是十事时实市式"
PERIOD_WORD_STARTS = "这本上当每"  # 这期/本期/上期/当期/每期: 期 sounds as 七 and may run into the amount after it
# Words that count the notes and coins handed over (一张十块, 三个一块): their count may run into the amount before it.
NOTE_COUNT_WORDS = "张个"


def misheard_values(number_text: str, value: float, following: str, preceding: str = "") -> tuple[float, ...]:
    """Values a recogniser may have garbled into `number_text`, most likely first.

    - A digit after the unit written as a same-sounding character: 22块死 -> 22.4,
      45块吧 -> 45.8, 4块儿 -> 4.2 (`following` is what comes after the number in its clause, "" at the clause's end);
      or a near-sounding one: 七 as 钱/去 (23块去 -> 23.7), 四 as 色/素, 八 as 板; or run into the next
      number of the clause (找您87块250,20 -> 87.2: the change sung, then the notes counted out), or the
      count of the notes run into the amount (找您13.61张10块 -> 13.6: 十三块六，一张十块).
    - A spurious leading 1 in a number of three or more digits: 是/十 before the
      number is heard as part of it (电费是八十六块五 -> 186块5 -> 86.5); or a leading 7 after 这/本…,
      the 期 of 这期 heard as 七 (您这期是二百一十二元 -> 这7212元 -> 212).
    - The other way round: 十 heard as 是 before a one-digit number (找您是3.5元 -> 13.5).
    - 百零 written as two zeros: 两百零八块四 -> 2008块4 -> 208.4; or 百 alone as two zeros in a
      sum said the short way: 一百五 (150) -> 1005.
    Only `check_amounts` uses these, and only to explain amounts that otherwise
    do not add up; the number as written stays the reading shown.
    """
    found: list[float] = []
    match = _AMOUNT.fullmatch(number_text)
    if match and match.group("unit") and not match.group("jiao") and "." not in match.group("yuan"):
        digit = _digit_sounding(following[:1]) or _near_digit(following[:1])
        if digit is None and following[:1].isascii() and following[:1].isdigit() and following[1:2] not in COUNTED:  # 87块250: the 角 run into the next number
            digit = int(following[:1])
        if digit is not None:
            found.append(round(value + digit / 10, 2))
    if re.fullmatch(r"\d+\.\d\d", number_text) and following[:1] and following[0] in NOTE_COUNT_WORDS:
        found.append(round(value - int(number_text[-1]) / 100, 2))  # 13.61张: 十三块六, 一张… (the count run in)
    digits = re.match(r"\d+", number_text)
    if digits and len(digits.group(0)) >= 3 and digits.group(0)[0] == "1" and digits.group(0)[1] != "0":
        drop = 10 ** (len(digits.group(0)) - 1)
        found += [round(v - drop, 2) for v in (value, *found)]
    if digits and len(digits.group(0)) >= 3 and digits.group(0)[0] == "7" and preceding[-1:] and preceding[-1] in PERIOD_WORD_STARTS:
        found.append(round(value - 7 * 10 ** (len(digits.group(0)) - 1), 2))  # 这期二百一十二元 -> 这7212元: 期 heard as 七
    if digits and re.fullmatch(r"[1-9]00[1-9]", digits.group(0)):  # 两百零八 written 2008: 百 and 零 both as 0
        whole = int(digits.group(0))
        said = (value, *found)
        found += [round(v - whole + (whole // 1000) * 100 + last, 2) for last in (whole % 10, whole % 10 * 10) for v in said]
    if digits and len(digits.group(0)) == 1 and preceding[-1:] and preceding[-1] in SHI_SYLLABLE_CHARS:
        found += [round(v + 10, 2) for v in (value, *found)]
    return tuple(dict.fromkeys(v for v in found if v != value))


def _clauses(norm_text: str, clause_starts: Sequence[bool]) -> list[tuple[int, int]]:
    """[start, end) of each clause of a normalised text."""
    cuts = [k for k in range(1, len(norm_text)) if k < len(clause_starts) and clause_starts[k]]
    bounds = [0, *cuts, len(norm_text)]
    return list(zip(bounds, bounds[1:]))


def _collapse_numbers(norm_text: str, clause_starts: Sequence[bool] = ()) -> list[tuple[str, int, int, float | None, str]]:
    """(char, norm start, norm end, number value, number text) per matching-form character."""
    out: list[tuple[str, int, int, float | None, str]] = []
    for lo, hi in _clauses(norm_text, clause_starts):
        pos = lo
        for match in _AMOUNT.finditer(norm_text, lo, hi):
            for k in range(pos, match.start()):
                out.append((norm_text[k], k, k + 1, None, ""))
            out.append((NUMBER, match.start(), match.end(), _amount_value(match), match.group(0)))
            pos = match.end()
        for k in range(pos, hi):
            out.append((norm_text[k], k, k + 1, None, ""))
    return out


def starts_of(text: str, part: str) -> list[int]:
    """Every start of `part` in `text`, overlapping ones too."""
    starts = []
    k = text.find(part)
    while k >= 0:
        starts.append(k)
        k = text.find(part, k + 1)
    return starts


def syllable_starts(pin: str, pin_part: str) -> list[int]:
    """The characters at which `pin_part` starts in `pin` (pinyin of two symbols per character, as Doc.pin and
    Doc.pin_strict), on a syllable boundary only."""
    return [k // 2 for k in starts_of(pin, pin_part) if k % 2 == 0]


def matching_form(text: str, fillers: Sequence[str] = ()) -> str:
    """The matching form of a plain text (normalised, numbers collapsed)."""
    norm = normalize(text, fillers=fillers)
    return "".join(c for c, *_ in _collapse_numbers(norm.text, norm.clause_starts))


@lru_cache(maxsize=8192)
def cached_form(text: str, fillers: tuple[str, ...] = ()) -> str:
    """`matching_form`, cached (for phrasebook text)."""
    return matching_form(text, fillers)


def build_doc(turns: Sequence[TurnText], fillers: Sequence[str] = ()) -> Doc:
    """Normalise every turn and lay them end to end on one timeline."""
    form: list[str] = []
    turn_of: list[int] = []
    norm_start: list[int] = []
    norm_end: list[int] = []
    clause_start: list[bool] = []
    numbers: dict[int, NumberToken] = {}
    doc_turns: list[DocTurn] = []
    offset = 0.0
    timed = False
    turn_bounds: list[tuple[int, int]] = []
    for index, turn in enumerate(turns):
        transcript = turn.transcript
        source, char_times = _char_times(transcript)
        timed = timed or char_times is not None
        norm = normalize(source, fillers=fillers)
        duration = transcript.duration or (char_times[-1][1] if char_times else 0.0)
        said = without_stage_directions(turn.customer) if turn.customer else ""
        customer = matching_form(said, fillers) if said else ""
        customer_numbers = tuple(LONG_DIGITS.findall(normalize(said, fillers=fillers).text)) if said else ()
        doc_turns.append(
            DocTurn(index, turn.file, transcript.text, source, norm, char_times, offset, duration, transcript, customer, customer_numbers, turn.customer)
        )
        if form:
            form.append(TURN_SEPARATOR)
            turn_of.append(-1)
            norm_start.append(0)
            norm_end.append(0)
            clause_start.append(True)
        previous_end: float | None = None
        first = len(form)
        for char, ns, ne, value, text in _collapse_numbers(norm.text, norm.clause_starts):
            starts_clause = ns == 0 or norm.clause_starts[ns]
            if char_times is not None and ns < len(norm.starts):
                t0 = char_times[norm.starts[ns]][0]
                if previous_end is not None and t0 - previous_end >= CLAUSE_PAUSE_SECONDS:
                    starts_clause = True
                previous_end = char_times[norm.ends[ne - 1] - 1][1]
            if value is not None:
                has_unit = any(u in text for u in MONEY_UNITS)
                following = norm.text[ne : ne + 2] if ne >= len(norm.clause_starts) or not norm.clause_starts[ne] else ""
                alternatives = misheard_values(text, value, following, norm.text[max(0, ns - 1) : ns])
                numbers[len(form)] = NumberToken(len(form), value, text, has_unit, index, alternatives)
            form.append(char)
            turn_of.append(index)
            norm_start.append(ns)
            norm_end.append(ne)
            clause_start.append(starts_clause)
        turn_bounds.append((first, len(form)))
        offset += duration
    text = "".join(form)
    return Doc(
        form=text,
        pin=encode(text),
        pin_strict=encode(text, strict=True),
        turn_of=turn_of,
        norm_start=norm_start,
        norm_end=norm_end,
        clause_start=clause_start,
        turns=doc_turns,
        numbers=numbers,
        timed=timed,
        turn_bounds=turn_bounds,
    )
