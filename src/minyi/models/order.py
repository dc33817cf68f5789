"""Work orders (工单): the order as stored and worked on, with the citizen, the reply, returns and lapses."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from minyi.models.clock import Deadline, Extension, ExtensionRequest, LeaderCase, LimitKind, Pause, PauseRequest
from minyi.models.lifecycle import LEADER_CASE_STATUSES, OrderStatus, queue_for

NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # no control characters

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


class Lapse(BaseModel):
    """超期记录: a completion deadline a department let pass. It stays with that department
    whatever happens to the order next (a return, a re-dispatch), so the count of overdue
    orders holds the department that let it run over to account."""

    department: str
    due_at: datetime
    overdue_at: datetime


class Citizen(BaseModel):
    """诉求人."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50,
                                           pattern=NO_CONTROL)]
    phone: Phone
    id_number: IdNumber | None = None


class ReplyStatus(StrEnum):
    """Where the current reply is (the order's status says where the order is)."""

    PENDING_REVIEW = "pending_review"  # 待审核: the channel's reviewer must approve it first
    REJECTED = "rejected"  # 审核退回: the department answers again
    APPROVED = "approved"  # approved; its delivery to the channel starts
    RETRYING = "retrying"  # a delivery failed; retried with backoff
    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"  # every try failed; parked in the dead-letter queue


class ReplyResult(StrEnum):
    """办理结果."""

    RESOLVED = "resolved"  # 已解决
    PARTLY_RESOLVED = "partly_resolved"  # 部分解决
    EXPLAINED = "explained"  # 已解释说明
    ANSWERED = "answered"  # 已答复（咨询）


class Reply(BaseModel):
    """统一回复: the answer that goes back through the channel the request came from.
    `text` is what the citizen reads; `internal_note` never leaves the staff's views."""

    text: str
    author: str  # the department that replied
    written_at: datetime
    status: ReplyStatus
    result: ReplyResult = ReplyResult.ANSWERED
    written_by: str | None = None  # the staff member
    internal_note: str | None = None
    attachment_ids: list[str] = Field(default_factory=list)
    reviewer: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    rejected_reason: str | None = None
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class Evaluation(BaseModel):
    """回访/评价: the citizen's verdict on a reply, from the centre's follow-up or the channel."""

    satisfaction: Satisfaction
    resolved: bool
    method: str  # phone, sms, online, visit (the centre), or the channel's own
    comment: str | None = None
    source: str  # "centre", or the channel's id
    evaluation_id: str | None = None  # the channel's own id of its evaluation
    by: str
    at: datetime  # when we recorded it (the closure's time when it closes the order)
    evaluated_at: datetime | None = None  # when the citizen rated it, as the channel says

    @property
    def satisfied(self) -> bool:
        return self.satisfaction is not Satisfaction.DISSATISFIED


class CloseReason(StrEnum):
    UNREASONABLE_DEMAND = "unreasonable_demand"  # 不合理诉求
    POLICY_LIMIT = "policy_limit"  # 政策限制
    CITIZEN_UNREACHABLE = "citizen_unreachable"  # 联系不上诉求人
    OTHER = "other"


class ClosureKind(StrEnum):
    EVALUATED = "evaluated"  # the citizen rated the reply satisfied or basically satisfied
    UNEVALUATED = "unevaluated"  # no answer in the evaluation window (未评价)
    BY_CENTRE = "by_centre"  # the centre closed a dissatisfied order without reopening
    WITH_PARENT = "with_parent"  # a merged request (并单), closed with the order it was handled with


class Closure(BaseModel):
    """办结: how the order was closed; the evaluation stays what it was."""

    kind: ClosureKind
    at: datetime
    by: str
    reason: CloseReason | None = None
    text: str | None = None
    counted_satisfied: bool = False  # an unevaluated order counted as satisfied (the county's setting)


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
    time_limit_days: int | None = None  # the matter's limit this dispatch runs on (a reopen's default)
    designated: bool = False  # a joint meeting or leader named the lead: it may not return it
    signed_at: datetime | None = None
    signed_by: str | None = None
    first_contact_at: datetime | None = None
    reply: Reply | None = None
    reply_rejections: int = 0  # replies the reviewer sent back
    evaluation: Evaluation | None = None  # the latest
    reopen_count: int = 0
    closure: Closure | None = None
    returns: list[OrderReturn] = Field(default_factory=list)
    lapses: list[Lapse] = Field(default_factory=list)
    # the clock (限时办结、统一督办): see minyi.models.clock
    deadlines: dict[LimitKind, Deadline] = Field(default_factory=dict)
    calendar_uncertain: bool = False  # a limit runs through a year no calendar covers
    opinions_from: list[str] = Field(default_factory=list)  # co-handlers that gave their opinion
    extension_request: ExtensionRequest | None = None
    extensions: list[Extension] = Field(default_factory=list)
    extensions_granted: int = 0  # extensions the centre allowed beyond the county's number
    pause_request: PauseRequest | None = None
    pauses: list[Pause] = Field(default_factory=list)  # the last one is current while paused
    leader_case: LeaderCase | None = None
    leader_case_proposed_at: datetime | None = None  # the ladder proposed 领导包案
    updated_at: datetime | None = None
    version: int = 1

    @property
    def queue(self) -> str | None:
        """The queue this order waits in (its status's, or the clock's)."""
        sign = self.deadlines.get(LimitKind.SIGN)
        return queue_for(
            self.status,
            unsigned=self.status is OrderStatus.DISPATCHED and sign is not None and sign.missed_at is not None,
            leader_case=self.leader_case is not None and self.status in LEADER_CASE_STATUSES,
            leader_case_proposed=self.leader_case_proposed_at is not None and self.leader_case is None
            and self.status in LEADER_CASE_STATUSES,
            extension_pending=self.extension_request is not None, pause_pending=self.pause_request is not None)

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.content}\n{self.address or ''}"

    def related_keys(self) -> tuple[str | None, str | None]:
        """Keys under which a repeat of this request is found (并单): the same matter from the
        same phone, or about the same address. Hashed, so index keys carry no personal data."""
        if not self.matter_code:
            return None, None

        def digest(text: str) -> str:
            return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

        address = normalized_address(self.address)
        return (f"{self.matter_code}#{digest(self.citizen.phone)}",
                f"{self.matter_code}#{digest(address)}" if address else None)


def normalized_address(address: str | None) -> str | None:
    if not address:
        return None
    kept = "".join(ch for ch in address if ch.isalnum())
    return kept if len(kept) >= 6 else None  # "梅林镇" alone says nothing about one place
