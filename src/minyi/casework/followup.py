"""After the reply (回访、评价、重办、办结): the citizen's evaluation, from the centre's
follow-up or the channel's own; closing an order nobody rated within the window; the
centre's reopening (重办) or closing of a dissatisfied order. Pure steps."""

from __future__ import annotations

from datetime import datetime

from minyi.casework.shell import Outcome, Step
from minyi.core import clock
from minyi.models.handling import Record
from minyi.models.lifecycle import AuditAction, OrderStatus
from minyi.models.order import CloseReason, Closure, ClosureKind, Evaluation, WorkOrder
from minyi.timelimits.deadlines import completion_deadline, working_days_deadline


def evaluate(evaluation: Evaluation) -> Step:
    """回访/评价: satisfied or basically satisfied closes the order; dissatisfied waits for
    the centre to reopen or close it (不满意待研判)."""
    def step(order: WorkOrder) -> Outcome:
        if evaluation.satisfied:
            closure = Closure(kind=ClosureKind.EVALUATED, at=evaluation.at, by=evaluation.by)
            after = order.model_copy(update={"status": OrderStatus.CLOSED, "evaluation": evaluation,
                                             "closure": closure})
        else:
            after = order.model_copy(update={"status": OrderStatus.DISSATISFIED, "evaluation": evaluation})
        key = evaluation.evaluation_id or f"{clock.iso(evaluation.at)}#{evaluation.source}"
        return Outcome(after, {"satisfaction": evaluation.satisfaction.value, "resolved": evaluation.resolved,
                               "method": evaluation.method, "source": evaluation.source,
                               **({"evaluation_id": evaluation.evaluation_id} if evaluation.evaluation_id else {})},
                       records=((Record.EVALUATION, f"{order.reopen_count}#{key}", evaluation),))
    return step


def close_unevaluated(now: datetime, window_days: int, counts_satisfied: bool) -> Step:
    """No answer within the evaluation window: closed as unevaluated (未评价), counted as
    satisfied only if the county says so. None when the window has not passed after all."""
    def step(order: WorkOrder) -> Outcome | None:
        opened = order.reply.approved_at if order.reply else None
        if opened is None or working_days_deadline(opened, window_days) > now:
            return None
        closure = Closure(kind=ClosureKind.UNEVALUATED, at=now, by="system", counted_satisfied=counts_satisfied)
        return Outcome(order.model_copy(update={"status": OrderStatus.CLOSED, "closure": closure}),
                       {"counted_satisfied": counts_satisfied})
    return step


def reopen(reason: str, days: int | None, default_days: int, to_joint_meeting_at: int, now: datetime) -> Step:
    """重办: the same lead department does it again by a new deadline; the reopen that
    reaches `to_joint_meeting_at` goes to the joint meeting instead."""
    def step(order: WorkOrder) -> Outcome:
        count = order.reopen_count + 1
        if count >= to_joint_meeting_at:
            after = order.model_copy(update={"status": OrderStatus.JOINT_MEETING, "reopen_count": count})
            return Outcome(after, {"reason": reason, "reopen_count": count},
                           audit=AuditAction.REOPENED_TO_JOINT_MEETING)
        limit = days or order.time_limit_days or default_days
        due = working_days_deadline(now, limit) if days else completion_deadline(now, limit, order.urgent)
        after = order.model_copy(update={"status": OrderStatus.SIGNED, "reopen_count": count, "due_at": due,
                                         "overdue_at": None})
        return Outcome(after, {"reason": reason, "reopen_count": count, "days": limit, "due_at": clock.iso(due)},
                       audit=AuditAction.REOPENED)
    return step


def close(reason: CloseReason, text: str, by: str, now: datetime) -> Step:
    """The centre closes a dissatisfied order without reopening; the evaluation stays
    what it was and the reason is kept (an assessment may exclude 不合理诉求)."""
    def step(order: WorkOrder) -> Outcome:
        closure = Closure(kind=ClosureKind.BY_CENTRE, at=now, by=by, reason=reason, text=text)
        return Outcome(order.model_copy(update={"status": OrderStatus.CLOSED, "closure": closure}),
                       {"reason": reason.value, "text": text})
    return step
