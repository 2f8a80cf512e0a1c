"""Score dimensions, pass/fail rules, weights, fluency from timings, feedback, the JSON contract."""

from __future__ import annotations

import dataclasses
import json

import pytest

from trainer.asr.base import Transcript, Word
from trainer.config import Settings
from trainer.errors import ScenarioNotFoundError, TrainerError
from trainer.phrasebook.model import ForbiddenEntry, Lexicon, Scenario, Step
from trainer.pipeline import score_text, score_turns
from trainer.scoring.document import TurnText
from trainer.scoring.result import ScoreResult
from trainer.scoring.score import score_turn_texts

GREET = Step("greet", "一笑：问候", ("您好！",), keywords=(("您好", "你好"),))
ASK = Step("ask_need", "问需求", ("请问有什么可以帮您？",))
BYE = Step("farewell", "道别", ("请慢走，再见！",), keywords=(("再见",),))
OPTIONAL = Step("more", "其他业务", ("请问还需要办理其他业务吗？",), required=False, weight=0.5)
SCENARIO = Scenario("s", "测试场景", "counter", "", (GREET, ASK, OPTIONAL, BYE))
MINOR = ForbiddenEntry("say_what", "你说什么", "minor", "生硬", "对不起，请您再说一遍。")
CRITICAL = ForbiddenEntry("enough", "有完没完", "critical", "顶撞", "请您慢慢说。")
MAJOR = ForbiddenEntry("hurry", "着什么急", "major", "不耐烦", "请您别着急，我马上为您办理。")
LEX = Lexicon()


def score(texts, *, exam=False, weights=None, entries=(MINOR, MAJOR, CRITICAL), lexicon=LEX):  # type: ignore[no-untyped-def]
    turns = [TurnText(t if isinstance(t, Transcript) else Transcript(text=t)) for t in texts]
    return score_turn_texts(turns, SCENARIO, entries, lexicon, exam=exam, weights=weights, pass_mark=80.0)


def timed(text: str, seconds: float, start: float = 0.0) -> Transcript:
    chars = [c for c in text]
    step = seconds / len(chars)
    words = tuple(Word(c, start + i * step, start + (i + 1) * step) for i, c in enumerate(chars))
    return Transcript(text=text, words=words, duration=start + seconds + 0.2)


def test_full_performance_passes_with_high_score() -> None:
    result = score(["您好！", "请问有什么可以帮您？", "请慢走，再见！"])
    assert result.passed
    assert result.score.dimensions["coverage"] == 100
    assert result.score.total >= 95
    assert "fluency" not in result.score.dimensions  # typed text: no timings
    assert "amounts" not in result.score.dimensions
    assert result.feedback == ("表现很好：步骤完整、顺序正确，没有服务忌语。",)


def test_missing_step_lowers_coverage_and_feedback_names_the_phrase() -> None:
    result = score(["您好！", "请慢走，再见！"])
    assert result.step("ask_need").status == "missed"
    assert result.score.dimensions["coverage"] == pytest.approx(200 / 3)
    assert not result.passed
    assert "缺少步骤「问需求」：应说“请问有什么可以帮您？”" in result.feedback


def test_optional_step_not_required() -> None:
    result = score(["您好！", "请问有什么可以帮您？", "请慢走，再见！"])
    assert result.step("more").status == "missed"
    assert not any("其他业务" in line for line in result.feedback)


def test_minor_forbidden_costs_points_critical_fails() -> None:
    minor = score(["您好！", "你说什么？", "请问有什么可以帮您？", "请慢走，再见！"])
    assert [h.id for h in minor.forbidden] == ["say_what"]
    assert minor.score.dimensions["forbidden"] == 80
    assert minor.passed  # practice: a minor slip costs points only
    assert any("你说什么" in line and "对不起，请您再说一遍。" in line for line in minor.feedback)
    critical = score(["您好！", "有完没完！", "请问有什么可以帮您？", "请慢走，再见！"])
    assert not critical.passed and critical.score.total > 80
    assert any("严重" in r for r in critical.fail_reasons)


