"""Deadlines (办理时限): when an order dispatched now must be done."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from minyi.core.clock import SHANGHAI, to_shanghai
from minyi.timelimits.calendar import is_working_day

EMERGENCY_TIME_LIMIT = timedelta(hours=2)  # 应急快速处置: the 2-hour tier, in calendar time


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


def completion_deadline(dispatched_at: datetime, time_limit_days: int, urgent: bool) -> datetime:
    """办结时限 of one dispatch: the matter's working days, or 2 hours for an urgent order.
    Every way of dispatching (automatic, manual, re-dispatch) asks here."""
    if urgent:
        return dispatched_at + EMERGENCY_TIME_LIMIT
    return working_days_deadline(dispatched_at, time_limit_days)
