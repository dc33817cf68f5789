"""Dispatch (分拨): find the matter of a request in the duty list and send the order
to the matter's lead department with its deadline; when unsure, to the manual queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from minyi import clock, related
from minyi.dal import orders as store
from minyi.models.duty import DutyList, Matter
from minyi.models.order import OrderStatus, WorkOrder

# A tie between two matters (confidence 0.5) is not confident enough to send anywhere.
AUTO_DISPATCH_THRESHOLD = 0.6


@dataclass(frozen=True)
class MatchResult:
    matter: Matter | None
    confidence: float
    score: float


def match(duty_list: DutyList, text: str) -> MatchResult:
    """Score every matter by the keywords found in the text (longer words weigh
    more); confidence is the best score's share of the two best."""
    scored = []
    for matter in duty_list.matters:
        score = sum(len(word) * text.count(word) for word in matter.keywords if word in text)
        if score:
            scored.append((score, matter))
    if not scored:
        return MatchResult(None, 0.0, 0.0)
    scored.sort(key=lambda pair: (-pair[0], pair[1].code))
    best, matter = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    return MatchResult(matter, round(best / (best + runner_up), 4), float(best))


CHOSEN_CONFIDENCE = 0.9  # the caller picked the matter (an Open311 service); we trust but record it


def decide(order: WorkOrder, duty_list: DutyList | None, now: datetime) -> WorkOrder:
    """The dispatched (or manual) form of a received order. Pure: no I/O."""
    chosen = duty_list.by_code(order.requested_matter) if duty_list and order.requested_matter else None
    if chosen is not None:
        result = MatchResult(chosen, CHOSEN_CONFIDENCE, 0.0)
    else:
        result = match(duty_list, order.text) if duty_list else MatchResult(None, 0.0, 0.0)
    if result.matter is None or result.confidence < AUTO_DISPATCH_THRESHOLD:
        return order.model_copy(update={
            "status": OrderStatus.MANUAL,
            "duty_list_version": duty_list.version if duty_list else None,
            "match_score": result.confidence,
        })
    matter = result.matter
    return order.model_copy(update={
        "status": OrderStatus.DISPATCHED,
        "department": matter.lead,
        "co_departments": list(matter.co),
        "matter": list(matter.path),
        "matter_code": matter.code,
        "duty_list_version": duty_list.version,
        "match_score": result.confidence,
        "dispatched_at": now,
        "due_at": clock.working_days_deadline(now, matter.time_limit_days),
    })


def dispatch_order(order_id: str, duty_list: DutyList | None, now: datetime, actor: str) -> WorkOrder | None:
    """Dispatch a received order once. Anything else (already dispatched, unknown)
    is left as it is, so redelivered stream records and sweeps change nothing."""
    order = store.get_order(order_id)
    if order is None or order.status is not OrderStatus.RECEIVED:
        return order
    decided = decide(order, duty_list, now)
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
