"""Report periods (统计周期): the grammar of a period string and the days it covers.

    day      2026-11-05
    week     2026-W45               an ISO 8601 week, Monday to Sunday (2025 has 52, 2026 has 53)
    month    2026-11
    quarter  2026-Q4
    year     2026
    range    2026-01-05..2026-03-01 both days inclusive, start <= end, at most 366 days

Years 2000 to 2099 (an ISO week's year; a range's both days): 0000-01 and 9999-12 are typos.
ASCII digits only (２０２６ is not a year), nothing around the string. Anything else is a
ValueError whose message says what is wrong; a pydantic model turns it into a 400.
Bounds, labels and the period just ended are `minyi.reports.periods`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_RANGE_DAYS = 366
FORMS = ("a day YYYY-MM-DD, a week YYYY-Www, a month YYYY-MM, a quarter YYYY-Qn, a year YYYY "
         "or a range YYYY-MM-DD..YYYY-MM-DD")

_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})", re.ASCII)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_QUARTER = re.compile(r"([0-9]{4})-Q([0-9])", re.ASCII)
_YEAR = re.compile(r"([0-9]{4})", re.ASCII)


@dataclass(frozen=True)
class Span:
    """A parsed period: its kind and its first and last day (inclusive)."""

    kind: PeriodKind
    first: date
    last: date
    year: int  # the period's own year (an ISO week's year; a range's first day's)
    number: int = 0  # the week, month or quarter number; 0 for a day, a year or a range


def _year(text: str, what: str = "year") -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"the {what} must be from {FIRST_YEAR} to {LAST_YEAR}, not {text}")
    return year


def _day(text: str) -> date:
    match = _DAY.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a day YYYY-MM-DD")
    year = _year(match[1])
    try:
        return date(year, int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(f"{text} is not a day of the calendar") from None


def weeks_in(year: int) -> int:
    """52 or 53: an ISO year has 53 weeks when 28 December falls in week 53."""
    return date(year, 12, 28).isocalendar().week


def parse(period: str) -> Span:
    """The kind and days of a period string, or ValueError saying why it is not one."""
    if not isinstance(period, str):
        raise ValueError(f"a period is a string: {FORMS}")
    if ".." in period:
        start_text, _, end_text = period.partition("..")
        first, last = _day(start_text), _day(end_text)
        if last < first:
            raise ValueError(f"the range ends ({end_text}) before it starts ({start_text})")
        days = (last - first).days + 1
        if days > MAX_RANGE_DAYS:
            raise ValueError(f"a range is at most {MAX_RANGE_DAYS} days; {period} has {days}")
        return Span(PeriodKind.RANGE, first, last, first.year)
    if match := _DAY.fullmatch(period):
        day = _day(period)
        return Span(PeriodKind.DAY, day, day, day.year)
    if match := _WEEK.fullmatch(period):
        year, week = _year(match[1]), int(match[2])
        if not 1 <= week <= weeks_in(year):
            raise ValueError(f"{year} has ISO weeks 1 to {weeks_in(year)}, not {week}")
        monday = date.fromisocalendar(year, week, 1)
        return Span(PeriodKind.WEEK, monday, monday + timedelta(days=6), year, week)
    if match := _MONTH.fullmatch(period):
        year, month = _year(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"a month is 01 to 12, not {match[2]}")
        first = date(year, month, 1)
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return Span(PeriodKind.MONTH, first, following - timedelta(days=1), year, month)
    if match := _QUARTER.fullmatch(period):
        year, quarter = _year(match[1]), int(match[2])
        if not 1 <= quarter <= 4:
            raise ValueError(f"a quarter is Q1 to Q4, not Q{match[2]}")
        first = date(year, 3 * quarter - 2, 1)
        following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return Span(PeriodKind.QUARTER, first, following - timedelta(days=1), year, quarter)
    if _YEAR.fullmatch(period):
        year = _year(period)
        return Span(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31), year)
    raise ValueError(f"{period[:40]!r} is not a period: {FORMS}, from {FIRST_YEAR} to {LAST_YEAR}")


def valid_period(period: str) -> str:
    """A pydantic validator: the period as given, once it parses."""
    parse(period)
    return period
