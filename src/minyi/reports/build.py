"""The report builder: a report's files (a requested one's, or a schedule's: `reports.schedule`)."""

from __future__ import annotations

from datetime import datetime

from minyi.core.errors import NotFound
from minyi.core.observability import logger
from minyi.dal import reports as store
from minyi.models.report import Report, ReportStatus
from minyi.reports.render import render_csv, render_json
from minyi.reports.tabulate import tabulate


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
        if report.scope is not None:  # a department's own report holds its own numbers only
            rows = [row for row in rows if row.department == report.scope]
        store.put_file(bucket, csv_key, render_csv(rows), "text/csv; charset=utf-8")
        store.put_file(bucket, json_key, render_json(report, rows, now), "application/json; charset=utf-8")
    except store.FileNotStored as error:
        if error.transient:
            raise  # the stream tries again; after its retries the record goes to the on-failure queue
        logger.exception("report files not stored", extra={"report_id": report_id, "code": error.code})
        return _failed(report, f"报表文件未能保存（{error.code}）", now)
    except Exception as error:
        # the detail (which may name accounts or roles) stays in the log; staff read a reason
        logger.exception("report build failed", extra={"report_id": report_id, "period": report.period})
        return _failed(report, f"报表生成失败（{type(error).__name__}）", now)
    files = {"csv": csv_key, "json": json_key}
    store.mark_ready(report.report_id, files, now)
    return report.model_copy(update={"status": ReportStatus.READY, "files": files, "ready_at": now})


def _failed(report: Report, reason: str, now: datetime) -> Report:
    store.mark_failed(report.report_id, reason, now)
    return report.model_copy(update={"status": ReportStatus.FAILED, "error": reason})
