"""Working days on the Chinese calendar (工作日): statutory holidays and the weekend days
swapped in to make up for them (调休)."""

from __future__ import annotations

import functools
from datetime import date

import chinese_calendar


@functools.lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """True on a statutory working day, including the weekend days swapped in (调休).

    The State Council publishes each year's holidays in late autumn and the
    calendar package follows; for a year it does not cover yet we fall back to
    Monday-Friday, which is right except for that year's holidays and swaps.
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # chinesecalendar's answer for a year it has no data for
        return day.weekday() < 5


@functools.lru_cache(maxsize=256)
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_certain(day: date) -> bool:
    """True when the calendar knows the year's holidays (not the Mon–Fri guess)."""
    return _package_covers(day.year)
