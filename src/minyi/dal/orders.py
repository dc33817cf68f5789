"""Orders table: work orders, their audit trail, and the indexes the functions query.

One table holds an order and its audit records under the same partition
(pk = ORDER#<id>), so an order and the audit record of each change are written
in one transaction and read back with one query.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
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

from minyi.core import clock
from minyi.models.duty import LOCAL_LEAD
from minyi.models.order import QUEUES, Citizen, OrderReturn, OrderStatus, Reply, WorkOrder

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


class RelatedByPhoneIndex(GlobalSecondaryIndex["OrderRecord"]):
    """related_phone: orders of one matter from one (hashed) phone, by receipt time (并单)."""

    class Meta:
        index_name = "related_phone"
        projection = IncludeProjection(["order_id", "status"])

    rel_phone = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class RelatedByAddressIndex(GlobalSecondaryIndex["OrderRecord"]):
    """related_address: orders of one matter about one (hashed, normalised) address."""

    class Meta:
        index_name = "related_address"
        projection = IncludeProjection(["order_id", "status"])

    rel_address = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class QueueIndex(GlobalSecondaryIndex["OrderRecord"]):
    """queues: orders waiting for a person (manual dispatch, return review, joint
    meeting), oldest first. Sparse: `queue` is set only while an order waits."""

    class Meta:
        index_name = "queues"
        projection = IncludeProjection(["order_id", "status", "department", "title", "match_score"])

    queue = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class DepartmentIndex(GlobalSecondaryIndex["OrderRecord"]):
    """by_department: the orders a department or township leads or co-handles (through
    its CoHandlerRecord items), newest first; what a department's staff list (sparse:
    `department` is set once an order is dispatched)."""

    class Meta:
        index_name = "by_department"
        projection = IncludeProjection(["order_id", "status", "title", "due_at", "overdue_at", "urgent",
                                        "matter_code"])

    department = UnicodeAttribute(hash_key=True)
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
    urgent = BooleanAttribute(null=True)
    requested_matter = UnicodeAttribute(null=True)
    on_call = UnicodeAttribute(null=True)
    places = ListAttribute(of=UnicodeAttribute, null=True)
    queue = UnicodeAttribute(null=True)
    returns = UnicodeAttribute(null=True)  # the OrderReturns as JSON
    citizen_id_number = UnicodeAttribute(null=True)
    raw_payload = UnicodeAttribute(null=True)
    parent_order_id = UnicodeAttribute(null=True)
    related_orders = ListAttribute(of=UnicodeAttribute, null=True)
    rel_phone = UnicodeAttribute(null=True)
    rel_address = UnicodeAttribute(null=True)
    reply = UnicodeAttribute(null=True)  # the Reply as JSON
    reply_status = UnicodeAttribute(null=True)  # duplicated out of `reply` for the stream filter
    version = VersionAttribute()

    timers = TimerIndex()
    by_month = MonthIndex()
    queues = QueueIndex()
    by_department = DepartmentIndex()
    related_phone = RelatedByPhoneIndex()
    related_address = RelatedByAddressIndex()


class CoHandlerRecord(_OrdersTableModel):
    """协办: one item per co-handling department of an order, beside the order (sk
    `CO#<department>`). It carries `department` and `received_at`, so the by_department
    index lists the orders a department co-handles next to those it leads. Written
    when an order is dispatched; a re-dispatch may leave one behind, which the list
    drops by checking the order itself."""

    order_id = UnicodeAttribute()
    department = UnicodeAttribute()
    received_at = UnicodeAttribute()
    title = UnicodeAttribute()


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
    "parent_order_id",
    "related_orders",
    "rel_phone",
    "rel_address",
    "reply",
    "reply_status",
    "urgent",
    "on_call",
    "places",
    "queue",
    "returns",
)


def related_keys(order: WorkOrder) -> tuple[str | None, str | None]:
    """Keys of the related_* indexes (并单): the same matter from the same phone, or
    about the same address. Hashed, so the index keys carry no personal data."""
    if not order.matter_code:
        return None, None

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

    phone = f"{order.matter_code}#{digest(order.citizen.phone)}"
    address = normalized_address(order.address)
    return phone, (f"{order.matter_code}#{digest(address)}" if address else None)


def normalized_address(address: str | None) -> str | None:
    if not address:
        return None
    kept = "".join(ch for ch in address if ch.isalnum())
    return kept if len(kept) >= 6 else None  # "梅林镇" alone says nothing about one place


def _order_key(order_id: str) -> str:
    return f"ORDER#{order_id}"


def timer_shard(order_id: str) -> str:
    return f"T{zlib.crc32(order_id.encode()) % TIMER_SHARDS}"


def _time(value: datetime | None) -> str | None:
    return clock.iso(value) if value else None


def _record_of(order: WorkOrder) -> OrderRecord:
    rel_phone, rel_address = related_keys(order)
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
        urgent=order.urgent,
        requested_matter=order.requested_matter,
        on_call=order.on_call,
        places=order.places or None,
        queue=QUEUES.get(order.status),
        returns=json.dumps([r.model_dump(mode="json") for r in order.returns], ensure_ascii=False)
        if order.returns else None,
        citizen_id_number=order.citizen.id_number,
        parent_order_id=order.parent_order_id,
        related_orders=order.related_orders or None,
        rel_phone=rel_phone,
        rel_address=rel_address,
        reply=order.reply.model_dump_json() if order.reply else None,
        reply_status=order.reply.status.value if order.reply else None,
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
        citizen=Citizen(name=record.citizen_name, phone=record.citizen_phone, id_number=record.citizen_id_number),
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
        urgent=bool(record.urgent),
        requested_matter=record.requested_matter,
        on_call=record.on_call,
        places=list(record.places or []),
        returns=[OrderReturn.model_validate(r) for r in json.loads(record.returns)] if record.returns else [],
        parent_order_id=record.parent_order_id,
        related_orders=list(record.related_orders or []),
        reply=Reply.model_validate_json(record.reply) if record.reply else None,
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


def _conflict(error: TransactWriteError) -> bool:
    """Another transaction was writing the same item at that moment (DynamoDB cancels
    rather than waits); trying again shortly decides it one way or the other."""
    return any(reason is not None and reason.code == "TransactionConflict"
               for reason in (error.cancellation_reasons or []))


def _transact(build: Any, attempts: int = 5) -> bool:
    """Run the transaction `build(tx)` describes. True if written, False if a condition
    failed; transaction conflicts are retried with jittered backoff."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=_connection()) as tx:
                build(tx)
        except TransactWriteError as error:
            if _conditional_failure(error):
                return False
            if _conflict(error) and attempt < attempts - 1:
                time.sleep(0.02 * 2 ** attempt * (1 + secrets.randbelow(100) / 100))
                continue
            raise
        return True
    return False


