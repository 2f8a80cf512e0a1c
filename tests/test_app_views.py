"""Pure view helpers of the web app: highlighting, step checklist, dimensions, charts, filters, reviews, run state."""

from __future__ import annotations

from datetime import date

import pytest

from trainer.errors import SessionStoreError
from trainer.app import highlight, views
from trainer.app.state import PracticeRun, TurnAttempt
from trainer.phrasebook.model import ForbiddenEntry, Library, Scenario, Slot, Step
from trainer.sessions import SessionSummary, StepStat
from trainer.sessions.review import Review, build_decision, build_review


def _scenario() -> Scenario:
    return Scenario(
        id="payment",
        title="柜台收费",
        role="counter",
        brief="按收费六步完成服务。",
        domain="power",
        difficulty=1,
        steps=(
            Step("greet", "一笑：问候", ("您好！",), customer="（客户走到柜台前）"),
            Step("ask", "二问：问明业务", ("请问您办理什么业务？",), customer="你好。", tip="主动询问"),
            Step("change", "唱付", ("找您{change}元，请收好。",), slots=(Slot("change", "amount"),), tip="说出找零金额"),
        ),
    )


def _library() -> Library:
    rude = ForbiddenEntry("f-suibian", "随便", "major", "敷衍客户", "请您根据需要选择，我可以给您介绍。")
    own = ForbiddenEntry("f-own", "快点", "minor", "催促客户", "请您稍等。")
    scenario = _scenario()
    scenario = Scenario(**{**scenario.__dict__, "forbidden": (own,)})
    other = Scenario("hotline", "热线", "hotline", "接电话。", (Step("hello", "问候", ("您好",)),), domain="gas", difficulty=2)
    return Library(scenarios={"payment": scenario, "hotline": other}, forbidden=(rude,), version="v1")


SCORE = {
    "scenario": "payment",
    "engine": "whisper",
    "transcript": "你好 請問您辦理什麼業務 隨便",
    "turns": [
        {"file": "turn01.wav", "text": "你好", "start": 0.0, "end": 1.0},
        {"file": "turn02.wav", "text": "請問您辦理什麼業務? 隨便<b>", "start": 1.0, "end": 4.0},
    ],
    "steps": [
        {"id": "greet", "status": "hit", "similarity": 1.0, "matched_text": "你好", "turn": 1, "start": 0.0, "end": 0.5, "expected": "您好！"},
        {"id": "ask", "status": "partial", "similarity": 0.8, "matched_text": "請問您辦理什麼業務", "turn": 2, "start": 1.0, "end": 2.0, "expected": "请问您办理什么业务？"},
        {"id": "change", "status": "missed", "similarity": 0.0, "matched_text": "", "turn": None, "start": None, "end": None, "expected": "找您{change}元，请收好。"},
    ],
    "forbidden": [
        {"id": "f-suibian", "phrase": "随便", "matched_text": "隨便", "turn": 2, "start": 3.0, "severity": "major", "suggestion": "请您根据需要选择"},
    ],
    "amounts": {"bill": 52, "received": 100, "change": None, "consistent": False},
    "fluency": {"chars_per_min": 200.0, "fillers": 0, "long_pauses": 0},
    "score": {"total": 55.5, "dimensions": {"fluency": 90.0, "coverage": 40.0, "forbidden": 50.0, "custom": 10.0}},
    "passed": False,
    "feedback": ["缺少步骤「唱付」"],
}


# --------------------------------------------------------------------------- highlight


def test_find_span_exact_and_ignoring_spaces_punctuation_and_script() -> None:
    assert highlight.find_span("你好 请问", "请问") == (3, 5)
    # Vosk puts spaces between words; the match text may not have them
    assert highlight.find_span("收 您 一百 元", "收您一百元") == (0, 8)
    # traditional transcript, simplified needle
    assert highlight.find_span("請問您", "请问") == (0, 2)
    assert highlight.find_span("你好", "再见") is None
    assert highlight.find_span("你好", "  ") is None


def test_find_span_prefers_occurrence_after_cursor() -> None:
    assert highlight.find_span("您好您好", "您好", 1) == (2, 4)
    assert highlight.find_span("您好再见", "您好", 3) == (0, 2)  # falls back to anywhere


