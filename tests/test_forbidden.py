"""Forbidden phrases: found with recogniser noise, never on polite speech, exceptions respected."""

from __future__ import annotations

import pytest

from trainer.asr.base import Transcript, Word
from trainer.phrasebook.model import ForbiddenEntry, Lexicon, Scenario, Step
from trainer.scoring.document import TurnText, build_doc
from trainer.scoring.forbidden import find_forbidden, hit_evidence
from trainer.scoring.score import score_turn_texts

DONT_KNOW = ForbiddenEntry(
    "dont_know", "不知道", "major", "推诿", "对不起，这个问题我帮您确认一下。",
    variants=("我不知道",), exceptions=("不知道您", "不知道是否"),
)
WEI = ForbiddenEntry("wei", "喂", "major", "不礼貌", "您好，这里是供电服务热线。")
WHO = ForbiddenEntry("who_do_you_want", "你找谁", "major", "生硬", "请问您找哪位？", exceptions=("请问您找谁",))
WHATEVER = ForbiddenEntry("whatever", "随便", "major", "敷衍", "您可以根据需要选择。", exceptions=("不会随便",))
CLOSING = ForbiddenEntry("closing_hurry", "该下班了你快点", "major", "催促", "请您稍等，我马上为您办理。")
NOT_MY_BUSINESS = ForbiddenEntry("not_my_business", "这不是我的事情", "critical", "推诿", "这件事我帮您联系相关部门。")
ENTRIES = (DONT_KNOW, WEI, WHO, WHATEVER, CLOSING, NOT_MY_BUSINESS)


def found(*texts: str, polite: tuple[str, ...] = ()) -> list[str]:
    doc = build_doc([TurnText(Transcript(text=t)) for t in texts])
    return [m.entry.id for m in find_forbidden(ENTRIES, doc, polite)]


def test_plain_forbidden_phrases_found() -> None:
    assert found("不知道，你自己看。") == ["dont_know"]
    assert found("喂，你找谁？") == ["wei", "who_do_you_want"]
    assert found("随便。") == ["whatever"]
    assert found("这不是我的事情。") == ["not_my_business"]


def test_recogniser_noise_still_found() -> None:
    assert found("不知到") == ["dont_know"]  # homophone 道/到
    assert found("這不是我的事情") == ["not_my_business"]  # traditional characters
    assert found("这不是我地事情") == ["not_my_business"]  # one wrong character in seven
    assert found("喂 你 找 谁") == ["wei", "who_do_you_want"]  # Vosk spacing


def test_a_wrong_character_counts_only_when_it_sounds_alike() -> None:
    rule = ForbiddenEntry("its_the_rule", "这是规定", "major", "生硬", "根据规定需要这样办理。", variants=("没有为什么",))

    def said(text: str) -> list[str]:
        return [m.entry.id for m in find_forbidden((rule,), build_doc([TurnText(Transcript(text=text))]))]

    assert said("没有为什么，就这样。") == ["its_the_rule"]
    assert said("没有喂什么，就这样。") == ["its_the_rule"]  # 喂 for 为: a recogniser's slip
    assert said("您最近没有添什么大电器？") == []  # 添 is another word, not a slip
    assert found("这不是我的事清") == ["not_my_business"]  # 清 for 情


def test_reordered_words_found() -> None:
    assert found("五十二元，快点，该下班了。") == ["closing_hurry"]


def test_reordered_words_stay_in_one_sentence() -> None:
    no_way = ForbiddenEntry("no_way", "我们也没有办法", "major", "推诿", "我帮您想想办法。")
    assert found_in((no_way,), "办法嘛，我们也没有。") == ["no_way"]  # reordered across a comma: one sentence
    assert found_in((no_way,), "您说的那个办法？我们这儿没有。") == []  # across a question: two sentences


def test_reordered_words_stay_close_together() -> None:
    rule = ForbiddenEntry("its_the_rule", "这是规定", "major", "推诿", "我给您解释一下。", variants=("规定就这样",))
    assert found_in((rule,), "就这样，规定嘛。") == ["its_the_rule"]  # reordered, close together
    assert found_in((rule,), "是这样，按照供水的规定，表后漏水也要计量。") == []  # 这样…规定 far apart: an explanation


