"""Reports (统计报表) staff request, the builder makes, and staff download."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from minyi.core import clock
from minyi.core.errors import NotFound, ValidationFailed
from minyi.core.observability import logger
from minyi.dal import reports as store
from minyi.models.report import Report, ReportRequest, ReportStatus
from minyi.reports.render import render_csv, render_json
from minyi.reports.tabulate import period_bounds, tabulate


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


def build(report_id: str, bucket: str, now: datetime) -> Report:
    """Build a requested report's files and mark it ready. Building again overwrites the
    same keys with the same content, so a redelivered event is harmless. A report that
    cannot be built is marked failed with the reason (staff see it and ask again)."""
    report = store.get(report_id)
    if report is None:
        raise NotFound(f"no report {report_id}")
    if report.status is not ReportStatus.PENDING:
        return report
    prefix = f"reports/{report.period}/{report.report_id}"
    csv_key, json_key = f"{prefix}.csv", f"{prefix}.json"
    try:
        rows = tabulate(report.period)
        store.put_file(bucket, csv_key, render_csv(rows), "text/csv; charset=utf-8")
        store.put_file(bucket, json_key, render_json(report, rows, now), "application/json; charset=utf-8")
    except Exception as error:
        logger.exception("report build failed", extra={"report_id": report_id, "period": report.period})
        reason = f"{type(error).__name__}: {error}"[:500]
        store.mark_failed(report.report_id, reason, now)
        return report.model_copy(update={"status": ReportStatus.FAILED, "error": reason})
    store.mark_ready(report.report_id, csv_key, json_key, now)
    return report.model_copy(update={"status": ReportStatus.READY, "csv_key": csv_key, "json_key": json_key,
                                     "ready_at": now})


def build_scheduled(now: datetime, bucket: str) -> Report:
    """The daily run at 01:00: yesterday's report."""
    yesterday = (clock.to_shanghai(now) - timedelta(days=1)).strftime("%Y-%m-%d")
    report = request_report(ReportRequest(period=yesterday), now, requested_by="schedule")
    return build(report.report_id, bucket, now)


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
