"""The order's clock kept in step with its life (限时办结): every change an order goes
through passes here on its way to the store, so the limits start, are met and stop in
one place, and the order's one timer always holds the next instant something is due.

`refresh` is pure given the rules and the department's hours; `rules` and `hours_of`
read the county's settings and the roster (cached per warm container).
"""

from __future__ import annotations

import time as _time
from datetime import datetime

from minyi.core import clock, settings
from minyi.dal import roster
from minyi.models.clock import ClockRules, Deadline, LimitKind
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import ReplyStatus, WorkOrder
from minyi.models.roster import WorkingHours
from minyi.timelimits import limits

S = OrderStatus
# which limits run in which status (others stand still: nobody is chased for that time)
RUNNING = {
    S.DISPATCHED: (LimitKind.SIGN, LimitKind.CONTACT, LimitKind.OPINION, LimitKind.COMPLETE),
    S.SIGNED: (LimitKind.CONTACT, LimitKind.OPINION, LimitKind.COMPLETE),
    S.REPLY_REVIEW: (LimitKind.REVIEW,),
    S.AWAITING_EVALUATION: (LimitKind.EVALUATION,),
}
REPLIED = (S.REPLY_REVIEW, S.AWAITING_EVALUATION)


def rules() -> ClockRules:
    current = settings.current()
    return _rules(current)


_RULES: dict[int, ClockRules] = {}


def _rules(current: settings.Settings) -> ClockRules:
    key = id(current)
    if key not in _RULES:
        _RULES.clear()
        _RULES[key] = ClockRules(
            sign_hours=current.sign_limit_hours, urgent_sign_minutes=current.urgent_sign_minutes,
            contact_days=current.contact_limit_days, urgent_contact_minutes=current.urgent_contact_minutes,
            opinion_share=current.opinion_limit_share, review_days=current.review_limit_days,
            evaluation_days=current.evaluation_window_days, warn_share=current.deadline_warning_share,
            ladder=current.escalation_ladder, max_extensions=current.max_extensions,
            max_extension_days=current.max_extension_days)
    return _RULES[key]


_HOURS: dict[str, tuple[float, WorkingHours]] = {}


def hours_of(department: str | None) -> WorkingHours:
    """A department's office hours (`minyi roster hours`), cached per warm container."""
    if not department:
        return WorkingHours()
    cached = _HOURS.get(department)
    if cached and _time.monotonic() - cached[0] < settings.current().calendar_cache_seconds:
        return cached[1]
    try:
        hours = roster.working_hours(department) if settings.current().duty_list_table else WorkingHours()
    except Exception:  # the roster unreadable: the county's default hours, never a failed step
        hours = WorkingHours()
    _HOURS[department] = (_time.monotonic(), hours)
    return hours


def reset() -> None:
    """Forget the cached office hours and rules (a new deployment, in tests)."""
    _HOURS.clear()
    _RULES.clear()


def refresh(before: WorkOrder, after: WorkOrder, now: datetime) -> WorkOrder:
    """`after` with its limits in step with the change from `before`."""
    return _refresh(before, after, now, rules(), hours_of(after.department))


