"""统一督办: what the clock does to an order and what people do to its clock. The sweep's
steps (a limit's warning, a missed limit, each step of the escalation ladder, the end of a
pause), extensions (延期), pauses (挂起) and leader case-handling (领导包案). Each step is a
pure function of the order as read; `casework.shell` checks, refreshes the limits,
re-arms the timer and commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from minyi.casework import timing
from minyi.casework.shell import Outcome, Step
from minyi.core import clock
from minyi.core.errors import Conflict, ValidationFailed
from minyi.models.clock import (
    STEP_LABELS,
    ClockRules,
    Deadline,
    Extension,
    ExtensionRequest,
    Instruction,
    LadderRung,
    LadderStep,
    LeaderCase,
    LimitKind,
    Pause,
    PauseReason,
    PauseRequest,
)
from minyi.models.lifecycle import AuditAction, OrderStatus
from minyi.models.order import Lapse, WorkOrder
from minyi.timelimits import limits

STEP_AUDITS = {LadderStep.REMIND: AuditAction.REMINDED, LadderStep.NOTICE: AuditAction.NOTICE_SENT,
               LadderStep.SUPERVISE: AuditAction.SUPERVISED,
               LadderStep.PROPOSE_LEADER_CASE: AuditAction.LEADER_CASE_PROPOSED}
LONGEST = timedelta(days=366)  # no deadline a person sets lies further ahead


# ------------------------------------------------------------------ the sweep's steps
def clock_step(now: datetime, rules: ClockRules) -> Step:
    """The earliest thing due on the order by `now`: a warning, a missed limit or a ladder
    step, taken once (the order's clock records it, so a second sweep finds nothing due).
    None when nothing is due any more (moved on since the timer was read)."""
    def step(order: WorkOrder) -> Outcome | None:
        due = timing.next_due(order, now)
        if due is None or due[0] > now or due[1] is None:
            return None
        when, kind, what = due
        limit = order.deadlines[kind]
        hours = timing.hours_of(order.department)
        base = {"limit": kind.value, "due_at": clock.iso(limit.due), "party": limit.party}
        if what == "warn":
            updated = limit.model_copy(update={"warned_at": now})
            return Outcome(_with(order, updated), {**base, "warn_at": clock.iso(limit.warn_at)},
                           audit=AuditAction.DEADLINE_APPROACHING)
        if what == "miss":
            updated = limit.model_copy(update={"missed_at": limit.due})
            if kind is LimitKind.COMPLETE:  # 超期: a lapse held against the department that let it pass
                lapse = Lapse(department=order.department or "", due_at=limit.due, overdue_at=now)
                after = _with(order, updated).model_copy(update={"overdue_at": now,
                                                                  "lapses": [*order.lapses, lapse]})
                return Outcome(after, base, audit=AuditAction.ESCALATED_OVERDUE)
            return Outcome(_with(order, updated), base, audit=AuditAction.DEADLINE_MISSED)
        rung = limit.next_step
        following, following_at = limits.next_rung(limit, when, rules, hours)
        updated = limit.model_copy(update={"steps": [*limit.steps, LadderRung(step=rung, at=now)],
                                           "next_step": following, "next_step_at": following_at})
        after = _with(order, updated)
        if rung is LadderStep.PROPOSE_LEADER_CASE and order.leader_case is None:
            after = after.model_copy(update={"leader_case_proposed_at": now})
        return Outcome(after, {**base, "step": rung.value, "step_label": STEP_LABELS[rung],
                               "scheduled_at": clock.iso(when)}, audit=STEP_AUDITS[rung])
    return step


def _with(order: WorkOrder, limit: Deadline) -> WorkOrder:
    return order.model_copy(update={"deadlines": {**order.deadlines, limit.kind: limit}})


# ------------------------------------------------------------------ 延期 extensions
def request_extension(days: int, reason: str, by: str, now: datetime, rules: ClockRules) -> Step:
    """延期申请: before the completion limit, within the county's number of extensions and days."""
    def step(order: WorkOrder) -> Outcome:
        complete = order.deadlines.get(LimitKind.COMPLETE)
        due = complete.due if complete else order.due_at
        if due is None or now >= due:
            raise Conflict("an extension is asked for before the completion limit; this one has passed")
        if order.extension_request is not None:
            raise Conflict("an extension request is already waiting for the centre")
        if order.leader_case is not None:
            raise Conflict("a leader owns this case: the leader sets its deadline")
        allowed = rules.max_extensions + order.extensions_granted
        if sum(1 for e in order.extensions if e.approved) >= allowed:
            raise Conflict(f"this order had its {allowed} extension(s); the centre may grant another")
        if days > rules.max_extension_days:
            raise ValidationFailed("too many days", [{"field": "days", "problem": (
                f"at most {rules.max_extension_days} working days; the centre may grant more when it approves")}])
        request = ExtensionRequest(days=days, reason=reason, by=by, at=now)
        return Outcome(order.model_copy(update={"extension_request": request}),
                       {"days": days, "reason": reason, "due_at": clock.iso(due)})
    return step


def review_extension(approve: bool, days: int | None, note: str | None, grant_more: int, by: str,
                     now: datetime) -> Step:
    """The centre's decision: approval moves the completion limit by the working days
    (the centre may change them); the request is kept with the decision either way."""
    def step(order: WorkOrder) -> Outcome:
        request = order.extension_request
        if request is None:
            raise Conflict("no extension request is waiting on this order")
        if approve and order.leader_case is not None:  # asked before the case started
            raise Conflict("a leader owns this case: the leader sets its deadline; refuse the request")
        granted = days or request.days
        record = Extension(days=granted, reason=request.reason, requested_by=request.by,
                           requested_at=request.at, approved=approve, decided_by=by, decided_at=now, note=note)
        update: dict = {"extension_request": None, "extensions_granted": order.extensions_granted + grant_more}
        detail = {"approved": approve, "days": granted, "note": note}
        if approve:
            before_due = order.due_at
            after_due = limits.working_days(before_due - timedelta(seconds=1), granted)
            record = record.model_copy(update={"due_before": before_due, "due_after": after_due})
            update["due_at"] = after_due
            detail |= {"due_before": clock.iso(before_due), "due_after": clock.iso(after_due)}
        update["extensions"] = [*order.extensions, record]
        return Outcome(order.model_copy(update=update), detail,
                       audit=AuditAction.EXTENSION_APPROVED if approve else AuditAction.EXTENSION_REFUSED)
    return step


# ------------------------------------------------------------------ 挂起 pauses
def request_pause(reason: PauseReason, text: str | None, until: datetime | None, by: str, now: datetime) -> Step:
    def step(order: WorkOrder) -> Outcome:
        if order.pause_request is not None:
            raise Conflict("a pause request is already waiting for the centre")
        if until is not None and not (now < until <= now + LONGEST):
            raise ValidationFailed("until is ahead, within a year", [
                {"field": "until", "problem": "must be after now and within a year"}])
        request = PauseRequest(reason=reason, text=text, until=until, by=by, at=now)
        return Outcome(order.model_copy(update={"pause_request": request}),
                       {"reason": reason.value, "text": text, "until": clock.iso(until) if until else None})
    return step


def review_pause(approve: bool, note: str | None, by: str, now: datetime) -> Step:
    """The centre's decision: approved, the order is paused and its clock stands still."""
    def step(order: WorkOrder) -> Outcome:
        request = order.pause_request
        if request is None:
            raise Conflict("no pause request is waiting on this order")
        until = request.until if request.until and request.until > now else None
        pause = Pause(reason=request.reason, text=request.text, requested_by=request.by, requested_at=request.at,
                      approved=approve, decided_by=by, decided_at=now, until=until)
        update = {"pause_request": None, "pauses": [*order.pauses, pause]}
        if approve:
            update["status"] = OrderStatus.PAUSED
        return Outcome(order.model_copy(update=update), {"approved": approve, "note": note,
                                                         "until": clock.iso(until) if until else None},
                       audit=AuditAction.PAUSE_APPROVED if approve else AuditAction.PAUSE_REFUSED)
    return step


def resume(by: str, now: datetime, *, automatic: bool = False) -> Step:
    """恢复办理: every open limit moves by the working time the pause lasted."""
    def step(order: WorkOrder) -> Outcome | None:
        pause = order.pauses[-1] if order.pauses else None
        if pause is None or not pause.approved or pause.resumed_at is not None:
            raise Conflict("this order has no pause to end")
        if automatic and (pause.until is None or pause.until > now):
            return None  # resumed by hand, or moved, since the timer was read
        hours = timing.hours_of(order.department)
        moved_limits, shifts = dict(order.deadlines), {}
        for kind, limit in order.deadlines.items():
            moved, shift = limits.moved(limit, pause.decided_at, now, hours)
            if shift:
                moved_limits[kind], shifts[kind.value] = moved, int(shift.total_seconds())
        ended = pause.model_copy(update={"resumed_at": now, "resumed_by": by, "moved_seconds": shifts})
        complete = moved_limits.get(LimitKind.COMPLETE)
        after = order.model_copy(update={
            "status": OrderStatus.SIGNED, "deadlines": moved_limits, "pauses": [*order.pauses[:-1], ended],
            "due_at": complete.due if complete else order.due_at})
        return Outcome(after, {"automatic": automatic, "paused_at": clock.iso(pause.decided_at),
                               "moved_seconds": shifts,
                               "due_at": clock.iso(after.due_at) if after.due_at else None})
    return step


# ------------------------------------------------------------------ 领导包案 leader cases
def _leader_due(due: datetime, now: datetime) -> datetime:
    if not (now < due <= now + LONGEST):
        raise ValidationFailed("the leader's deadline is ahead, within a year",
                               [{"field": "due", "problem": "must be after now and within a year"}])
    return clock.to_shanghai(due)


def assign_leader_case(leader: str, due: datetime, note: str | None, by: str, now: datetime) -> Step:
    """领导包案: the named leader owns the order; the leader's deadline is its completion limit."""
    def step(order: WorkOrder) -> Outcome:
        if order.leader_case is not None and order.leader_case.leader == leader and order.leader_case.due == due:
            raise Conflict(f"{leader} already owns this case with that deadline")
        when = _leader_due(due, now)
        case = LeaderCase(leader=leader, due=when, assigned_by=by, assigned_at=now, note=note,
                          instructions=order.leader_case.instructions if order.leader_case else [])
        after = order.model_copy(update={"leader_case": case, "due_at": when, "leader_case_proposed_at": None})
        return Outcome(after, {"leader": leader, "due": clock.iso(when), "note": note,
                               "proposed": order.leader_case_proposed_at is not None})
    return step


def instruct(text: str, due: datetime | None, by: str, now: datetime) -> Step:
    """领导批示, and with it the leader's new deadline if given."""
    def step(order: WorkOrder) -> Outcome:
        case = order.leader_case
        when = _leader_due(due, now) if due else None
        instruction = Instruction(text=text, by=by, at=now, due_before=case.due if when else None, due_after=when)
        case = case.model_copy(update={"instructions": [*case.instructions, instruction],
                                       **({"due": when} if when else {})})
        update = {"leader_case": case, **({"due_at": when} if when else {})}
        return Outcome(order.model_copy(update=update),
                       {"text": text, **({"due": clock.iso(when)} if when else {})})
    return step