def test_a_variant_holding_the_phrase_takes_its_polite_exceptions() -> None:
    # 我也不知道 holds 不知道: 也不知道您有没有空 is the polite 不知道您…, 我也不知道，你… is not
    entries = (dataclasses_replace(DONT_KNOW, variants=("我不知道", "我也不知道")),)
    assert found_in(entries, "那天也不知道您有没有空，我们可以改个时间。") == []
    assert found_in(entries, "这个我也不知道，你去问别人。") == ["dont_know"]
    assert found_in(entries, "我也不知道，您去问别人吧。") == ["dont_know"]  # 不知道，您… is two clauses


def test_polite_speech_is_not_flagged() -> None:
    assert found("不知道您方便留个电话吗？") == []  # exception 不知道您
    assert found("我帮您确认一下，请稍等。") == []
    assert found("请问您找谁？") == []  # 您, not 你
    assert found("您找谁？我帮您转接。") == []
    assert found("我们不会随便收费。") == []
    assert found("您好，这里是供电服务热线，为您服务。") == []  # 为 is not 喂
    assert found("知道了，我马上处理。") == []  # near miss of 不知道
    assert found("喂养宠物要注意用电安全。") == []  # 喂 inside a word
    assert found("随便宜") == ["whatever"] or found("随便宜") == []  # either is acceptable; never crashes


def test_exception_needs_the_polite_words_in_the_same_clause() -> None:
    assert found("不知道你是谁") == ["dont_know"]  # 你, not 您
    assert found("不知道。您自己看吧") == ["dont_know"]  # 您 starts a new clause


def test_standard_phrase_containing_the_text_is_not_flagged() -> None:
    polite = ("如果您不知道户号，可以报姓名和地址。",)
    assert found("如果您不知道户号，可以报姓名和地址。", polite=polite) == []
    assert found("不知道。", polite=polite) == ["dont_know"]


def test_hits_carry_turn_time_severity_and_suggestion() -> None:
    step = Step("greet", "问候", ("您好",))
    scenario = Scenario("t", "测试", "counter", "", (step,))
    t1 = Transcript(text="您好", words=(Word("您好", 0.0, 0.5),), duration=1.0)
    t2 = Transcript(text="这不是我的事情", words=(Word("这", 0.2, 0.3), Word("不是", 0.3, 0.6), Word("我的", 0.6, 0.9), Word("事情", 0.9, 1.3)), duration=1.5)
    result = score_turn_texts([TurnText(t1, "1.wav"), TurnText(t2, "2.wav")], scenario, ENTRIES, Lexicon())
    [hit] = result.forbidden
    assert hit.id == "not_my_business" and hit.turn == 2 and hit.severity == "critical"
    assert abs(hit.start - 1.2) < 0.01
    assert hit.suggestion == NOT_MY_BUSINESS.replacement
    assert hit.matched_text == "这不是我的事情"
    assert not result.passed  # critical
    assert any("这不是我的事情" in line and NOT_MY_BUSINESS.replacement in line for line in result.feedback)


def test_shipped_forbidden_list_no_false_alarms_on_standard_phrases() -> None:
    """No phrasing of any shipped scenario triggers a forbidden phrase of that scenario."""
    from trainer.config import Settings
    from trainer.pipeline import load_library

    library = load_library(Settings())
    for scenario in library.scenarios.values():
        entries = library.forbidden_for(scenario.id)
        polite = [p for s in scenario.steps for p in s.all_phrasings]
        for step in scenario.steps:
            for phrasing in step.all_phrasings:
                doc = build_doc([TurnText(Transcript(text=phrasing.replace("{", "").replace("}", "")))])
                hits = find_forbidden(entries, doc, polite)
                assert not hits, f"{scenario.id}/{step.id}: {phrasing!r} flagged as {[h.entry.phrase for h in hits]}"


NOT_MY_PROBLEM = ForbiddenEntry("not_my_problem", "不是我的问题", "major", "推诿", "这件事我帮您查一下。")
CONCESSIVE = ForbiddenEntry(
    "dont_know", "不知道", "major", "推诿", "我帮您确认一下。",
    variants=("我不知道",), exceptions=("不知道…没关系", "不知道…也可以", "不知道……不要紧"),
)


