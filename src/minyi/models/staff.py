"""Payloads of the staff endpoints (manual dispatch, returns, reviews, disputes, the closed
loop's actions, duty-list rollback), validated whole before anything is read or written."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from minyi.core.clock import SHANGHAI
from minyi.core.errors import ValidationFailed
from minyi.models.clock import PauseReason
from minyi.models.handling import ContactMethod
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import NO_CONTROL, CloseReason, ReplyResult, ReturnReason, Satisfaction

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32,
                                        pattern=r"^[A-Za-z0-9\-]+$")]
Department = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=1000, pattern=NO_CONTROL)]


class _Payload(BaseModel):
    # built on first use: a request validates one payload, a cold start need not build them all
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ManualDispatch(_Payload):
    """人工分拨: the matter the operator chose, and a department if not the matter's lead."""

    matter_code: Code
    department: Department | None = None


class ReturnRequest(_Payload):
    """退单: why the department holds the order is not its own."""

    category: ReturnReason
    text: Reason


class ReviewDecision(_Payload):
    """The centre's decision on a return: 维持 (uphold) or 改派 (redispatch)."""

    decision: Literal["uphold", "redispatch"]
    matter_code: Code | None = None
    department: Department | None = None

    @model_validator(mode="after")
    def _redispatch_names_a_target(self) -> ReviewDecision:
        if self.decision == "uphold" and (self.matter_code or self.department):
            raise ValueError("an upheld dispatch keeps its matter and department")
        if self.decision == "redispatch" and not (self.matter_code or self.department):
            raise ValueError("a redispatch names the matter_code or the department it goes to")
        return self


class DisputeRequest(_Payload):
    """争议: the operator sends the order to the joint meeting (联席会议)."""

    reason: Reason


class RollbackRequest(_Payload):
    version: int = Field(ge=1, le=999_999)


def _text(maximum: int) -> type[str]:
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=maximum,
                                            pattern=NO_CONTROL)]


class SignRequest(_Payload):
    """签收: nothing to say (an empty body or {})."""


class ContactRequest(_Payload):
    """先行联系: how the department reached the citizen, and what was said."""

    method: ContactMethod
    note: _text(1000)


class OpinionRequest(_Payload):
    """协办意见."""

    text: _text(2000)


# 附件: what may be attached, by media type, with the file name endings each may have
ATTACHMENT_TYPES: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
}
FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                            pattern=r'^[^\x00-\x1f\x7f/\\:*?"<>|]+$')]


class AttachmentRequest(_Payload):
    """附件: a file about to be uploaded (≤ 20 MiB by default; jpg, png, pdf, docx, xlsx)."""

    filename: FileName
    content_type: Literal[tuple(ATTACHMENT_TYPES)]  # type: ignore[valid-type]
    size: int = Field(ge=1, le=100 * 1024 * 1024, strict=True)  # "2048" or true is not a size

    @model_validator(mode="after")
    def _name_fits_type(self) -> AttachmentRequest:
        if not self.filename.lower().endswith(ATTACHMENT_TYPES[self.content_type]):
            raise ValueError(f"a {self.content_type} file's name ends in "
                             f"{' or '.join(ATTACHMENT_TYPES[self.content_type])}")
        return self


AttachmentId = Annotated[str, StringConstraints(pattern=r"^A[0-9A-Za-z]{10,40}$")]


class ReplyRequest(_Payload):
    """办结申请: `text` is what the citizen reads; `internal_note` is never shown publicly."""

    result: ReplyResult
    text: _text(2000)
    internal_note: _text(2000) | None = None
    attachment_ids: list[AttachmentId] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _each_once(self) -> ReplyRequest:
        if len(set(self.attachment_ids)) != len(self.attachment_ids):
            raise ValueError("an attachment is named once")
        return self


class ReplyReviewRequest(_Payload):
    """办结审核: approve, or reject with the reason the department reads."""

    decision: Literal["approve", "reject"]
    reason: Reason | None = None

    @model_validator(mode="after")
    def _reject_says_why(self) -> ReplyReviewRequest:
        if self.decision == "reject" and not self.reason:
            raise ValueError("a rejected reply says why (reason)")
        return self


class EvaluationRequest(_Payload):
    """回访: the centre's follow-up with the citizen."""

    satisfaction: Satisfaction
    resolved: bool = Field(strict=True)
    method: Literal["phone", "sms", "online", "visit"]
    comment: _text(500) | None = None


class ReopenRequest(_Payload):
    """重办: why, and the working days the department gets (default: the matter's limit)."""

    reason: Reason
    days: int | None = Field(default=None, ge=1, le=60, strict=True)  # "3" or true is not a number of days


class CloseRequest(_Payload):
    """The centre closes a dissatisfied order without reopening it."""

    reason: CloseReason
    text: Reason


