"""Lists of orders from the `queues` and `by_department` indexes, a page at a time.

A page ends with an opaque cursor (the index's last evaluated key, base64url JSON); a
cursor that is not one this code wrote for the same list is refused with 400, so it
can never start a query in another queue's or department's partition."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from minyi.core import clock
from minyi.core.errors import ValidationFailed
from minyi.dal.order_records import CO_SK_PREFIX, ORDER_SK, OrderRecord
from minyi.models.lifecycle import status_of
from minyi.models.listing import DepartmentEntry, OrderListing, Page

_LISTED = ["pk", "order_id", "status", "title", "received_at", "due_at", "overdue_at", "urgent", "matter_code",
           "department", "co_departments"]


def _encode(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str | None, hash_name: str, hash_value: str, range_name: str) -> dict[str, Any] | None:
    if cursor is None:
        return None
    bad = ValidationFailed("cursor is not one this list gave", [{"field": "cursor", "problem": "invalid"}])
    if len(cursor) > 2048:
        raise bad
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise bad from None
    if not isinstance(key, dict) or set(key) != {"pk", "sk", hash_name, range_name}:
        raise bad
    for value in key.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
                and 0 < len(value["S"]) <= 512):
            raise bad
    if key[hash_name]["S"] != hash_value:
        raise bad
    return key


def _listing(item: OrderRecord) -> OrderListing:
    def when(text: str | None):
        return clock.parse_iso(text) if text else None

    return OrderListing(
        order_id=item.order_id, status=status_of(item.status), title=item.title,
        received_at=clock.parse_iso(item.received_at), department=getattr(item, "department", None),
        co_departments=list(getattr(item, "co_departments", None) or []), due_at=when(getattr(item, "due_at", None)),
        overdue_at=when(getattr(item, "overdue_at", None)), urgent=bool(getattr(item, "urgent", None)),
        matter_code=getattr(item, "matter_code", None), match_score=getattr(item, "match_score", None),
        channel=getattr(item, "channel", None))


def queue(name: str, limit: int, cursor: str | None = None,
          channels: tuple[str, ...] | None = None, leader: str | None = None) -> Page[OrderListing]:
    """Orders waiting in a queue, oldest first (the index projects no personal data);
    only those of `channels`, or of one leader's cases, when given."""
    start = _decode(cursor, "queue", name, "received_at")
    condition = OrderRecord.channel.is_in(*channels) if channels else None
    if leader is not None:
        condition = OrderRecord.case_leader == leader
    results = OrderRecord.queues.query(name, limit=limit, last_evaluated_key=start, filter_condition=condition)
    items = [_listing(item) for item in results]
    return Page[OrderListing](items=items, next_cursor=_encode(results.last_evaluated_key))


def department_entries(department: str, limit: int, cursor: str | None = None) -> Page[DepartmentEntry]:
    """The by_department index for a department, newest first: the orders it leads, and
    the co-handler items of those it co-handles with each order's current state, read in
    one consistent BatchGetItem of the listed attributes only."""
    start = _decode(cursor, "department", department, "received_at")
    results = OrderRecord.by_department.query(department, scan_index_forward=False, limit=limit,
                                              last_evaluated_key=start)
    items = list(results)
    co_keys = [(item.pk, ORDER_SK) for item in items if item.sk.startswith(CO_SK_PREFIX)]
    current = {record.pk: record for record in OrderRecord.batch_get(
        co_keys, consistent_read=True, attributes_to_get=_LISTED)} if co_keys else {}
    entries = []
    for item in items:
        if item.sk.startswith(CO_SK_PREFIX):
            record = current.get(item.pk)
            entries.append(DepartmentEntry(department=department, co_handler_item=True,
                                           order=_listing(record) if record else None))
        else:
            entries.append(DepartmentEntry(department=department, co_handler_item=False, order=_listing(item)))
    return Page[DepartmentEntry](items=entries, next_cursor=_encode(results.last_evaluated_key))
