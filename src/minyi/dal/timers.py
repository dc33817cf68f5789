"""Timers that have fired, from the sparse `timers` index (never a Scan)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from minyi.core import clock
from minyi.dal.order_records import TIMER_SHARDS, OrderRecord
from minyi.models.lifecycle import OrderStatus, status_of


def due_timers(now: datetime) -> Iterator[tuple[str, OrderStatus]]:
    """(order_id, status) of every timer that has fired by `now`, shard by shard."""
    cutoff = clock.epoch(now)
    for shard in range(TIMER_SHARDS):
        for item in OrderRecord.timers.query(f"T{shard}", OrderRecord.timer_at <= cutoff):
            yield item.order_id, status_of(item.status)