def found_in(entries: tuple[ForbiddenEntry, ...], *texts: str) -> list[str]:
    doc = build_doc([TurnText(Transcript(text=t)) for t in texts])
    return [m.entry.id for m in find_forbidden(entries, doc)]


def test_fuzzy_match_keeps_the_personal_pronouns() -> None:
    # 我 -> 您/你 changes who is meant: one character off, but not the forbidden phrase
    assert found("这不是您的事情，是系统的原因。") == []
    assert found("这不是你的事情") == []
    assert found_in((NOT_MY_PROBLEM,), "这个不是您的问题呀") == []
    assert found_in((NOT_MY_PROBLEM,), "不是他的问题") == []
    # the pronoun said (even misheard as its homophone) still counts; other words may be off
    assert found_in((NOT_MY_PROBLEM,), "不是我的问题") == ["not_my_problem"]
    assert found_in((NOT_MY_PROBLEM,), "不是卧的问题") == ["not_my_problem"]
    assert found("这不是我的事清") == ["not_my_business"]


def test_concessive_dont_know_is_reassurance() -> None:
    entries = (CONCESSIVE,)
    assert found_in(entries, "您不知道账号也没关系，说地址也能查。") == []
    assert found_in(entries, "您要是不知道具体地址，也没关系。") == []  # across a comma, gap of 6
    assert found_in(entries, "不知道户号也可以办。") == []
    assert found_in(entries, "不知道户号不要紧。") == []  # "……" is one gap
    # the rest must follow within GAP_REACH characters, in the same turn
    assert found_in(entries, "不知道，这些事情我一概都不清楚，反正没关系") == ["dont_know"]
    assert found_in(entries, "不知道。", "没关系。") == ["dont_know"]
    # the bare answer and the first-person variant are still forbidden
    assert found_in(entries, "不知道。") == ["dont_know"]
    assert found_in(entries, "我不知道，也没关系。") == ["dont_know"]


def test_gap_exception_validation(tmp_path) -> None:
    from trainer.phrasebook import load_library

    text = (
        "forbidden:\n  - id: dont_know\n    phrase: 不知道\n    severity: major\n    reason: 推诿\n"
        "    replacement: 我帮您确认一下\n    exceptions:\n      - 不知道…也没关系\n      - …不知道\n"
    )
    (tmp_path / "f.yaml").write_text(text, encoding="utf-8")
    library = load_library([tmp_path], {})
    [problem] = library.problems
    assert (problem.line, problem.field) == (9, "forbidden[dont_know].exceptions[1]")
    assert "…" in problem.message


def test_wait_with_its_purpose_is_guidance_not_the_curt_command() -> None:
    from trainer.config import Settings
    from trainer.pipeline import load_library

    entries = load_library(Settings()).forbidden
    assert found_in(entries, "您就在那儿等着，叫到您的号再过来。") == []
    assert found_in(entries, "一边等着叫号就行。") == []
    assert found_in(entries, "您坐那儿等着，听到叫三十二号就到五号窗口。") == []
    assert found_in(entries, "取了号等着叫到您。") == []
    assert found_in(entries, "在那儿等着！") == ["just_wait"]
    assert found_in(entries, "等着吧。") == ["just_wait"]


def test_reordered_words_each_in_their_own_place() -> None:
    # 这不是我的事 reordered needs 这, 不是 and 事: the 是 of 不是 sounds like 事 but is not a word of its own
    entries = (dataclasses_replace(NOT_MY_BUSINESS, variants=("这不是我的事",)),)
    assert found_in(entries, "这不是您操作的问题，是线路故障。") == []
    assert found_in(entries, "事情？这不是我的。") == ["not_my_business"]


def dataclasses_replace(entry: ForbiddenEntry, **changes: object) -> ForbiddenEntry:
    import dataclasses

    return dataclasses.replace(entry, **changes)  # type: ignore[arg-type]


def test_wei_written_as_a_homophone_opening_a_short_question() -> None:
    # The recogniser heard "wèi" with no pause and wrote a more frequent character.
    assert found("為交什麼") == ["wei"]
    assert found("位你找谁？") == ["wei", "who_do_you_want"] or found("位你找谁？") == ["who_do_you_want", "wei"]
    assert found("户号。", "为，干嘛呢？") == ["wei"]
    # Polite 为 / 位 / 未 never: a word (为什么), addressed with 您, a longer clause, not a question.
    for text in (
        "为什么要交这么多呢？",
        "为您办什么呢？",
        "为方便您办理，请问您带身份证了吗？",
        "为您查询一下，请稍等。",
        "为确保用电安全，请问您家里有人吗",
        "位置在哪？",
        "未交的费用是多少？",
    ):
        assert found(text) == [], text


