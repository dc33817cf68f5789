"""Builders for the stories tests tell: staff members, and work orders in any status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from minyi.core.clock import SHANGHAI
from minyi.models.identity import Role, StaffIdentity
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import Citizen, Lapse, OrderReturn, ReturnReason, WorkOrder

WHEN = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
LEAD, CO = "区城管局", "区住建局"

CENTRE = StaffIdentity(username="zhongxin01", roles=frozenset({Role.CENTRE}))
LEADER = StaffIdentity(username="lingdao01", roles=frozenset({Role.LEADER}))


def department(name: str = LEAD) -> StaffIdentity:
    return StaffIdentity(username=f"staff-{name}", roles=frozenset({Role.DEPARTMENT}), department=name)


def an_order(status: OrderStatus | str = OrderStatus.RECEIVED, **overrides: Any) -> WorkOrder:
    """A work order as it is in `status`, with what that status implies filled in: a
    dispatched one has its lead, co-handler, matter and deadline; a returned one its return."""
    status = OrderStatus(status)
    fields: dict[str, Any] = {
        "order_id": "MYTESTORDER00001", "channel": "12345", "external_id": "t-1", "title": "小区路灯坏了",
        "content": "梅林镇华丰社区路灯坏了一周", "citizen": Citizen(name="张三", phone="13800000000"),
        "received_at": WHEN, "status": status,
    }
    if status is not OrderStatus.RECEIVED:
        fields.update(duty_list_version=1, match_score=0.8)
    if status in (OrderStatus.DISPATCHED, OrderStatus.OVERDUE, OrderStatus.RETURNED, OrderStatus.JOINT_MEETING,
                  OrderStatus.MERGED):
        fields.update(department=LEAD, co_departments=[CO], matter=["城乡建设", "市政设施", "路灯"],
                      matter_code="CX-02-04", dispatched_at=WHEN, due_at=WHEN + timedelta(days=5))
    if status is OrderStatus.OVERDUE:
        overdue_at = WHEN + timedelta(days=5, minutes=5)
        fields.update(overdue_at=overdue_at,
                      lapses=[Lapse(department=LEAD, due_at=WHEN + timedelta(days=5), overdue_at=overdue_at)])
    if status in (OrderStatus.RETURNED, OrderStatus.JOINT_MEETING):
        fields["returns"] = [OrderReturn(department=LEAD, category=ReturnReason.NOT_OUR_DUTY, text="不归我们管",
                                         at=WHEN + timedelta(hours=1))]
    if status is OrderStatus.MERGED:
        fields["parent_order_id"] = "MYTESTPARENT0001"
    fields.update(overrides)
    return WorkOrder(**fields)