def test_turn_spans_kinds_and_tooltips() -> None:
    text = SCORE["turns"][1]["text"]
    spans = highlight.turn_spans(text, 2, SCORE, {"ask": "二问：问明业务"})
    kinds = {s.kind: s for s in spans}
    assert set(kinds) == {"partial", "forbidden"}
    assert text[kinds["partial"].start : kinds["partial"].end] == "請問您辦理什麼業務"
    assert "二问：问明业务" in kinds["partial"].tooltip and "请问您办理什么业务？" in kinds["partial"].tooltip
    assert text[kinds["forbidden"].start : kinds["forbidden"].end] == "隨便"
    assert "请您根据需要选择" in kinds["forbidden"].tooltip and "严重" in kinds["forbidden"].tooltip
    assert highlight.turn_spans("你好", 1, SCORE)[0].kind == "hit"
    assert highlight.turn_spans("你好", 3, SCORE) == []
    assert highlight.turn_spans("你好", 1, None) == []


def test_highlight_html_escapes_simplifies_and_colours() -> None:
    html = highlight.turn_html(SCORE, 2, step_titles={"ask": "二问"})
    assert "<b>" not in html and "&#60;b&#62;" in html  # transcript text is escaped (HTML and Markdown)
    assert "请问您办理什么业务" in html  # shown simplified
    assert 'class="hl-partial"' in html and 'class="hl-forbidden"' in html
    assert "#ffc9c9" in html  # red for forbidden
    assert 'title="服务忌语“随便”（严重），建议说：请您根据需要选择"' in html
    assert "没有识别到文字" in highlight.highlight_html("  ", [])


def test_overlapping_spans_forbidden_wins() -> None:
    spans = [highlight.Span(0, 4, "hit", "step"), highlight.Span(2, 4, "forbidden", "bad")]
    pieces = highlight.segments("abcdef", spans)
    assert [(p, s.kind if s else None) for p, s in pieces] == [("ab", "hit"), ("cd", "forbidden"), ("ef", None)]


# --------------------------------------------------------------------------- turn and final views


def test_turn_result_lists_this_turns_steps_and_forbidden() -> None:
    result = views.turn_result(SCORE, 2, _scenario(), _library())
    assert [s.step_id for s in result.steps] == ["ask"]
    assert result.steps[0].title == "二问：问明业务" and result.steps[0].said == "请问您办理什么业务"
    assert result.steps[0].icon == "△"
    assert len(result.forbidden) == 1
    hit = result.forbidden[0]
    assert (hit.said, hit.severity, hit.reason, hit.turn) == ("随便", "严重", "敷衍客户", 2)
    assert views.turn_result(SCORE, 1, _scenario(), _library()).steps[0].status == "hit"


def test_turn_result_gives_the_standard_phrase_of_the_step_this_turn_asked_for_when_missed() -> None:
    # turn 3's customer line opens the "change" step, which the performance has missed
    missed = views.turn_result(SCORE, 3, _scenario(), _library()).expected_here
    assert missed is not None and missed.step_id == "change" and missed.title == "唱付"
    assert missed.expected == "找您48元，请收好。" and missed.tip == "说出找零金额"  # slot filled from this performance
    # done (hit or partial) or no scenario: nothing to add
    assert views.turn_result(SCORE, 1, _scenario(), _library()).expected_here is None
    assert views.turn_result(SCORE, 2, _scenario(), _library()).expected_here is None
    assert views.turn_result(SCORE, 3).expected_here is None


def test_final_feedback_is_simplified_like_the_transcript() -> None:
    score = {**SCORE, "feedback": ["步骤「二问」不完整：听到“請問您辦理什麼業務”"]}
    assert views.final_result(score, _scenario()).feedback == ("步骤「二问」不完整：听到“请问您办理什么业务”",)


def test_final_result_checklist_dimensions_missed_with_standard_phrase() -> None:
    final = views.final_result(SCORE, _scenario(), _library(), pass_mark=80)
    assert final.total == 55.5 and final.verdict == "未通过" and final.pass_mark == 80
    assert [r["维度"] for r in final.dimensions] == ["用语覆盖", "服务忌语", "流利度", "custom"]
    assert [r["结果"] for r in final.checklist] == ["命中", "部分", "遗漏"]
    assert final.checklist[2]["轮次"] == "—" and final.checklist[0]["轮次"] == "1"
    missed = {s.step_id: s for s in final.missed}
    assert set(missed) == {"ask", "change"}
    # the slot is filled with the change that should have been given: 100 - 52
    assert missed["change"].expected == "找您48元，请收好。"
    assert missed["change"].tip == "说出找零金额"
    assert final.feedback == ("缺少步骤「唱付」",)


