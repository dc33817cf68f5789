"""Builders for the stories tests tell: staff members, and work orders in any status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from minyi.casework import timing
from minyi.core.clock import SHANGHAI
from minyi.models.clock import ClockRules, Pause, PauseReason
from minyi.models.identity import Role, StaffIdentity
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import (
    Citizen,
    Closure,
    ClosureKind,
    Evaluation,
    OrderReturn,
    Reply,
    ReplyResult,
    ReplyStatus,
    ReturnReason,
    Satisfaction,
    WorkOrder,
)
from minyi.models.roster import WorkingHours
from minyi.timelimits import limits

WHEN = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
LEAD, CO = "区城管局", "区住建局"

CENTRE = StaffIdentity(username="zhongxin01", roles=frozenset({Role.CENTRE}))
LEADER = StaffIdentity(username="lingdao01", roles=frozenset({Role.LEADER}))


def department(name: str = LEAD) -> StaffIdentity:
    return StaffIdentity(username=f"staff-{name}", roles=frozenset({Role.DEPARTMENT}), department=name)


def an_order(status: OrderStatus | str = OrderStatus.RECEIVED, **overrides: Any) -> WorkOrder:
    """A work order as it is in `status`, with what that status implies filled in: a
    dispatched one has its lead, co-handler, matter and deadline; a signed one who signed;
    a returned one its return; one past its reply has the reply (approved, once the
    reviewer passed it), the evaluation and the closure its status says."""
    status = OrderStatus(status)
    S = OrderStatus
    fields: dict[str, Any] = {
        "order_id": "MYTESTORDER00001", "channel": "12345", "external_id": "t-1", "title": "小区路灯坏了",
        "content": "梅林镇华丰社区路灯坏了一周", "citizen": Citizen(name="张三", phone="13800000000"),
        "received_at": WHEN, "status": status,
    }
    if status is not OrderStatus.RECEIVED:
        fields.update(duty_list_version=1, match_score=0.8)
    if status not in (S.RECEIVED, S.MANUAL):
        fields.update(department=LEAD, co_departments=[CO], matter=["城乡建设", "市政设施", "路灯"],
                      matter_code="CX-02-04", dispatched_at=WHEN, due_at=WHEN + timedelta(days=5),
                      time_limit_days=5)
    replied = (S.REPLY_REVIEW, S.AWAITING_EVALUATION, S.DISSATISFIED, S.CLOSED)
    if status in (S.SIGNED, *replied):
        fields.update(signed_at=WHEN + timedelta(hours=1), signed_by="staff-区城管局")
    if status in replied:
        approved = status is not S.REPLY_REVIEW
        fields["reply"] = Reply(
            text="路灯已修复。", author=LEAD, written_by="staff-区城管局", written_at=WHEN + timedelta(days=1),
            result=ReplyResult.RESOLVED, reviewer="区12345热线管理中心",
            status=ReplyStatus.DELIVERED if approved else ReplyStatus.PENDING_REVIEW,
            approved_by="zhongxin01" if approved else None, approved_at=WHEN + timedelta(days=1) if approved else None)
    if status in (S.DISSATISFIED, S.CLOSED):
        fields["evaluation"] = Evaluation(
            satisfaction=Satisfaction.DISSATISFIED if status is S.DISSATISFIED else Satisfaction.SATISFIED,
            resolved=status is S.CLOSED, method="phone", source="centre", by="zhongxin01", at=WHEN + timedelta(days=2))
    if status is S.CLOSED:
        fields["closure"] = Closure(kind=ClosureKind.EVALUATED, at=WHEN + timedelta(days=2), by="zhongxin01")
    if status in (OrderStatus.RETURNED, OrderStatus.JOINT_MEETING, OrderStatus.MAYOR_DAY):
        fields["returns"] = [OrderReturn(department=LEAD, category=ReturnReason.NOT_OUR_DUTY, text="不归我们管",
                                         at=WHEN + timedelta(hours=1))]
    if status is OrderStatus.MERGED:
        fields["parent_order_id"] = "MYTESTPARENT0001"
    if status is S.PAUSED:
        fields.update(signed_at=WHEN + timedelta(hours=1), signed_by="staff-区城管局", pauses=[Pause(
            reason=PauseReason.WAITING_FOR_CITIZEN, requested_by="staff-区城管局",
            requested_at=WHEN + timedelta(hours=2),
            approved=True, decided_by="zhongxin01", decided_at=WHEN + timedelta(hours=3))])
    fields.update(overrides)
    order = WorkOrder(**fields)
    if order.dispatched_at is not None and order.due_at is not None and "deadlines" not in overrides:
        order = with_limits(order)
    return order


def with_limits(order: WorkOrder) -> WorkOrder:
    """The order with the limits its dispatch started and its status implies (met, begun)."""
    rules, hours = ClockRules(), WorkingHours()
    planned = limits.plan_dispatch(order.dispatched_at, order.due_at, order.urgent, order.time_limit_days,
                                   order.department, [d for d in order.co_departments if d != order.department],
                                   rules, hours)
    dispatched = order.model_copy(update={"status": OrderStatus.DISPATCHED, "deadlines": planned, "reply": None,
                                          "signed_at": None, "first_contact_at": None})
    if order.status in (OrderStatus.AWAITING_EVALUATION, OrderStatus.DISSATISFIED, OrderStatus.CLOSED):
        reviewing = timing._refresh(dispatched, order.model_copy(update={"status": OrderStatus.REPLY_REVIEW,
                                                                         "deadlines": planned}),
                                    order.reply.written_at, rules, hours)
        return timing._refresh(reviewing, order.model_copy(update={"deadlines": reviewing.deadlines}),
                               order.reply.approved_at or order.reply.written_at, rules, hours)
    moment = order.reply.written_at if order.reply else order.signed_at or order.dispatched_at
    return timing._refresh(dispatched, order.model_copy(update={"deadlines": planned}), moment, rules, hours)
