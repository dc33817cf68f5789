"""What staff do through the API, with who may do it: the queues, a department's own
orders, one order in full, manual dispatch, returns (退单), reviews (改派/维持),
disputes (联席会议) and the duty list's administration. The rules of each step live
in `workflow` and `duty_list`; this module decides who may take it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minyi.casework import workflow
from minyi.core.errors import Conflict, NotFound, ValidationFailed
from minyi.dal import duty_list as duty_store
from minyi.dal import orders as store
from minyi.models.identity import Role, StaffIdentity
from minyi.models.order import QUEUES, WorkOrder
from minyi.models.staff import DisputeRequest, ManualDispatch, ReturnRequest, ReviewDecision, RollbackRequest
from minyi.routing import duty_list
from minyi.routing.duty_list import LOCAL_LEAD
from minyi.routing.matcher import Matcher
from minyi.routing.places import GANXIAN_TOWNSHIPS, township_government

QUEUE_NAMES = tuple(QUEUES.values())
MAX_LIST = 200


def _visible_order(identity: StaffIdentity, order_id: str) -> WorkOrder:
    order = store.get_order(order_id) if order_id.isalnum() and len(order_id) <= 64 else None
    return identity.visible(order, order_id)


def _matcher(matcher: Matcher | None) -> Matcher:
    if matcher is None:
        raise Conflict("no duty list is in force; import one first")
    return matcher


def _known_department(matcher: Matcher, department: str | None) -> str | None:
    if department is None:
        return None
    known = {m.lead for m in matcher.duty_list.matters} | {c for m in matcher.duty_list.matters for c in m.co}
    known = (known - {LOCAL_LEAD}) | {township_government(t) for t in GANXIAN_TOWNSHIPS}
    if department not in known:
        raise ValidationFailed("no such department in the duty list in force",
                               [{"field": "department", "problem": f"unknown department {department}"}])
    return department


def _summary(order: WorkOrder) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "department": order.department,
            "version": order.version}


# ------------------------------------------------------------------ reading
def queue(identity: StaffIdentity, name: str, limit: int = MAX_LIST) -> dict[str, Any]:
    """待人工分拨 / 退单审核 / 联席会议: the centre's queues, oldest first."""
    identity.require(Role.CENTRE, Role.LEADER)
    if name not in QUEUE_NAMES:
        raise NotFound(f"no queue {name}; queues are {', '.join(QUEUE_NAMES)}")
    return {"queue": name, "orders": store.queue(name, limit)}


def department_orders(identity: StaffIdentity, department: str | None, limit: int = MAX_LIST) -> dict[str, Any]:
    """A department's own orders; the centre and leaders name the department."""
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
    return {"department": department, "orders": store.department_orders(department, limit)}


def order_detail(identity: StaffIdentity, order_id: str) -> dict[str, Any]:
    """One order in full, with its audit trail: the handlers need the citizen's contact."""
    order = _visible_order(identity, order_id)
    return {"order": order.model_dump(mode="json"), "audit": store.audit_trail(order_id),
            "departments_involved": workflow.departments_involved(order)}


# ------------------------------------------------------------------ acting
def dispatch(identity: StaffIdentity, order_id: str, request: ManualDispatch, matcher: Matcher | None,
             now: datetime) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    _visible_order(identity, order_id)
    matcher = _matcher(matcher)
    order = workflow.manual_dispatch(order_id, matcher, request.matter_code, identity.actor, now,
                                     department=_known_department(matcher, request.department))
    return _summary(order)


def return_order(identity: StaffIdentity, order_id: str, request: ReturnRequest, now: datetime) -> dict[str, Any]:
    department = identity.own_department()
    _visible_order(identity, order_id)
    order = workflow.return_order(order_id, department, request.category, request.text, now, actor=identity.actor)
    return _summary(order)


def review(identity: StaffIdentity, order_id: str, request: ReviewDecision, matcher: Matcher | None,
           now: datetime) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    _visible_order(identity, order_id)
    matcher = _matcher(matcher)
    order = workflow.review_return(order_id, matcher, identity.actor, now, uphold=request.decision == "uphold",
                                   matter_code=request.matter_code,
                                   department=_known_department(matcher, request.department))
    return _summary(order)


def dispute(identity: StaffIdentity, order_id: str, request: DisputeRequest, now: datetime) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    _visible_order(identity, order_id)
    order = workflow.dispute(order_id, identity.actor, request.reason, now)
    return {**_summary(order), "departments_involved": workflow.departments_involved(order)}


# ------------------------------------------------------------------ duty list (职责清单)
def duty_list_versions(identity: StaffIdentity) -> dict[str, Any]:
    identity.require(Role.CENTRE, Role.LEADER)
    return {"current": duty_store.current_version(), "versions": duty_store.versions()}


def export_duty_list(identity: StaffIdentity, version: int | None) -> str:
    identity.require(Role.CENTRE, Role.LEADER)
    return duty_list.export_csv(version)


def import_duty_list(identity: StaffIdentity, filename: str, data: bytes) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    version = duty_list.import_file(filename, data, actor=identity.actor)
    return {"version": version, "current": version}


def rollback_duty_list(identity: StaffIdentity, request: RollbackRequest) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    version = duty_list.rollback(request.version, actor=identity.actor)
    return {"current": version}
