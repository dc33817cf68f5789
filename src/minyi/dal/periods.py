"""Orders received in a period, month partition by month partition of `by_month`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from minyi.core import clock
from minyi.dal.order_records import OrderRecord
from minyi.models.lifecycle import status_of
from minyi.models.listing import PeriodEntry


def _months(start: datetime, end: datetime) -> Iterator[str]:
    first, last = clock.to_shanghai(start), clock.to_shanghai(end) - timedelta(seconds=1)
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def orders_received_between(start: datetime, end: datetime) -> Iterator[PeriodEntry]:
    """Orders received in [start, end), projected attributes only (no personal data)."""
    low, high = clock.iso(start), clock.iso(end)
    for month in _months(start, end):
        for item in OrderRecord.by_month.query(month, OrderRecord.received_at.between(low, high)):
            if item.received_at < high:
                yield PeriodEntry(order_id=item.order_id, received_at=clock.parse_iso(item.received_at),
                                  status=status_of(item.status), channel=item.channel, department=item.department,
                                  overdue_at=clock.parse_iso(item.overdue_at) if item.overdue_at else None,
                                  overdue_departments=list(item.overdue_departments or []))


def order_ids_received_between(start: datetime, end: datetime) -> Iterator[str]:
    """The ids of the orders received in [start, end), month partition by month partition."""
    for entry in orders_received_between(start, end):
        yield entry.order_id
