"""Dispatch (分拨): find the matter of a request in the duty list and send the order
to the matter's lead department with its deadline; when unsure, to the manual queue."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from minyi.core import clock
from minyi.dal import duty_list as duty_store
from minyi.dal import events as bus
from minyi.dal import orders as store
from minyi.models.duty import Matter
from minyi.models.order import OrderStatus, WorkOrder
from minyi.routing import related
from minyi.routing.duty_list import LOCAL_LEAD
from minyi.routing.emergency import is_emergency
from minyi.routing.matcher import Matcher, MatchResult
from minyi.routing.places import places, township_government
from minyi.timelimits.hours import RAPID_TEAM, duty_day

CHOSEN_CONFIDENCE = 0.9  # the caller picked the matter (an Open311 service); we trust but record it
EMERGENCY_TIME_LIMIT = timedelta(hours=2)  # 应急快速处置: the 2-hour tier


def auto_dispatch_threshold() -> float:
    """Below this confidence an order waits for an operator (待人工分拨)."""
    return float(os.environ.get("AUTO_DISPATCH_THRESHOLD", "0.35"))


@dataclass(frozen=True)
class Routing:
    """Where a request goes: the matter, lead and co-handlers, and whether a person
    must decide (manual) because the matcher is not confident enough."""

    matter: Matter | None
    lead: str | None
    co: tuple[str, ...]
    confidence: float
    manual: bool
    urgent: bool


def route(matcher: Matcher, title: str, content: str, address: str | None, *, flagged_urgent: bool = False,
          requested_matter: str | None = None) -> Routing:
    """The routing of one request by the duty list. Pure: no I/O (the `minyi dispatch`
    CLI and the route function share it)."""
    urgent = flagged_urgent or is_emergency(f"{title}\n{content}")
    chosen = matcher.by_code.get(requested_matter or "")
    result = matcher.match(title, content, address)
    if chosen is not None:
        result = MatchResult(chosen, CHOSEN_CONFIDENCE, result.score, result.terms, None, result.places)
    matter = result.matter
    if matter is None:
        return Routing(None, None, (), 0.0, True, urgent)
    lead, co = matter.lead, list(matter.co)
    manual = result.confidence < auto_dispatch_threshold()
    if matter.local:
        if result.places:
            lead = township_government(result.places[0])
        else:
            manual = True  # a township's matter, but which township?
    else:
        governments = [township_government(place) for place in result.places]
        # "属地乡镇" in a co-handler list means the township where it happened, once known;
        # while none is named it names nobody (the township, when found, is added by hand)
        co = [governments[0] if c == LOCAL_LEAD else c for c in co if c != LOCAL_LEAD or governments]
        co += [g for g in governments if g not in co]
    return Routing(matter, lead, tuple(co), result.confidence, manual, urgent)


def decide(order: WorkOrder, matcher: Matcher | None, now: datetime) -> WorkOrder:
    """The dispatched (or manual) form of a received order. Pure: no I/O."""
    if matcher is None:
        return order.model_copy(update={"status": OrderStatus.MANUAL, "match_score": 0.0})
    routing = route(matcher, order.title, order.content, order.address, flagged_urgent=order.urgent,
                    requested_matter=order.requested_matter)
    common = {"duty_list_version": matcher.duty_list.version, "match_score": routing.confidence,
              "urgent": routing.urgent, "places": [str(p) for p in places(order.text)]}
    if routing.manual:
        # the best guess helps the operator, but it is not a dispatch
        return order.model_copy(update={**common, "status": OrderStatus.MANUAL, "matter_code": None,
                                        "matter": list(routing.matter.path) if routing.matter else []})
    matter = routing.matter
    return order.model_copy(update={
        **common,
        "status": OrderStatus.DISPATCHED,
        "department": routing.lead,
        "co_departments": list(routing.co),
        "matter": list(matter.path),
        "matter_code": matter.code,
        "dispatched_at": now,
        "due_at": now + EMERGENCY_TIME_LIMIT if routing.urgent
        else clock.working_days_deadline(now, matter.time_limit_days),
    })


def assign_on_call(order: WorkOrder, now: datetime) -> WorkOrder:
    """Outside the lead department's hours the rapid-handling team's on-call handler
    takes the order first (7×24); without a roster entry the team itself is named."""
    entry = duty_store.on_call(duty_day(now))
    return order.model_copy(update={"on_call": f"{RAPID_TEAM}:{entry.handler}" if entry else RAPID_TEAM})


def dispatch_order(order_id: str, matcher: Matcher | None, now: datetime, actor: str) -> WorkOrder | None:
    """Dispatch a received order once. Anything else (already dispatched, unknown)
    is left as it is, so redelivered stream records and sweeps change nothing."""
    order = store.get_order(order_id)
    if order is None or order.status is not OrderStatus.RECEIVED:
        return order
    decided = decide(order, matcher, now)
    if decided.status is OrderStatus.DISPATCHED and not decided.urgent:
        merged = related.merge_into_open_order(decided, now, actor)
        if merged is not None:
            return merged
    if decided.status is OrderStatus.DISPATCHED and not duty_store.working_hours(decided.department).is_open(now):
        decided = assign_on_call(decided, now)
    # the alerts go out before the order records its dispatch: a crash in between repeats
    # an alert, never loses one
    if decided.urgent and decided.status is OrderStatus.DISPATCHED:
        bus.emergency(decided, [decided.department, *decided.co_departments])
    if decided.on_call:
        bus.off_hours(decided)
    timer = clock.epoch(decided.due_at) if decided.due_at else None
    detail = {"matter_code": decided.matter_code, "department": decided.department, "on_call": decided.on_call,
              "confidence": decided.match_score, "duty_list_version": decided.duty_list_version}
    action = "dispatched" if decided.status is OrderStatus.DISPATCHED else "queued_manual"
    if store.transition(decided, OrderStatus.RECEIVED, action=action, actor=actor, at=now,
                        timer_at=timer, detail=detail):
        return decided.model_copy(update={"version": order.version + 1})
    return store.get_order(order_id)
