"""7×24 on-call (快速处置专项队伍): an order dispatched outside its lead department's office
hours is assigned to the rapid-handling team's on-call handler of that duty day, so
nothing waits for the next morning."""

from __future__ import annotations

from datetime import datetime

from minyi.dal import roster
from minyi.models.order import WorkOrder
from minyi.timelimits.hours import duty_day, is_open

RAPID_TEAM = "快速处置专项队伍"


def off_hours(department: str | None, moment: datetime) -> bool:
    return department is not None and not is_open(roster.working_hours(department), moment)


def assign_on_call(order: WorkOrder, now: datetime) -> WorkOrder:
    """The on-call handler takes the order first; without a roster entry, the team itself."""
    entry = roster.on_call(duty_day(now))
    return order.model_copy(update={"on_call": f"{RAPID_TEAM}:{entry.handler}" if entry else RAPID_TEAM})
