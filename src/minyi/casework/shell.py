"""The one shell around every step of an order's life (工单流转).

A step is a pure function from the order as read to an `Outcome`. The shell loads the
order once, checks who may act and that the lifecycle table allows the command in the
order's status, runs the step, gives a new dispatch its side effects, and commits the
change with its audit record conditionally on the order being as it was read: someone
else's change in between is a 409, never a lost update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from minyi.casework import access
from minyi.core.errors import Conflict, NotFound
from minyi.core.ids import well_formed
from minyi.core.observability import logger, metrics
from minyi.dal import orders as store
from minyi.models import lifecycle
from minyi.models.handling import Record
from minyi.models.identity import StaffIdentity
from minyi.models.lifecycle import IN_HAND, AuditAction, Command, OrderStatus, Party
from minyi.models.order import Closure, ClosureKind, WorkOrder
from minyi.routing.jurisdiction import listed_co_handlers

# commands that send an order to a department anew: each gets the dispatch side effects
NEW_DISPATCH = (Command.ROUTE, Command.DISPATCH, Command.REDISPATCH, Command.DECIDE)


@dataclass(frozen=True)
class Outcome:
    """What a step did: the order after it, what the audit record says, and which of several
    audit actions the table offers for this move (None: the only one). A step committed
    through `commit` has its timer set from the order's limits (`timed`); `timer_at` and
    `keep_timer` (arm at `timer_at`; else keep it if `keep_timer`; else disarm) are for the
    changes written without it: the merge of a received order and its followers."""

    order: WorkOrder
    detail: dict[str, Any] = field(default_factory=dict)
    timer_at: int | None = None
    keep_timer: bool = False
    audit: AuditAction | None = None
    records: tuple[tuple[Record, str, BaseModel], ...] = ()  # handling records written with the change


Step = Callable[[WorkOrder], Outcome | None]


def load(order_id: str) -> WorkOrder:
    order = store.get_order(order_id) if well_formed(order_id) else None
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def co_handler_items(before: WorkOrder, after: WorkOrder) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(put, drop): an order entering a department's hands gets one listing item per
    co-handler; the items of co-handlers a re-dispatch dropped go."""
    if after.status not in IN_HAND or before.status in IN_HAND:
        return (), ()
    kept = listed_co_handlers(after.department, after.co_departments)
    dropped = tuple(d for d in listed_co_handlers(before.department, before.co_departments) if d not in kept)
    return kept, dropped


def change_of(before: WorkOrder, command: Command, outcome: Outcome) -> store.Change:
    """The stored form of a step the table allows (a step leading anywhere else is a bug)."""
    action = lifecycle.audit_action(before.status, command, outcome.order.status, outcome.audit)
    put, drop = co_handler_items(before, outcome.order)
    return store.Change(outcome.order, before.status, action, outcome.detail or None, outcome.timer_at,
                        outcome.keep_timer, put, drop, outcome.records)


# a transaction holds 100 actions: the order's 3 and 2 for each merged request it closes
MAX_FOLLOWERS = 40


def followers(before: WorkOrder, outcome: Outcome, now: datetime) -> list[store.Change]:
    """并单: the merged requests still waiting on an order follow it, in the same transaction.
    When its reply is approved, each gets the reply (delivered through its own channel: every
    citizen hears back the way they asked); when it closes, they close with it."""
    closing = outcome.order.status is OrderStatus.CLOSED and before.status is not OrderStatus.CLOSED
    answered = (outcome.order.status is OrderStatus.AWAITING_EVALUATION and outcome.order.reply is not None
                and before.status in (OrderStatus.SIGNED, OrderStatus.REPLY_REVIEW))
    if not (closing or answered) or not before.related_orders:
        return []
    changes = []
    children = store.get_orders(before.related_orders[:MAX_FOLLOWERS])
    for child, _ in children.values():
        if child.status is not OrderStatus.MERGED or child.parent_order_id != before.order_id:
            continue
        if closing:
            closure = Closure(kind=ClosureKind.WITH_PARENT, at=now, by="system")
            after = child.model_copy(update={"status": OrderStatus.CLOSED, "closure": closure, "updated_at": now})
            command = Command.CLOSE_WITH_PARENT
        else:
            shared = outcome.order.reply.model_copy(update={"attempts": 0, "last_error": None, "delivered_at": None})
            after = child.model_copy(update={"reply": shared, "updated_at": now})
            command = Command.SHARE_REPLY
        changes.append(change_of(child, command, Outcome(after, {"parent_order_id": before.order_id})))
    return changes


