"""Orders whose timer has fired, from the sparse `due` index (never a Scan)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from minyi.core import clock
from minyi.dal.order_records import TIMER_SHARDS, OrderRecord, order_of
from minyi.models.order import WorkOrder

PAGE = 100


@dataclass(frozen=True)
class Fired:
    """One fired timer: the order as the index holds it, or why it could not be read."""

    order_id: str
    order: WorkOrder | None
    problem: str | None = None


def due_orders(now: datetime) -> Iterator[Fired]:
    """Every order whose timer fired by `now`, shard by shard, a page at a time. The index
    projects the whole order, so each is read once; it may lag the table by a moment, and
    whoever acts on it does so conditionally on the version read here. An item that does not
    read as an order is reported, never allowed to stop the others."""
    cutoff = clock.epoch(now)
    for shard in range(TIMER_SHARDS):
        for item in OrderRecord.timers.query(f"T{shard}", OrderRecord.timer_at <= cutoff, page_size=PAGE):
            try:
                yield Fired(item.order_id, order_of(item))
            except Exception as error:  # a corrupt or hand-written item
                yield Fired(getattr(item, "order_id", None) or item.pk, None, f"{type(error).__name__}: {error}")
