"""The clock's sweep (限时办结、统一督办): act on every order whose timer has fired. A received
order whose stream record never came is dispatched; on any other, the order's limits say
what is due (`casework.timing.next_due`): a warning (预警, 80% of a limit), a missed limit
(超期), a step of the escalation ladder (催办 → 催办通知书 → 督办 → 建议领导包案), the end of
the evaluation window (closed unevaluated) or of a pause (resumed). Each is its own
conditional write with one audit record, and announced on the bus once committed.

Cost: the sweep reads the `due` index only for timers at or before `now`, and that index
projects the whole order, so an order is read once per sweep that finds it due; nothing
grows with the orders that are not due.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from minyi.casework import followup, shell, supervision, timing
from minyi.casework.autodispatch import dispatch_received
from minyi.casework.shell import Step
from minyi.core import clock, settings
from minyi.core.errors import Conflict, DomainError
from minyi.core.observability import count_by, logger, metrics
from minyi.dal import events
from minyi.dal.timers import due_orders
from minyi.models.clock import LIMIT_LABELS, STEP_LABELS, LadderStep, LimitKind
from minyi.models.lifecycle import STATUSES, Command, OrderStatus, TimerAction
from minyi.models.order import WorkOrder
from minyi.routing.liaisons import contact_of
from minyi.routing.matcher import Matcher

MAX_STEPS = 48  # more than one order can have due at once (6 limits × warning, miss and 4 ladder steps)
RETRIES = 2  # the index copy was stale, or another sweep acted first: read again and go on

ContactLookup = Callable[[str], dict[str, Any] | None]


def sweep(now: datetime, matcher: Callable[[], Matcher | None], threshold: float,
          actor: str = "sla_check", contacts: ContactLookup = contact_of) -> Counter:
    """Act on every order whose timer has fired. Running it twice, or two at once, changes
    nothing the second time: each action is a conditional write that also records what it
    did on the order's clock. One order that fails is logged and counted; it never stops
    the sweep from acting on the others."""
    outcome: Counter = Counter()
    for fired in due_orders(now):
        order = fired.order
        if order is None:
            logger.error("sweep could not read a fired order", extra={"order_id": fired.order_id,
                                                                       "problem": fired.problem})
            outcome["failed"] += 1
            continue
        try:
            action = STATUSES[order.status].on_timer
            if action is TimerAction.DISPATCH:
                done = dispatch_received(order.order_id, matcher(), now, actor, threshold)
                outcome["dispatched_late" if done and done.status is not OrderStatus.RECEIVED else "skipped"] += 1
            elif action is TimerAction.CLOCK:
                outcome.update(run_clock(order, now, actor, contacts))
            else:
                outcome["skipped"] += 1
        except Exception:
            logger.exception("sweep could not act on an order", extra={"order_id": order.order_id,
                                                                        "status": order.status.value})
            outcome["failed"] += 1
    return outcome


def step_for(order: WorkOrder, due: tuple, now: datetime, actor: str) -> tuple[Command, Step]:
    """The command and step that take what is `due` on the order."""
    _, kind, what = due
    if what == "resume":
        return Command.RESUME, supervision.resume(actor, now, automatic=True)
    if kind is LimitKind.EVALUATION and what == "miss":
        current = settings.current()
        return Command.CLOSE_UNEVALUATED, followup.close_unevaluated(now, current.evaluation_window_days,
                                                                     current.unevaluated_counts_satisfied)
    return Command.ESCALATE, supervision.clock_step(now, timing.rules())


def run_clock(order: WorkOrder, now: datetime, actor: str, contacts: ContactLookup = contact_of) -> Counter:
    """Take, one by one, everything due on this order by `now`."""
    done: Counter = Counter()
    retries = RETRIES
    for _ in range(MAX_STEPS):
        due = timing.next_due(order, now)
        if due is None or due[0] > now:
            break
        command, step = step_for(order, due, now, actor)
        try:
            after = shell.act(order.order_id, command, step, actor=actor, now=now, order=order)
        except Conflict:
            if retries == 0:
                done["skipped"] += 1
                break
            retries -= 1
            order = shell.load(order.order_id)  # stale index copy, or another sweep was first
            continue
        except DomainError:  # moved on since it was read (replied, returned, resumed)
            done["skipped"] += 1
            break
        if after.version == order.version:
            done["skipped"] += 1
            break
        done[_counted(due)] += 1
        _announce(order, after, due, contacts)
        order = after
    return done


def _counted(due: tuple) -> str:
    _, kind, what = due
    if what == "resume":
        return "resumed"
    if kind is LimitKind.EVALUATION and what == "miss":
        return "closed_unevaluated"
    return {"warn": "warned", "miss": "missed", "step": "escalated"}[what]


def _announce(before: WorkOrder, after: WorkOrder, due: tuple, contacts: ContactLookup) -> None:
    """The event of a warning or a ladder step, once its write is committed. A failed put is
    logged and counted, never undoes the step (the order's audit trail holds it)."""
    _, kind, what = due
    if what not in ("warn", "step") or kind is None:
        if what == "miss":
            metrics.add_metric(name=f"DeadlineMissed_{kind.value}", unit="Count", value=1)
        return
    limit = after.deadlines[kind]
    # who is chased: the lead department, or the co-handlers whose opinion is missing, or the reviewer
    if kind is LimitKind.OPINION:
        units = [d for d in after.co_departments if d != after.department and d not in after.opinions_from]
    elif kind is LimitKind.EVALUATION:
        units = []  # the centre's own follow-up
    else:
        units = [limit.party or after.department or ""]
    detail: dict[str, Any] = {
        "order_id": after.order_id, "version": after.version, "limit": kind.value, "limit_label": LIMIT_LABELS[kind],
        "due_at": clock.iso(limit.due), "department": after.department, "units": units, "title": after.title,
        "urgent": after.urgent, "contacts": [contacts(unit) for unit in units if unit],
    }
    if what == "warn":
        detail_type = "DeadlineApproaching"
        detail["warn_at"] = clock.iso(limit.warn_at)
    else:
        detail_type = "DeadlineEscalated"
        rung = limit.steps[-1].step
        detail |= {"step": rung.value, "step_label": STEP_LABELS[rung], "missed_at": clock.iso(limit.missed_at)
                   if limit.missed_at else None,
                   "next_step": limit.next_step.value if limit.next_step else None,
                   "leader_case_proposed": rung is LadderStep.PROPOSE_LEADER_CASE}
        metrics.add_metric(name=f"Escalation_{rung.value}", unit="Count", value=1)
        for unit in units or ["centre"]:  # counted per department (统一督办 figures in the assessment)
            count_by("Escalations", Department=unit or "-", Limit=kind.value, Step=rung.value)
    try:
        events.clock_event(detail_type, detail)
    except Exception:
        logger.exception("a clock event was not put on the bus", extra={"order_id": after.order_id,
                                                                        "detail_type": detail_type})
        metrics.add_metric(name="ClockEventsFailed", unit="Count", value=1)
