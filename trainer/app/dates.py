"""The date filter of the instructor and exam pages, in Chinese: a preset range or two typed dates.

Streamlit's calendar widget shows English month names and a "yyyy/mm/dd" placeholder that
cannot be changed; these filters use Chinese presets and text fields that accept the ways a
date is usually typed here (2026-11-23, 2026/11/23, 2026.11.23, 20261123, 2026年11月23日).
Pure functions, no Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

ANY_TIME = "全部时间"
TODAY = "今天"
LAST_7 = "最近 7 天"
LAST_30 = "最近 30 天"
CHOSEN = "指定日期"
PRESETS = (ANY_TIME, TODAY, LAST_7, LAST_30, CHOSEN)
EXAMPLE = "例如 2026/11/23"

_DAY = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))\s*$")


def parse_day(text: str) -> date | None:
    """A typed date, or None when `text` is empty. ValueError (Chinese message) when it is not a date."""
    if not text.strip():
        return None
    match = _DAY.match(text)
    if match is None:
        raise ValueError(f"“{text.strip()}”不是日期，请写成 2026/11/23 这样的年/月/日。")
    year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"没有 {year} 年 {int(month)} 月 {int(day)} 日这一天，请检查日期。") from None


@dataclass(frozen=True)
class DateRange:
    since: date | None = None
    until: date | None = None
    problem: str = ""  # Chinese: what is wrong with the typed dates ("" when none); the range is then open


def date_range(preset: str, start_text: str = "", end_text: str = "", today: date | None = None) -> DateRange:
    """The (since, until) range of the filter, both ends included."""
    today = today or date.today()
    if preset == TODAY:
        return DateRange(today, today)
    if preset == LAST_7:
        return DateRange(today - timedelta(days=6), today)
    if preset == LAST_30:
        return DateRange(today - timedelta(days=29), today)
    if preset != CHOSEN:
        return DateRange()
    try:
        since, until = parse_day(start_text), parse_day(end_text)
    except ValueError as exc:
        return DateRange(problem=str(exc))
    if since is not None and until is not None and until < since:
        return DateRange(problem=f"结束日期 {until:%Y/%m/%d} 早于开始日期 {since:%Y/%m/%d}，请调换。")
    return DateRange(since, until)