def test_a_review_result_says_beside_the_score_what_waits_for_an_instructor() -> None:
    """Issue 11: an amount the recogniser may have misheard sent the performance to an instructor, and
    nothing beside 待复核 said why (only a 唱收唱付 score of 0 and, far below, the advice)."""
    misheard = {"bill": 52, "received": 100, "change": None, "consistent": False, "misheard": True}
    amounts = views.final_result({**SCORE, "verdict": "review", "amounts": misheard}, _scenario())
    assert amounts.verdict == "待复核" and amounts.amounts_unsure and not amounts.unsure
    assert amounts.review_note == "结果待复核：是否通过取决于唱收唱付的金额（机器可能没听清），将由教师听录音后决定。"
    unsure_step = {**SCORE["steps"][2], "status": "hit", "certain": False}
    steps = views.final_result({**SCORE, "verdict": "review", "steps": [*SCORE["steps"][:2], unsure_step]}, _scenario())
    assert steps.review_note == "结果待复核：是否通过取决于下面标为“可能没听清”的步骤，将由教师听录音后决定。"
    both = views.final_result({**SCORE, "verdict": "review", "amounts": misheard, "steps": [*SCORE["steps"][:2], unsure_step]}, _scenario())
    assert "步骤和唱收唱付的金额" in both.review_note
    # a decided result, or a review for another reason (the manner), has no such note
    assert views.final_result({**SCORE, "amounts": misheard}, _scenario()).review_note == ""
    assert views.final_result({**SCORE, "verdict": "review"}, _scenario()).review_note == ""
    # once an instructor has decided it, nothing waits any more
    decided = views.InstructorDecision(72.0, False, "王老师")
    assert views.final_result({**SCORE, "verdict": "review", "amounts": misheard}, _scenario(), override=decided).review_note == ""


def test_unknown_step_ids_fall_back_to_ids() -> None:
    final = views.final_result({**SCORE, "amounts": None}, None, None)
    assert [s.title for s in final.steps] == ["greet", "ask", "change"]
    assert final.missed[1].expected == "找您××元，请收好。"


def test_scenario_filters_and_labels() -> None:
    library = _library()
    assert views.filter_options(library) == (["counter", "hotline"], ["power", "gas"], [1, 2])
    assert [s.id for s in views.filter_scenarios(library, role="hotline")] == ["hotline"]
    assert [s.id for s in views.filter_scenarios(library, domain="power", difficulty=1)] == ["payment"]
    assert views.filter_scenarios(library, role="counter", difficulty=3) == []
    assert "柜台" in views.scenario_label(library.scenarios["payment"])
    assert views.customer_line(library.scenarios["payment"], 3).startswith("（客户没有说话")


def test_phrasebook_rows() -> None:
    library = _library()
    rows = views.step_rows(library.scenarios["payment"])
    assert rows[1]["步骤"] == "二问：问明业务" and rows[1]["客户说"] == "你好。"
    assert rows[2]["标准用语"] == "找您〔金额〕元，请收好。"
    assert [r["忌语"] for r in views.forbidden_rows(library)] == ["随便"]
    assert [r["忌语"] for r in views.forbidden_rows(library, "payment")] == ["快点"]


# --------------------------------------------------------------------------- sessions, charts, filters, reviews


def _summary(sid: str, started: str, total: float | None, scenario: str = "payment", **kw) -> SessionSummary:
    base = dict(
        id=sid, kind="practice", trainee_id="E1", trainee_name="张三", scenario_id=scenario, scenario_title="柜台收费",
        phrasebook_version="v1", engine="whisper", model="whisper-base", started_at=started, finished_at=started,
        turns=3, total=total, passed=bool(total and total >= 80),
    )
    base.update(kw)
    return SessionSummary(**base)


