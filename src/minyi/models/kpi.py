"""Assessment (统一评价、考核问责): the counts an order contributes, the rates made of them, and
the county's score weights. Pure data; the arithmetic is `minyi.reports.kpi`, the definitions
`docs/kpi.md`.

`Counters` are kept per (day, department, channel, matter level 1, township): each field counts one
kind of fact (see `Fact`), so the counters of any period or group are the sum (`+`) of its days'.
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Fact(StrEnum):
    """One countable fact about one order; each is a field of `Counters` (its value the amount)."""

    RECEIVED = "received"  # an order taken in (受理), on the day it came; volume, not judged
    DISPATCHED = "dispatched"  # a dispatch to the department (派单)
    SIGN_DUE = "sign_due"  # 签收时限 judged (met, or fell due)
    SIGNED_IN_TIME = "signed_in_time"
    SIGNED_LATE = "signed_late"  # signed, after its limit
    CONTACT_DUE = "contact_due"  # 先行联系时限 judged
    CONTACTED_IN_TIME = "contacted_in_time"
    COMPLETE_DUE = "complete_due"  # 办结时限 judged (the extended or reopened one)
    COMPLETED = "completed"  # replied, and the reply approved (办结)
    COMPLETED_IN_TIME = "completed_in_time"  # ... and written within its (extended) limit
    EVALUATED = "evaluated"  # the citizen rated the reply (the order's latest evaluation)
    SATISFIED = "satisfied"  # 满意 or 基本满意
    DISSATISFIED = "dissatisfied"
    RESOLVED = "resolved"  # the evaluation says resolved
    UNEVALUATED_CLOSED = "unevaluated_closed"  # closed without an answer in the window (未评价)
    UNEVALUATED_COUNTED_SATISFIED = "unevaluated_counted_satisfied"  # ... counted satisfied (county setting)
    RETURNED = "returned"  # 退单 by the department
    RETURNS_UPHELD = "returns_upheld"  # the centre refused the return (维持): the department keeps it
    RETURNS_REDISPATCHED = "returns_redispatched"  # the centre sent it elsewhere (改派)
    REOPENED = "reopened"  # 重办
    EXTENSIONS_REQUESTED = "extensions_requested"  # 延期申请 decided
    EXTENSIONS = "extensions"  # 延期 approved
    EXTENSION_DAYS = "extension_days"  # working days granted
    REMINDERS = "reminders"  # 催办
    NOTICES = "notices"  # 催办通知书
    SUPERVISIONS = "supervisions"  # 督办
    LEADER_CASE_PROPOSALS = "leader_case_proposals"  # 建议领导包案
    OVERDUE = "overdue"  # 超期: a completion limit the department let pass (a lapse)
    OVERDUE_WORKING_DAYS = "overdue_working_days"  # working days past it


class Counters(BaseModel):
    """The counts of one (day, department, channel, matter level 1, township), or a sum of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    received: int = Field(default=0, ge=0)
    dispatched: int = Field(default=0, ge=0)
    sign_due: int = Field(default=0, ge=0)
    signed_in_time: int = Field(default=0, ge=0)
    signed_late: int = Field(default=0, ge=0)
    contact_due: int = Field(default=0, ge=0)
    contacted_in_time: int = Field(default=0, ge=0)
    complete_due: int = Field(default=0, ge=0)
    completed: int = Field(default=0, ge=0)
    completed_in_time: int = Field(default=0, ge=0)
    evaluated: int = Field(default=0, ge=0)
    satisfied: int = Field(default=0, ge=0)
    dissatisfied: int = Field(default=0, ge=0)
    resolved: int = Field(default=0, ge=0)
    unevaluated_closed: int = Field(default=0, ge=0)
    unevaluated_counted_satisfied: int = Field(default=0, ge=0)
    returned: int = Field(default=0, ge=0)
    returns_upheld: int = Field(default=0, ge=0)
    returns_redispatched: int = Field(default=0, ge=0)
    reopened: int = Field(default=0, ge=0)
    extensions_requested: int = Field(default=0, ge=0)
    extensions: int = Field(default=0, ge=0)
    extension_days: int = Field(default=0, ge=0)
    reminders: int = Field(default=0, ge=0)
    notices: int = Field(default=0, ge=0)
    supervisions: int = Field(default=0, ge=0)
    leader_case_proposals: int = Field(default=0, ge=0)
    overdue: int = Field(default=0, ge=0)
    overdue_working_days: int = Field(default=0, ge=0)

    def __add__(self, other: Counters) -> Counters:
        if not isinstance(other, Counters):
            return NotImplemented
        return Counters(**{name: getattr(self, name) + getattr(other, name) for name in Counters.model_fields})

    def __radd__(self, other: object) -> Counters:
        if other == 0:  # sum(counters) starts from 0
            return self
        return NotImplemented

    def add(self, fact: Fact, amount: int = 1) -> Counters:
        return self.model_copy(update={fact.value: getattr(self, fact.value) + amount})


