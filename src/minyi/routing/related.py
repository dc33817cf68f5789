"""Related requests (并单): a new request about the same matter as an open order from the
same phone, or about the same address, within 7 days, is stored and linked to that
order and handled with it: counted on it, never dispatched a second time."""

from __future__ import annotations

from datetime import datetime, timedelta

from minyi.dal import orders as store
from minyi.dal.related import related_candidates
from minyi.models.lifecycle import IN_HAND, OrderStatus
from minyi.models.order import WorkOrder

WINDOW = timedelta(days=7)


def find_open_order(order: WorkOrder, now: datetime) -> WorkOrder | None:
    """The oldest open order this one repeats, if any."""
    phone_key, address_key = order.related_keys()
    since = now - WINDOW
    for candidate_id in related_candidates(phone_key, address_key, since):
        if candidate_id == order.order_id:
            continue
        candidate = store.get_order(candidate_id)
        if candidate and candidate.status in IN_HAND and candidate.parent_order_id is None \
                and candidate.received_at >= since:
            return candidate
    return None


def merged(child: WorkOrder, parent: WorkOrder, now: datetime) -> tuple[WorkOrder, WorkOrder]:
    """The request linked to the open order it repeats, and that order counting it. Pure.
    The merged request names no department of its own: it is handled, listed and seen
    through its parent, wherever the parent goes next (a return, a re-dispatch)."""
    linked_child = child.model_copy(update={
        "status": OrderStatus.MERGED, "parent_order_id": parent.order_id, "department": None,
        "co_departments": [], "dispatched_at": now, "due_at": parent.due_at, "on_call": None})
    linked_parent = parent.model_copy(update={"related_orders": [*parent.related_orders, child.order_id]})
    return linked_child, linked_parent