def test_history_points_use_reviewed_score_and_skip_unscored() -> None:
    rows = [
        _summary("b", "2026-11-02T08:00:00Z", 70.0, review_count=1, review_overall="override", override_total=85.0, override_passed=True),
        _summary("a", "2026-11-01T08:00:00Z", 60.0),
        _summary("c", "2026-11-03T08:00:00Z", None),
    ]
    points = views.history_points(rows)
    assert [p["得分"] for p in points] == [60.0, 85.0]
    table = views.session_rows(rows)
    assert table[0]["机评"] == 70.0 and table[0]["教师改判"] == "85" and table[0]["复核"] == "改判"
    assert table[1]["机评"] == 60.0 and table[1]["教师改判"] == ""  # no override: nothing beside the machine score
    assert views.session_label(rows[0]).endswith("机评 70 分 · 教师改判 85 分")
    assert views.session_label(rows[1]).endswith("机评 60 分")
    assert table[1]["复核"] == "未复核"


def test_weak_step_rows_most_missed_first_with_titles() -> None:
    stats = [
        StepStat("payment", "greet", "您好！", attempts=4, hits=4, partials=0, misses=0),
        StepStat("payment", "change", "找您", attempts=4, hits=1, partials=1, misses=2),
        StepStat("gone", "x", "", attempts=0, hits=0, partials=0, misses=0),
    ]
    rows = views.weak_step_rows(stats, _library())
    assert [r["步骤"] for r in rows] == ["唱付（柜台收费）"]  # a step nobody missed is not a weak step
    assert rows[0]["遗漏率%"] == 50.0 and rows[0]["不完整率%"] == 25.0
    partial_only = [StepStat("payment", "greet", "您好！", attempts=2, hits=1, partials=1, misses=0)]
    assert [r["不完整率%"] for r in views.weak_step_rows(partial_only, _library())] == [50.0]


def test_build_filter_from_widgets() -> None:
    flt = views.build_filter(" 张 ", "payment", date(2026, 11, 1), date(2026, 11, 30), (0.0, 100.0), "未通过")
    assert (flt.trainee, flt.scenario_id, flt.since, flt.until, flt.result) == ("张", "payment", date(2026, 11, 1), date(2026, 11, 30), "fail")
    assert flt.min_total is None and flt.max_total is None
    flt = views.build_filter(score_range=(60.0, 90.0))
    assert (flt.trainee, flt.min_total, flt.max_total, flt.result) == (None, 60.0, 90.0, None)
    assert list(views.RESULT_FILTERS) == ["通过", "未通过", "待复核"]  # the 结果 filter's choices after 全部
    assert [views.build_filter(result=label).result for label in views.RESULT_FILTERS] == ["pass", "fail", "review"]


def test_session_rows_show_the_result_in_one_vocabulary() -> None:
    """The machine sent it to review: 待复核 (its best guess `passed` is not shown), until an
    instructor decides; an agreeing review decides nothing. Scores without a verdict: 通过/未通过."""
    rows = [
        _summary("r", "2026-11-04T08:00:00Z", 90.5, verdict="review"),  # best guess: passed
        _summary("a", "2026-11-04T09:00:00Z", 90.5, verdict="review", review_count=1, review_overall="agree"),
        _summary("d", "2026-11-04T10:00:00Z", 90.5, verdict="review", review_count=1, review_overall="override",
                 override_total=72.0, override_passed=False),
        _summary("o", "2026-11-04T11:00:00Z", 85.0, verdict="pass"),
        _summary("f", "2026-11-04T12:00:00Z", 60.0),  # saved before scores had a verdict
        _summary("u", "2026-11-04T13:00:00Z", None, passed=None),  # not scored
    ]
    table = views.session_rows(rows)
    assert [r["结果"] for r in table] == ["待复核", "待复核", "未通过", "通过", "未通过", ""]
    assert [r["复核"] for r in table] == ["未复核", "同意机评", "已复核", "未复核", "未复核", "未复核"]
    assert rows[0].passed is True and rows[0].to_dict()["result"] == "review"