def test_major_forbidden_fails_even_in_practice() -> None:
    """An instructor does not pass a trainee who said a major 服务忌语 to a customer, whatever the total."""
    major = score(["您好！", "着什么急？", "请问有什么可以帮您？", "请慢走，再见！"])
    assert [h.id for h in major.forbidden] == ["hurry"]
    assert not major.passed and major.score.total >= 80
    assert "使用了服务忌语「着什么急」（严重）" in major.fail_reasons  # one severity vocabulary (issue 14 item 3)


def test_exam_mode_fails_on_any_forbidden_phrase() -> None:
    result = score(["您好！", "你说什么？", "请问有什么可以帮您？", "请慢走，再见！"], exam=True)
    assert not result.passed


def test_weights_from_settings_change_the_total() -> None:
    texts = ["您好！", "你说什么？", "请慢走，再见！"]  # a minor forbidden phrase: conduct below coverage
    default = score(texts)
    coverage_only = score(texts, weights={"coverage": 1.0, "order": 0, "forbidden": 0, "politeness": 0})
    assert coverage_only.score.total == pytest.approx(coverage_only.score.dimensions["coverage"])
    assert coverage_only.score.total != default.score.total


def test_politeness_ni_instead_of_nin() -> None:
    polite = score(["您好！", "请问有什么可以帮您？", "请慢走，再见！"])
    rude = score(["你好！", "请问有什么可以帮你？", "你走吧，再见！"])
    assert rude.score.dimensions["politeness"] < polite.score.dimensions["politeness"]
    assert any("“您”" in line for line in rude.feedback)


def test_fluency_rate_fillers_and_long_pauses() -> None:
    # 30 characters in 6 s = 300 字/分钟: too fast
    fast = score([timed("您好请问有什么可以帮您请慢走再见您好请问有什么可以帮您请慢走", 6.0)])
    assert fast.fluency.timed and fast.fluency.chars_per_min == pytest.approx(300, rel=0.02)
    assert any("偏快" in line and "300" in line for line in fast.feedback)
    assert fast.to_dict()["fluency"]["chars_per_min"] == pytest.approx(300, rel=0.02)
    # a 4-second silence between words, and fillers
    words = (Word("嗯", 0.0, 0.3), Word("您好", 0.3, 0.8), Word("嗯", 5.0, 5.3), Word("再见", 5.3, 5.8))
    slow = score([Transcript(text="嗯 您好 嗯 再见", words=words, duration=6.0)])
    assert slow.fluency.long_pauses == 1 and slow.fluency.fillers == 2
    assert slow.fluency.speaking_seconds == pytest.approx(5.8 - 4.2)
    assert any("停顿" in line for line in slow.feedback)
    assert slow.score.dimensions["fluency"] < 100


def test_json_contract_keys_and_types() -> None:
    result = score([timed("您好", 0.6), timed("请问有什么可以帮您", 2.5), timed("请慢走再见", 1.5)])
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert list(data) == ["scenario", "engine", "transcript", "turns", "steps", "forbidden", "forbidden_doubtful", "amounts", "fluency", "score", "passed", "verdict", "feedback", "advice"]
    assert all(list(group) == ["turn", "items"] for group in data["advice"])
    assert all(list(item) == ["kind", "step", "severity", "text"] for group in data["advice"] for item in group["items"])
    assert data["verdict"] in ("pass", "fail", "review")
    assert list(data["turns"][0]) == ["file", "text", "start", "end"]
    assert list(data["steps"][0]) == ["id", "status", "similarity", "matched_text", "turn", "start", "end", "expected", "certain", "also_heard"]
    assert all(isinstance(s["also_heard"], list) for s in data["steps"])
    assert all(isinstance(s["certain"], bool) for s in data["steps"])
    assert list(data["fluency"]) == ["chars_per_min", "fillers", "long_pauses"]
    assert list(data["score"]) == ["total", "dimensions"]
    assert 0 <= data["score"]["total"] <= 100
    assert all(0 <= s["similarity"] <= 1 for s in data["steps"])
    assert data["steps"][0]["turn"] == 1 and data["steps"][1]["turn"] == 2
    assert data["turns"][1]["start"] == pytest.approx(0.8)
    again = ScoreResult.from_dict(data)
    assert again.to_dict() == data


def test_forbidden_json_entry_keys() -> None:
    result = score(["有完没完"])
    [hit] = result.to_dict()["forbidden"]
    assert list(hit) == ["id", "phrase", "matched_text", "turn", "start", "severity", "suggestion", "certain"]