def test_wei_homophone_before_the_greeting_word() -> None:
    assert found("为您好,这里是供电营业厅") == ["wei"]
    assert found("为您好好查一下，请稍等。") == []
    assert found("这是为您好，请您理解。") == []


def test_an_added_negation_flips_the_meaning() -> None:
    internal = ForbiddenEntry("internal", "这是你家里的问题", "major", "推开客户", "这可能是您家里的线路问题，我先教您检查一下。")
    cannot = ForbiddenEntry("cannot_solve", "这事解决不了", "major", "不回应", "我马上向相关部门反映。")
    assert found_in((internal, cannot), "这是你家里的问题。") == ["internal"]
    assert found_in((internal, cannot), "这不是您家里内部的问题，是外面线路的故障。") == []
    assert found_in((internal, cannot), "您放心，这事不会解决不了的。") == []
    assert found_in((internal, cannot), "这事解决不了。") == ["cannot_solve"]


def test_two_parts_of_one_entry_said_together_are_one_hit() -> None:
    cannot = ForbiddenEntry("we_cannot_help", "我们也没有办法", "major", "推诿", "我帮您想想办法。", variants=("要不就这样吧",))
    assert found_in((cannot,), "我们也没有办法，要不就这样吧。") == ["we_cannot_help"]
    assert found_in((cannot,), "我们也没有办法。", "要不就这样吧。") == ["we_cannot_help", "we_cannot_help"]  # two turns


def test_wei_homophone_calling_someone_or_answering_with_the_unit() -> None:
    assert found("為那位大姐，进门先取号啊") == ["wei"]
    assert found("為公電所") == ["wei"]
    assert found("为供电所全体同事争光。") == []  # a longer clause: the preposition 为
    assert found("为那位大姐办好了。") == []


def test_shipped_list_polite_lookalikes_from_recogniser_text() -> None:
    from trainer.config import Settings
    from trainer.pipeline import load_library

    library = load_library(Settings())
    entries = library.forbidden

    def ids(text: str) -> list[str]:
        return [m.entry.id for m in find_forbidden(entries, build_doc([TurnText(Transcript(text=text))]))]

    # 您 written as 你 in a polite question; the A-not-A question keeps it polite.
    assert "dont_know" not in ids("不知道你要播的是不是书店的门市部")
    assert "dont_know" not in ids("不知道你手上有没有物业缴费单")
    assert "dont_know" in ids("不知道你自己看")
    assert "dont_know" in ids("不知道，你自己看看有没有")
    assert ids("那边有饮水机和老花镜，您随便用") == []
    assert "whatever" in ids("您随便吧")


def test_a_hit_within_its_clause_wins_over_a_longer_one_running_over_a_comma() -> None:
    # 随便，你要哪个都行 says 随便 alone in its clause, not the variant 随便你 (which runs over the comma):
    # alone in its clause, the hit is sure evidence (decide.FORBIDDEN_CONFIDENCE)
    whatever = ForbiddenEntry("whatever", "随便", "major", "敷衍", "您可以根据需要选择。", variants=("随便你",))
    doc = build_doc([TurnText(Transcript(text="随便，你挑哪个都行。"))])
    [hit] = find_forbidden((whatever,), doc)
    assert (hit.start, hit.end, hit.phrasing) == (0, 2, "随便")
    doc = build_doc([TurnText(Transcript(text="随便你挑哪个。"))])  # no comma: the variant is said
    [hit] = find_forbidden((whatever,), doc)
    assert hit.phrasing == "随便你"


def test_a_phrase_that_refuses_to_say_why_needs_its_why() -> None:
    rule = ForbiddenEntry("its_the_rule", "这是规定", "major", "生硬", "我给您解释一下原因。", variants=("没有为什么",))
    assert found_in((rule,), "家里有没有什么电器在冒烟？") == []  # 没有什么 is not 没有为什么
    assert found_in((rule,), "没有为什么。") == ["its_the_rule"]
    assert found_in((rule,), "没有位什么。") == ["its_the_rule"]  # the recogniser's homophone still asks why