def test_a_review_decision_must_choose_pass_or_fail_and_give_a_reason() -> None:
    with pytest.raises(SessionStoreError, match="请选择复核结论"):
        build_decision("sid", "李老师", {}, 90.5, None, "听了录音")
    with pytest.raises(SessionStoreError, match="请填写复核意见"):
        build_decision("sid", "李老师", {}, 90.5, False, "  ")
    decision = build_decision("sid", "李老师", {"change": ("disagree", "说了四十八")}, 90.5, False, "找零金额没说出来")
    # stored as a 改判 review is today: the same Review record, appended beside the session
    assert (decision.overall, decision.override_total, decision.override_passed) == ("override", 90.5, False)
    assert decision.steps["change"].verdict == "disagree"
    agree = build_review("sid", "王老师", {}, "agree", None, None, "")
    lines = views.review_lines([agree, decision], "review")
    assert "复核结论：未通过（90.5 分）" in lines[0] and "同意机评（未作出结论，仍待复核）" in lines[1]
    assert "改判为 90.5 分（未通过）" in views.review_lines([decision], "pass")[0]


def test_build_review_keeps_only_given_verdicts_and_override_fields() -> None:
    review = build_review("sid", " 李老师 ", {"greet": ("agree", ""), "ask": ("disagree", " 说得对 "), "change": ("", "x")}, "agree", 70.0, True, "")
    assert review.reviewer == "李老师" and set(review.steps) == {"greet", "ask"}
    assert review.steps["ask"].comment == "说得对"
    assert review.override_total is None and review.override_passed is None
    override = build_review("sid", "李老师", {}, "override", 88.0, True, "识别错误")
    assert (override.override_total, override.override_passed) == (88.0, True)
    lines = views.review_lines([review, override])
    assert "改判为 88 分（通过）" in lines[0] and "不同意步骤：ask" in lines[1]


# --------------------------------------------------------------------------- state


def _turn(index: int, text: str) -> TurnAttempt:
    return TurnAttempt(index, "", b"RIFF", "t.wav", "upload", {"text": text}, 1.0)


def test_practice_run_turns_and_retry() -> None:
    run = PracticeRun("payment", "柜台收费", 3, "E1", "张三")
    assert run.current == 1 and not run.all_answered
    key = run.recorder_key
    run.put_turn(_turn(1, "a"), {"s": 1})
    run.put_turn(_turn(2, "b"), {"s": 2})
    assert run.current == 3 and run.recorder_key != key and run.last_turn == 2
    with pytest.raises(ValueError):
        run.put_turn(_turn(1, "x"), None)
    run.start_retry(1)
    assert run.current == 1 and run.retries == 1
    run.put_turn(_turn(1, "a2"), {"s": 3})
    assert [t.transcript["text"] for t in run.turns] == ["a2", "b"] and run.redo is None and run.current == 3
    run.start_retry(2)
    run.cancel_retry()
    assert run.current == 3
    with pytest.raises(ValueError):
        run.start_retry(3)


def test_review_type_is_the_store_type() -> None:
    assert isinstance(build_review("s", "r", {}, "agree", None, None, ""), Review)


def test_scenarios_listed_power_first_then_easier_first() -> None:
    from trainer.config import Settings
    from trainer.phrasebook import library_from_settings

    shipped = views.filter_scenarios(library_from_settings(Settings()))
    domains = [s.domain for s in shipped]
    assert domains[0] == "power" and domains.index("gas") > domains.index("power") and "power" not in domains[domains.index("gas"):]
    power = [s.difficulty for s in shipped if s.domain == "power"]
    assert power == sorted(power) and shipped[0].difficulty == 1


def test_forbidden_is_quoted_as_listed_with_what_the_recogniser_heard() -> None:
    """Issue 14 item 4: 喂 heard as 为 is 「喂」（识别为“为”）, never the bare “为” as the trainee's words."""
    score = {**SCORE, "forbidden": [{"id": "f-wei", "phrase": "喂", "matched_text": "为", "turn": 1, "severity": "minor", "suggestion": "您好"}]}
    assert views.turn_result(score, 1, _scenario(), _library()).forbidden[0].quote == "「喂」（识别为“为”）"
    simplified = views.turn_result(SCORE, 2, _scenario(), _library()).forbidden[0]
    assert simplified.quote == "「随便」"  # 隨便 is the listed phrase in traditional script: nothing to add