def timed(before: WorkOrder, outcome: Outcome, now: datetime) -> Outcome:
    """The outcome with the order's limits in step (`casework.timing`) and its one timer set to
    the next instant something is due. A received order keeps the timer its step chose (the
    dispatch watchdog)."""
    # imported on the first write: a cold start that only reads (or only receives) does not load
    # the limits' arithmetic, the calendar supplement and the roster
    from minyi.casework import timing

    after = timing.refresh(before, outcome.order, now)
    if after.calendar_uncertain and not before.calendar_uncertain:
        # never silent: a limit runs into a year nobody entered a calendar for (Mon–Fri assumed)
        metrics.add_metric(name="DeadlineCalendarUncertain", unit="Count", value=1)
        logger.warning("a deadline runs into a year no calendar covers; enter the year's arrangement "
                       "(PUT /calendar/{year})", extra={"order_id": after.order_id})
    if after.status is OrderStatus.RECEIVED:
        return replace(outcome, order=after)
    return replace(outcome, order=after, timer_at=timing.timer_of(after), keep_timer=False)


def commit(before: WorkOrder, command: Command, outcome: Outcome, actor: str, now: datetime) -> WorkOrder:
    outcome = timed(before, replace(outcome, order=outcome.order.model_copy(update={"updated_at": now})), now)
    changes = [change_of(before, command, outcome), *followers(before, outcome, now)]
    if not store.commit(changes, actor=actor, at=now):
        raise Conflict(f"order {before.order_id} changed meanwhile; reload it and try again")
    return outcome.order.model_copy(update={"version": before.version + 1})


def attempt(order: WorkOrder, command: Command, parties: frozenset[Party], step: Step) -> Outcome | None:
    """The pure part of a step: may these parties take this command in the order's status
    (403, 409), what the step does, and whether the table allows where it leads."""
    lifecycle.check(order.status, command, parties)
    outcome = step(order)
    if outcome is not None:
        lifecycle.audit_action(order.status, command, outcome.order.status, outcome.audit)
    return outcome


def act(order_id: str, command: Command, step: Step, *, actor: str, now: datetime,
        identity: StaffIdentity | None = None, order: WorkOrder | None = None) -> WorkOrder:
    """Take one step on an order for a staff member (`identity`) or the system (None).
    Pass `order` when the caller has just read it (the system's own reads)."""
    if identity is not None:
        lifecycle.check_role(frozenset(role.value for role in identity.roles), command)
        order = access.visible(identity, store.get_order(order_id) if well_formed(order_id) else None, order_id)
        parties = access.parties(identity, order)
    else:
        order = order or load(order_id)
        parties = frozenset({Party.SYSTEM})
    outcome = attempt(order, command, parties, step)
    if outcome is None:  # nothing to do after all (a timer that moved meanwhile)
        return order
    if command in NEW_DISPATCH:
        outcome = announced(outcome, now)
    return commit(order, command, outcome, actor, now)


def announced(outcome: Outcome, now: datetime) -> Outcome:
    """A new dispatch with its side effects (on-call off hours, alerts when urgent)."""
    # imported here: reply delivery takes its steps through this shell and never dispatches,
    # so its cold start does not load the matcher and the calendar
    from minyi.routing.dispatch import announce

    order = announce(outcome.order, now)
    detail = {**outcome.detail, "on_call": order.on_call} if order.on_call else outcome.detail
    return replace(outcome, order=order, detail=detail)
