"""The clock's sweep (限时办结、统一督办): act on every timer that has fired. A received
order whose stream record never came is dispatched; an order past its completion deadline
is recorded overdue (it stays where it is); a reply nobody rated within the evaluation
window closes the order as unevaluated. What a fired timer means in each status is the lifecycle table's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from minyi.casework import followup, shell, steps
from minyi.casework.autodispatch import dispatch_received
from minyi.casework.shell import Step
from minyi.core import settings
from minyi.core.errors import DomainError
from minyi.core.observability import logger
from minyi.dal.timers import due_timers
from minyi.models.lifecycle import STATUSES, Command, OrderStatus, TimerAction
from minyi.routing.matcher import Matcher

SETTINGS = settings.current


def _act(order_id: str, command: Command, step: Step, now: datetime, actor: str) -> bool:
    """Take a timer's step; False when there was nothing to do any more."""
    try:
        before = shell.load(order_id)
        after = shell.act(order_id, command, step, actor=actor, now=now, order=before)
    except DomainError:  # moved on since the timer was read (replied, returned, already escalated)
        return False
    return after.version != before.version


def sweep(now: datetime, matcher: Callable[[], Matcher | None], threshold: float,
          actor: str = "sla_check") -> Counter:
    """Act on every timer that has fired (read from the timers index, never a Scan).
    Running it twice changes nothing the second time: each action is a conditional
    transition that also disarms the timer it acted on. One order that fails is logged
    and counted; it never stops the sweep from acting on the others."""
    outcome: Counter = Counter()
    for order_id, status in due_timers(now):
        try:
            action = STATUSES[status].on_timer
            if action is TimerAction.DISPATCH:
                done = dispatch_received(order_id, matcher(), now, actor, threshold)
                outcome["dispatched_late" if done and done.status is not OrderStatus.RECEIVED else "skipped"] += 1
            elif action is TimerAction.ESCALATE:
                done = _act(order_id, Command.ESCALATE, steps.escalate(now), now, actor)
                outcome["escalated" if done else "skipped"] += 1
            elif action is TimerAction.CLOSE_UNEVALUATED:
                step = followup.close_unevaluated(now, SETTINGS().evaluation_window_days,
                                                  SETTINGS().unevaluated_counts_satisfied)
                outcome["closed_unevaluated" if _act(order_id, Command.CLOSE_UNEVALUATED, step, now, actor)
                        else "skipped"] += 1
            else:
                outcome["skipped"] += 1
        except Exception:
            logger.exception("sweep could not act on an order", extra={"order_id": order_id, "status": status})
            outcome["failed"] += 1
    return outcome
