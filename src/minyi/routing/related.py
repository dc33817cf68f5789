"""Related requests (并单): a new request about the same matter as an open order from
the same phone, or about the same address, within 7 days, is stored and linked to
that order and handled with it: counted on it, never dispatched a second time."""

from __future__ import annotations

from datetime import datetime, timedelta

from minyi.dal import orders as store
from minyi.models.order import OrderStatus, WorkOrder

WINDOW = timedelta(days=7)
OPEN = (OrderStatus.DISPATCHED, OrderStatus.OVERDUE)


def find_open_order(order: WorkOrder, now: datetime) -> WorkOrder | None:
    """The oldest open order this one repeats, if any."""
    phone_key, address_key = store.related_keys(order)
    since = now - WINDOW
    candidates = store.related_candidates(phone_key, address_key, since)
    for candidate_id in candidates:
        if candidate_id == order.order_id:
            continue
        candidate = store.get_order(candidate_id)
        if candidate and candidate.status in OPEN and candidate.parent_order_id is None \
                and candidate.received_at >= since:
            return candidate
    return None


def merge_into_open_order(decided: WorkOrder, now: datetime, actor: str) -> WorkOrder | None:
    """Link `decided` (a received order that would be dispatched) to the open order it
    repeats. Returns the merged order, or None when there is nothing to merge into."""
    for _ in range(3):  # the parent may change under us; re-read and try again
        parent = find_open_order(decided, now)
        if parent is None:
            return None
        child = decided.model_copy(update={
            "status": OrderStatus.MERGED, "parent_order_id": parent.order_id, "department": parent.department,
            "co_departments": parent.co_departments, "dispatched_at": now, "due_at": parent.due_at})
        linked = parent.model_copy(update={"related_orders": [*parent.related_orders, child.order_id]})
        detail = {"parent_order_id": parent.order_id, "matter_code": child.matter_code}
        changes = [
            store.Change(child, OrderStatus.RECEIVED, "merged_into", None, detail),
            store.Change(linked, parent.status, "related_request_linked", None,
                         {"child_order_id": child.order_id, "related_count": len(linked.related_orders)},
                         keep_timer=True),
        ]
        if store.commit(changes, actor=actor, at=now):
            return child.model_copy(update={"version": decided.version + 1})
        current = store.get_order(decided.order_id)
        if current is None or current.status is not OrderStatus.RECEIVED:
            return current
    return None
