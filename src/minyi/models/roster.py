"""7×24 on-call roster (值班表) and departments' office hours, as stored and imported."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, Field

# 08:30-12:00 and 14:30-18:00: the county's office hours unless a department has its own
DEFAULT_HOURS = ((time(8, 30), time(12, 0)), (time(14, 30), time(18, 0)))


class WorkingHours(BaseModel):
    """A department's office hours (Asia/Shanghai), on working days of the Chinese calendar."""

    periods: tuple[tuple[time, time], ...] = Field(default=DEFAULT_HOURS, min_length=1)


class OnCall(BaseModel):
    """Who answers for the rapid-handling team on one duty day (值班)."""

    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    handler: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=5, max_length=20)