def _refresh(before: WorkOrder, after: WorkOrder, now: datetime, rules: ClockRules,
             hours: WorkingHours) -> WorkOrder:
    limits_now: dict[LimitKind, Deadline] = dict(after.deadlines)
    new_dispatch = (after.status is S.DISPATCHED and after.dispatched_at is not None
                    and after.dispatched_at != before.dispatched_at)
    if new_dispatch and after.due_at is not None:
        limits_now = limits.plan_dispatch(after.dispatched_at, after.due_at, after.urgent, after.time_limit_days,
                                          after.department, _co_handlers(after), rules, hours)
    complete = limits_now.get(LimitKind.COMPLETE)
    if complete and after.due_at and after.due_at != complete.due and not new_dispatch:
        # a reopen starts a new run; anything else (extension, leader's deadline) moves the due instant
        reopened = before.status is S.DISSATISFIED
        moved = limits.retimed(complete, after.due_at, now, rules, hours, start=now if reopened else None,
                               basis="重办" if reopened else None)
        limits_now[LimitKind.COMPLETE] = moved.model_copy(update={"met_at": None}) if reopened else moved
    elif complete is None and after.due_at and after.status in (S.DISPATCHED, S.SIGNED) and after.dispatched_at:
        # an order dispatched before the clock had limits: its completion limit, from its deadline
        limits_now[LimitKind.COMPLETE] = limits.deadline(
            LimitKind.COMPLETE, after.dispatched_at, after.due_at, _measure(after), "办结时限", after.department,
            rules, hours)
    if before.status is S.RETURNED and after.status is S.DISPATCHED and not new_dispatch and after.signed_at is None:
        # 维持: the return was refused; the department signs for the order again, from now
        sign = limits.plan_dispatch(now, after.due_at or now, after.urgent, after.time_limit_days, after.department,
                                    [], rules, hours)[LimitKind.SIGN]
        limits_now[LimitKind.SIGN] = sign
    _met(limits_now, LimitKind.SIGN, after.signed_at)
    _met(limits_now, LimitKind.CONTACT, after.first_contact_at)
    co = _co_handlers(after)
    if co and all(department in after.opinions_from for department in co):
        _met(limits_now, LimitKind.OPINION, now)
    if after.status in REPLIED and before.status in (S.DISPATCHED, S.SIGNED):
        _met(limits_now, LimitKind.COMPLETE, after.reply.written_at if after.reply else now)
    if before.status is S.REPLY_REVIEW and after.status is S.SIGNED and LimitKind.COMPLETE in limits_now:
        # the reviewer sent the reply back: the completion limit runs on from where it was
        limits_now[LimitKind.COMPLETE] = limits_now[LimitKind.COMPLETE].model_copy(update={"met_at": None})
    if after.status is S.REPLY_REVIEW and before.status is not S.REPLY_REVIEW:
        limits_now[LimitKind.REVIEW] = limits.deadline(
            LimitKind.REVIEW, now, limits.working_days(now, rules.review_days), limits.Measure.WORKING_DAYS,
            f"{rules.review_days} 个工作日", after.reply.reviewer if after.reply else None, rules, hours)
    if before.status is S.REPLY_REVIEW and after.status is not S.REPLY_REVIEW:
        _met(limits_now, LimitKind.REVIEW, now)
    if after.status is S.AWAITING_EVALUATION and before.status is not S.AWAITING_EVALUATION:
        opened = (after.reply.approved_at if after.reply and after.reply.approved_at else now)
        limits_now[LimitKind.EVALUATION] = limits.deadline(
            LimitKind.EVALUATION, opened, limits.working_days(opened, rules.evaluation_days),
            limits.Measure.WORKING_DAYS, f"{rules.evaluation_days} 个工作日", "centre", rules, hours)
    if (before.status is S.AWAITING_EVALUATION and after.status is not S.AWAITING_EVALUATION
            and after.evaluation is not None and after.evaluation is not before.evaluation):
        _met(limits_now, LimitKind.EVALUATION, now)
    uncertain = any(limit.uncertain for limit in limits_now.values() if limit.open)
    return after.model_copy(update={"deadlines": limits_now, "calendar_uncertain": uncertain})


def _measure(order: WorkOrder) -> limits.Measure:
    return limits.Measure.CALENDAR if order.urgent else limits.Measure.WORKING_DAYS


def _co_handlers(order: WorkOrder) -> list[str]:
    return [department for department in order.co_departments if department != order.department]


def _met(found: dict[LimitKind, Deadline], kind: LimitKind, at: datetime | None) -> None:
    limit = found.get(kind)
    if limit is not None and at is not None and limit.met_at is None:
        found[kind] = limit.model_copy(update={"met_at": at, "next_step": None, "next_step_at": None})


# ------------------------------------------------------------------ what is due, and when
def running(order: WorkOrder) -> list[Deadline]:
    kinds = RUNNING.get(order.status, ())
    if order.status is S.AWAITING_EVALUATION and order.reply and order.reply.status is ReplyStatus.DEAD_LETTERED:
        return []  # the citizen never got the reply: no window to rate it
    return [order.deadlines[kind] for kind in kinds if kind in order.deadlines and order.deadlines[kind].open]


def instants(limit: Deadline, now: datetime | None = None) -> list[tuple[datetime, str]]:
    """(when, what) still ahead for one open limit: its warning, its deadline, its next ladder
    step. A warning is moot once the limit itself has passed by `now` (a late sweep)."""
    ahead = []
    if limit.warned_at is None and limit.missed_at is None and (now is None or limit.due > now):
        ahead.append((limit.warn_at, "warn"))
    if limit.missed_at is None:
        ahead.append((limit.due, "miss"))
    elif limit.next_step is not None and limit.next_step_at is not None:
        ahead.append((limit.next_step_at, "step"))
    return ahead


def next_due(order: WorkOrder, now: datetime | None = None) -> tuple[datetime, LimitKind | None, str] | None:
    """The next thing due on this order: (when, limit, what); what is warn, miss, step or resume."""
    found = [(when, limit.kind, what) for limit in running(order) for when, what in instants(limit, now)]
    if order.status is S.PAUSED and order.pauses and order.pauses[-1].until:
        found.append((order.pauses[-1].until, None, "resume"))
    return min(found, key=lambda item: item[0]) if found else None


def timer_of(order: WorkOrder) -> int | None:
    due = next_due(order)
    return clock.epoch(due[0]) if due else None

