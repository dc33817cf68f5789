"""Orders: store a new order once, read orders, and commit changes with their audit
records, each conditional on the order being as it was read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from minyi.core import clock
from minyi.dal.audit import audit_record
from minyi.dal.order_records import (
    CO_SK_PREFIX,
    MUTABLE_FIELDS,
    ORDER_SK,
    CoHandlerRecord,
    HandlingItem,
    OrderRecord,
    order_key,
    order_of,
    record_of,
    timer_shard,
)
from minyi.dal.tables import transact
from minyi.models.handling import Record
from minyi.models.lifecycle import AuditAction, OrderStatus, stored_forms
from minyi.models.order import WorkOrder

BATCH_GET_LIMIT = 100  # BatchGetItem's own limit


def _connection() -> Connection:
    return OrderRecord._get_connection().connection


def insert_order(order: WorkOrder, timer_at: int, actor: str, detail: dict[str, Any],
                 raw_payload: str | None = None, absent: str | None = None,
                 action: AuditAction = AuditAction.RECEIVED) -> bool:
    """Store a new order (with the channel's original payload, 原始报文) and its
    `received` audit record atomically, with its first timer armed. False when an order
    with this id already exists, or one with the id `absent` (the same request stored
    under an id of an earlier scheme)."""
    record = record_of(order)
    record.raw_payload = raw_payload
    record.timer_shard = timer_shard(order.order_id)
    record.timer_at = timer_at
    audit = audit_record(order.order_id, action.value, actor, order.received_at, None,
                         order.status.value, detail)

    def build(tx: TransactWrite) -> None:
        tx.save(record, condition=OrderRecord.pk.does_not_exist())
        tx.save(audit)
        if absent and absent != order.order_id:
            tx.condition_check(OrderRecord, order_key(absent), ORDER_SK, condition=OrderRecord.pk.does_not_exist())

    return transact(_connection(), build)


def get_order(order_id: str) -> WorkOrder | None:
    try:
        record = OrderRecord.get(order_key(order_id), ORDER_SK, consistent_read=True)
    except OrderRecord.DoesNotExist:
        return None
    return order_of(record)


def order_from_image(image: dict[str, dict[str, Any]]) -> WorkOrder | None:
    """The order a stream record's image holds (DynamoDB's attribute-value form), as it was
    at that write; None when the image is not of an order item."""
    if (image.get("item_type") or {}).get("S") != "order" or (image.get("sk") or {}).get("S") != ORDER_SK:
        return None
    return order_of(OrderRecord.from_raw_data(image))


def get_orders(order_ids: Iterable[str], with_raw: bool = False) -> dict[str, tuple[WorkOrder, str | None]]:
    """Several orders by id in BatchGetItem calls of up to 100 keys (consistent); the
    ones that do not exist are left out."""
    keys = [(order_key(order_id), ORDER_SK) for order_id in dict.fromkeys(order_ids)]
    found: dict[str, tuple[WorkOrder, str | None]] = {}
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        for record in OrderRecord.batch_get(keys[start:start + BATCH_GET_LIMIT], consistent_read=True):
            found[record.order_id] = (order_of(record), record.raw_payload if with_raw else None)
    return found


@dataclass(frozen=True)
class Change:
    """One order's step: the order after it (carrying the version it was read at), the
    status it was read in, the audit record, what to do with its timer (arm at
    `timer_at`, keep, or else disarm) and the co-handler items to put and drop."""

    order: WorkOrder
    expected: OrderStatus
    action: AuditAction
    detail: dict[str, Any] | None = None
    timer_at: int | None = None
    keep_timer: bool = False
    put_co_handlers: tuple[str, ...] = ()
    drop_co_handlers: tuple[str, ...] = ()
    records: tuple[tuple[Record, str, BaseModel], ...] = ()  # handling records: (kind, key, record)


def _co_handler_item(order: WorkOrder, department: str) -> CoHandlerRecord:
    return CoHandlerRecord(pk=order_key(order.order_id), sk=f"{CO_SK_PREFIX}{department}", item_type="co_handler",
                           order_id=order.order_id, department=department,
                           received_at=clock.iso(order.received_at), title=order.title)


def commit(changes: list[Change], *, actor: str, at: datetime) -> bool:
    """Write every change and one audit record per change in one transaction, each
    conditional on the stored order still being in the expected status at the version it
    was read. False if someone else changed any of them first."""
    def build(tx: TransactWrite) -> None:
        for change in changes:
            record = record_of(change.order)
            record.version = change.order.version
            actions = [getattr(OrderRecord, name).set(getattr(record, name))
                       for name in MUTABLE_FIELDS if getattr(record, name) is not None]
            actions += [getattr(OrderRecord, name).remove()
                        for name in MUTABLE_FIELDS if getattr(record, name) is None]
            if change.timer_at is not None:
                actions += [OrderRecord.timer_shard.set(timer_shard(change.order.order_id)),
                            OrderRecord.timer_at.set(change.timer_at)]
            elif not change.keep_timer:
                actions += [OrderRecord.timer_shard.remove(), OrderRecord.timer_at.remove()]
            # the version attribute adds `version = <read version>` to the condition
            tx.update(record, actions=actions, condition=OrderRecord.status.is_in(*stored_forms(change.expected)))
            for kind, key, model in change.records:
                tx.save(HandlingItem(pk=order_key(change.order.order_id), sk=f"{kind.value}{key}",
                                     item_type=kind.name.lower(), at=clock.iso(at), body=model.model_dump_json()),
                        condition=HandlingItem.sk.does_not_exist())
            for department in change.put_co_handlers:
                tx.save(_co_handler_item(change.order, department))
            for department in change.drop_co_handlers:
                tx.delete(CoHandlerRecord(order_key(change.order.order_id), f"{CO_SK_PREFIX}{department}"))
            tx.save(audit_record(change.order.order_id, change.action.value, actor, at, change.expected.value,
                                 change.order.status.value, change.detail))

    return transact(_connection(), build)
