"""Orders table: work orders, their audit trail, and the indexes the functions query.

One table holds an order and its audit records under the same partition
(pk = ORDER#<id>), so an order and the audit record of each change are written
in one transaction and read back with one query.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from minyi import clock
from minyi.models.order import Citizen, OrderStatus, WorkOrder

TIMER_SHARDS = 4
ORDER_SK = "ORDER"


class TimerIndex(GlobalSecondaryIndex["OrderRecord"]):
    """timers: open clocks, keyed by when they fire. Sparse: an order is in it only
    while something must happen at `timer_at` (dispatch watchdog, deadline)."""

    class Meta:
        index_name = "timers"
        projection = IncludeProjection(["status", "order_id"])

    timer_shard = UnicodeAttribute(hash_key=True)
    timer_at = NumberAttribute(range_key=True)


class MonthIndex(GlobalSecondaryIndex["OrderRecord"]):
    """by_month: every order of a month by receipt time, for reports."""

    class Meta:
        index_name = "by_month"
        projection = IncludeProjection(["order_id", "status", "department", "channel", "overdue_at"])

    month = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class _OrdersTableModel(Model):
    class Meta:
        table_name = os.environ.get("ORDERS_TABLE", "orders")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    item_type = UnicodeAttribute()


class OrderRecord(_OrdersTableModel):
    order_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    external_id = UnicodeAttribute()
    title = UnicodeAttribute()
    content = UnicodeAttribute()
    citizen_name = UnicodeAttribute()
    citizen_phone = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    month = UnicodeAttribute()
    status = UnicodeAttribute()
    department = UnicodeAttribute(null=True)
    co_departments = ListAttribute(of=UnicodeAttribute, null=True)
    matter = ListAttribute(of=UnicodeAttribute, null=True)
    matter_code = UnicodeAttribute(null=True)
    duty_list_version = NumberAttribute(null=True)
    match_score = NumberAttribute(null=True)
    dispatched_at = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    overdue_at = UnicodeAttribute(null=True)
    timer_shard = UnicodeAttribute(null=True)
    timer_at = NumberAttribute(null=True)
    version = VersionAttribute()

    timers = TimerIndex()
    by_month = MonthIndex()


class AuditRecord(_OrdersTableModel):
    """审计记录: who changed what, when, from which state to which."""

    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UnicodeAttribute()
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)


_MUTABLE_FIELDS = (
    "status",
    "department",
    "co_departments",
    "matter",
    "matter_code",
    "duty_list_version",
    "match_score",
    "dispatched_at",
    "due_at",
    "overdue_at",
)


def _order_key(order_id: str) -> str:
    return f"ORDER#{order_id}"


def timer_shard(order_id: str) -> str:
    return f"T{zlib.crc32(order_id.encode()) % TIMER_SHARDS}"


def _time(value: datetime | None) -> str | None:
    return clock.iso(value) if value else None


def _record_of(order: WorkOrder) -> OrderRecord:
    return OrderRecord(
        pk=_order_key(order.order_id),
        sk=ORDER_SK,
        item_type="order",
        order_id=order.order_id,
        channel=order.channel,
        external_id=order.external_id,
        title=order.title,
        content=order.content,
        citizen_name=order.citizen.name,
        citizen_phone=order.citizen.phone,
        address=order.address,
        received_at=clock.iso(order.received_at),
        month=clock.month_of(order.received_at),
        status=order.status.value,
        department=order.department,
        co_departments=order.co_departments or None,
        matter=order.matter or None,
        matter_code=order.matter_code,
        duty_list_version=order.duty_list_version,
        match_score=order.match_score,
        dispatched_at=_time(order.dispatched_at),
        due_at=_time(order.due_at),
        overdue_at=_time(order.overdue_at),
    )


def _order_of(record: OrderRecord) -> WorkOrder:
    def when(text: str | None) -> datetime | None:
        return clock.parse_iso(text) if text else None

    return WorkOrder(
        order_id=record.order_id,
        channel=record.channel,
        external_id=record.external_id,
        title=record.title,
        content=record.content,
        citizen=Citizen(name=record.citizen_name, phone=record.citizen_phone),
        address=record.address,
        received_at=clock.parse_iso(record.received_at),
        status=OrderStatus(record.status),
        department=record.department,
        co_departments=list(record.co_departments or []),
        matter=list(record.matter or []),
        matter_code=record.matter_code,
        duty_list_version=int(record.duty_list_version) if record.duty_list_version is not None else None,
        match_score=float(record.match_score) if record.match_score is not None else None,
        dispatched_at=when(record.dispatched_at),
        due_at=when(record.due_at),
        overdue_at=when(record.overdue_at),
        version=int(record.version or 1),
    )


def _audit(order_id: str, action: str, actor: str, at: datetime, from_status: str | None,
           to_status: str | None, detail: dict[str, Any] | None) -> AuditRecord:
    stamp = clock.iso(at)
    # ordered by when it was written (ns), not by the business time `at`, which a
    # scheduled sweep takes from its event and can lie a little in the past
    return AuditRecord(
        pk=_order_key(order_id),
        sk=f"AUDIT#{time.time_ns():020d}#{secrets.token_hex(4)}",
        item_type="audit",
        action=action,
        actor=actor,
        at=stamp,
        from_status=from_status,
        to_status=to_status,
        detail=json.dumps(detail, ensure_ascii=False) if detail else None,
    )


def _conditional_failure(error: TransactWriteError) -> bool:
    return any(
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in (error.cancellation_reasons or [])
    )


def _connection() -> Connection:
    return OrderRecord._get_connection().connection


def insert_order(order: WorkOrder, timer_at: int, actor: str, detail: dict[str, Any]) -> bool:
    """Store a new order and its `received` audit record atomically, with its first
    timer armed. False when an order with this id already exists."""
    record = _record_of(order)
    record.timer_shard = timer_shard(order.order_id)
    record.timer_at = timer_at
    audit = _audit(order.order_id, "received", actor, order.received_at, None, order.status.value, detail)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(record, condition=OrderRecord.pk.does_not_exist())
            tx.save(audit)
    except TransactWriteError as error:
        if _conditional_failure(error):
            return False
        raise
    return True


def get_order(order_id: str) -> WorkOrder | None:
    try:
        record = OrderRecord.get(_order_key(order_id), ORDER_SK, consistent_read=True)
    except OrderRecord.DoesNotExist:
        return None
    return _order_of(record)


def transition(order: WorkOrder, expected: OrderStatus, *, action: str, actor: str, at: datetime,
               timer_at: int | None, detail: dict[str, Any] | None = None) -> bool:
    """Write `order`'s new state if the stored one is still `expected` at the same
    version, with one audit record, in one transaction. False if someone else moved
    the order first (the caller re-reads and decides)."""
    record = _record_of(order)
    record.version = order.version
    actions = [getattr(OrderRecord, name).set(getattr(record, name))
               for name in _MUTABLE_FIELDS if getattr(record, name) is not None]
    actions += [getattr(OrderRecord, name).remove()
                for name in _MUTABLE_FIELDS if getattr(record, name) is None]
    if timer_at is None:
        actions += [OrderRecord.timer_shard.remove(), OrderRecord.timer_at.remove()]
    else:
        actions += [OrderRecord.timer_shard.set(timer_shard(order.order_id)), OrderRecord.timer_at.set(timer_at)]
    audit = _audit(order.order_id, action, actor, at, expected.value, order.status.value, detail)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.update(record, actions=actions, condition=OrderRecord.status == expected.value)
            tx.save(audit)
    except TransactWriteError as error:
        if _conditional_failure(error):
            return False
        raise
    return True


def due_timers(now: datetime) -> Iterator[tuple[str, OrderStatus]]:
    """(order_id, status) of every timer that has fired, through the timers index."""
    cutoff = clock.epoch(now)
    for shard in range(TIMER_SHARDS):
        for item in OrderRecord.timers.query(f"T{shard}", OrderRecord.timer_at <= cutoff):
            yield item.order_id, OrderStatus(item.status)


def _months(start: datetime, end: datetime) -> Iterator[str]:
    first, last = clock.to_shanghai(start), clock.to_shanghai(end) - timedelta(seconds=1)
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def orders_received_between(start: datetime, end: datetime) -> Iterator[OrderRecord]:
    """Orders received in [start, end), read month partition by month partition
    from the by_month index (projected attributes only)."""
    low, high = clock.iso(start), clock.iso(end)
    for month in _months(start, end):
        for item in OrderRecord.by_month.query(month, OrderRecord.received_at.between(low, high)):
            if item.received_at < high:
                yield item


def audit_trail(order_id: str) -> list[dict[str, Any]]:
    trail = []
    for item in AuditRecord.query(_order_key(order_id), AuditRecord.sk.startswith("AUDIT#"),
                                  consistent_read=True):
        entry = {"action": item.action, "actor": item.actor, "at": item.at,
                 "from": item.from_status, "to": item.to_status}
        if item.detail:
            entry["detail"] = json.loads(item.detail)
        trail.append(entry)
    return trail
