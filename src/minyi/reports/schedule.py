"""The scheduled reports: daily at 01:00 (yesterday), weekly on Monday (last ISO week) and monthly
on the 1st (last month), Asia/Shanghai; the county's, each for the period just ended."""

from __future__ import annotations

from datetime import datetime

from minyi.core import clock
from minyi.models.report import Report, ScheduledRun
from minyi.reports.build import build
from minyi.reports.requests import scheduled_report


def run(event: dict, bucket: str) -> Report:
    """One firing of a report schedule: `event` is its Input ({"period_kind": ...}, and "time"
    from the local stack) or, without Input, the Scheduled Event. Makes the report's record (or
    finds the one an earlier firing for the same period made) and builds it; building a report
    that is no longer pending changes nothing."""
    scheduled = ScheduledRun.model_validate(event)
    now: datetime = clock.to_shanghai(scheduled.time) if scheduled.time else clock.now()
    report = scheduled_report(scheduled.period_kind, now)
    return build(report.report_id, bucket, now)
