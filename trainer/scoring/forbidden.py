"""Find 服务忌语 (forbidden phrases): high recall without false alarms on polite speech.

Rules, stricter than for standard phrases:
- Similarity on characters and on *strict* pinyin (您/你 not folded: 你找谁 is
  forbidden, 请问您找谁 is polite). Up to 2 characters: exact characters only;
  3–4: exact characters, or identical pinyin with most characters right (the
  recogniser wrote a homophone); longer: about one wrong character in five.
- A short phrasing (<= 3 characters) must sit on word boundaries (jieba): 不行
  is not found in 不行政; a one-character phrasing (喂) must open a clause.
- A fuzzy match keeps the phrase's negations (不/没…), adds none, and keeps its personal
  pronouns (我 / 你·您 / 他·她), and drops at most one character: 这是我的证件
  is not 这不是我的事, 这不是您的问题 is not 这不是我的事情.
- Longer phrasings are also found with their words reordered (快点，该下班了
  for 该下班了你快点): every content word present, close together (the span at most
  `REORDER_SLACK` characters longer than the phrasing: 这样，按照供水的规定 is no 规定就这样), in one
  sentence (commas allowed, not 。！？), each in its own place (不是 does not also say 事); one-character words by
  their exact character; each 不/没 still by a word it stands by in the phrasing, or between the content words it
  stands between there (这事不是解决不了 is no 这不是我的事, 您看这样要得不 no 要不就这样吧).
- A one-character phrasing (the interjection 喂) written as a homophone (为交什么,
  位你找谁: the recogniser heard "wei" but chose a more frequent character)
  counts only where the interjection reading is the only sensible one: the
  character stands alone as a word, opens the clause, and the clause is
  (a) that character alone (为，干嘛呢), (b) followed by the greeting word 您好/你好
  (为您好，这里是…; not 为您好好服务), or, within `INTERJECTION_QUESTION_REACH`
  characters, (c) a short question with 什么/谁/哪/啥/吗… not addressed with 您,
  or (d) nothing but whom it calls (为那位大姐, 位公电所: calling out, or
  answering the phone with the unit). A polite 为 opens a longer clause
  (为方便您办理，请问…) or forms a word (为什么, 为了).
- Exceptions: the entry's own `exceptions` (不知道您…), and any standard phrase
  of the scenario or replacement phrase that contains the forbidden text, said
  around the hit, cancel it. An exception may hold the gap mark "…"
  (`EXCEPTION_GAP`): "不知道…也没关系" is the forbidden text, then, within
  `GAP_REACH` characters of the same turn (across commas), 也没关系 — the
  concessive "您不知道账号也没关系" reassures; it does not answer "不知道".
- A long 不知道 phrasing followed in its clause by a question word (我也不知道为什么系统没出票)
  wonders aloud rather than refusing an answer: kind `wondering`, not counted, and an instructor
  decides (decide.FORBIDDEN_CONFIDENCE).
- A 不知道 whose subject, right before it, is someone other than the clerk (光看谁也不知道, 没人知道,
  您不知道也没事) tells what nobody (or the customer) can know; it does not refuse an answer: kind
  `other_knower`, not counted, and an instructor decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jieba

from trainer.phrasebook.model import SEVERITIES, ForbiddenEntry
from trainer.scoring.document import SENTENCE_END, Doc, starts_of, syllable_starts
from trainer.scoring.match import Candidate, _refine, find_candidates, similarity
from trainer.scoring.patterns import Pattern, compile_phrasing, forbidden_thresholds
from trainer.text.pinyin import encode

jieba.setLogLevel(60)

# Words that carry no content for the reordered-words rule.
FUNCTION_WORDS = frozenset("你 您 我 我们 你们 他 她 它 了 吧 啊 的 呢 吗 呀 嘛 就 也 都 还 又 得 地 着 过".split())
EXCEPTION_SLACK = 2
INTERJECTION_QUESTION_REACH = 5
QUESTION_WORDS = ("什么", "谁", "哪", "啥", "吗", "呢", "嘛", "怎么", "干嘛")
# 喂 also calls someone (喂，那位大姐) or answers the phone with the unit (喂？供电所。)
CALLED_WORDS = ("大姐", "大哥", "师傅", "阿姨", "大爷", "大妈", "先生", "女士", "小姐", "同志", "那位", "这位")
UNIT_WORDS = ("所", "公司", "中心", "营业厅", "热线", "局", "站")


@dataclass(frozen=True)
class ForbiddenMatch:
    entry: ForbiddenEntry
    start: int  # [start, end) in Doc.form
    end: int
    similarity: float
    phrasing: str
    homophone: bool = False  # a one-character interjection heard as a homophone (为 for 喂)
    reordered: bool = False  # the words of a long phrasing said in another order


# Kinds of evidence behind a 服务忌语 hit (how sure it is: decide.FORBIDDEN_CONFIDENCE). A hit is
# "alone" when its clause holds little else (at most CLAUSE_SLACK characters before and after it:
# a pronoun, 啊/吧/了): 随便！/ 我也不知道，/ 这是规定，. Inside a longer clause the same words often
# say something else (不是随便说的 / 写得不清楚 / 我们没办法在电话里判断).
PHRASE_ALONE = "phrase_alone"  # four or more characters, alone in its clause
PHRASE_EMBEDDED = "phrase_embedded"  # four or more characters inside a longer clause
SHORT_ALONE = "short_alone"  # up to three characters (随便, 不知道, 喂), alone in its clause
SHORT_EMBEDDED = "short_embedded"  # up to three characters inside a longer clause
NEGATED = "negated"  # a negation said right before words that hold none (不是随便说的, 不会不管您), or nobody their subject (没有人会…)
REORDERED = "reordered"  # the words of a long phrasing, reordered (see _reordered)
HOMOPHONE = "homophone"  # 喂 heard as 为/位 (see _interjection_homophones)
QUOTED = "quoted"  # someone else's words reported: in quotation marks, right after 他说/同事说, or named as a saying (see _quoted)
CONDITIONAL = "conditional"  # in a clause that supposes it: 要是不清楚，可以打一一四查一下
WONDERING = "wondering"  # 我也不知道 + a question word: the clerk wonders aloud (我也不知道怎么就少录了一位), no refusal to answer
CAPABILITY = "capability"  # 没(有)办法 + what cannot be done (没有办法办, 没办法在电话里判断): a limit stated, not a refusal
HEDGED = "hedged"  # said as a guess (那可能是您家里的问题，我派师傅上门看一下): a possibility weighed, not a verdict
CONCEDED = "conceded"  # granted, then taken back: 按钟点是该下班了，不过您来了就给您办; 虽说该下班了，…
OTHER_KNOWER = "other_knower"  # 不知道 said of someone else (光看谁也不知道，得验): what cannot be known, no refusal to answer
FORBIDDEN_EVIDENCE_KINDS = (
    PHRASE_ALONE, PHRASE_EMBEDDED, SHORT_ALONE, SHORT_EMBEDDED, NEGATED, REORDERED, HOMOPHONE, QUOTED, CONDITIONAL, WONDERING,
    CAPABILITY, HEDGED, CONCEDED, OTHER_KNOWER,
)
# Who, said right before 不知道 (with 也/都 between), is not the clerk: 谁也不知道, 没人知道, 您不知道.
OTHER_KNOWERS = ("谁", "没人", "没有人", "他", "她", "他们", "她们", "人家", "您", "你", "大家")
KNOWER_PARTICLES = "也都"
# Words that take back what was just said (该下班了，不过…): right after a hit, in its clause or opening the next.
CONCESSIONS = ("不过", "但是", "可是", "但")
# Words that open a concession: what follows in the clause is granted, then set aside (虽说该下班了，您来了就给您办).
CONCESSIVE_OPENERS = ("虽说", "虽然", "尽管", "固然")
HEDGES = ("可能", "应该", "也许", "估计", "大概", "恐怕", "或许", "说不定")
HEDGE_REACH = 3  # characters between a hedge and the hit (那可能是 / 应该是)
# 办法 ending a hit and the clause going on with what cannot be done: "unable to do it here", not "nothing to
# be done". Particles after it (我们也没有办法了/啊) leave the refusal as it is.
WAY_WORD = "办法"
SENTENCE_PARTICLES = "了啊呀吧呢哦嘛啦哈的"
# Words that open a supposition: what follows in the clause is a case considered, not something said to the customer.
# 无论/不管/甭管/管它 open a case considered whichever way it goes (甭管该下班了没有，进门就给您办).
CONDITIONALS = ("如果", "要是", "万一", "假如", "假使", "若是", "要不是", "无论", "不论", "不管", "甭管", "管它", "管他")
OPEN_QUOTES, CLOSE_QUOTES = "“「『‘", "”」』’"
# Who may be reported as having said something (a third person: never 我, and not 您/你, since
# 我跟您说 is the clerk speaking).
REPORTED_SPEAKERS = ("他", "她", "他们", "她们", "人家", "有人", "那人", "同事", "小伙子", "小姑娘", "师傅", "工作人员", "营业员", "那位", "对方")
REPORT_REACH = 2  # characters allowed between 说 and the reported words (了, 过, 您)
# Verbs that report someone's words: 他说…, 她回…, 那个师傅讲… (a clerk restating a complaint about a colleague).
REPORTING_VERBS = ("说", "讲", "问", "回", "答", "回答", "回复")  # 她问您你懂不懂: her question, reported
NEGATORS = frozenset("不没别非未莫")
SUBJECT_PRONOUNS = "你您我咱他她"
NEGATION_REACH = 2  # characters before a hit
# Indefinite determiners and possessors a negation reaches over (不是哪个领导定的, 不是什么上面定的,
# 不是我们领导定的, 不是咱们上面规定的).
DETERMINERS = ("哪个", "哪位", "哪一个", "什么", "某个", "谁", "我们", "咱们", "你们", "他们", "我")
DETERMINER_MAX = max(len(word) for word in DETERMINERS)
DETERMINERS_IN_A_ROW = 2  # 不是我们哪个领导定的
# A clause whose subject is nobody (这里没有人会因为该下班了就催您) denies whatever 忌语 words follow in it.
NOBODY = ("没有人", "没人", "谁也不", "谁都不", "不会有人", "没有谁")
# Bodies named as the possessor, after a determiner or alone (不是我们公司领导定的, 不是局里领导定的). A fuzzy hit
# may have taken the noun's last character for one of its own (司领导定的 for 这是领导定的): the noun then ends
# inside the hit.
POSSESSOR_NOUNS = ("公司", "单位", "局里", "所里", "厂里", "站里", "上面", "上级", "部门", "政府", "国家")
POSSESSOR_MAX = max(len(word) for word in POSSESSOR_NOUNS)
# Rhetorical negations: 哪有说该下班了就不管您的 denies the words that follow (哪有 + at most one word between);
# 不是说这事解决不了，是得先核实 ("it is not that ...") the same.
RHETORICAL_NEGATIONS = ("哪有", "哪能", "哪会", "哪里会", "怎么会", "怎么能", "不是说")
RHETORICAL_REACH = 1  # characters between the rhetorical negation and the hit (说, 是)
# Words holding 不 that negate nothing after them (要不您等会儿再说: "or else"; 对不起行了吧: an apology).
NOT_NEGATIONS = ("要不", "不然", "不如", "不管", "不过", "不论", "对不起", "不好意思")
# A verb, 不/没 and the verb again asks a yes-or-no question (换不换, 要不要, 有没有, 可不可以): it negates nothing
# after it (换不换随便你 is still 随便你).
A_NOT_A = re.compile(r"(.)[不没]\1")
# Such a question, with at most a short object (交不交钱), as all a clause says before a short hit is that hit's topic
# (换不换随便你: whether you change it is up to you): the hit is as good as alone.
A_NOT_A_TOPIC = re.compile(r"(.)[不没]\1.{0,2}")
# Words that open an indirect question right after 知道: 我也不知道为什么系统没出票, 我也不知道怎么就少录了一位
INDIRECT_QUESTION_WORDS = ("怎么", "怎样", "为什么", "为啥", "咋", "是不是", "是否", "有没有", "能不能", "会不会", "什么", "啥", "哪", "谁", "多少", "几")
PHRASING_PUNCTUATION = re.compile(r"[，。！？；：、,.!?;:…]")
SHORT_PHRASING = 3  # characters
CLAUSE_SLACK = 2  # characters a hit may share its clause with, on each side, and still be alone


def hit_evidence(match: ForbiddenMatch, doc: Doc, others: Sequence[ForbiddenMatch] = ()) -> str:
    """The kind of evidence behind a hit: how long it is and what else its clause says. Words of
    other 服务忌语 in the clause are not "something else" (不知道你自己看: two brush-offs, one breath)."""
    if match.homophone:
        return HOMOPHONE
    if match.reordered:  # a negation still reaches it: 不是说该下班了就催您快点
        return NEGATED if _negated(match, doc, doc.clause_bounds(match.start)[0]) else REORDERED
    if _quoted(match, doc):
        return QUOTED
    lo, _ = doc.clause_bounds(match.start)
    _, hi = doc.clause_bounds(max(match.start, match.end - 1))
    if any(word in doc.form[lo : match.start] for word in CONDITIONALS):
        return CONDITIONAL
    if (
        match.end - match.start > SHORT_PHRASING  # a short 不知道 inside a longer clause is short_embedded already
        and doc.form[match.start : match.end].endswith("知道")
        and doc.form[match.end : hi].startswith(INDIRECT_QUESTION_WORDS)
    ):
        return WONDERING
    if any(word in doc.form[max(lo, match.start - HEDGE_REACH - 2) : match.start + 1] for word in HEDGES):
        return HEDGED
    if doc.form[match.start : match.end].endswith(WAY_WORD) and doc.form[match.end : hi].strip(SENTENCE_PARTICLES):
        return CAPABILITY
    if _taken_back(match, doc, hi) or _opens_a_concession(doc, lo, match.start):
        return CONCEDED
    if _negated(match, doc, lo):
        return NEGATED
    forbidden_chars = {k for o in others if o is not match for k in range(o.start, o.end)}
    said_before = sum(1 for k in range(lo, match.start) if k not in forbidden_chars)
    if A_NOT_A_TOPIC.fullmatch(doc.form[lo : match.start]):
        said_before = 0
    said_after = sum(1 for k in range(match.end, hi) if k not in forbidden_chars)
    alone = said_before <= CLAUSE_SLACK and said_after <= CLAUSE_SLACK
    if match.end - match.start > SHORT_PHRASING:
        kind = PHRASE_ALONE if alone else PHRASE_EMBEDDED
    else:
        kind = SHORT_ALONE if alone else SHORT_EMBEDDED
    # only a hit that would count: a short one inside a longer clause is not counted already
    return OTHER_KNOWER if kind != SHORT_EMBEDDED and _other_knower(match, doc, lo) else kind


def _negated(match: ForbiddenMatch, doc: Doc, lo: int) -> bool:
    """A negation said right before the hit, in its clause (which starts at `lo`): 不是随便说的, 不是哪个领导定的,
    不是说该下班了就催您快点; or in a clause whose subject is nobody: 没有人会因为该下班了就催您."""
    if any(word in doc.form[lo : match.start] for word in NOBODY):
        return True
    before = doc.form[max(lo, match.start - NEGATION_REACH - 2 - DETERMINERS_IN_A_ROW * DETERMINER_MAX - POSSESSOR_MAX) : match.start]
    for word in NOT_NEGATIONS:
        before = before.replace(word, "_" * len(word))
    before = A_NOT_A.sub("___", before)
    before = _without_possessor_noun(before, doc.form[match.start : match.start + 1])
    # 不是哪个领导定的 / 不是我们领导定的 / 不是我们哪个领导定的: the negation reaches over determiners or a possessor
    for _ in range(DETERMINERS_IN_A_ROW):
        word = next((word for word in DETERMINERS if before.endswith(word)), "")
        before = before[: len(before) - len(word)]
    negator = before[-NEGATION_REACH:]
    first = doc.form[match.start]
    # a hit that holds its own negation (没有办法) is negated only by a copula: 不是没有办法，办法是有的
    if NEGATORS.intersection(negator) and (first not in NEGATORS or "是" in negator) and not _new_subject(first, negator):
        return True
    near = doc.form[max(lo, match.start - RHETORICAL_REACH - 3) : match.start]
    return any(word in near[-(len(word) + RHETORICAL_REACH) :] for word in RHETORICAL_NEGATIONS)


def _new_subject(first: str, negator: str) -> bool:
    """A hit that opens with its own subject (你去投诉吧, 我挂了) is not negated by a 不/没 before it: no 不 negates a
    subject pronoun, the 不 ends the words before (嫌我态度不好|你去投诉吧, 没有|我挂了). A copula still reaches over the
    subject (不是我挂的)."""
    return first in SUBJECT_PRONOUNS and "是" not in negator


def _without_possessor_noun(before: str, first: str) -> str:
    """`before` (the words before a hit) without a body named last as the possessor, whole (不是公司|领导定的)
    or with its last character taken by the hit (不是公|司领导定的)."""
    for noun in POSSESSOR_NOUNS:
        if before.endswith(noun):
            return before[: -len(noun)]
        if (before + first).endswith(noun):
            return before[: -(len(noun) - 1)]
    return before


def _other_knower(match: ForbiddenMatch, doc: Doc, clause_start: int) -> bool:
    """不知道 (the hit's words from 不知道 on, 也/都 before it allowed) right after someone other than the clerk."""
    said = doc.form[match.start : match.end]
    at = said.find("不知道")
    if at < 0 or said[:at].strip(KNOWER_PARTICLES):
        return False
    before = doc.form[clause_start : match.start + at].rstrip(KNOWER_PARTICLES)
    return before.endswith(OTHER_KNOWERS)


def _opens_a_concession(doc: Doc, clause_start: int, start: int) -> bool:
    """A concessive opener (虽说/尽管…) earlier in the hit's clause; in recognised speech also one heard as
    a word of the same sound (隨說 for 虽说)."""
    before = doc.form[clause_start:start]
    if any(word in before for word in CONCESSIVE_OPENERS):
        return True
    heard = doc.pin_strict[2 * clause_start : 2 * start]  # the doc's own pinyin, two symbols per character
    return doc.timed and any(encode(word, strict=True) in heard for word in CONCESSIVE_OPENERS)


def _taken_back(match: ForbiddenMatch, doc: Doc, clause_end: int) -> bool:
    """A concession (不过/但是) right after the hit, in its clause or opening the next one in the same sentence."""
    rest = doc.form[match.end : clause_end].lstrip(SENTENCE_PARTICLES)
    if rest:
        return rest.startswith(CONCESSIONS)
    turn_end = doc.turn_range(doc.turn_of[match.start])[1]
    if not doc.form[clause_end:turn_end].startswith(CONCESSIONS):
        return False
    return SENTENCE_END.search(doc.span_text(match.end, clause_end + 1)) is None


def _quoted(match: ForbiddenMatch, doc: Doc) -> bool:
    """Someone else's words reported to the customer, not said to them: inside quotation marks of
    the typed text, right after a third person's 说/讲/问/回 (那个小伙子说这不是我的事情, 她回您不知道, 他跟您说我就这个态度),
    or named as a saying (不存在这不是我的事情的说法)."""
    turn = doc.turns[doc.turn_of[match.start]]
    s, e = turn.norm.source_span(doc.norm_start[match.start], doc.norm_end[match.end - 1])
    before, after = turn.source[:s], turn.source[e:]
    for opening, closing in zip(OPEN_QUOTES, CLOSE_QUOTES):
        if before.count(opening) > before.count(closing) and closing in after:
            return True
    if before.count('"') % 2 == 1 and '"' in after:
        return True
    lo, hi = doc.turn_range(doc.turn_of[match.start])
    if match.end < hi and not doc.clause_start[match.end] and doc.form[match.end : hi].startswith(MENTIONED_AS):  # 就不存在这不是我的事情的说法: words named, not said
        return True
    for verb in REPORTING_VERBS:
        said = doc.form.rfind(verb, max(lo, match.start - REPORT_REACH - len(verb)), match.start)
        if said >= 0 and (
            ADDRESSEE.sub("", doc.form[max(lo, said - 9) : said]).endswith(REPORTED_SPEAKERS)
            or _speaker_named_before(doc.form[max(lo, said - SPEAKER_REACH) : said])
        ):
            return True
    return False


# Words followed by these are named as a saying, not said to the customer (没有这不是我的事情的说法).
MENTIONED_AS = ("的说法", "这种说法", "这种话", "这句话", "这样的话", "这话")
SPEAKER_REACH = 16  # characters before 说 in which the one who said it may be named (那个同事没好好解释，还说了句…)
FIRST_PERSON = "我咱"


def _speaker_named_before(before: str) -> bool:
    """Someone other than the clerk named before 说, with no 我 after them: the 说 is theirs (那个同事没好好给您解释，
    还说了句我就这个态度). 同事说了半天，我… is the clerk speaking again."""
    at = max((before.rfind(who) + len(who) for who in REPORTED_SPEAKERS if who in before), default=-1)
    return at >= 0 and not any(person in before[at:] for person in FIRST_PERSON)


# Whom the reported words were said to, between the speaker and 说 (他跟您说, 那个同事对我们讲).
ADDRESSEE = re.compile(r"(?:跟|对|和|同|给|冲)(?:您们|您|你们|你|我们|我|大家|人家)$")


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(jieba.lcut(text, HMM=False))


def word_boundaries(doc: Doc) -> frozenset[int]:
    """Indices in Doc.form where a jieba word starts or ends (per turn)."""
    cached = getattr(doc, "_word_boundaries", None)
    if cached is not None:
        return cached
    bounds: set[int] = set()
    for lo, hi in doc.turn_bounds:
        pos = lo
        bounds.add(pos)
        for token in _tokens(doc.form[lo:hi]):
            pos += len(token)
            bounds.add(pos)
    result = frozenset(bounds)
    doc._word_boundaries = result  # type: ignore[attr-defined]
    return result


SOUND_ALIKE = 0.85  # pinyin similarity of a longer phrasing heard with a wrong character


def _accept(c: Candidate) -> bool:
    char_min, pin_min = forbidden_thresholds(c.pattern.length)
    if c.char_similarity >= 1.0:
        return True
    if c.char_similarity >= char_min:
        # a wrong character must sound alike (a recogniser's slip), not be another word:
        # 没有添什么 is not 没有为什么
        return c.pinyin_similarity >= SOUND_ALIKE
    return c.pinyin_similarity >= pin_min and c.char_similarity >= 0.6


def _placed_well(c: Candidate, doc: Doc) -> bool:
    length = c.pattern.length
    bounds = word_boundaries(doc)
    if length <= 3:
        if c.start not in bounds or c.end not in bounds:
            return False
    if length == 1 and not doc.clause_start[c.start]:
        return False
    return not _wrong_edge_inside_a_word(c, doc, bounds)


def _wrong_edge_inside_a_word(c: Candidate, doc: Doc, bounds: frozenset[int]) -> bool:
    """A fuzzy match whose first or last character is the wrong one and starts or ends a longer word: that
    character belongs to another word, it is no misheard one (这事不归我供|电所管 is not 这事不归我管)."""
    span, form = doc.form[c.start : c.end], c.pattern.form
    if len(span) != len(form) or span == form:
        return False
    return (span[-1] != form[-1] and c.end not in bounds) or (span[0] != form[0] and c.start not in bounds)


@lru_cache(maxsize=4096)
def _exception_phrases(entry: ForbiddenEntry, phrasing_form: str, polite: tuple[str, ...], fillers: tuple[str, ...]) -> list[str]:
    texts = list(entry.exceptions)
    for text in (entry.replacement, *polite):
        form = compile_phrasing(text, (), fillers).form if text else ""
        if phrasing_form and phrasing_form in form and form != phrasing_form:
            texts.append(text)
    return texts


def _part_said(doc: Doc, start: int, end: int, part: str) -> bool:
    """Is `part` (a matching form) said exactly in Doc.form[start:end]? Short parts: exact; longer: 80%."""
    lo, hi = doc.turn_range(doc.turn_at(max(start, 0), max(end, start + 1)))
    if start < lo or end > hi:
        return False
    pattern = compile_phrasing(part)
    char_sim, pin_sim = similarity(pattern, doc, start, end, strict=True)
    return max(char_sim, pin_sim) >= (1.0 if len(part) <= 2 else 0.8)


_CLAUSE_SPLIT = re.compile(r"[，。！？；：、,.!?;:…\s]+")


def _clause_holding(text: str, phrasing_form: str, fillers: Sequence[str]) -> Pattern:
    """The clause of an exception phrase that holds the forbidden text (else the whole phrase)."""
    for clause in _CLAUSE_SPLIT.split(text):
        pattern = compile_phrasing(clause, (), fillers)
        if phrasing_form and phrasing_form in pattern.form:
            return pattern
    return compile_phrasing(text, (), fillers)


NEGATIONS = "不没别无非未"
# Personal pronouns by person, compared by sound like negations: 我 vs 您/你 changes who is meant.
PRONOUN_PERSONS = ("我咱", "你您", "他她它")


def _keeps_pronouns(form: str, doc: Doc, start: int, end: int) -> bool:
    """Doc.form[start:end] does not swap the phrase's person: 不是您的问题 is not 不是我的问题.

    For each person the phrase names (我 / 你·您 / 他·她), the span must say it
    (compared by sound), unless it names no other person either: a dropped
    pronoun (该下班了，快点) keeps the meaning, a replaced one does not.
    """
    said = _syllables(doc, start, end)
    counts = [sum(said.count(sound) for sound in {encode(p, strict=True) for p in person}) for person in PRONOUN_PERSONS]
    for index, person in enumerate(PRONOUN_PERSONS):
        needed = sum(form.count(p) for p in person)
        others = sum(c for k, c in enumerate(counts) if k != index)
        if needed and counts[index] < needed and others:
            return False
    return True


def _keeps_negation(c: Candidate, doc: Doc) -> bool:
    """A fuzzy match says the phrase's negations and adds none.

    这是我的 is not 这不是我的事; 这不是您家里的问题 is not 这是你家里的问题, and
    这事不会解决不了 (a double negation: a promise) is not 这事解决不了. Added
    negations are counted by their characters only (a homophone of 无 is often 五).
    """
    if _adds_negation(c.pattern.form, doc, c.start, c.end):
        return False
    syllables = _syllables(doc, c.start, c.end)
    for n in NEGATIONS:
        if n in c.pattern.form and syllables.count(encode(n, strict=True)) < c.pattern.form.count(n):
            return False  # compared by sound: 布知道 still says 不
    return True


def _keeps_why(c: Candidate, doc: Doc) -> bool:
    """A fuzzy match of a phrase that asks why (没有为什么) says 为 too: 有没有什么电器 refuses no explanation.
    Compared by sound, like negations (没有位什么 still asks why)."""
    if "为什么" not in c.pattern.form:
        return True
    return encode("为", strict=True) in _syllables(doc, c.start, c.end)


def _syllables(doc: Doc, start: int, end: int) -> list[str]:
    """The strict pinyin code of each character of form[start:end]."""
    pin = doc.pin_strict[2 * start : 2 * end]
    return [pin[k : k + 2] for k in range(0, len(pin), 2)]


def _adds_negation(form: str, doc: Doc, start: int, end: int) -> bool:
    span = doc.form[start:end]
    return sum(span.count(n) for n in NEGATIONS) > sum(form.count(n) for n in NEGATIONS)


def _negation_moved(form: str, doc: Doc, start: int, end: int) -> bool:
    """In words said in another order, a negation that left what it negates: each 不/没 of the phrasing keeps
    a neighbour it has there, or stays between the content words it stands between there (这又不是额的事情 is
    这不是我的事情; 这事不是解决不了 and 不是说这事… are not, nor is 您看这样要得不 要不就这样吧)."""
    said = doc.pin_strict[2 * start : 2 * end]  # by sound, as the reordered words were found (不适 for 不是)

    def at(k: int, text: str) -> bool:
        return k >= 0 and said[2 * k : 2 * (k + len(text))] == encode(text, strict=True)

    def said_in(lo: int, hi: int, text: str) -> bool:
        return any(at(j, text) for j in range(max(0, lo), min(hi, end - start)))

    for i, char in enumerate(form):
        if char not in NEGATIONS:
            continue
        word = form[i : i + 2] if form[i + 1 : i + 2] == "是" else char  # 不是 negates what follows it
        before, after = form[i - 1 : i], form[i + len(word) : i + len(word) + 1]
        earlier, later = _content_words(form[:i])[-1:], _content_words(form[i + len(word) :])[:1]
        if not any(
            (before and at(k - 1, before))
            or (after and at(k + len(word), after))
            or (
                (earlier or later)
                and all(said_in(0, k - len(w) + 1, w) for w in earlier)
                and all(said_in(k + len(word), end - start, w) for w in later)
            )
            for k in range(end - start)
            if at(k, word)
        ):
            return True
    return False


EXCEPTION_GAP = "…"  # in an exception: "the rest follows within GAP_REACH characters"
GAP_REACH = 8
_GAP_SPLIT = re.compile(r"…+")


def _around(doc: Doc, start: int, end: int, phrasing_form: str, form: str) -> tuple[int, int] | None:
    """The span of `form` (which holds `phrasing_form`) when its other words are said right around the hit.

    Prefix and suffix must be said adjacent to the hit, in the same clause, with strict pinyin.
    """
    offset = form.find(phrasing_form)
    prefix, suffix = form[:offset], form[offset + len(phrasing_form) :]
    if prefix and (doc.clause_start[start] or not _part_said(doc, start - len(prefix), start, prefix)):
        return None
    if suffix and (end >= len(doc.form) or doc.clause_start[end] or not _part_said(doc, end, end + len(suffix), suffix)):
        return None
    if any(doc.clause_start[k] for k in range(start - len(prefix) + 1, start)) or any(
        doc.clause_start[k] for k in range(end + 1, end + len(suffix))
    ):
        return None
    return start - len(prefix), end + len(suffix)


def _gap_excepted(doc: Doc, start: int, end: int, phrasing_form: str, text: str, fillers: Sequence[str]) -> bool:
    """An exception with gaps ("不知道…也没关系"): the part holding the forbidden text said around the hit,
    each later part starting within GAP_REACH characters after the previous one (earlier parts: before),
    all in the hit's turn; commas in between are allowed."""
    parts = [_clause_holding(part, phrasing_form, fillers).form for part in _GAP_SPLIT.split(text)]
    anchor = next((i for i, form in enumerate(parts) if phrasing_form in form), None)
    if anchor is None or not all(parts):
        return False
    span = _around(doc, start, end, phrasing_form, parts[anchor])
    if span is None:
        return False
    lo, hi = doc.turn_range(doc.turn_at(start, end))
    position = span[1]
    for part in parts[anchor + 1 :]:
        found = next((k for k in range(position, min(position + GAP_REACH, hi - len(part)) + 1) if _part_said(doc, k, k + len(part), part)), None)
        if found is None:
            return False
        position = found + len(part)
    position = span[0]
    for part in reversed(parts[:anchor]):
        found = next((k for k in range(position - len(part), max(lo, position - len(part) - GAP_REACH) - 1, -1) if _part_said(doc, k, k + len(part), part)), None)
        if found is None:
            return False
        position = found
    return True


def _excepted(doc: Doc, start: int, end: int, phrasing_form: str, exceptions: Sequence[str], fillers: Sequence[str] = ()) -> bool:
    """Is the hit [start, end) part of one of the exception phrases said around it?

    An exception holding the forbidden text (不知道您 for 不知道) applies when its
    other words are said right before/after the hit, in the same clause, with
    strict pinyin (不知道你 is not 不知道您; 不知道，您… is two clauses). An
    exception with a gap mark (不知道…也没关系) lets the rest follow a little later
    (see `_gap_excepted`); it only applies to phrasings it holds. An exception
    written differently (a variant) must be said nearly in full over the hit.
    """
    lo, hi = doc.turn_range(doc.turn_at(start, end))
    for text in exceptions:
        if EXCEPTION_GAP in text:
            if _gap_excepted(doc, start, end, phrasing_form, text, fillers):
                return True
            continue
        pattern = _clause_holding(text, phrasing_form, fillers)
        if not pattern.form:
            continue
        if phrasing_form in pattern.form:
            if _around(doc, start, end, phrasing_form, pattern.form) is not None:
                return True
            continue
        s = max(lo, start - 1)
        e = min(hi, s + pattern.length)
        c = _refine(pattern, doc, s, e, strict=True)
        covered = min(c.end, end) - max(c.start, start)
        if c.similarity >= 0.85 and covered >= (end - start) * 0.8 and (c.end - c.start) >= 0.8 * pattern.length:
            return True
    return False


def _content_words(form: str) -> list[str]:
    return [t for t in _tokens(form) if t not in FUNCTION_WORDS and t.strip()]


@lru_cache(maxsize=4096)
def _words_and_pins(form: str) -> tuple[tuple[str, str], ...]:
    return tuple((w, encode(w, strict=True)) for w in _content_words(form))


def _occurrences_by_turn(doc: Doc, word: str, pin: str) -> dict[int, list[int]]:
    """Start indices of a word (exact characters or strict pinyin) in the whole document, grouped by turn."""
    found = set(starts_of(doc.form, word))
    if len(word) >= 2:  # one syllable alone is too easy to hear by chance (事 in 不是): exact characters only
        found.update(syllable_starts(doc.pin_strict, pin))
    else:  # a one-character word only as a word of its own: the 行 of 一行 is no 行
        bounds = word_boundaries(doc)
        found = {k for k in found if k in bounds and k + 1 in bounds}
    by_turn: dict[int, list[int]] = {}
    for i in sorted(found):
        if doc.turn_of[i] >= 0 and doc.turn_of[min(i + len(word), len(doc.form)) - 1] == doc.turn_of[i]:
            by_turn.setdefault(doc.turn_of[i], []).append(i)
    return by_turn


REORDER_SLACK = 2  # characters a reordered phrasing may run beyond its own length: 这样，按照供水的规定 is no 规定就这样
# A phrasing that asks (我怎么晓得, 你问我我问谁) is never found reordered: in a question the order is the meaning
# (他们晓得怎么报 is no 我怎么晓得).
ASKING_WORDS = ("怎么", "咋", "哪", "谁", "什么", "啥")


def _reordered(doc: Doc, pattern: Pattern) -> list[tuple[int, int]]:
    """Spans where all content words of a long phrasing are said close together, in any order, in one turn."""
    words = _words_and_pins(pattern.form)
    if len(words) < 2 or sum(len(w) for w, _ in words) < 4 or any(q in pattern.form for q in ASKING_WORDS):
        return []
    reach = pattern.length + 4
    found = [_occurrences_by_turn(doc, w, p) for w, p in words]
    turns = set(found[0]).intersection(*found[1:])
    spans: list[tuple[int, int]] = []
    for turn in sorted(turns):
        per_word = [f[turn] for f in found]
        anchor = min(range(len(words)), key=lambda k: len(per_word[k]))
        for a in per_word[anchor]:
            chosen = []
            for k, occ in enumerate(per_word):
                near = [i for i in occ if abs(i - a) <= reach]
                if not near:
                    break
                chosen.append((min(near, key=lambda i: abs(i - a)), len(words[k][0])))
            else:
                s = min(i for i, _ in chosen)
                e = max(i + n for i, n in chosen)
                placed = sorted(chosen)
                disjoint = all(i + n <= j for (i, n), (j, _) in zip(placed, placed[1:]))
                # each word said in its own place, and all in one sentence: 要办伐？没有的话 is two
                close = e - s <= pattern.length + REORDER_SLACK
                if close and disjoint and not SENTENCE_END.search(doc.span_text(s, e)):
                    spans.append((s, e))
    return spans


def find_forbidden(
    entries: Sequence[ForbiddenEntry], doc: Doc, polite_phrases: Sequence[str] = (), fillers: Sequence[str] = ()
) -> list[ForbiddenMatch]:
    """Forbidden phrases said in the performance, at most one per place (the longest phrasing wins).

    `fillers` must be the filler list the document was built with (they are left out on both sides).
    """
    patterns: list[Pattern] = []
    owners: list[ForbiddenEntry] = []
    for entry in entries:
        seen: set[str] = set()
        for text in entry.all_phrasings:
            pattern = compile_phrasing(text, (), fillers)
            if pattern.form and pattern.form not in seen:
                seen.add(pattern.form)
                patterns.append(pattern)
                owners.append(entry)
    floors = {p.form: min(forbidden_thresholds(p.length)) for p in patterns}
    found = find_candidates(patterns, doc, lambda p: min(floors[p.form], 1.0), strict=True)
    matches: list[ForbiddenMatch] = []
    for pattern, entry, candidates in zip(patterns, owners, found):
        exceptions = _exception_phrases(entry, pattern.form, tuple(polite_phrases), tuple(fillers))
        spans = [
            (c.start, c.end, c.similarity, False)
            for c in candidates
            if _accept(c)
            and _placed_well(c, doc)
            and _keeps_negation(c, doc)
            and _keeps_why(c, doc)
            and _keeps_pronouns(c.pattern.form, doc, c.start, c.end)
            and c.end - c.start >= c.pattern.length - 1
        ]
        if pattern.length >= 5:
            spans += [
                (s, e, 0.9, True)
                for s, e in _reordered(doc, pattern)
                if _keeps_pronouns(pattern.form, doc, s, e)
                and not _adds_negation(pattern.form, doc, s, e)
                and not _negation_moved(pattern.form, doc, s, e)
                and not any(min(e, e2) > max(s, s2) for s2, e2, _, _ in spans)
            ]
        if not spans:
            continue
        core = compile_phrasing(entry.phrase, (), fillers).form
        core_exceptions = (
            [t for t in _exception_phrases(entry, core, tuple(polite_phrases), tuple(fillers)) if EXCEPTION_GAP not in t]
            if core != pattern.form
            else []
        )  # a gap exception (不知道…也没关系) applies only to the phrasings it holds: 我不知道，也没关系 is not it
        for s, e, sim, moved in spans:
            if _excepted(doc, s, e, pattern.form, exceptions, fillers):
                continue
            # a variant holding the entry's own phrase (我也不知道 holds 不知道) is excepted as that
            # phrase would be: 也不知道您有没有空 is 不知道您…, a polite question
            k = doc.form.find(core, s, e) if core_exceptions else -1
            if k >= 0 and _excepted(doc, k, k + len(core), core, core_exceptions, fillers):
                continue
            matches.append(ForbiddenMatch(entry, s, e, sim, pattern.text, reordered=moved))
    matches += _interjection_homophones(entries, doc, fillers)
    return _merge_same_entry(_dedupe(matches, doc), doc)


def _interjection_homophones(entries: Sequence[ForbiddenEntry], doc: Doc, fillers: Sequence[str]) -> list[ForbiddenMatch]:
    """One-character phrasings (喂) written as a homophone, opening a short question (see module doc)."""
    matches: list[ForbiddenMatch] = []
    bounds = word_boundaries(doc)
    for entry in entries:
        for text in entry.all_phrasings:
            form = compile_phrasing(text, (), fillers).form
            if len(form) != 1:
                continue
            sound = encode(form, strict=True)
            for start, char in enumerate(doc.form):
                if char == form or not doc.clause_start[start] or doc.pin_strict[2 * start : 2 * start + 2] != sound:
                    continue
                _, end = doc.clause_bounds(start)
                rest = doc.form[start + 1 : end]
                alone = not rest  # "为，干嘛呢？": a clause of its own
                short_question = (
                    len(rest) <= INTERJECTION_QUESTION_REACH
                    and any(word in rest for word in QUESTION_WORDS)
                    and not rest.startswith("您")
                )
                greeting = _tokens(doc.form[start:end])[1:2] in (("您好",), ("你好",))  # 为您好，这里是…
                calling = len(rest) <= INTERJECTION_QUESTION_REACH and rest.endswith(CALLED_WORDS + UNIT_WORDS)
                if start + 1 in bounds and (alone or short_question or greeting or calling):
                    matches.append(ForbiddenMatch(entry, start, start + 1, 0.9, text, homophone=True))
    return matches


def _severity_rank(entry: ForbiddenEntry) -> int:
    return SEVERITIES.index(entry.severity) if entry.severity in SEVERITIES else 0


def _dedupe(matches: list[ForbiddenMatch], doc: Doc) -> list[ForbiddenMatch]:
    """Overlapping hits are one phrase said once: keep one within its clause (随便，你要哪个都行 says 随便,
    not 随便你), then the longest, then most severe, then most similar."""
    matches.sort(key=lambda m: (_runs_over_a_clause(m, doc), -(m.end - m.start), -_severity_rank(m.entry), -m.similarity))
    kept: list[ForbiddenMatch] = []
    for m in matches:
        if all(min(m.end, k.end) <= max(m.start, k.start) for k in kept):
            kept.append(m)
        elif not any(k.entry.id == m.entry.id for k in kept) and all(
            min(m.end, k.end) - max(m.start, k.start) < (m.end - m.start) / 2 for k in kept
        ):
            kept.append(m)
    kept.sort(key=lambda m: m.start)
    return kept


def _runs_over_a_clause(match: ForbiddenMatch, doc: Doc) -> bool:
    """The hit's words run over a clause start (punctuation or a pause) that its phrasing does not have."""
    return any(doc.clause_start[k] for k in range(match.start + 1, match.end)) and not PHRASING_PUNCTUATION.search(match.phrasing)


SAME_ENTRY_GAP = 4  # characters between two hits of one entry that are one saying of it


def _merge_same_entry(matches: list[ForbiddenMatch], doc: Doc) -> list[ForbiddenMatch]:
    """Two parts of one entry said together (我们也没有办法，要不就这样吧) are one hit, not two."""
    merged: list[ForbiddenMatch] = []
    for m in matches:  # sorted by start
        previous = next((k for k in reversed(merged) if k.entry.id == m.entry.id), None)
        if (
            previous is not None
            and 0 <= m.start - previous.end <= SAME_ENTRY_GAP
            and doc.turn_at(previous.start, previous.end) == doc.turn_at(m.start, m.end)
        ):
            merged[merged.index(previous)] = ForbiddenMatch(
                previous.entry, previous.start, m.end, max(previous.similarity, m.similarity), previous.phrasing,
                previous.homophone, previous.reordered and m.reordered,
            )
        else:
            merged.append(m)
    return merged
