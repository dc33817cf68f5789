"""The order's clock (限时办结、统一督办): every time limit of an order, its warning and its
escalation ladder; extensions (延期), pauses (挂起) and leader case-handling (领导包案).

Pure data. The arithmetic is `minyi.timelimits.limits`; the steps that change an order's
clock are `minyi.casework.clock`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, model_validator


class LimitKind(StrEnum):
    """The limits an order runs on, in the order they start."""

    SIGN = "sign"  # 签收: the lead department signs for the order
    CONTACT = "contact"  # 先行联系: it first contacts the citizen
    OPINION = "opinion"  # 协办意见: every co-handler gives its opinion
    COMPLETE = "complete"  # 办结: the lead department replies
    REVIEW = "review"  # 办结审核: the channel's reviewer checks the reply
    EVALUATION = "evaluation"  # 回访评价: the citizen rates the reply (then: closed as unevaluated)


LIMIT_LABELS = {LimitKind.SIGN: "签收时限", LimitKind.CONTACT: "先行联系时限", LimitKind.OPINION: "协办意见时限",
                LimitKind.COMPLETE: "办结时限", LimitKind.REVIEW: "办结审核时限", LimitKind.EVALUATION: "回访评价时限"}


class Measure(StrEnum):
    """How a limit's time is counted."""

    WORKING_DAYS = "working_days"  # whole working days of the calendar (24 h each)
    WORKING_HOURS = "working_hours"  # the department's office hours on working days
    CALENDAR = "calendar"  # 7×24: urgent orders


class LadderStep(StrEnum):
    """督办 ladder, each step once per missed limit."""

    REMIND = "remind"  # 催办, at the limit
    NOTICE = "notice"  # 催办通知书 to the unit, copied to its leader in charge (分管领导)
    SUPERVISE = "supervise"  # 督办: on the public criticism list (通报批评)
    PROPOSE_LEADER_CASE = "propose_leader_case"  # proposed for 领导包案


STEP_LABELS = {LadderStep.REMIND: "催办", LadderStep.NOTICE: "催办通知书", LadderStep.SUPERVISE: "督办",
               LadderStep.PROPOSE_LEADER_CASE: "建议领导包案"}


def _ladder(value: object) -> object:
    """"remind:0,notice:1,supervise:5" (an environment variable) → [(step, days), ...]."""
    if isinstance(value, str):
        pairs = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            step, _, days = part.partition(":")
            pairs.append((step.strip(), days.strip() or "0"))
        return pairs
    return value


Ladder = Annotated[tuple[tuple[LadderStep, Annotated[int, Field(ge=0, le=60)]], ...],
                   BeforeValidator(_ladder), Field(min_length=1, max_length=8)]


class LadderRung(BaseModel):
    step: LadderStep
    at: datetime


class Deadline(BaseModel):
    """One limit of an order: when it started, when it is due, when its warning falls,
    and what became of it (met, or missed and escalated step by step)."""

    kind: LimitKind
    measure: Measure
    basis: str  # how it was set, for people: "2 个工作小时", "5 个工作日", "领导包案"
    start: datetime
    due: datetime
    warn_at: datetime
    party: str | None = None  # who must meet it (a department, the reviewer), named in events
    warned_at: datetime | None = None
    met_at: datetime | None = None
    missed_at: datetime | None = None
    steps: list[LadderRung] = Field(default_factory=list)
    next_step: LadderStep | None = None
    next_step_at: datetime | None = None
    uncertain: bool = False  # it ran into a year nobody entered a calendar for

    @property
    def open(self) -> bool:
        return self.met_at is None


class ExtensionRequest(BaseModel):
    """延期申请 by the lead department, waiting for the centre."""

    days: int
    reason: str
    by: str
    at: datetime


class Extension(BaseModel):
    """A decided extension request (approved ones moved the completion limit)."""

    days: int
    reason: str
    requested_by: str
    requested_at: datetime
    approved: bool
    decided_by: str
    decided_at: datetime
    note: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None


class PauseReason(StrEnum):
    WAITING_FOR_CITIZEN = "waiting_for_citizen"  # 等待诉求人补充材料或配合
    THIRD_PARTY = "third_party"  # 等待第三方（鉴定、检测、其他单位）
    OTHER = "other"


class PauseRequest(BaseModel):
    """挂起申请, waiting for the centre."""

    reason: PauseReason
    text: str | None = None
    until: datetime | None = None
    by: str
    at: datetime


class Pause(BaseModel):
    """A pause, from its request to its end (or its refusal)."""

    reason: PauseReason
    text: str | None = None
    requested_by: str
    requested_at: datetime
    approved: bool
    decided_by: str
    decided_at: datetime
    until: datetime | None = None
    resumed_at: datetime | None = None
    resumed_by: str | None = None
    moved_seconds: dict[str, int] = Field(default_factory=dict)  # per limit: how far its due moved


class Instruction(BaseModel):
    """领导批示."""

    text: str
    by: str
    at: datetime
    due_before: datetime | None = None
    due_after: datetime | None = None


class LeaderCase(BaseModel):
    """领导包案: a named leader owns the order, with a deadline of their own."""

    leader: str
    due: datetime
    assigned_by: str
    assigned_at: datetime
    note: str | None = None
    instructions: list[Instruction] = Field(default_factory=list)


class ClockRules(BaseModel):
    """The county's numbers for the clock (each a setting; defaults from hotline-rules.md)."""

    sign_hours: float = Field(default=2, gt=0, le=72)  # 签收: working hours after dispatch
    urgent_sign_minutes: int = Field(default=30, ge=1, le=24 * 60)  # urgent: calendar minutes
    contact_days: int = Field(default=1, ge=1, le=15)  # 先行联系: working days
    urgent_contact_minutes: int = Field(default=60, ge=1, le=24 * 60)
    opinion_share: float = Field(default=0.5, gt=0, le=1)  # 协办意见: this share of the completion limit
    review_days: int = Field(default=1, ge=1, le=15)  # 办结审核
    evaluation_days: int = Field(default=3, ge=1, le=30)  # 回访评价 window
    warn_share: float = Field(default=0.8, gt=0, lt=1)  # the warning falls at this share of each limit
    ladder: Ladder = ((LadderStep.REMIND, 0), (LadderStep.NOTICE, 1), (LadderStep.SUPERVISE, 5),
                      (LadderStep.PROPOSE_LEADER_CASE, 5))
    max_extensions: int = Field(default=1, ge=0, le=10)  # per order, unless the centre grants more
    max_extension_days: int = Field(default=5, ge=1, le=60)  # a department may ask for at most this

    @model_validator(mode="after")
    def _each_step_once(self) -> ClockRules:
        steps = [step for step, _ in self.ladder]
        if len(set(steps)) != len(steps):
            raise ValueError("each ladder step appears once")
        return self
