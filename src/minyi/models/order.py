"""Work orders (工单) and the payloads that create them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from minyi.core.clock import SHANGHAI

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


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(value: str) -> str:
    """居民身份证号码 (GB 11643): 17 digits and an ISO 7064 MOD 11-2 check character."""
    value = value.strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValueError("an ID-card number is 17 digits and a check digit or X")
    check = "10X98765432"[sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11]
    if value[17] != check:
        raise ValueError("the ID-card number's check digit is wrong")
    return value


IdNumber = Annotated[str, AfterValidator(_id_number)]


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
    MERGED = "merged"  # 已并单: linked to an open order about the same matter, handled with it
    OVERDUE = "overdue"  # 已超期: the deadline passed before completion
    RETURNED = "returned"  # 退单待审核: the department says it is not theirs; the centre reviews
    JOINT_MEETING = "joint_meeting"  # 联席会议: disputed; every department involved meets on it


# Where an order waits for a person, by status (the `queues` index)
QUEUES = {OrderStatus.MANUAL: "manual", OrderStatus.RETURNED: "review", OrderStatus.JOINT_MEETING: "joint_meeting"}


class ReturnReason(StrEnum):
    NOT_OUR_DUTY = "not_our_duty"  # 非本单位职责
    WRONG_PLACE = "wrong_place"  # 属地错误
    INSUFFICIENT_INFO = "insufficient_info"  # 诉求不清
    DUPLICATE = "duplicate"  # 重复件
    OTHER = "other"


class OrderReturn(BaseModel):
    """退单: one department's return of an order, with its reason."""

    department: str
    category: ReturnReason
    text: str = Field(min_length=1, max_length=500)
    at: datetime


class Citizen(BaseModel):
    """诉求人."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, StringConstraints(min_length=1, max_length=50)]
    phone: Phone
    id_number: IdNumber | None = None


class ChannelRequest(BaseModel):
    """A request as a channel posts it to `POST /channels/{channel}/requests`."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId
    title: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    citizen: Citizen
    address: Annotated[Text, StringConstraints(max_length=200)] | None = None
    received_at: AwareTime | None = None
    urgent: bool = False
    requested_matter: str | None = None  # a matter the caller chose (an Open311 service_code)


class ReplyStatus(StrEnum):
    PENDING_REVIEW = "pending_review"  # 待审核: the channel's reviewer must approve it first
    APPROVED = "approved"  # approved; its delivery to the channel starts
    RETRYING = "retrying"  # a delivery failed; retried with backoff
    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"  # every try failed; parked in the dead-letter queue


class Reply(BaseModel):
    """统一回复: the answer that goes back through the channel the request came from."""

    text: str
    author: str
    written_at: datetime
    status: ReplyStatus
    reviewer: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


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
    urgent: bool = False
    requested_matter: str | None = None
    on_call: str | None = None  # 7×24: the rapid-handling team's handler who took it off hours
    places: list[str] = Field(default_factory=list)  # 属地: 田村镇圩镇主街, 长洛乡长洛村 ... as named
    parent_order_id: str | None = None  # 并单: the open order this one is handled with
    related_orders: list[str] = Field(default_factory=list)  # orders merged into this one
    reply: Reply | None = None
    returns: list[OrderReturn] = Field(default_factory=list)
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
    urgent: bool
    parent_order_id: str | None
    related_count: int = 0
    reply_status: ReplyStatus | None = None

    @classmethod
    def of(cls, order: WorkOrder) -> OrderStatusView:
        fields = order.model_dump(include=set(cls.model_fields))
        return cls(**fields, related_count=len(order.related_orders),
                   reply_status=order.reply.status if order.reply else None)
