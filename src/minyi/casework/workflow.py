"""The centre's and departments' work on an order after routing: manual dispatch
(人工分拨), returns (退单) and their review (改派 or 维持), disputes and the joint
meeting (联席会议). Every step is a conditional transition with an audit record."""

from __future__ import annotations

from datetime import datetime

from minyi.core import clock
from minyi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from minyi.core.observability import logger
from minyi.dal import duty_list as duty_store
from minyi.dal import orders as store
from minyi.models.order import OrderReturn, OrderStatus, ReturnReason, WorkOrder
from minyi.routing.duty_list import LOCAL_LEAD
from minyi.routing.matcher import Matcher
from minyi.routing.places import township_government, townships

ACTIVE = (OrderStatus.DISPATCHED, OrderStatus.OVERDUE)


def _order(order_id: str) -> WorkOrder:
    order = store.get_order(order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def _commit(before: WorkOrder, after: WorkOrder, expected, action: str, actor: str, now: datetime,
            detail: dict, timer_at: int | None = None, keep_timer: bool = False) -> WorkOrder:
    change = store.Change(after, expected, action, timer_at, detail, keep_timer=keep_timer,
                          previous_co=tuple(before.co_departments))
    if not store.commit([change], actor=actor, at=now):
        raise Conflict(f"order {before.order_id} changed meanwhile; reload it and try again")
    return after.model_copy(update={"version": before.version + 1})


def _dispatched(order: WorkOrder, matcher: Matcher, matter_code: str, department: str | None,
                now: datetime) -> WorkOrder:
    matter = matcher.by_code.get(matter_code)
    if matter is None:
        raise ValidationFailed("no such matter in the duty list in force",
                               [{"field": "matter_code", "problem": f"unknown matter {matter_code}"}])
    # 属地: as automatic routing does, the township named in the request leads a township's own
    # matter and co-handles the others; "属地乡镇" is a placeholder, never a department
    governments = [township_government(t) for t in townships(order.text)]
    lead = department or (governments[0] if matter.local and governments else matter.lead)
    if lead == LOCAL_LEAD:
        raise ValidationFailed("a township's own matter and no township named in the request",
                               [{"field": "department",
                                 "problem": "name the township government, e.g. 田村镇人民政府"}])
    co = [governments[0] if c == LOCAL_LEAD and governments else c for c in matter.co
          if c != LOCAL_LEAD or governments]
    co = list(dict.fromkeys(c for c in [*co, *governments] if c != lead))
    due = clock.working_days_deadline(now, matter.time_limit_days)
    return order.model_copy(update={
        "status": OrderStatus.DISPATCHED, "department": lead, "co_departments": co,
        "matter": list(matter.path), "matter_code": matter.code, "duty_list_version": matcher.duty_list.version,
        "dispatched_at": now, "due_at": due, "overdue_at": None})


LEARNING_RATE = 1.0  # one correction adds this share of a term's own weight to the corrected matter


def learn(order: WorkOrder, matcher: Matcher) -> None:
    """An operator's choice teaches the matcher: the terms of this request now point a
    little more to the matter it really was (persisted with the duty-list version).
    Runs after the dispatch is committed: a failure here is logged, not the answer."""
    try:
        _learn(order, matcher)
    except Exception:  # the dispatch stands; only the lesson is lost
        logger.exception("learning from a dispatch failed", extra={"order_id": order.order_id})


def _learn(order: WorkOrder, matcher: Matcher) -> None:
    if not order.matter_code:
        return
    terms = matcher.terms(f"{order.title}\n{order.content}")
    if terms:
        duty_store.add_learned(matcher.duty_list.version, {
            term: {order.matter_code: round(LEARNING_RATE * matcher.index.weights.get(term, 1.0), 4)}
            for term in terms})


def manual_dispatch(order_id: str, matcher: Matcher, matter_code: str, operator: str, now: datetime,
                    department: str | None = None) -> WorkOrder:
    """An operator dispatches an order from the manual queue."""
    order = _order(order_id)
    if order.status is not OrderStatus.MANUAL:
        raise Conflict(f"order {order_id} is {order.status.value}, not waiting for manual dispatch")
    after = _dispatched(order, matcher, matter_code, department, now)
    done = _commit(order, after, OrderStatus.MANUAL, "dispatched_manually", operator, now,
                   {"matter_code": matter_code, "department": after.department},
                   timer_at=clock.epoch(after.due_at))
    learn(done, matcher)
    return done


def return_order(order_id: str, department: str, category: ReturnReason, text: str, now: datetime,
                 actor: str | None = None) -> WorkOrder:
    """The lead department returns an order it holds is not its own. A second return of
    the same order goes to the joint meeting instead of back to review."""
    order = _order(order_id)
    if order.status not in ACTIVE:
        raise Conflict(f"order {order_id} is {order.status.value}; only a dispatched order can be returned")
    if order.department != department:
        raise Forbidden(f"order {order_id} is not with {department}")
    entry = OrderReturn(department=department, category=category, text=text, at=now)
    returns = [*order.returns, entry]
    status = OrderStatus.JOINT_MEETING if len(returns) >= 2 else OrderStatus.RETURNED
    after = order.model_copy(update={"status": status, "returns": returns})
    action = "returned_to_joint_meeting" if status is OrderStatus.JOINT_MEETING else "returned"
    return _commit(order, after, order.status, action, actor or department, now,
                   {"department": department, "category": category.value, "text": text, "returns": len(returns)})


def review_return(order_id: str, matcher: Matcher, operator: str, now: datetime, *, uphold: bool,
                  matter_code: str | None = None, department: str | None = None) -> WorkOrder:
    """The centre decides a return: uphold the first dispatch (same department, the clock
    runs on) or re-dispatch (改派) to another matter or department with a new deadline."""
    order = _order(order_id)
    if order.status is not OrderStatus.RETURNED:
        raise Conflict(f"order {order_id} is {order.status.value}, not a return waiting for review")
    if uphold:
        after = order.model_copy(update={"status": OrderStatus.DISPATCHED})
        timer = clock.epoch(order.due_at) if order.due_at else None
        return _commit(order, after, OrderStatus.RETURNED, "return_rejected", operator, now,
                       {"department": order.department}, timer_at=timer)
    after = _dispatched(order, matcher, matter_code or order.matter_code or "", department, now)
    done = _commit(order, after, OrderStatus.RETURNED, "redispatched", operator, now,
                   {"from": order.department, "to": after.department, "matter_code": after.matter_code},
                   timer_at=clock.epoch(after.due_at))
    if done.matter_code != order.matter_code:
        learn(done, matcher)
    return done


def dispute(order_id: str, operator: str, reason: str, now: datetime) -> WorkOrder:
    """An operator's dispute flag sends an order to the joint meeting (联席会议)."""
    order = _order(order_id)
    if order.status not in (*ACTIVE, OrderStatus.RETURNED, OrderStatus.MANUAL):
        raise Conflict(f"order {order_id} is {order.status.value} and cannot be disputed")
    after = order.model_copy(update={"status": OrderStatus.JOINT_MEETING})
    return _commit(order, after, order.status, "disputed", operator, now, {"reason": reason})


def departments_involved(order: WorkOrder) -> list[str]:
    """Who sits at the joint meeting: every department the order has been with."""
    named = [order.department, *order.co_departments, *(r.department for r in order.returns)]
    return list(dict.fromkeys(d for d in named if d))


def returns_by_department(order: WorkOrder) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in order.returns:
        counts[entry.department] = counts.get(entry.department, 0) + 1
    return counts
