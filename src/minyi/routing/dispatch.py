"""Dispatch (分拨): find the matter of a request in the duty list and send the order to the
matter's lead department with its deadline; when unsure, to the manual queue.

`route` and `decide` are pure (the `minyi dispatch` CLI and the route function share
them); `dispatched` is the dispatched form of an order for every way of dispatching
(automatic, manual, re-dispatch), and `announce` is their one side-effects path: the
7×24 on-call assignment off hours and the alerts for urgent orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from minyi.core import settings
from minyi.dal import events as bus
from minyi.models.duty import Matter
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import WorkOrder
from minyi.routing.emergency import is_emergency
from minyi.routing.jurisdiction import assign
from minyi.routing.matcher import Matcher, MatchResult
from minyi.routing.oncall import assign_on_call, off_hours
from minyi.routing.places import places
from minyi.timelimits.deadlines import completion_deadline

CHOSEN_CONFIDENCE = 0.9  # the caller picked the matter (an Open311 service); we trust but record it


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


def route(matcher: Matcher, title: str, content: str, address: str | None, *, threshold: float | None = None,
          flagged_urgent: bool = False, requested_matter: str | None = None) -> Routing:
    """The routing of one request by the duty list. Pure: no I/O. Below `threshold` (the
    AUTO_DISPATCH_THRESHOLD setting unless given) a person decides."""
    if threshold is None:
        threshold = settings.current().auto_dispatch_threshold
    urgent = flagged_urgent or is_emergency(f"{title}\n{content}")
    chosen = matcher.by_code.get(requested_matter or "")
    result = matcher.match(title, content, address)
    if chosen is not None:
        result = MatchResult(chosen, CHOSEN_CONFIDENCE, result.score, result.terms, None, result.places)
    matter = result.matter
    if matter is None:
        return Routing(None, None, (), 0.0, True, urgent)
    lead, co = assign(matter, result.places)
    # a township's own matter with no township named: which township? a person decides
    manual = result.confidence < threshold or lead is None
    return Routing(matter, lead, co, result.confidence, manual, urgent)


def dispatched(order: WorkOrder, matter: Matter, lead: str, co: tuple[str, ...] | list[str], *,
               duty_list_version: int | None, now: datetime) -> WorkOrder:
    """The order sent to `lead` for `matter` now, due by the matter's limit (2 hours if urgent)."""
    return order.model_copy(update={
        "status": OrderStatus.DISPATCHED, "department": lead, "co_departments": list(co),
        "matter": list(matter.path), "matter_code": matter.code, "duty_list_version": duty_list_version,
        "dispatched_at": now, "due_at": completion_deadline(now, matter.time_limit_days, order.urgent),
        "time_limit_days": matter.time_limit_days, "overdue_at": None, "on_call": None, "designated": False,
        "signed_at": None, "signed_by": None, "first_contact_at": None})


def decide(order: WorkOrder, matcher: Matcher | None, now: datetime, threshold: float | None = None) -> WorkOrder:
    """The dispatched (or manual) form of a received order. Pure: no I/O."""
    if matcher is None:  # no duty list in force: a person dispatches it, urgent if it says so
        return order.model_copy(update={"status": OrderStatus.MANUAL, "match_score": 0.0,
                                        "urgent": order.urgent or is_emergency(f"{order.title}\n{order.content}")})
    routing = route(matcher, order.title, order.content, order.address, threshold=threshold,
                    flagged_urgent=order.urgent, requested_matter=order.requested_matter)
    common = {"duty_list_version": matcher.duty_list.version, "match_score": routing.confidence,
              "urgent": routing.urgent, "places": [str(p) for p in places(order.text)]}
    if routing.manual:
        # the best guess helps the operator, but it is not a dispatch
        return order.model_copy(update={**common, "status": OrderStatus.MANUAL, "matter_code": None,
                                        "matter": list(routing.matter.path) if routing.matter else []})
    return dispatched(order.model_copy(update=common), routing.matter, routing.lead, routing.co,
                      duty_list_version=matcher.duty_list.version, now=now)


def announce(order: WorkOrder, now: datetime) -> WorkOrder:
    """What every dispatch does before it is recorded: off its lead's office hours the
    on-call handler takes it (and is told), and an urgent order alerts every linked
    department. The alerts go out before the dispatch is committed: a crash in between
    repeats an alert, never loses one. Each alert names the version the order has once this
    dispatch is committed; if two operators dispatch at once and this one loses (409), a
    consumer that finds the order at another version, or sent elsewhere, can drop the alert."""
    if order.status is not OrderStatus.DISPATCHED:
        return order
    if off_hours(order.department, now):
        order = assign_on_call(order, now)
    committed = order.model_copy(update={"version": order.version + 1})
    if order.urgent:
        bus.emergency(committed, [order.department, *order.co_departments])
    if order.on_call:
        bus.off_hours(committed)
    return order
