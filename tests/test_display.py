"""One score, one rounding rule; conduct dimensions scaled by coverage stated; 忌语 quoted as listed (issue 14)."""

from trainer.scoring.display import (
    SCALED_DIMENSIONS,
    dimension_views,
    forbidden_quote,
    machine_and_override,
    round_score,
    score_text,
)
from trainer.scoring.score import CONDUCT_DIMENSIONS


def test_one_rounding_rule_half_up_and_whole_numbers_without_point():
    assert score_text(98.65) == "98.7"  # half up, not float/banker's rounding (98.65 is 98.6499… as a float)
    assert score_text(99.95) == "100"
    assert score_text(100.0) == "100"
    assert score_text(55.25) == "55.3"
    assert score_text(0) == "0"
    assert score_text(None) == "" and score_text(None, "—") == "—"
    assert round_score(59.95) == 60.0 and round_score(None) is None


def test_machine_score_and_override_side_by_side():
    assert machine_and_override(98.66) == "机评 98.7 分"
    assert machine_and_override(98.66, 100.0, overridden=True) == "机评 98.7 分 · 教师改判 100 分"


def test_scaled_conduct_dimension_shows_its_own_score_and_the_factor():
    views = {v.key: v for v in dimension_views({"coverage": 68.0, "forbidden": 68.0, "amounts": 100.0, "order": 34.0})}
    assert [v.label for v in dimension_views({"forbidden": 68.0, "coverage": 68.0})] == ["用语覆盖", "服务忌语"]
    assert views["forbidden"].text == "68（100 × 68%）"
    assert views["order"].text == "34（50 × 68%）"
    assert views["amounts"].text == "100" and not views["amounts"].scaled
    assert views["coverage"].text == "68"


def test_full_coverage_is_not_scaled_and_zero_coverage_says_not_counted():
    assert dimension_views({"coverage": 100.0, "forbidden": 60.0})[1].text == "60"
    assert dimension_views({"coverage": 0.0, "forbidden": 0.0})[1].text == "0（覆盖率 0%，不计）"


def test_scaled_dimensions_match_the_scorer():
    assert set(SCALED_DIMENSIONS) == set(CONDUCT_DIMENSIONS)


def test_forbidden_quote_names_the_listed_phrase_and_what_was_heard():
    assert forbidden_quote("喂", "为") == "「喂」（识别为“为”）"
    assert forbidden_quote("不知道", "不知道") == "「不知道」"
    assert forbidden_quote("不知道", "") == "「不知道」"


def test_one_severity_vocabulary_in_feedback_and_on_screens() -> None:
    """Issue 14 item 3: feedback said （严重） for a critical entry that the boxes called 极严重."""
    from trainer.app import highlight
    from trainer.phrasebook.model import SEVERITY_LABELS
    from trainer.phrasebook import parse
    from trainer.practice import ui
    from trainer.scoring.feedback import forbidden_feedback
    from trainer.scoring.result import ForbiddenHit

    assert highlight.SEVERITY_LABELS is SEVERITY_LABELS and ui.SEVERITY_LABEL is SEVERITY_LABELS and parse.SEVERITY_LABELS is SEVERITY_LABELS
    for severity, label in SEVERITY_LABELS.items():
        [line] = forbidden_feedback([ForbiddenHit("x", "喂", "喂", 1, None, severity, "您好")])
        assert f"「喂」（{label}）" in line
