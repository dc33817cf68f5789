"""The steps of an order's life after routing, each a pure function of the order as read:
manual dispatch (人工分拨), return (退单), the centre's review of a return (维持 or 改派),
dispute (联席会议) and the joint meeting's decision. No I/O:
`casework.shell` loads, checks and commits."""

from __future__ import annotations

from datetime import datetime

from minyi.casework.shell import Outcome, Step
from minyi.core.errors import Conflict, ValidationFailed
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import OrderReturn, ReturnReason, WorkOrder
from minyi.routing.dispatch import dispatched
from minyi.routing.jurisdiction import assign
from minyi.routing.matcher import Matcher
from minyi.routing.places import townships

RETURNS_TO_JOINT_MEETING = 2  # the second return of the same order goes to the joint meeting


def _sent(order: WorkOrder, matcher: Matcher, matter_code: str, department: str | None,
          now: datetime) -> WorkOrder:
    """The order dispatched by a person's choice of matter (and department): 属地 and the
    deadline tier as automatic routing would settle them."""
    if not matter_code:  # a decision that keeps the matter, on an order that never had one
        raise ValidationFailed("name the matter: this order was never dispatched to one", [
            {"field": "matter_code", "problem": "required: the order was never dispatched to a matter"}])
    matter = matcher.by_code.get(matter_code)
    if matter is None:
        raise ValidationFailed("no such matter in the duty list in force",
                               [{"field": "matter_code", "problem": f"unknown matter {matter_code}"}])
    lead, co = assign(matter, townships(order.text), lead=department)
    if lead is None:
        raise ValidationFailed("a township's own matter and no township named in the request",
                               [{"field": "department",
                                 "problem": "name the township government, e.g. 田村镇人民政府"}])
    return dispatched(order, matter, lead, co, duty_list_version=matcher.duty_list.version, now=now)


def manual_dispatch(matcher: Matcher, matter_code: str, department: str | None, now: datetime) -> Step:
    """人工分拨 of an order from the manual queue."""
    def step(order: WorkOrder) -> Outcome:
        after = _sent(order, matcher, matter_code, department, now)
        return Outcome(after, {"matter_code": matter_code, "department": after.department})
    return step


def return_order(department: str, category: ReturnReason, text: str, now: datetime) -> Step:
    """退单 by the lead department; a second return of the same order goes to the joint
    meeting instead of back to the centre's review."""
    def step(order: WorkOrder) -> Outcome:
        if order.designated:
            raise Conflict("the joint meeting designated this department; it may not return the order")
        returns = [*order.returns, OrderReturn(department=department, category=category, text=text, at=now)]
        again = len(returns) >= RETURNS_TO_JOINT_MEETING
        after = order.model_copy(update={
            "status": OrderStatus.JOINT_MEETING if again else OrderStatus.RETURNED, "returns": returns})
        return Outcome(after, {"department": department, "category": category.value, "text": text,
                               "returns": len(returns)})
    return step


def uphold() -> Step:
    """维持: the dispatch stands, same department and deadline; the clock runs on. The
    department signs for it again (a new sign-for limit starts)."""
    def step(order: WorkOrder) -> Outcome:
        after = order.model_copy(update={"status": OrderStatus.DISPATCHED, "signed_at": None, "signed_by": None})
        return Outcome(after, {"department": order.department})
    return step


def redispatch(matcher: Matcher, matter_code: str | None, department: str | None, now: datetime) -> Step:
    """改派: another matter or department, with a new deadline."""
    def step(order: WorkOrder) -> Outcome:
        after = _sent(order, matcher, matter_code or order.matter_code or "", department, now)
        return Outcome(after, {"from": order.department, "to": after.department, "matter_code": after.matter_code})
    return step


def dispute(reason: str) -> Step:
    """争议: the centre sends the order to the joint meeting (联席会议)."""
    def step(order: WorkOrder) -> Outcome:
        return Outcome(order.model_copy(update={"status": OrderStatus.JOINT_MEETING}), {"reason": reason})
    return step


def decide(matcher: Matcher, department: str, co_departments: list[str] | None, matter_code: str | None,
           note: str, now: datetime) -> Step:
    """联席会议 (or 区长热线日) decision: the order goes to the department the meeting
    designated, which may not return it again."""
    def step(order: WorkOrder) -> Outcome:
        after = _sent(order, matcher, matter_code or order.matter_code or "", department, now)
        if co_departments is not None:
            after = after.model_copy(update={"co_departments": [d for d in co_departments if d != after.department]})
        after = after.model_copy(update={"designated": True})
        return Outcome(after, {"department": after.department, "co_departments": after.co_departments,
                               "matter_code": after.matter_code, "note": note})
    return step


def escalate_to_mayor_day(note: str) -> Step:
    """What the joint meeting cannot settle goes to the district mayor's hotline day (区长热线日)."""
    def step(order: WorkOrder) -> Outcome:
        if order.status is not OrderStatus.JOINT_MEETING:  # a 区长热线日 decision names a department
            raise Conflict(f"the order is {order.status.value}; only a joint meeting escalates to the mayor's "
                           "hotline day, which designates a department")
        return Outcome(order.model_copy(update={"status": OrderStatus.MAYOR_DAY}), {"note": note})
    return step


def departments_involved(order: WorkOrder) -> list[str]:
    """Who sits at the joint meeting: every department the order has been with."""
    named = [order.department, *order.co_departments, *(r.department for r in order.returns)]
    return list(dict.fromkeys(d for d in named if d))
