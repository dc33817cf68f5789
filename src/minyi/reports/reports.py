"""Reports (统计报表): orders of a period by department and status, with the overdue
count, as CSV for Excel (UTF-8 with BOM, Chinese headers) and as JSON."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from minyi.core import clock
from minyi.core.errors import NotFound
from minyi.dal import orders as order_store
from minyi.dal import reports as store
from minyi.models.order import OrderStatus
from minyi.models.report import Report, ReportRequest, ReportRow, ReportStatus

STATUS_LABELS = {
    OrderStatus.RECEIVED: "待分拨",
    OrderStatus.DISPATCHED: "办理中",
    OrderStatus.MANUAL: "待人工分拨",
    OrderStatus.OVERDUE: "已超期",
    OrderStatus.MERGED: "已并单",
    OrderStatus.RETURNED: "退单待审",
    OrderStatus.JOINT_MEETING: "联席会议",
}
UNASSIGNED = "（未分拨）"


def period_bounds(period: str) -> tuple[datetime, datetime]:
    if len(period) == 7:
        start = datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=clock.SHANGHAI)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        start = datetime.strptime(period, "%Y-%m-%d").replace(tzinfo=clock.SHANGHAI)
        end = start + timedelta(days=1)
    return start, end


def request_report(request: ReportRequest, now: datetime, requested_by: str) -> Report:
    report = Report(
        report_id=f"R{now.strftime('%Y%m%d')}{secrets.token_hex(6).upper()}",
        period=request.period,
        status=ReportStatus.PENDING,
        requested_at=now,
        requested_by=requested_by,
    )
    store.insert(report)
    return report


def tabulate(period: str) -> list[ReportRow]:
    start, end = period_bounds(period)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue: dict[str, int] = defaultdict(int)
    for item in order_store.orders_received_between(start, end):
        department = item.department or UNASSIGNED
        counts[department][item.status] += 1
        if item.overdue_at:
            overdue[department] += 1
    return [
        ReportRow(department=department, by_status=dict(by_status), total=sum(by_status.values()),
                  overdue=overdue[department])
        for department, by_status in sorted(counts.items())
    ]


def render_csv(rows: list[ReportRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    statuses = list(STATUS_LABELS)
    writer.writerow(["部门", *[STATUS_LABELS[s] for s in statuses], "合计", "超期件数"])
    for row in rows:
        writer.writerow([row.department, *[row.by_status.get(s.value, 0) for s in statuses], row.total, row.overdue])
    writer.writerow(["合计", *[sum(r.by_status.get(s.value, 0) for r in rows) for s in statuses],
                     sum(r.total for r in rows), sum(r.overdue for r in rows)])
    # Excel opens UTF-8 CSV correctly only with a byte-order mark
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def render_json(report: Report, rows: list[ReportRow], built_at: datetime) -> bytes:
    document = {
        "report_id": report.report_id,
        "period": report.period,
        "built_at": clock.iso(built_at),
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "rows": [row.model_dump() for row in rows],
        "totals": {"total": sum(r.total for r in rows), "overdue": sum(r.overdue for r in rows)},
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def build(report_id: str, bucket: str, now: datetime) -> Report:
    """Build a requested report's files and mark it ready. Building again overwrites
    the same keys with the same content, so a redelivered event is harmless."""
    report = store.get(report_id)
    if report is None:
        raise NotFound(f"no report {report_id}")
    if report.status is ReportStatus.READY:
        return report
    rows = tabulate(report.period)
    prefix = f"reports/{report.period}/{report.report_id}"
    csv_key, json_key = f"{prefix}.csv", f"{prefix}.json"
    store.put_file(bucket, csv_key, render_csv(rows), "text/csv; charset=utf-8")
    store.put_file(bucket, json_key, render_json(report, rows, now), "application/json; charset=utf-8")
    store.mark_ready(report.report_id, csv_key, json_key, now)
    return report.model_copy(update={"status": ReportStatus.READY, "csv_key": csv_key, "json_key": json_key,
                                     "ready_at": now})


def build_scheduled(now: datetime, bucket: str) -> Report:
    """The daily run at 01:00: yesterday's report."""
    yesterday = (clock.to_shanghai(now) - timedelta(days=1)).strftime("%Y-%m-%d")
    report = request_report(ReportRequest(period=yesterday), now, requested_by="schedule")
    return build(report.report_id, bucket, now)


def status(report_id: str, bucket: str, url_seconds: int, now: datetime, fmt: str = "csv") -> dict:
    report = store.get(report_id) if report_id.isalnum() and len(report_id) <= 64 else None
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