def _connection() -> Connection:
    return OrderRecord._get_connection().connection


def insert_order(order: WorkOrder, timer_at: int, actor: str, detail: dict[str, Any],
                 raw_payload: str | None = None) -> bool:
    """Store a new order (with the channel's original payload, 原始报文) and its
    `received` audit record atomically, with its first timer armed. False when an
    order with this id already exists."""
    record = _record_of(order)
    record.raw_payload = raw_payload
    record.timer_shard = timer_shard(order.order_id)
    record.timer_at = timer_at
    audit = _audit(order.order_id, "received", actor, order.received_at, None, order.status.value, detail)

    def build(tx: TransactWrite) -> None:
        tx.save(record, condition=OrderRecord.pk.does_not_exist())
        tx.save(audit)

    return _transact(build)


def get_order(order_id: str) -> WorkOrder | None:
    try:
        record = OrderRecord.get(_order_key(order_id), ORDER_SK, consistent_read=True)
    except OrderRecord.DoesNotExist:
        return None
    return _order_of(record)


@dataclass(frozen=True)
class Change:
    """One order's move from `expected` to `order.status`, with the timer to arm
    (None disarms) and what the audit record says about it."""

    order: WorkOrder
    expected: OrderStatus | tuple[OrderStatus, ...]
    action: str
    timer_at: int | None = None
    detail: dict[str, Any] | None = None
    keep_timer: bool = False
    previous_co: tuple[str, ...] = ()  # the co-handlers before the change, whose items a re-dispatch removes


CO_SK_PREFIX = "CO#"


def _co_handler_items(order: WorkOrder) -> list[CoHandlerRecord]:
    return [CoHandlerRecord(pk=_order_key(order.order_id), sk=f"{CO_SK_PREFIX}{department}",
                            item_type="co_handler", order_id=order.order_id, department=department,
                            received_at=clock.iso(order.received_at), title=order.title)
            for department in dict.fromkeys(order.co_departments)
            if department and department not in (order.department, LOCAL_LEAD)]


