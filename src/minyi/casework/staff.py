"""What staff do through the API: read the centre's queues, a department's own orders and
one order in full; dispatch by hand, return, review returns, dispute. Who may see what is
`casework.access`; who may do what, and from which status, is the lifecycle table; each
step goes through `casework.shell`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from minyi.casework import access, clock_desk, loop, shell, steps
from minyi.channels.registry import registry
from minyi.core import clock
from minyi.core.errors import Conflict, NotFound, ValidationFailed
from minyi.core.ids import well_formed
from minyi.dal import audit, listings
from minyi.dal import orders as store
from minyi.models import lifecycle
from minyi.models.identity import Role, StaffIdentity
from minyi.models.lifecycle import CLOCK_QUEUES, LEADER_CASES_QUEUE, QUEUES, STATUSES, Command, OrderStatus
from minyi.models.listing import OrderListing
from minyi.models.order import WorkOrder
from minyi.models.staff import DisputeRequest, InboxFilter, ManualDispatch, ReturnRequest, ReviewDecision
from minyi.routing import jurisdiction, learning
from minyi.routing.matcher import Matcher

MAX_LIST = 200


def may(identity: StaffIdentity, command: Command) -> None:
    """403 before anything else is read (the body, the order, the duty list) when none of
    this caller's roles can ever take the command."""
    lifecycle.check_role(frozenset(role.value for role in identity.roles), command)


def _matcher(load: Callable[[], Matcher | None]) -> Matcher:
    matcher = load()
    if matcher is None:
        raise Conflict("no duty list is in force; import one first")
    return matcher


def _known_department(matcher: Matcher, department: str | None) -> str | None:
    if department is not None and department not in jurisdiction.departments(matcher.duty_list):
        raise ValidationFailed("no such department in the duty list in force",
                               [{"field": "department", "problem": f"unknown department {department}"}])
    return department


def _summary(order: WorkOrder) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "department": order.department,
            "version": order.version}


