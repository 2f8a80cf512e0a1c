"""Politeness: addressing the customer as 您 rather than 你, and using the 十字用语 (您好、请、谢谢、对不起、再见).

The lexicon's politeness words are data (phrasebooks/lexicon.yaml). Recognisers
often write 你 for 您, so 你 costs only when it is the usual form of address in
the performance, never a fail on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainer.phrasebook.model import Lexicon
from trainer.scoring.document import Doc
from trainer.text.normalize import normalize_text

CORE_WORDS = ("您好", "请", "谢谢", "对不起", "再见")  # 十字用语
WORDS_FOR_FULL_MARKS = 3
# Little courtesy: fewer signs than this (distinct courtesy words, plus one for 您 said at least twice)
# in a performance of at least LITTLE_COURTESY_MIN_CHARS characters. A finding for the trainee, never a
# doubt of its own (decide.py, item 5); it only leans a review that is in doubt for another reason (item 4).
COURTESY_MIN_SIGNS = 2
LITTLE_COURTESY_MIN_CHARS = 30


@dataclass(frozen=True)
class Politeness:
    nin: int  # times 您 was said
    ni: int  # times 你 was said (你们 included)
    words_used: tuple[str, ...]  # distinct politeness words heard
    chars: int = 0  # characters said in the whole performance

    @property
    def score(self) -> float:
        words_part = min(1.0, len(self.words_used) / WORDS_FOR_FULL_MARKS)
        address = self.nin + self.ni
        address_part = 1.0 if address == 0 else self.nin / address
        return 100.0 * (0.5 * words_part + 0.5 * address_part)

    @property
    def little_courtesy(self) -> bool:
        """So few courtesy words in a performance this long that the trainee should hear about it
        (a short answer is no evidence about manner; 您 said again and again is courtesy too)."""
        signs = len(self.words_used) + (1 if self.nin >= 2 else 0)
        return self.chars >= LITTLE_COURTESY_MIN_CHARS and signs < COURTESY_MIN_SIGNS

    @property
    def says_ni_mostly(self) -> bool:
        return self.ni >= 2 and self.ni > self.nin


def measure_politeness(doc: Doc, lexicon: Lexicon) -> Politeness:
    text = "".join(turn.norm.text for turn in doc.turns)
    words = []
    for word in dict.fromkeys((*CORE_WORDS, *lexicon.politeness_words)):
        form = normalize_text(word)
        if form and form != "您" and form in text:
            words.append(word)
    return Politeness(nin=text.count("您"), ni=text.count("你"), words_used=tuple(words), chars=len(text))
