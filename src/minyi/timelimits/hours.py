"""Office hours and duty days (7×24 值班): departments work set hours on working days;
outside them the rapid-handling team's on-call handler answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from minyi.core.clock import to_shanghai
from minyi.models.roster import DEFAULT_HOURS, WorkingHours
from minyi.timelimits.calendar import is_working_day


def is_open(hours: WorkingHours, moment: datetime) -> bool:
    local = to_shanghai(moment)
    if not is_working_day(local.date()):
        return False
    return any(start <= local.time() < end for start, end in hours.periods)


def duty_day(moment: datetime) -> str:
    """A night belongs to the duty day it started on: 02:00 on Friday is Thursday's shift."""
    local = to_shanghai(moment)
    start = DEFAULT_HOURS[0][0]
    day = local.date() - timedelta(days=1) if local.time() < start else local.date()
    return day.isoformat()
