"""Own words that answer the customer's line: thanks said to a customer who hands something over performs
接收资料并致谢 (Step.on_handover); a time said to a customer asking when performs a step that promises one."""

from __future__ import annotations

from trainer.asr.base import Transcript
from trainer.config import load_settings
from trainer.phrasebook.model import Lexicon, Scenario, Slot, Step
from trainer.pipeline import load_library
from trainer.scoring.document import TurnText
from trainer.scoring.score import score_turn_texts

GREET = Step("greet", "问候", ("您好！",), keywords=(("您好",),))
RECEIVE = Step(
    "receive_documents",
    "双手接收资料并致谢",
    ("收到您的身份证和房产证明，谢谢。",),
    keywords=(("收到",),),
    on_handover=("谢谢", "多谢"),
)
BUSINESS = Scenario("business", "业务办理", "counter", "", (GREET, RECEIVE))
LEXICON = Lexicon(handover_words=("给你", "递", "都在"), when_words=("几点", "多久", "什么时候"))
RESTORE = Step(
    "inform_restore_time",
    "告知恢复供电时间",
    ("预计{time}恢复供电。",),
    keywords=(("恢复", "来电"),),
    slots=(Slot("time", "time"),),
)
OUTAGE = Scenario("outage_enquiry", "停电咨询", "hotline", "", (GREET, RESTORE))


def answered(scenario: Scenario, step_id: str, customer: str, clerk: str):
    """The step after a greeting turn and a turn of `clerk` answering `customer`."""
    turns = [TurnText(Transcript(text="您好。"), customer="你好。"), TurnText(Transcript(text=clerk), customer=customer)]
    result = score_turn_texts(turns, scenario, (), LEXICON)
    return next(s for s in result.steps if s.id == step_id)


def receive(customer: str, clerk: str):
    return answered(BUSINESS, "receive_documents", customer, clerk)


def test_thanks_to_a_customer_handing_over_documents_performs_the_step() -> None:
    step = receive("都带了，给你。", "谢谢。您是张秀英本人吧？")
    assert (step.status, step.evidence, step.turn) == ("hit", "content", 2)
    assert step.certain


def test_a_handover_in_a_stage_direction_counts_too() -> None:
    assert receive("（递上身份证和房产证）", "好，多谢您。").status == "hit"


def test_thanks_for_anything_else_is_only_courtesy() -> None:
    courtesy = receive("我想办个过户。", "好的，谢谢您。")
    # not performed by the thanks: at most a guess that the free turn said it in unknown words
    assert courtesy.evidence == "own_turn" and not courtesy.certain
    assert receive("都带了，给你。", "您稍等，我录一下。").evidence == "own_turn", "a handover answered without thanks"


def test_a_step_without_on_handover_words_takes_no_such_evidence() -> None:
    plain = Scenario("business", "业务办理", "counter", "", (GREET, Step("receive_documents", "接收资料", ("收到您的资料。",), keywords=(("收到",),))))
    turns = [TurnText(Transcript(text="谢谢。"), customer="给你。")]
    result = score_turn_texts(turns, plain, (), LEXICON)
    assert next(s for s in result.steps if s.id == "receive_documents").status == "missed"


def test_the_shipped_library_answers_its_own_customer_line() -> None:
    # in practice the turn answers the scenario's own line: 都带来了，给你。（递上资料）
    library = load_library(load_settings())
    step = next(s for s in library.scenario("business").steps if s.id == "receive_documents")
    assert step.on_handover and any(word in step.customer for word in library.lexicon.handover_words)


def restore(customer: str, clerk: str):
    return answered(OUTAGE, "inform_restore_time", customer, clerk)


def test_a_time_said_to_a_customer_asking_when_is_the_promise() -> None:
    step = restore("那几点能来电？", "下午五点。都写着呢。")
    assert (step.status, step.evidence, step.certain) == ("hit", "content", True)
    assert restore("要停多久啊？", "两个钟头。").status == "hit"


def test_no_time_or_no_question_is_no_promise() -> None:
    assert restore("那几点能来电？", "检修完了就会来电的。").evidence == "untimed", "the promise without its time"
    assert restore("那几点能来电？", "您好，95598。").status == "missed", "a bare number is no time"
    assert restore("我家停电了。", "下午五点。").status == "missed", "nobody asked when"