def said_in(scenario: str, text: str) -> list[str]:
    """The shipped 忌语 counted in `text` (one turn) when said in `scenario`."""
    from trainer.config import Settings
    from trainer.pipeline import load_library

    entries = load_library(Settings()).forbidden_for(scenario)
    doc = build_doc([TurnText(Transcript(text=text))])
    return [m.entry.id for m in find_forbidden(entries, doc) if hit_evidence(m, doc) in ("short_alone", "phrase_alone", "phrase_embedded")]


SHIPPED_SAID = {
    # the reproach and the brush-offs (each performs the step whose purpose it still meets)
    "complaint": (
        {
            "行了行了，别嚷嚷，坐那儿说。": "stop_shouting",
            "查出来是您自己用的，可别再来闹了。": "stop_shouting",
            "行，等着。": "just_wait",
            "行了，走吧。": "go_away",
            "干啥的？": "what_for",
        },
        (
            "您别着急，慢慢说。", "您稍等着，我马上查。", "让您等着急了，真不好意思。", "您先挂了重拨，不耽误您。", "您好，有啥事？",
            "修好了您回家等着来电就行。", "材料齐了，回去等着通知。",  # what the customer waits for: what comes next
        ),
    ),
    # paraphrases of the seed's entries
    "closing_time": (
        {
            "都五点半了，下班了你快点。": "closing_hurry",
            "到点了，快点快点。": "closing_hurry",
            "随你，爱写哪个写哪个。": "whatever",
            "你要投诉就去投诉。": "go_complain",
        },
        ("随你们方便，哪天来都行。", "您别急，到点了我们也给您办完。", "我们会跟随你的进度及时回复。"),
    ),
    # dialect forms of the seed's entries: 不晓得 and Cantonese 唔知 (不知道), 上头 (领导), 哪个 for 谁 (southwest)
    "unreasonable_customer": (
        {
            "不晓得。": "dont_know",
            "唔知啊，系统就系咁计嘅。": "dont_know",
            "欠费停电，这是上头定的，跟我说没用。": "leaders_decision",
            "你问我，我去问哪个？": "ask_who",
            "管这个的没上班，明天再说吧。": "not_on_duty",
            "那不是俺的事情。": "not_my_business",  # 俺 is 我
            "几点来电我哪晓得，修好了就来了。": "dont_know",  # a rhetorical 不知道
            "随便你们怎么讲，反正就这样。": "whatever",
        },
        (
            "不晓得您家里有没有户口本？", "您要是不晓得户号，也没关系。", "不晓得你方不方便明天来？",
            "电价是国家统一定的，我给您讲一下。", "我帮您问问是哪个部门管。", "这不是侬的事情，是系统的原因。",
            "刚才系统不知道怎么回事卡住了，现在好了。",
            "户号不知道没事，说个门牌号我也能查。", "有啥不清楚的再打电话问。",
        ),
    ),
    # orders and reproaches with no seed wording: the manner a strict instructor fails (窗口行业常见忌语)
    "fault_report": (
        {
            "说重点，哪儿停电了？": "order_to_speak",
            "地址说完整。": "order_to_speak",
            "说吧，什么事？": "order_to_speak",
            "讲清楚点，几栋几单元？": "order_to_speak",
            "好好好，对不起，行了吧。": "grudging_apology",
            "对不起行了吧，记下了。": "grudging_apology",  # the apology negates nothing
            "跟你讲过好多次了，那是计划检修。": "told_you_already",
        },
        (
            "您慢慢说吧，我记着。", "请说吧，我在听。", "我跟您说吧，这一片都在检修。", "您说吧，是哪个小区？",
            "师傅到了会把原因说清楚。", "这样处理您看行不行？", "材料我都跟您说全了，您记一下。",
            # the words of 不好意思行了吧 in another order, 行 only inside another word or another question
            "不好意思，这一行我看错了，马上改。", "不好意思，您看这样行不行？",
        ),
    ),
    "outage_enquiry": (
        {"停电通知上周就贴在楼下了，自己不看。": "its_written"},
        ("通知贴在楼道里了，您有空可以看一下。", "您自己看不清的话，我念给您听。"),
    ),
    "reception": (
        {"这都不会？按这个键。": "belittle_customer"},
        ("这个机器您要是不会用，我来帮您按。",),
    ),
}