def test_pipeline_score_text_and_turns_with_shipped_library() -> None:
    settings = Settings()
    a = score_text("您好！请问有什么可以帮您？", "complaint", settings)
    b = score_turns([Transcript(text="您好！请问有什么可以帮您？", engine="vosk")], "complaint", settings)
    assert a.step("greet").status == b.step("greet").status == "hit"
    assert a.engine == "text" and b.engine == "vosk"
    with pytest.raises(ScenarioNotFoundError):
        score_text("您好", "no_such_scenario", settings)
    with pytest.raises(TrainerError):
        score_text("   ", "complaint", settings)


def test_pass_mark_from_settings() -> None:
    strict = dataclasses.replace(Settings(), pass_mark=99.5)
    result = score_text(["您好！", "您别着急，请慢慢说。"], "complaint", strict)
    assert not result.passed


def test_missed_required_step_fails_even_with_total_above_pass_mark() -> None:
    lenient = score_turn_texts(
        [TurnText(Transcript(text=t)) for t in ("您好！", "请慢走，再见！")], SCENARIO, (), LEX, pass_mark=10.0
    )
    assert lenient.score.total >= 10.0
    assert not lenient.passed
    assert "漏掉必做步骤「问需求」" in lenient.fail_reasons
    # a missed optional step, or a partial required one, does not fail on its own
    ok = score_turn_texts(
        [TurnText(Transcript(text=t)) for t in ("您好！", "请问有什么可以帮您？", "请慢走，再见！")], SCENARIO, (), LEX, pass_mark=10.0
    )
    assert ok.step("more").status == "missed" and ok.passed
    keyed = Scenario("k", "测试场景", "counter", "", (GREET, dataclasses.replace(ASK, keywords=(("帮您",),)), BYE))
    partial = score_turn_texts(
        [TurnText(Transcript(text=t)) for t in ("您好！", "请问有什么可以", "请慢走，再见！")], keyed, (), LEX, pass_mark=10.0
    )
    assert partial.step("ask_need").status == "partial"
    assert partial.passed


def test_silence_and_a_lone_greeting_earn_no_conduct_points() -> None:
    silent = score_turn_texts([TurnText(Transcript(text=""))], SCENARIO, (MINOR,), LEX)
    assert silent.score.total == 0
    assert silent.score.dimensions["forbidden"] == 0
    hello = score(["你好"])
    assert hello.step("greet").status == "hit"
    coverage = hello.score.dimensions["coverage"]
    assert coverage < 40
    assert hello.score.dimensions["forbidden"] == pytest.approx(coverage)  # 100 × coverage share
    assert hello.score.total <= coverage + 1e-9
    full = score(["您好！", "请问有什么可以帮您？", "请慢走，再见！"])
    assert full.score.dimensions["forbidden"] == 100 and full.score.total >= 95


def test_user_facing_text_is_simplified_raw_turn_text_kept() -> None:
    # Whisper writes traditional characters: quotes in feedback, matched_text and transcript are simplified
    result = score(["您好！", "請問有什麼需要幫忙", "請慢走，再見！"])
    assert result.step("farewell").matched_text == "请慢走，再见"
    assert result.transcript == "您好！ 请问有什么需要帮忙 请慢走，再见！"
    assert result.turns[2].text == "請慢走，再見！"
    partial = result.step("ask_need")
    if partial.status == "partial":
        assert any("请问有什么" in line for line in result.feedback)
    assert not any(ch in line for line in result.feedback for ch in "請問麼幫見")
    hit = score(["您好！", "请问有什么可以帮您？", "你說什麼？", "请慢走，再见！"]).forbidden[0]
    assert hit.matched_text == "你说什么"


def test_own_words_are_taken_in_order_among_equal_clauses() -> None:
    # Both clauses hold 到 for 告知到达时间 (中山大道 sounds like it) and a number, but only the later one follows
    # the dispatch said before it: the address read back is not the arrival time.
    result = score_text("中山大道八十八号三单元，电话一三九零零零零一二三四。我马上给您派抢修师傅，下午两点到三点之间到。", "fault_report", Settings())
    assert result.step("promise_dispatch").status == "hit"
    assert result.step("inform_arrival_time").matched_text == "下午两点到三点之间到"
