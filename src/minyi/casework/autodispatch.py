"""Automatic dispatch of a received order (自动分拨): the route function's work on each new
order, and the sweep's when the stream never delivered one. A repeat of an open order is
merged into it instead (并单). Each outcome is one conditional transition, so a
redelivered stream record or a second sweep changes nothing."""

from __future__ import annotations

from datetime import datetime

from minyi.casework import shell
from minyi.casework.shell import Outcome
from minyi.core.errors import Conflict
from minyi.dal import orders as store
from minyi.models import lifecycle
from minyi.models.lifecycle import Command, OrderStatus, Party
from minyi.models.order import WorkOrder
from minyi.routing import related
from minyi.routing.dispatch import decide
from minyi.routing.matcher import Matcher

MERGE_ATTEMPTS = 3  # the open order may change under us; re-read and try again


def dispatch_received(order_id: str, matcher: Matcher | None, now: datetime, actor: str,
                      threshold: float) -> WorkOrder | None:
    """Route a received order once. Anything else (already routed, unknown) is left as it
    is and returned as stored."""
    order = store.get_order(order_id)
    if order is None or not lifecycle.transitions(order.status, Command.ROUTE):
        return order
    decided = decide(order, matcher, now, threshold)
    if decided.status is OrderStatus.DISPATCHED and not decided.urgent:
        merged = _merge(order, decided, now, actor)
        if merged is not None:
            return merged
    lifecycle.check(order.status, Command.ROUTE, frozenset({Party.SYSTEM}))
    outcome = Outcome(decided, {"matter_code": decided.matter_code, "department": decided.department,
                                "on_call": None, "confidence": decided.match_score,
                                "duty_list_version": decided.duty_list_version})
    if decided.status is OrderStatus.DISPATCHED:
        outcome = shell.announced(outcome, now)
    try:
        return shell.commit(order, Command.ROUTE, outcome, actor, now)
    except Conflict:  # routed meanwhile by a redelivery or the sweep
        return store.get_order(order_id)


def _merge(order: WorkOrder, decided: WorkOrder, now: datetime, actor: str) -> WorkOrder | None:
    """Link the order to the open order it repeats, both changes in one transaction.
    None when there is nothing to merge into."""
    for _ in range(MERGE_ATTEMPTS):
        parent = related.find_open_order(decided, now)
        if parent is None:
            return None
        child, linked = related.merged(decided, parent, now)
        changes = [
            shell.change_of(order, Command.MERGE, Outcome(child, {"parent_order_id": parent.order_id,
                                                                  "matter_code": child.matter_code})),
            shell.change_of(parent, Command.LINK_RELATED, Outcome(
                linked, {"child_order_id": child.order_id, "related_count": len(linked.related_orders)},
                keep_timer=True)),
        ]
        if store.commit(changes, actor=actor, at=now):
            return child.model_copy(update={"version": order.version + 1})
        current = store.get_order(order.order_id)
        if current is None or current.status is not OrderStatus.RECEIVED:
            return current
    return None