def test_scaled_conduct_dimensions_show_their_own_score_and_a_note() -> None:
    """Issue 14 item 2: with coverage 40 and no 忌语 said, 服务忌语 40 reads 40（100 × 40%）."""
    scaled = {**SCORE, "score": {"total": 40.0, "dimensions": {"coverage": 40.0, "forbidden": 40.0, "fluency": 36.0, "custom": 10.0}}}
    final = views.final_result(scaled, _scenario(), _library())
    shown = {r["维度"]: r["得分"] for r in final.dimensions}
    assert shown["用语覆盖"] == "40" and shown["服务忌语"] == "40（100 × 40%）" and shown["流利度"] == "36（90 × 40%）"
    assert shown["custom"] == "10"
    assert "按完成的用语比例折算" in final.scaling_note
    full = {**SCORE, "score": {"total": 90.0, "dimensions": {"coverage": 100.0, "forbidden": 60.0}}}
    assert views.final_result(full).scaling_note == "" and views.final_result(full).dimensions[1]["得分"] == "60"


def test_instructor_decision_is_the_latest_review_when_it_overrides() -> None:
    agree = Review(session_id="s", reviewer="王老师", overall="agree")
    override = Review(session_id="s", reviewer="王老师", overall="override", override_total=100.0, override_passed=True, comment="x")
    assert views.instructor_decision([]) is None and views.instructor_decision([override, agree]) is None
    decision = views.instructor_decision([agree, override])
    assert decision is not None and (decision.total, decision.verdict, decision.reviewer) == (100.0, "通过", "王老师")
    final = views.final_result({**SCORE, "score": {"total": 98.66, "dimensions": {}}}, override=decision)
    assert final.total_text == "98.7" and final.override is decision


def test_history_axis_never_repeats_a_label_and_names_what_it_leaves_out() -> None:
    """Issue 14 item 6: two sessions in the same minute were labelled 12-04 21:53 twice."""
    one_day = views.history_axis(["2026-12-04 21:53:10", "2026-12-04 21:53:40", "2026-12-04 22:10:00"])
    assert one_day.format == "%H:%M" and one_day.title == "时间（2026/12/04）"
    assert one_day.ticks == ("2026-12-04 21:53:10", "2026-12-04 22:10:00")
    year = views.history_axis(["2026-11-01 08:00:00", "2026-12-04 22:10:00"])
    assert year.format == "%m/%d %H:%M" and year.title == "时间（2026 年）" and len(year.ticks) == 2
    years = views.history_axis(["2025-11-01 08:00:00", "2026-12-04 22:10:00"])
    assert years.format == "%Y/%m/%d" and years.title == "日期"
    many = views.history_axis([f"2026-11-{d:02d} 08:00:00" for d in range(1, 31)])
    assert len(many.ticks) <= 9 and many.ticks[0] == "2026-11-01 08:00:00" and many.ticks[-1] == "2026-11-30 08:00:00"
    assert views.history_axis([]).ticks == ()
    assert len(set(views.SERIES_COLOURS)) == len(views.SERIES_COLOURS)


def test_search_library_over_scenarios_steps_phrasings_and_forbidden() -> None:
    """Issue 14 item 8: one search box over the phrasebook."""
    library = _library()
    where = {(h.where, h.field) for h in views.search_library(library, "请问")}
    assert ("步骤「二问：问明业务」", "标准用语") in where
    forbidden = views.search_library(library, "隨便")  # traditional typed, simplified stored
    assert [(h.scenario, h.where, h.field) for h in forbidden] == [("", "服务忌语「随便」", "忌语")]
    assert forbidden[0].row()["场景"] == "通用"
    own = views.search_library(library, "催促")  # a scenario's own 忌语, found by its reason
    assert [(h.scenario, h.field) for h in own] == [("柜台收费", "原因")]
    slots = views.search_library(library, "找您")
    assert slots and "{change}" not in slots[0].text and "〔" in slots[0].text
    assert [h.field for h in views.search_library(library, "柜台 前")] == ["客户说"]  # every word must match
    extra = views.search_library(library, "需要点啥", {("payment", "ask"): ("您需要点啥？",)})
    assert [(h.where, h.field) for h in extra] == [("步骤「二问：问明业务」", "其他说法")]
    assert views.search_library(library, "  ") == [] and views.search_library(library, "没有这个词") == []


def test_turn_hint_says_what_the_turn_is_for() -> None:
    """Issue 14 item 7: the terminal says 本轮：…; the web page offers it as a hint."""
    assert views.turn_hint(_scenario(), "ask") == "本轮：二问：问明业务。主动询问"
    assert views.turn_hint(_scenario(), "greet") == "本轮：一笑：问候"
    assert views.turn_hint(_scenario(), "nope") == ""
