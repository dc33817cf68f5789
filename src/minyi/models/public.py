"""What anyone holding an order id may see (公开查询): no name, no phone, no content."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from minyi.models.lifecycle import STATUSES, OrderStatus
from minyi.models.order import ReplyStatus, WorkOrder


class OrderStatusView(BaseModel):
    """The public status of an order."""

    order_id: str
    channel: str
    status: OrderStatus
    department: str | None
    co_departments: list[str]
    matter: list[str]
    received_at: datetime
    dispatched_at: datetime | None
    due_at: datetime | None
    overdue_at: datetime | None
    urgent: bool
    parent_order_id: str | None
    status_label: str = ""
    related_count: int = 0
    reply_status: ReplyStatus | None = None

    @classmethod
    def of(cls, order: WorkOrder) -> OrderStatusView:
        fields = order.model_dump(include=set(cls.model_fields) - {"status_label"})
        return cls(**fields, status_label=STATUSES[order.status].public_label,
                   related_count=len(order.related_orders),
                   reply_status=order.reply.status if order.reply else None)
