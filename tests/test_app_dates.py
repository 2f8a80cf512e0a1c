"""The Chinese date filter (issue 14 item 5: no English month names, no yyyy/mm/dd placeholder)."""

from datetime import date

import pytest

from trainer.app import dates


def test_typed_dates_in_the_usual_ways() -> None:
    day = date(2026, 11, 23)
    for text in ("2026-11-23", "2026/11/23", "2026.11.23", "20261123", "2026年11月23日", " 2026/11/23 "):
        assert dates.parse_day(text) == day, text
    assert dates.parse_day("2026/1/5") == date(2026, 1, 5)
    assert dates.parse_day("") is None and dates.parse_day("  ") is None


@pytest.mark.parametrize("text", ["23/11/2026", "明天", "2026-13-01", "2026/02/30"])
def test_bad_dates_are_a_chinese_message(text: str) -> None:
    with pytest.raises(ValueError) as exc:
        dates.parse_day(text)
    assert "日" in str(exc.value) and not any(c.isascii() and c.isalpha() for c in str(exc.value))


def test_presets_and_chosen_range() -> None:
    today = date(2026, 12, 5)
    assert dates.date_range(dates.ANY_TIME, today=today) == dates.DateRange()
    assert dates.date_range(dates.TODAY, today=today) == dates.DateRange(today, today)
    assert dates.date_range(dates.LAST_7, today=today) == dates.DateRange(date(2026, 11, 29), today)
    assert dates.date_range(dates.LAST_30, today=today).since == date(2026, 11, 6)
    assert dates.date_range(dates.CHOSEN, "2026/11/01", "", today) == dates.DateRange(date(2026, 11, 1), None)
    backwards = dates.date_range(dates.CHOSEN, "2026/11/20", "2026/11/01", today)
    assert (backwards.since, backwards.until) == (None, None) and "早于" in backwards.problem
    assert "不是日期" in dates.date_range(dates.CHOSEN, "x", "", today).problem
