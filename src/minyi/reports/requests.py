"""Reports (统计报表) staff request and download; `reports.build` makes them."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from minyi.core import clock
from minyi.core.errors import NotFound, ValidationFailed
from minyi.dal import reports as store
from minyi.models.report import Report, ReportRequest, ReportStatus
from minyi.reports.periods import period_bounds


def request_report(request: ReportRequest, now: datetime, requested_by: str) -> Report:
    """A pending report of a period that has begun (a report of the future says nothing)."""
    start, _ = period_bounds(request.period)
    if start > now:
        raise ValidationFailed("the period has not begun", [{"field": "period", "problem": "in the future"}])
    report = Report(
        report_id=f"R{now.strftime('%Y%m%d')}{secrets.token_hex(6).upper()}",
        period=request.period,
        status=ReportStatus.PENDING,
        requested_at=now,
        requested_by=requested_by,
    )
    store.insert(report)
    return report


def status(report_id: str, bucket: str, url_seconds: int, now: datetime, fmt: str = "csv") -> dict:
    report = store.get(report_id) if report_id.isascii() and report_id.isalnum() and len(report_id) <= 64 else None
    if report is None:
        raise NotFound(f"no report {report_id}")
    answer: dict = {"report_id": report.report_id, "period": report.period, "status": report.status.value,
                    "url": None, "expires_at": None}
    if report.status is ReportStatus.READY:
        key = report.json_key if fmt == "json" else report.csv_key
        filename = f"民意速办统计报表_{report.period}.{fmt}"
        answer["url"] = store.download_url(bucket, key, url_seconds, filename)
        answer["expires_at"] = clock.iso(now + timedelta(seconds=url_seconds))
    elif report.status is ReportStatus.FAILED:
        answer["error"] = report.error
    return answer
