"""What leaves the hotline about an order without a staff token: the public status anyone
holding an order id may read (公开查询), and the status notice a channel is sent when its
order's public stage changes (状态推送). Both read the stage and its label from the
lifecycle table; neither carries the citizen's name, phone, ID number or request text,
the reply's internal note or its attachments. The reply's text is shown once it has
gone to the citizen, with phone and ID numbers masked."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from minyi.core.privacy import mask_text
from minyi.models.lifecycle import STATUSES, OrderStatus
from minyi.models.order import Reply, ReplyResult, ReplyStatus, WorkOrder

RESULT_LABELS: dict[ReplyResult, str] = {
    ReplyResult.RESOLVED: "已解决",
    ReplyResult.PARTLY_RESOLVED: "部分解决",
    ReplyResult.EXPLAINED: "已解释说明",
    ReplyResult.ANSWERED: "已答复",
}
# the stages in which the current round's reply is the order's answer (a reopened order
# is worked on again: its earlier reply is no longer the answer)
ANSWERED_STAGES = frozenset({"replied", "closed"})
# a reply on its way to the citizen: approved, whatever its delivery has come to
RELEASED = frozenset({ReplyStatus.APPROVED, ReplyStatus.RETRYING, ReplyStatus.DELIVERED, ReplyStatus.DEAD_LETTERED})


def stage_of(order: WorkOrder) -> str:
    return STATUSES[order.status].public_stage


def public_reply(order: WorkOrder, released: frozenset[ReplyStatus] = frozenset({ReplyStatus.DELIVERED})
                 ) -> Reply | None:
    """The reply the order's public views show: this round's, once it is `released`."""
    reply = order.reply
    if reply is None or reply.status not in released or stage_of(order) not in ANSWERED_STAGES:
        return None
    return reply


def _answer(reply: Reply | None) -> dict:
    """The reply's public part: its text (phone and ID numbers masked) and its result."""
    if reply is None:
        return {}
    return {"reply": mask_text(reply.text), "reply_result": reply.result,
            "reply_result_label": RESULT_LABELS[reply.result]}


class OrderStatusView(BaseModel):
    """The public status of an order (GET /orders/{id})."""

    order_id: str
    channel: str
    status: OrderStatus
    stage: str  # the lifecycle table's public stage, as channels are told it
    status_label: str  # the lifecycle table's public label
    department: str | None
    co_departments: list[str]
    matter: list[str]
    received_at: datetime
    dispatched_at: datetime | None
    due_at: datetime | None  # the expected completion
    overdue_at: datetime | None
    updated_at: datetime  # the last change of the order (its receipt, before any)
    urgent: bool
    parent_order_id: str | None
    related_count: int = 0
    reopen_count: int = 0
    reply_status: ReplyStatus | None = None
    reply: str | None = None  # once delivered to the citizen
    reply_result: ReplyResult | None = None
    reply_result_label: str | None = None

    @classmethod
    def of(cls, order: WorkOrder) -> OrderStatusView:
        return cls(
            order_id=order.order_id, channel=order.channel, status=order.status, stage=stage_of(order),
            status_label=STATUSES[order.status].public_label, department=order.department,
            co_departments=order.co_departments, matter=order.matter, received_at=order.received_at,
            dispatched_at=order.dispatched_at, due_at=order.due_at, overdue_at=order.overdue_at,
            updated_at=order.updated_at or order.received_at, urgent=order.urgent,
            parent_order_id=order.parent_order_id, related_count=len(order.related_orders),
            reopen_count=order.reopen_count, reply_status=order.reply.status if order.reply else None,
            **_answer(public_reply(order)))


class StatusNotice(BaseModel):
    """What a channel's status endpoint is sent when its order's public stage changes or
    the order is reopened: the order as it was at `version`. A channel keeps the highest
    version it has seen of an order and drops older ones; a retry of the same version
    carries the same `X-Minyi-Delivery`."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(pattern=r"^[A-Z0-9]{4,64}$")
    channel: str
    external_id: str
    version: int = Field(ge=1)
    stage: str
    status_label: str
    department: str | None = None
    expected_completion: datetime | None = None  # the order's deadline (due_at)
    updated_at: datetime
    reopen_count: int = 0
    reply: str | None = None  # once approved for the citizen
    reply_result: ReplyResult | None = None
    reply_result_label: str | None = None

    @classmethod
    def of(cls, order: WorkOrder) -> StatusNotice:
        return cls(
            order_id=order.order_id, channel=order.channel, external_id=order.external_id, version=order.version,
            stage=stage_of(order), status_label=STATUSES[order.status].public_label, department=order.department,
            expected_completion=order.due_at, updated_at=order.updated_at or order.received_at,
            reopen_count=order.reopen_count, **_answer(public_reply(order, RELEASED)))

    @property
    def delivery_id(self) -> str:
        """The receiver's idempotency key (X-Minyi-Delivery): one per order version."""
        return f"{self.order_id}-status-{self.version}"