def commit(changes: list[Change], *, actor: str, at: datetime) -> bool:
    """Write every change and one audit record per change in one transaction, each
    conditional on the stored status still being the expected one at the same
    version. False if someone else moved any of them first (the caller re-reads)."""
    def build(tx: TransactWrite) -> None:
        for change in changes:
            record = _record_of(change.order)
            record.version = change.order.version
            actions = [getattr(OrderRecord, name).set(getattr(record, name))
                       for name in _MUTABLE_FIELDS if getattr(record, name) is not None]
            actions += [getattr(OrderRecord, name).remove()
                        for name in _MUTABLE_FIELDS if getattr(record, name) is None]
            if change.timer_at is not None:
                actions += [OrderRecord.timer_shard.set(timer_shard(change.order.order_id)),
                            OrderRecord.timer_at.set(change.timer_at)]
            elif not change.keep_timer:
                actions += [OrderRecord.timer_shard.remove(), OrderRecord.timer_at.remove()]
            expected = change.expected if isinstance(change.expected, tuple) else (change.expected,)
            tx.update(record, actions=actions,
                      condition=OrderRecord.status.is_in(*[status.value for status in expected]))
            if change.order.status is OrderStatus.DISPATCHED and OrderStatus.DISPATCHED not in expected:
                items = _co_handler_items(change.order)
                for item in items:
                    tx.save(item)
                kept = {item.department for item in items}
                for department in dict.fromkeys(change.previous_co):
                    if department not in kept:
                        tx.delete(CoHandlerRecord(_order_key(change.order.order_id), f"{CO_SK_PREFIX}{department}"))
            previous = expected[0].value if len(expected) == 1 else None
            tx.save(_audit(change.order.order_id, change.action, actor, at, previous, change.order.status.value,
                           change.detail))

    return _transact(build)


def related_candidates(phone_key: str | None, address_key: str | None, since: datetime) -> list[str]:
    """Ids of orders under either related key received since `since`, oldest first."""
    found: dict[str, str] = {}
    low = clock.iso(since)
    if phone_key:
        for item in OrderRecord.related_phone.query(phone_key, OrderRecord.received_at >= low):
            found[item.order_id] = item.received_at
    if address_key:
        for item in OrderRecord.related_address.query(address_key, OrderRecord.received_at >= low):
            found[item.order_id] = item.received_at
    return sorted(found, key=found.__getitem__)


def get_order_with_raw(order_id: str) -> tuple[WorkOrder, str | None] | None:
    try:
        record = OrderRecord.get(_order_key(order_id), ORDER_SK, consistent_read=True)
    except OrderRecord.DoesNotExist:
        return None
    return _order_of(record), record.raw_payload


def transition(order: WorkOrder, expected: OrderStatus, *, action: str, actor: str, at: datetime,
               timer_at: int | None, detail: dict[str, Any] | None = None) -> bool:
    return commit([Change(order, expected, action, timer_at, detail)], actor=actor, at=at)


def queue(name: str, limit: int = 200) -> list[dict[str, Any]]:
    """Orders waiting in a queue, oldest first (no personal data: the index projects none)."""
    return [{"order_id": item.order_id, "status": item.status, "department": item.department,
             "title": item.title, "received_at": item.received_at, "confidence": item.match_score}
            for item in OrderRecord.queues.query(name, limit=limit)]


_LISTED = ["pk", "order_id", "status", "title", "received_at", "due_at", "overdue_at", "urgent", "matter_code",
           "department", "co_departments"]


def department_orders(department: str, limit: int = 200) -> list[dict[str, Any]]:
    """The orders a department leads (主办) or co-handles (协办), newest first, with its
    role in each. Led orders come whole from the index (no personal data is projected);
    co-handled ones are read from the orders themselves, one batch, and kept only while
    the department is still among their co-handlers."""
    items = list(OrderRecord.by_department.query(department, scan_index_forward=False, limit=limit))
    co_keys = [(item.pk, ORDER_SK) for item in items if item.sk.startswith(CO_SK_PREFIX)]
    # consistent, so a re-dispatch a moment ago shows; only what the list shows is read
    current = {record.pk: record for record in OrderRecord.batch_get(
        co_keys, consistent_read=True, attributes_to_get=_LISTED)} if co_keys else {}
    listed = []
    for item in items:
        role = "lead"
        if item.sk.startswith(CO_SK_PREFIX):
            item = current.get(item.pk)
            if item is None or department not in (item.co_departments or []) or item.department == department:
                continue  # re-dispatched since, without this department
            role = "co"
        listed.append({"order_id": item.order_id, "role": role, "status": item.status, "title": item.title,
                       "received_at": item.received_at, "due_at": item.due_at, "overdue_at": item.overdue_at,
                       "urgent": bool(item.urgent), "matter_code": item.matter_code})
    return listed


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
