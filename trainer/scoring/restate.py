"""复述确认 in the trainee's own words: the customer's facts said back, then a question to confirm them.

A step marked `restates: true` in the phrasebook (复述确认事实, 复述确认重要内容…) is performed when
the trainee repeats what the customer said and asks whether that is right. Its standard phrasings
("您是说……对吗？") cannot foresee the customer's facts, so besides them and the cues, a restatement
is recognised from its shape:

- a confirmation question closes it: 是吧 / 对吧 / 对吗 / 是吗 / 对不对 / 是不是 / 没错吧 …, at the end
  of the clause or as a clause of its own right after it ("……还没改过来，是吧？");
- what comes before it within the turn holds at least `MIN_RESTATED` characters of content, and it
  is a restatement: it shares a content word (two characters, neither a function word) with what
  the customer said up to that turn, or it opens with a summary marker (就是说 / 也就是说 / 您的意思是 …;
  the only sign left when the customer's words are unknown: typed text, no dialogue).

A step that also takes numbers (`restates_numbers`: 复述确认重要内容) is performed by a number the
customer gave (at least 4 digits: 户号, 电话) read back before the question ("幺二零八五五六三，对吧？"):
the digits are the facts, however few characters they take in the matching form.

"交电费是吧？" is not a restatement: too short, and it repeats nothing the customer said. How sure this
evidence makes us is measured like every other kind (decide.py, `RESTATEMENT`).
"""

from __future__ import annotations

from collections.abc import Sequence

from trainer.scoring.document import Doc

# Tags that close a question asking the customer to confirm (是伐/对伐: Wu speech); longest first.
CONFIRM_TAGS = ("是这样吗", "是这样吧", "对不对", "是不是", "没错吧", "没错吗", "是吧", "对吧", "对吗", "是吗", "对么", "是么", "是伐", "对伐")
SUMMARY_MARKERS = ("也就是说", "就是说", "您的意思是", "你的意思是", "您是说", "你是说", "您说的是", "就是")
MIN_RESTATED = 5  # characters of facts before the confirmation question
LOOK_BACK = 2  # clauses before the question's own clause that may hold the facts
# Characters that carry no fact of the customer's: a shared pair made only of these repeats nothing.
FUNCTION_CHARS = frozenset("我你您他她它们的了吗吧呢啊呀嘛哦嗯哎是在有这那个就也都还和把给要会能不没对好吧说一")


def _content_pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if text[i] not in FUNCTION_CHARS and text[i + 1] not in FUNCTION_CHARS}


def _tag_end(clause: str) -> int:
    """Length of the confirmation question closing `clause` (0: none)."""
    for tag in CONFIRM_TAGS:
        if clause.endswith(tag) or clause.endswith(tag + "呀") or clause.endswith(tag + "啊"):
            return len(tag) + (0 if clause.endswith(tag) else 1)
    return 0


def restatement_spans(doc: Doc, taken: Sequence[tuple[int, int]] = (), numbers: bool = False) -> list[tuple[int, int]]:
    """[start, end) spans of Doc.form that restate the customer's words and ask to confirm them.

    The customer's words are each turn's `DocTurn.customer` ("" when unknown). A span overlapping
    `taken` (words already serving another step) is not returned. `numbers`: a number the customer
    gave, read back, is a restatement too.
    """
    spans: list[tuple[int, int]] = []
    heard_so_far = ""
    numbers_so_far: set[str] = set()
    for turn in range(len(doc.turns)):
        heard_so_far += "|" + doc.turns[turn].customer
        numbers_so_far.update(doc.turns[turn].customer_numbers)
        customer_pairs = _content_pairs(heard_so_far)
        clauses = doc.turn_clauses(turn)
        for index, (start, end) in enumerate(clauses):
            tag = _tag_end(doc.form[start:end])
            if not tag:
                continue
            # the facts: this clause before the question, and up to LOOK_BACK clauses before it
            # when the question stands alone or closes a list (……，户名还没改过来，是吧？)
            said_start = start
            back = index
            while back > 0 and index - back < LOOK_BACK:
                back -= 1
                said_start = clauses[back][0]
            parts = [doc.form[s:e] for s, e in clauses[back:index]] + [doc.form[start : end - tag]]
            restated = "".join(parts)
            read_back = numbers and _reads_back(doc, said_start, end - tag, numbers_so_far)
            if len(restated) < MIN_RESTATED and not read_back:
                continue
            repeats = read_back or bool(_content_pairs(restated) & customer_pairs)
            summarises = any(part.startswith(m) for part in parts for m in SUMMARY_MARKERS)
            if not (repeats or summarises):
                continue
            if any(min(end, e) > max(said_start, s) for s, e in taken):
                continue
            spans.append((said_start, end))
    return spans


def _reads_back(doc: Doc, start: int, end: int, customer_numbers: set[str]) -> bool:
    """Does Doc.form[start:end] hold a number the customer gave (the same digits)?"""
    return any(
        token.text in customer_numbers for position, token in doc.numbers.items() if start <= position < end
    )