def _when(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment else None


# ------------------------------------------------------------------ reading
REVIEW_QUEUE = "reply_review"


def queue(identity: StaffIdentity, name: str, limit: int = MAX_LIST, cursor: str | None = None) -> dict[str, Any]:
    """The queues of the lifecycle table (待分拨, 待人工分拨, 退单审核, 联席会议, 办结待审, 待回访,
    不满意, 区长热线日), oldest first. A department that reviews a forwarded channel's replies
    reads the review queue, for its channels only."""
    channels = None
    if not identity.sees_everything:
        reviewed = tuple(c.id for c in registry().values() if identity.department
                         and c.reply_reviewer == identity.department)
        if name != REVIEW_QUEUE or not reviewed:
            identity.require(Role.CENTRE, Role.LEADER)
        channels = reviewed
    if name not in QUEUES and name not in CLOCK_QUEUES:
        raise NotFound(f"no queue {name}; queues are {', '.join([*QUEUES, *CLOCK_QUEUES])}")
    # 领导包案: a leader reads their own cases; the centre reads every leader's
    leader = identity.username if name == LEADER_CASES_QUEUE and Role.CENTRE not in identity.roles else None
    page = listings.queue(name, limit, cursor, channels, leader)
    return {"queue": name, "orders": [
        {"order_id": o.order_id, "status": o.status.value, "department": o.department, "title": o.title,
         "channel": o.channel, "received_at": _when(o.received_at), "confidence": o.match_score}
        for o in page.items],
        "next_cursor": page.next_cursor}


def _department_item(order: OrderListing, role: str) -> dict[str, Any]:
    return {"order_id": order.order_id, "role": role, "status": order.status.value,
            "status_label": STATUSES[order.status].label, "title": order.title,
            "received_at": _when(order.received_at), "due_at": _when(order.due_at),
            "overdue_at": _when(order.overdue_at), "urgent": order.urgent, "matter_code": order.matter_code}


def _kept(item: dict[str, Any], inbox: InboxFilter, now: datetime) -> bool:
    if inbox.status and item["status"] not in inbox.status:
        return False
    if inbox.role and item["role"] != inbox.role:
        return False
    due = clock.parse_iso(item["due_at"]) if item["due_at"] else None
    if inbox.due_before and (due is None or due >= inbox.due_before):
        return False
    if inbox.overdue is not None:
        overdue = item["overdue_at"] is not None or (
            due is not None and due < now and STATUSES[OrderStatus(item["status"])].clock_runs)
        if overdue != inbox.overdue:
            return False
    return inbox.urgent is None or item["urgent"] == inbox.urgent


PAGES_PER_FILTERED_LIST = 5  # a filtered inbox reads at most this many index pages per answer


def department_orders(identity: StaffIdentity, department: str | None, limit: int = MAX_LIST,
                      cursor: str | None = None, inbox: InboxFilter | None = None,
                      now: datetime | None = None) -> dict[str, Any]:
    """The orders a department leads (主办) or co-handles (协办), newest first, with its role
    in each; the centre and leaders name the department. Filters (status, role, due before,
    overdue, urgent) keep what matches; a filtered answer may hold fewer than `limit`
    orders and still have a next page."""
    inbox = inbox or InboxFilter()
    now = now or clock.now()
    if department is not None and not 2 <= len(department) <= 40:
        raise ValidationFailed("department is 2 to 40 characters", [{"field": "department", "problem": "length"}])
    if identity.sees_everything:
        if not department:
            raise ValidationFailed("name the department", [{"field": "department", "problem": "required"}])
    else:
        own = identity.own_department()
        if department and department != own:
            raise NotFound(f"no orders of {department} for {identity.username}")
        department = own
    listed: list[dict[str, Any]] = []
    for _ in range(PAGES_PER_FILTERED_LIST if inbox.active else 1):
        page = listings.department_entries(department, limit - len(listed), cursor)
        for entry in page.items:
            order = entry.order
            if not entry.co_handler_item:
                item = _department_item(order, "lead")
            elif order is not None and department in order.co_departments and order.department != department:
                item = _department_item(order, "co")
            else:
                continue  # re-dispatched since without this department; its item is stale
            if _kept(item, inbox, now):
                listed.append(item)
        cursor = page.next_cursor
        if cursor is None or len(listed) >= limit:
            break
    return {"department": department, "orders": listed, "next_cursor": cursor}


def order_detail(identity: StaffIdentity, order_id: str) -> dict[str, Any]:
    """One order in full, with its audit trail and the requests merged into it: the
    handlers need the citizen's contact."""
    order = store.get_order(order_id) if well_formed(order_id) else None
    if order is not None and order.parent_order_id:
        # a merged request is seen by whoever sees the order it is handled with
        parent = store.get_order(order.parent_order_id)
        access.visible(identity, parent, order_id)
    else:
        order = access.visible(identity, order, order_id)
    merged = store.get_orders(order.related_orders)
    return {
        "order": order.model_dump(mode="json"),
        "status_label": STATUSES[order.status].label,
        **clock_desk.clock_view(order),
        **loop.handling_records(identity, order),
        "audit": [{"action": e.action, "actor": e.actor, "at": clock.iso(e.at), "from": e.from_status,
                   "to": e.to_status, **({"detail": e.detail} if e.detail else {})}
                  for e in audit.audit_trail(order.order_id)],
        "departments_involved": steps.departments_involved(order),
        # 并单: the requests handled with this one, each as received
        "related_orders": [{"order_id": child.order_id, "channel": child.channel, "status": child.status.value,
                            "title": child.title, "received_at": clock.iso(child.received_at)}
                           for child_id in order.related_orders if child_id in merged
                           for child in [merged[child_id][0]]],
    }


# ------------------------------------------------------------------ acting
def dispatch(identity: StaffIdentity, order_id: str, request: ManualDispatch,
             matcher: Callable[[], Matcher | None], now: datetime) -> dict[str, Any]:
    def step(order: WorkOrder):
        ready = _matcher(matcher)
        department = _known_department(ready, request.department)
        return steps.manual_dispatch(ready, request.matter_code, department, now)(order)

    done = shell.act(order_id, Command.DISPATCH, step, actor=identity.actor, now=now, identity=identity)
    learning.learn(done, _matcher(matcher))
    return _summary(done)


def return_order(identity: StaffIdentity, order_id: str, request: ReturnRequest, now: datetime) -> dict[str, Any]:
    department = identity.own_department()
    done = shell.act(order_id, Command.RETURN, steps.return_order(department, request.category, request.text, now),
                     actor=identity.actor, now=now, identity=identity)
    return _summary(done)


def review(identity: StaffIdentity, order_id: str, request: ReviewDecision,
           matcher: Callable[[], Matcher | None], now: datetime) -> dict[str, Any]:
    if request.decision == "uphold":
        done = shell.act(order_id, Command.UPHOLD, steps.uphold(), actor=identity.actor, now=now, identity=identity)
        return _summary(done)
    read: dict[str, str | None] = {}  # the matter the order had, as the shell read it

    def step(order: WorkOrder):
        ready = _matcher(matcher)
        read["matter_code"] = order.matter_code
        department = _known_department(ready, request.department)
        return steps.redispatch(ready, request.matter_code, department, now)(order)

    done = shell.act(order_id, Command.REDISPATCH, step, actor=identity.actor, now=now, identity=identity)
    if done.matter_code != read.get("matter_code"):  # a redispatch to another matter teaches
        learning.learn(done, _matcher(matcher))
    return _summary(done)


def dispute(identity: StaffIdentity, order_id: str, request: DisputeRequest, now: datetime) -> dict[str, Any]:
    done = shell.act(order_id, Command.DISPUTE, steps.dispute(request.reason), actor=identity.actor, now=now,
                     identity=identity)
    return {**_summary(done), "departments_involved": steps.departments_involved(done)}