@pytest.mark.parametrize("scenario", sorted(SHIPPED_SAID))
def test_shipped_list_words_but_not_their_polite_look_alikes(scenario: str) -> None:
    forbidden, polite = SHIPPED_SAID[scenario]
    for text, entry in forbidden.items():
        assert said_in(scenario, text) == [entry], text
    for text in polite:
        assert said_in(scenario, text) == [], text


def test_a_no_before_a_hit_that_opens_with_its_own_subject_negates_nothing() -> None:
    """嫌我态度不好你去投诉吧: the 不 belongs to 不好; 没有我挂了: "nothing else? then I hang up". A copula still
    reaches over the subject."""
    from trainer.config import Settings
    from trainer.pipeline import score_turns
    from trainer.scoring.forbidden import NEGATED

    for text, phrase in [("嫌我态度不好你去投诉吧。", "你去投诉吧"), ("还有事没有？没有我挂了啊。", "我先挂了")]:
        result = score_turns([TurnText(Transcript(text=text))], "complaint", Settings())
        assert [h.phrase for h in result.forbidden] == [phrase] and result.forbidden[0].evidence != NEGATED
    result = score_turns([TurnText(Transcript(text="这可不是领导定的，是国家规定。"))], "water_policy_explain", Settings())
    assert not result.forbidden and [h.evidence for h in result.forbidden_doubtful] == [NEGATED]


def test_a_negation_reaches_a_reordered_hit_and_a_copula_one_that_holds_its_own() -> None:
    from trainer.config import Settings
    from trainer.pipeline import score_turns
    from trainer.scoring.forbidden import NEGATED

    for text in ("不是说该下班了就催您快点，您来了我们就给您办完。", "不是没有办法，办法是有的：您扫码交了我马上复电。"):
        result = score_turns([TurnText(Transcript(text=text))], "closing_time", Settings())
        assert not result.forbidden and [h.evidence for h in result.forbidden_doubtful] == [NEGATED], text
    # 没 before a hit that says 没 itself is no copula: still counted
    result = score_turns([TurnText(Transcript(text="我们也没有办法。"))], "closing_time", Settings())
    assert [h.phrase for h in result.forbidden] == ["我们也没有办法"]


def test_words_reported_as_said_to_someone_are_quoted() -> None:
    """他跟您说我就这个态度 (the quotation marks lost in recognised speech): the colleague's words, reported."""
    from trainer.config import Settings
    from trainer.pipeline import score_turns
    from trainer.scoring.forbidden import QUOTED

    result = score_turns([TurnText(Transcript(text="他跟您说我就这个态度，这确实是我们做得不对。"))], "complaint", Settings())
    assert not result.forbidden and [h.evidence for h in result.forbidden_doubtful] == [QUOTED]
    result = score_turns([TurnText(Transcript(text="我跟您说我就这个态度。"))], "complaint", Settings())
    assert [h.phrase for h in result.forbidden] == ["我就这个态度"]


def test_words_after_a_colleagues_said_are_theirs_until_the_clerk_speaks_again() -> None:
    """那个同事没好好给您解释还说了就我就这个态度 (recognised speech: 说了句 heard as 说了就, no quotation marks)."""
    from trainer.config import Settings
    from trainer.pipeline import score_turns
    from trainer.scoring.forbidden import QUOTED

    text = "那个同事没好好给您解释还说了就我就这个态度是吧"
    result = score_turns([TurnText(Transcript(text=text))], "complaint", Settings())
    assert not result.forbidden and [h.evidence for h in result.forbidden_doubtful] == [QUOTED]
    result = score_turns([TurnText(Transcript(text="同事跟我说了半天，我说了我就这个态度。"))], "complaint", Settings())
    assert [h.phrase for h in result.forbidden] == ["我就这个态度"]


