"""Dispatch (分拨): find the matter of a request in the duty list and send the order
to the matter's lead department with its deadline; when unsure, to the manual queue."""

from __future__ import annotations

import os
from datetime import datetime

from minyi import clock, related
from minyi.dal import orders as store
from minyi.matcher import Matcher, MatchResult, township_government
from minyi.models.order import OrderStatus, WorkOrder

CHOSEN_CONFIDENCE = 0.9  # the caller picked the matter (an Open311 service); we trust but record it


def auto_dispatch_threshold() -> float:
    """Below this confidence an order waits for an operator (待人工分拨)."""
    return float(os.environ.get("AUTO_DISPATCH_THRESHOLD", "0.35"))


def _manual(order: WorkOrder, matcher: Matcher | None, result: MatchResult | None) -> WorkOrder:
    return order.model_copy(update={
        "status": OrderStatus.MANUAL,
        "duty_list_version": matcher.duty_list.version if matcher else None,
        "match_score": result.confidence if result else 0.0,
        # the best guess helps the operator, but it is not a dispatch
        "matter": list(result.matter.path) if result and result.matter else [],
        "matter_code": None,
    })


def decide(order: WorkOrder, matcher: Matcher | None, now: datetime) -> WorkOrder:
    """The dispatched (or manual) form of a received order. Pure: no I/O."""
    if matcher is None:
        return _manual(order, None, None)
    chosen = matcher.by_code.get(order.requested_matter or "")
    result = matcher.match(order.title, order.content, order.address)
    if chosen is not None:
        result = MatchResult(chosen, CHOSEN_CONFIDENCE, result.score, result.terms, None, result.places)
    if result.matter is None or result.confidence < auto_dispatch_threshold():
        return _manual(order, matcher, result)
    matter = result.matter
    lead, co = matter.lead, list(matter.co)
    if matter.local:
        if not result.places:
            return _manual(order, matcher, result)  # a township's matter, but which township?
        lead = township_government(result.places[0])
    else:
        co += [township_government(place) for place in result.places if township_government(place) not in co]
    return order.model_copy(update={
        "status": OrderStatus.DISPATCHED,
        "department": lead,
        "co_departments": co,
        "matter": list(matter.path),
        "matter_code": matter.code,
        "duty_list_version": matcher.duty_list.version,
        "match_score": result.confidence,
        "dispatched_at": now,
        "due_at": clock.working_days_deadline(now, matter.time_limit_days),
    })


def dispatch_order(order_id: str, matcher: Matcher | None, now: datetime, actor: str) -> WorkOrder | None:
    """Dispatch a received order once. Anything else (already dispatched, unknown)
    is left as it is, so redelivered stream records and sweeps change nothing."""
    order = store.get_order(order_id)
    if order is None or order.status is not OrderStatus.RECEIVED:
        return order
    decided = decide(order, matcher, now)
    if decided.status is OrderStatus.DISPATCHED:
        merged = related.merge_into_open_order(decided, now, actor)
        if merged is not None:
            return merged
    timer = clock.epoch(decided.due_at) if decided.due_at else None
    detail = {"matter_code": decided.matter_code, "department": decided.department,
              "confidence": decided.match_score, "duty_list_version": decided.duty_list_version}
    action = "dispatched" if decided.status is OrderStatus.DISPATCHED else "queued_manual"
    if store.transition(decided, OrderStatus.RECEIVED, action=action, actor=actor, at=now,
                        timer_at=timer, detail=detail):
        return decided.model_copy(update={"version": order.version + 1})
    return store.get_order(order_id)
