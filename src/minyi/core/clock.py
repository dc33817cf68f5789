"""Time in Asia/Shanghai and working days on the Chinese calendar (工作日).

China has used UTC+08:00 without daylight saving since 1991, so a fixed offset is
exact and avoids depending on tzdata being present in the Lambda image.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta, timezone

import chinese_calendar

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def now() -> datetime:
    return datetime.now(SHANGHAI)


def to_shanghai(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in minyi carries its zone")
    return moment.astimezone(SHANGHAI)


def iso(moment: datetime) -> str:
    return to_shanghai(moment).isoformat(timespec="seconds")


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())



def parse_iso(text: str) -> datetime:
    return to_shanghai(datetime.fromisoformat(text))


@functools.lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """True on a statutory working day, including the weekend days swapped in (调休).

    The State Council publishes each year's holidays in late autumn and the
    calendar package follows; for a year it does not cover yet we fall back to
    Monday-Friday, which is right except for that year's holidays and swaps.
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def calendar_covers(day: date) -> bool:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def working_days_deadline(start: datetime, working_days: int) -> datetime:
    """End (24:00) of the Nth working day after the day of `start`.

    The day the period starts is not counted (民法典 第二百零一条: 开始的当日不计入),
    so an order dispatched on Friday with a 1-day limit is due at the end of Monday.
    """
    if working_days < 1:
        raise ValueError("a time limit in working days is at least 1")
    day = to_shanghai(start).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return datetime.combine(day + timedelta(days=1), time.min, SHANGHAI)


def month_of(moment: datetime) -> str:
    return to_shanghai(moment).strftime("%Y-%m")
