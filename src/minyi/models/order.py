"""Work orders (工单) and the payloads that create them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from minyi.clock import SHANGHAI

_NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_NO_CONTROL)]
ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[\w\-.:/#]+$")
]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        # mainland mobile, or a landline with area code; the hotline keeps what the citizen gave
        pattern=r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
    ),
]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        # channels in China send local wall-clock time without an offset
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class OrderStatus(StrEnum):
    RECEIVED = "received"  # 已受理, waiting for dispatch
    DISPATCHED = "dispatched"  # 已派发 to a lead department
    MANUAL = "manual"  # 待人工分拨: no confident match, an operator dispatches it
    OVERDUE = "overdue"  # 已超期: the deadline passed before completion


class Citizen(BaseModel):
    """诉求人."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, StringConstraints(min_length=1, max_length=50)]
    phone: Phone


class ChannelRequest(BaseModel):
    """A request as a channel posts it to `POST /channels/{channel}/requests`."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId
    title: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    citizen: Citizen
    address: Annotated[Text, StringConstraints(max_length=200)] | None = None
    received_at: AwareTime | None = None


class WorkOrder(BaseModel):
    """工单: one citizen request, from intake to completion."""

    order_id: str
    channel: str
    external_id: str
    title: str
    content: str
    citizen: Citizen
    address: str | None = None
    received_at: datetime
    status: OrderStatus = OrderStatus.RECEIVED
    department: str | None = None
    co_departments: list[str] = Field(default_factory=list)
    matter: list[str] = Field(default_factory=list)
    matter_code: str | None = None
    duty_list_version: int | None = None
    match_score: float | None = None
    dispatched_at: datetime | None = None
    due_at: datetime | None = None
    overdue_at: datetime | None = None
    version: int = 1

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.content}\n{self.address or ''}"


class OrderStatusView(BaseModel):
    """What anyone holding an order id may see: no name, no phone, no content."""

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

    @classmethod
    def of(cls, order: WorkOrder) -> OrderStatusView:
        return cls(**order.model_dump(include=set(cls.model_fields)))