def test_a_negation_in_reordered_words_keeps_what_it_negates() -> None:
    """Words of a phrasing said in another order are that phrasing only if each 不/没 still stands by a word
    it stands by there, or before the word it negates there: 您看这样要得不 is no 要不就这样吧, 这事不是解决不了
    no 这不是我的事; 办法嘛，我们也没有 is 我们也没有办法 (the topic said first)."""
    give_up = ForbiddenEntry("we_cannot_help", "我们也没有办法", "major", "放弃", "我帮您想办法。", variants=("要不就这样吧",))
    assert found_in((give_up,), "您看这样要得不：明天我让师傅上门。") == []
    assert found_in((give_up,), "办法嘛，我们也没有。") == ["we_cannot_help"]
    assert found("您这事情不是办不了，我来想办法。") == []
    assert found("不是说这事情难办，是得先核实一下。") == []
    assert found("事情办不了，这不是我的事。") == ["not_my_business"]


def test_a_clause_whose_subject_is_nobody_denies_the_words_in_it() -> None:
    from trainer.config import Settings
    from trainer.pipeline import score_turns
    from trainer.scoring.forbidden import NEGATED

    for scenario, text in [
        ("closing_time", "大爷您坐，我们这儿没人会因为该下班了就催您。"),
        ("water_policy_explain", "这个收费标准不是我们哪个领导定的，是物价部门核定的。"),  # two determiners before the hit
    ]:
        result = score_turns([TurnText(Transcript(text=text))], scenario, Settings())
        assert not result.forbidden and [h.evidence for h in result.forbidden_doubtful] == [NEGATED], text


def test_offering_to_talk_later_is_no_brush_off() -> None:
    assert said_in("repeat_request", "您那边要是忙，等会儿再说也可以，我记着。") == []
    assert said_in("repeat_request", "没上班，等会儿再说。") == ["not_on_duty"]


def test_a_question_reported_or_words_named_as_a_saying_are_quoted() -> None:
    """她问您你懂不懂 (the quotation marks lost in recognised speech): her question, reported; 不存在这不是我的事情的说法:
    the words named, not said. The clerk's own question, or words a later clause comments on, still count."""
    from trainer.config import Settings
    from trainer.pipeline import score_turns
    from trainer.scoring.forbidden import QUOTED

    for scenario, text in [
        ("meter_doubt", "阿姨您别生气，她问您你懂不懂，这确实说得不对。"),
        ("referral", "这不是我的事情的说法，在我们这儿行不通。"),
    ]:
        result = score_turns([TurnText(Transcript(text=text))], scenario, Settings())
        assert not result.forbidden and [h.evidence for h in result.forbidden_doubtful] == [QUOTED], text
    for scenario, text, phrase in [("meter_doubt", "我问你，你懂不懂？", "你懂不懂"), ("referral", "这不是我的事情，这话我说过了。", "这不是我的事情")]:
        result = score_turns([TurnText(Transcript(text=text))], scenario, Settings())
        assert [h.phrase for h in result.forbidden] == [phrase], text


def test_a_yes_or_no_question_negates_nothing_and_can_be_a_short_hits_topic() -> None:
    """去不去随你: "whether you go is up to you", the brush-off with its topic first; the 不 of a verb-not-verb
    question negates nothing after it, and the question alone before a short hit leaves it as good as alone."""
    assert said_in("meter_doubt", "验不验随你，我话说到了。") == ["whatever"]
    assert said_in("meter_doubt", "办不办手续随便你。") == ["whatever"]
    assert said_in("reception", "您要不要随便看看资料架？") == []
    assert said_in("meter_doubt", "我们不会随便给您定结论。") == []


def test_asking_back_how_one_would_know_is_dont_know() -> None:
    """我咋晓得 / 我怎么知道: "how would I know", the rhetorical 不知道; not a question about how one knew, nor a
    customer's question reported, nor the words reordered into a statement (他们晓得怎么报)."""
    assert said_in("outage_enquiry", "几点来电我怎么知道，等通知吧。") == ["dont_know"]
    assert said_in("outage_enquiry", "啥时候修好我咋个晓得嘛。") == ["dont_know"]
    assert said_in("outage_enquiry", "我怎么知道的？停电公告上写着。") == []
    assert said_in("outage_enquiry", "您问我怎么知道要停电，是短信通知的。") == []
    from trainer.config import Settings
    from trainer.pipeline import score_turns

    result = score_turns([TurnText(Transcript(text="您去街道办问一下，他们晓得怎么报。"))], "referral", Settings())
    assert not result.forbidden and not result.forbidden_doubtful
