"""Reports (统计报表) staff request and download."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from minyi.models.kpi import Counters, Rates, ScoreWeights

_PERIOD = re.compile(r"(20[0-9]{2})-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?")


def _valid_period(period: str) -> str:
    """A month YYYY-MM or a day YYYY-MM-DD of this century (0000-01 and 9999-12 are typos)."""
    if not _PERIOD.fullmatch(period):
        raise ValueError("period is a month YYYY-MM or a day YYYY-MM-DD, from 2000 to 2099")
    if len(period) == 10:
        datetime.strptime(period, "%Y-%m-%d")  # rejects 2026-02-30
    return period


Period = Annotated[str, AfterValidator(_valid_period)]


class ReportStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period


class Report(BaseModel):
    report_id: str
    period: str
    status: ReportStatus
    requested_at: datetime
    requested_by: str
    ready_at: datetime | None = None
    csv_key: str | None = None
    json_key: str | None = None
    error: str | None = None


class ReportRow(BaseModel):
    department: str
    by_status: dict[str, int]
    total: int
    overdue: int


# ------------------------------------------------------------------ the assessment report's numbers
# One document, three formats (xlsx, CSV, JSON): `minyi.reports.assemble` fills it from the KPI
# counters, `minyi.reports.render` writes it. Definitions: docs/kpi.md.

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
