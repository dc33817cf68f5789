"""Reports (统计报表) staff request and download."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from minyi.models.kpi import Counters, Rates, ScoreWeights
from minyi.models.period import valid_period

# a period string (a day, ISO week, month, quarter, year or a range): minyi.models.period
Period = Annotated[str, AfterValidator(valid_period)]
# a department's name as the duty list writes it (the scope of its own report)
DepartmentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                                  pattern=r"^[^\x00-\x1f\x7f#]+$")]


class ReportStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ReportKind(StrEnum):
    """Who asked: staff (`POST /reports`), or the daily, weekly or monthly schedule."""

    REQUESTED = "requested"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


# the schedules' period kinds and the reports they make
SCHEDULED_KINDS = {"day": ReportKind.DAILY, "week": ReportKind.WEEKLY, "month": ReportKind.MONTHLY}

FORMATS = ("xlsx", "csv", "json")  # of a report's files; xlsx is the default download


class ReportRequest(BaseModel):
    """`POST /reports`: a period and, optionally, the department whose own report it is
    (omitted: the county's; a department's staff get their own department's)."""

    model_config = ConfigDict(extra="forbid")

    period: Period
    department: DepartmentName | None = None


class Report(BaseModel):
    report_id: str
    period: str
    status: ReportStatus
    requested_at: datetime
    requested_by: str
    kind: ReportKind = ReportKind.REQUESTED
    scope: str | None = None  # None: the county's report; a department's name: that department's own
    ready_at: datetime | None = None  # when it became ready, or failed
    files: dict[str, str] = Field(default_factory=dict)  # format (xlsx, csv, json) -> S3 key
    error: str | None = None  # why it failed, as staff read it


class ScheduledRun(BaseModel):
    """What a report schedule hands ReportBuildFunction. A Schedule event with `Input` delivers
    exactly that JSON, `{"period_kind": "day" | "week" | "month"}`, and no time: the run reports
    on the period just ended by the clock. The local stack adds `"time"` (its virtual clock, or the
    instant asked of `POST /_local/schedules/<Fn>/fire?at=`), which then stands for the clock. A
    plain Scheduled Event (a schedule without Input) is read as the daily run at its `time`."""

    model_config = ConfigDict(extra="ignore")

    period_kind: Literal["day", "week", "month"] = "day"
    time: AwareDatetime | None = None


# ------------------------------------------------------------------ the assessment report's numbers
# One document, three formats (xlsx, CSV, JSON): `minyi.reports.assemble` fills it from the KPI
# counters, `minyi.reports.workbook` writes it. Definitions: docs/kpi.md.

class ViewRow(BaseModel):
    """One row of a view: a department, township, channel, matter or day, with its counters
    summed over the period, the rates made of them and, where ranked, its score and place."""

    name: str  # the key (a department's name, a channel's id, a matter, a township, a day YYYY-MM-DD)
    label: str  # as printed (a channel's Chinese name; the same as `name` elsewhere)
    group: str = ""  # the ranking group: 部门 or 乡镇 (departments and township governments rank apart)
    counters: Counters = Field(default_factory=Counters)
    rates: Rates = Field(default_factory=Rates)
    score: float | None = None
    rank: int | None = None  # 1 is best, within `group`
    red: bool = False  # 红榜
    black: bool = False  # 黑榜


class DetailRow(BaseModel):
    """An order of the period on the 明细 sheet: no name, phone, ID, address or text."""

    order_id: str
    received_at: datetime
    channel: str  # the channel's Chinese name
    matter: str  # level 1
    township: str
    department: str
    status: str  # the lifecycle's label
    due_at: datetime | None = None
    replied_at: datetime | None = None
    overdue: bool = False
    satisfaction: str | None = None  # the latest evaluation's label


class HotspotRow(BaseModel):
    """A hotspot (热点) flagged in the period, as the report prints it."""

    kind: str  # rising (激增) or repeated (重复诉求)
    matter: str
    place: str  # a township, 全县, or (repeated) the place named or 同一来电人
    first_day: date
    last_day: date
    count: int
    baseline: float | None = None  # the trailing daily mean (rising only)
    note: str = ""


class ReportDocument(BaseModel):
    """The numbers of one report: the scope (the whole county, or one department's own), the
    period, the score's formula and weights, every view, and the period's orders (明细)."""

    report_id: str
    period: str
    period_label: str  # 2026年11月, 2026年第45周 (11月2日—11月8日) ...
    start: date  # first day
    end: date  # last day (inclusive)
    scope: str | None = None  # a department: its own report; None: the county's
    built_at: datetime
    formula: str  # ScoreWeights.formula()
    weights: ScoreWeights
    total: ViewRow
    departments: list[ViewRow] = Field(default_factory=list)  # ranked within their group
    townships: list[ViewRow] = Field(default_factory=list)  # orders placed in each township (属地)
    channels: list[ViewRow] = Field(default_factory=list)
    matters: list[ViewRow] = Field(default_factory=list)  # by received volume, largest first
    daily: list[ViewRow] = Field(default_factory=list)  # every day of the period, in order
    hotspots: list[HotspotRow] = Field(default_factory=list)
    details: list[DetailRow] = Field(default_factory=list)
    details_truncated: bool = False  # more orders than the sheet lists (REPORT_DETAIL_ROWS)