assert set(Counters.model_fields) == {fact.value for fact in Fact}, "a field for every fact"


class Rates(BaseModel):
    """The rates of one group and period, each a share in [0, 1]; None when nothing was due
    (its denominator is 0): "no data", never 0 % nor 100 %."""

    response: float | None = None  # 响应率
    contact: float | None = None  # 先行联系率
    completion: float | None = None  # 办结率
    on_time: float | None = None  # 按时办结率
    resolution: float | None = None  # 解决率
    satisfaction: float | None = None  # 满意率
    follow_up: float | None = None  # 回访率
    return_rate: float | None = None  # 退单率
    reopen: float | None = None  # 重办率


RATE_LABELS = {"response": "响应率", "contact": "先行联系率", "completion": "办结率", "on_time": "按时办结率",
               "resolution": "解决率", "satisfaction": "满意率", "follow_up": "回访率", "return_rate": "退单率",
               "reopen": "重办率"}
WEIGHTED = ("response", "contact", "completion", "on_time", "resolution", "satisfaction")  # higher is better


class ScoreWeights(BaseModel):
    """The county's score (综合得分): 100 × the weighted rates, less deductions, floored at 0.
    Defaults (docs/kpi.md): the three core rates (响应率、办结率、满意率) equally; 1 point per 督办."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    response: float = Field(default=1 / 3, ge=0, le=1)
    contact: float = Field(default=0, ge=0, le=1)
    completion: float = Field(default=1 / 3, ge=0, le=1)
    on_time: float = Field(default=0, ge=0, le=1)
    resolution: float = Field(default=0, ge=0, le=1)
    satisfaction: float = Field(default=1 / 3, ge=0, le=1)
    per_supervision: float = Field(default=1.0, ge=0, le=100)  # 督办 (通报批评)
    per_reminder: float = Field(default=0.0, ge=0, le=100)  # 催办
    per_overdue: float = Field(default=0.0, ge=0, le=100)  # 超期件
    per_blacklist: float = Field(default=0.0, ge=0, le=100)  # each appearance on a 黑榜 (of earlier periods)

    @model_validator(mode="after")
    def _sum_to_one(self) -> ScoreWeights:
        total = sum(getattr(self, name) for name in WEIGHTED)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"the rates' weights sum to 1 (they sum to {total:g})")
        return self

    def formula(self) -> str:
        """The formula as printed on every report: "得分 = 100 × (1/3 响应率 + ...) − 1 × 督办次数"."""
        terms = " + ".join(f"{getattr(self, name):.4g} × {RATE_LABELS[name]}" for name in WEIGHTED
                           if getattr(self, name) > 0)
        deductions = [(self.per_supervision, "督办次数"), (self.per_reminder, "催办次数"),
                      (self.per_overdue, "超期件数"), (self.per_blacklist, "上黑榜次数")]
        less = "".join(f" − {amount:g} × {what}" for amount, what in deductions if amount > 0)
        return f"得分 = 100 × ({terms}){less}（最低 0 分；无数据的比率不计，其权重按比例分给其余比率）"