class DecisionRequest(_Payload):
    """联席会议 / 区长热线日 decision: the department designated (with co-handlers and the
    matter, if they change), or escalation to the mayor's hotline day."""

    department: Department | None = None
    co_departments: list[Department] | None = Field(default=None, max_length=10)
    matter_code: Code | None = None
    escalate: bool = Field(default=False, strict=True)
    note: Reason

    @model_validator(mode="after")
    def _one_decision(self) -> DecisionRequest:
        if self.escalate and (self.department or self.co_departments or self.matter_code):
            raise ValueError("an escalation designates no department")
        if not self.escalate and not self.department:
            raise ValueError("a decision names the department, or escalates")
        return self


class InboxFilter(_Payload):
    """A department's inbox filters on `GET /staff/orders`."""

    status: tuple[OrderStatus, ...] = ()
    role: Literal["lead", "co"] | None = None
    due_before: datetime | None = None
    overdue: bool | None = None
    urgent: bool | None = None

    @property
    def active(self) -> bool:
        return bool(self.status or self.role or self.due_before or self.overdue is not None
                    or self.urgent is not None)

    @classmethod
    def from_query(cls, query: dict[str, str]) -> InboxFilter:
        """The filters of a query string: status=signed,dispatched&role=lead&due_before=2026-12-01
        &overdue=true&urgent=false. Anything else there (paging) is not a filter."""
        problems = []
        values: dict[str, object] = {}
        if query.get("status"):
            names = [part.strip() for part in query["status"].split(",") if part.strip()]
            unknown = [name for name in names if name not in OrderStatus.__members__.values()]
            if unknown or len(names) > len(OrderStatus):
                problems.append({"field": "status", "problem": f"statuses are {', '.join(OrderStatus)}"})
            values["status"] = tuple(dict.fromkeys(n for n in names if n not in unknown))
        if query.get("role"):
            if query["role"] not in ("lead", "co"):
                problems.append({"field": "role", "problem": "lead or co"})
            values["role"] = query["role"]
        for name in ("overdue", "urgent"):
            if name in query:
                if query[name] not in ("true", "false"):
                    problems.append({"field": name, "problem": "true or false"})
                values[name] = query[name] == "true"
        if query.get("due_before"):
            moment = _moment(query["due_before"])
            if moment is None:
                problems.append({"field": "due_before", "problem": "a date or time from 2000 to 2100, e.g. 2026-12-01"})
            values["due_before"] = moment
        if problems:
            raise ValidationFailed("bad filter", problems)
        return cls.model_validate(values)


def _moment(text: str) -> datetime | None:
    """A date (the start of that day in Asia/Shanghai) or an ISO time, within 2000..2100."""
    try:
        moment = datetime.fromisoformat(text.strip()) if len(text) <= 40 else None
    except ValueError:
        return None
    if moment is None or not 2000 <= moment.year <= 2100:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


# ------------------------------------------------------------------ the clock (延期、挂起、领导包案)
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\S+)?$")


def _iso_text(value: Any) -> Any:
    """A time is written in ISO 8601 (2026-01-20T18:00:00+08:00, or a date): a number, or digits
    in a string, would be read as a Unix time and taken for a deadline nobody meant."""
    if not isinstance(value, str) or len(value) > 40 or not _ISO_MOMENT.match(value.strip()):
        raise ValueError("a time is written in ISO 8601, e.g. 2026-01-20T18:00:00+08:00")
    return value.strip()


def _moment_in_range(value: datetime) -> datetime:
    """A time a person sets: Asia/Shanghai when no zone is given, between 2000 and 2100."""
    value = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    try:
        if not (datetime(2000, 1, 1, tzinfo=SHANGHAI) <= value <= datetime(2100, 1, 1, tzinfo=SHANGHAI)):
            raise ValueError("a time between 2000 and 2100")
    except OverflowError:
        raise ValueError("a time between 2000 and 2100") from None
    return value


Moment = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_moment_in_range)]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128,
                                            pattern=r"^[\w.@+\-]+$")]


class ExtensionRequestBody(_Payload):
    """延期申请: how many working days more, and why."""

    days: int = Field(ge=1, le=60, strict=True)
    reason: Reason


class ExtensionReviewRequest(_Payload):
    """The centre's decision on an extension request; it may change the days, and allow the
    order more extensions than the county's number."""

    decision: Literal["approve", "reject"]
    days: int | None = Field(default=None, ge=1, le=60, strict=True)
    note: Reason | None = None
    grant_more: int = Field(default=0, ge=0, le=5, strict=True)


class PauseRequestBody(_Payload):
    """挂起申请: why, and optionally until when (then it resumes by itself)."""

    reason: PauseReason
    text: Reason | None = None
    until: Moment | None = None


class PauseReviewRequest(_Payload):
    decision: Literal["approve", "reject"]
    note: Reason | None = None


class LeaderCaseRequest(_Payload):
    """领导包案: the leader (a `leader` user's name) and the leader's deadline."""

    leader: Username
    due: Moment
    note: Reason | None = None


class InstructionRequest(_Payload):
    """领导批示, and optionally the leader's new deadline."""

    text: Reason
    due: Moment | None = None
