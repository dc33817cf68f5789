"""Report files: CSV for Excel (UTF-8 with BOM, Chinese headers) and JSON. The status
columns and their labels are the lifecycle table's."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from minyi.core import clock
from minyi.models.lifecycle import STATUSES
from minyi.models.report import Report, ReportRow

COLUMNS = tuple(STATUSES)


def render_csv(rows: list[ReportRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["部门", *[STATUSES[s].label for s in COLUMNS], "合计", "超期件数"])
    for row in rows:
        writer.writerow([row.department, *[row.by_status.get(s.value, 0) for s in COLUMNS], row.total, row.overdue])
    writer.writerow(["合计", *[sum(r.by_status.get(s.value, 0) for r in rows) for s in COLUMNS],
                     sum(r.total for r in rows), sum(r.overdue for r in rows)])
    # Excel opens UTF-8 CSV correctly only with a byte-order mark
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def render_json(report: Report, rows: list[ReportRow], built_at: datetime) -> bytes:
    document = {
        "report_id": report.report_id,
        "period": report.period,
        "built_at": clock.iso(built_at),
        "status_labels": {s.value: STATUSES[s].label for s in COLUMNS},
        "rows": [row.model_dump() for row in rows],
        "totals": {"total": sum(r.total for r in rows), "overdue": sum(r.overdue for r in rows)},
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
