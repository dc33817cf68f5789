"""Reports (统计报表) staff request and download."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

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
