"""Tabulation (统计): orders of a period by department and status, with the overdue count
kept with the department that let each order run over."""

from __future__ import annotations

from collections import defaultdict

from minyi.dal.periods import orders_received_between
from minyi.models.report import ReportRow
from minyi.reports.periods import period_bounds

UNASSIGNED = "（未分拨）"


def tabulate(period: str) -> list[ReportRow]:
    start, end = period_bounds(period)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue: dict[str, int] = defaultdict(int)
    for item in orders_received_between(start, end):
        department = item.department or UNASSIGNED
        counts[department][item.status.value] += 1
        # each department that let the order run over answers for it, even after a re-dispatch;
        # orders stored before lapses were kept name only their current department
        for late in item.overdue_departments or ([department] if item.overdue_at else []):
            overdue[late] += 1
            counts.setdefault(late, defaultdict(int))
    return [
        ReportRow(department=department, by_status=dict(by_status), total=sum(by_status.values()),
                  overdue=overdue[department])
        for department, by_status in sorted(counts.items())
    ]
