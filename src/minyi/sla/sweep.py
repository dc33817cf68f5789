"""The clock (限时办结、统一督办): the sweep that escalates overdue orders and
dispatches any order the stream failed to deliver."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from minyi.dal import orders as store
from minyi.models.order import OrderStatus
from minyi.routing.dispatch import dispatch_order
from minyi.routing.matcher import Matcher


def mark_overdue(order_id: str, now: datetime, actor: str) -> bool:
    order = store.get_order(order_id)
    if order is None or order.status is not OrderStatus.DISPATCHED or order.due_at is None or order.due_at > now:
        return False
    overdue = order.model_copy(update={"status": OrderStatus.OVERDUE, "overdue_at": now})
    return store.transition(overdue, OrderStatus.DISPATCHED, action="escalated_overdue", actor=actor, at=now,
                            timer_at=None, detail={"department": order.department,
                                                   "due_at": order.due_at.isoformat()})


def sweep(now: datetime, matcher: Callable[[], Matcher | None], actor: str = "sla_check") -> Counter:
    """Act on every timer that has fired (read from the timers index, never a Scan).
    Running it twice changes nothing the second time: each action is a conditional
    transition that also disarms the timer it acted on."""
    outcome: Counter = Counter()
    for order_id, status in store.due_timers(now):
        if status is OrderStatus.RECEIVED:
            dispatched = dispatch_order(order_id, matcher(), now, actor=actor)
            outcome["dispatched_late" if dispatched and dispatched.status is not OrderStatus.RECEIVED
                    else "skipped"] += 1
        elif status is OrderStatus.DISPATCHED:
            outcome["escalated" if mark_overdue(order_id, now, actor) else "skipped"] += 1
        else:
            outcome["skipped"] += 1
    return outcome
