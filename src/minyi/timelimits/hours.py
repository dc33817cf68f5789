"""7×24 on-call (快速处置专项队伍): departments work set hours on working days; an order
dispatched outside them is assigned to the rapid-handling team's on-call handler and
announced on the bus, so nothing waits for the next morning."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pydantic import BaseModel, Field

from minyi.core import clock

DEFAULT_HOURS = ((time(8, 30), time(12, 0)), (time(14, 30), time(18, 0)))
RAPID_TEAM = "快速处置专项队伍"


class WorkingHours(BaseModel):
    """A department's office hours (Asia/Shanghai), on working days of the Chinese calendar."""

    periods: tuple[tuple[time, time], ...] = Field(default=DEFAULT_HOURS, min_length=1)

    def is_open(self, moment: datetime) -> bool:
        local = clock.to_shanghai(moment)
        if not clock.is_working_day(local.date()):
            return False
        return any(start <= local.time() < end for start, end in self.periods)


class OnCall(BaseModel):
    """Who answers for the rapid-handling team on one duty day (值班)."""

    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    handler: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=5, max_length=20)


def duty_day(moment: datetime) -> str:
    """A night belongs to the duty day it started on: 02:00 on Friday is Thursday's shift."""
    local = clock.to_shanghai(moment)
    start = DEFAULT_HOURS[0][0]
    day = local.date() - timedelta(days=1) if local.time() < start else local.date()
    return day.isoformat()
