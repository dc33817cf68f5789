"""The report builder: a report's files (a requested one's, or a schedule's: `reports.schedule`).

The numbers come from the KPI counters (`reports.assemble`: O(departments × days) reads,
whatever the number of orders), the hotspots of the period from their store, and the 明细
sheet's orders (capped at REPORT_DETAIL_ROWS) from the orders table; the one document is
written as xlsx (native charts), CSV (UTF-8 with BOM) and JSON (`reports.workbook`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from minyi.core import settings
from minyi.core.errors import NotFound
from minyi.core.observability import logger
from minyi.dal import reports as store
from minyi.models.report import Report, ReportDocument, ReportStatus
from minyi.reports.assemble import assemble
from minyi.reports.details import details
from minyi.reports.hotspot_watch import hotspot_rows
from minyi.reports.periods import period_bounds
from minyi.reports.workbook import render_csv, render_json, render_xlsx

FORMATS = (
    ("xlsx", render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("csv", render_csv, "text/csv; charset=utf-8"),
    ("json", render_json, "application/json; charset=utf-8"),
)


def document(report: Report, now: datetime) -> ReportDocument:
    """The report's numbers: counters, the period's hotspots and its orders (明细)."""
    start, end = period_bounds(report.period)
    rows, truncated = details(start, end, report.scope, settings.current().report_detail_rows)
    last_day = (end - timedelta(days=1)).date()
    hotspots = hotspot_rows(start.date(), last_day, report.scope)
    return assemble(report.report_id, report.period, report.scope, now, rows, truncated, hotspots)


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
    files: dict[str, str] = {}
    try:
        numbers = document(report, now)
        for fmt, render, content_type in FORMATS:
            files[fmt] = f"{prefix}.{fmt}"
            store.put_file(bucket, files[fmt], render(numbers), content_type)
    except store.FileNotStored as error:
        if error.transient:
            raise  # the stream tries again; after its retries the record goes to the on-failure queue
        logger.exception("report files not stored", extra={"report_id": report_id, "code": error.code})
        return _failed(report, f"报表文件未能保存（{error.code}）", now)
    except Exception as error:
        # the detail (which may name accounts or roles) stays in the log; staff read a reason
        logger.exception("report build failed", extra={"report_id": report_id, "period": report.period})
        return _failed(report, f"报表生成失败（{type(error).__name__}）", now)
    store.mark_ready(report.report_id, files, now)
    return report.model_copy(update={"status": ReportStatus.READY, "files": files, "ready_at": now})


def _failed(report: Report, reason: str, now: datetime) -> Report:
    store.mark_failed(report.report_id, reason, now)
    return report.model_copy(update={"status": ReportStatus.FAILED, "error": reason})
