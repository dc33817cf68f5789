"""Report periods (统计周期): a month or a day, in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, timedelta

from minyi.core import clock


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a month YYYY-MM or a day YYYY-MM-DD, Asia/Shanghai."""
    if len(period) == 7:
        start = datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=clock.SHANGHAI)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        start = datetime.strptime(period, "%Y-%m-%d").replace(tzinfo=clock.SHANGHAI)
        end = start + timedelta(days=1)
    return start, end


def period_days(period: str) -> list:
    """Every day of the period, in order."""
    start, end = period_bounds(period)
    days, day = [], start.date()
    while day < end.date():
        days.append(day)
        day += timedelta(days=1)
    return days


def period_label(period: str) -> str:
    start, _ = period_bounds(period)
    return f"{start.year}年{start.month}月" if len(period) == 7 else f"{start.year}年{start.month}月{start.day}日"
