"""Reports (统计报表) staff request, list and download; `reports.build` makes them.

Who sees what: the centre and leaders request and read every report, the county's and any
department's own. A department's staff request only their own department's report (naming
another is 403) and read and list only reports whose scope is their department: another's is
404, as if it did not exist, so a department cannot probe for the others' reports."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from minyi.core import clock
from minyi.core.errors import Forbidden, NotFound, ValidationFailed
from minyi.dal import reports as store
from minyi.models.identity import Role, StaffIdentity
from minyi.models.listing import Page
from minyi.models.report import (
    FORMATS,
    SCHEDULED_KINDS,
    DepartmentName,
    Report,
    ReportKind,
    ReportRequest,
    ReportStatus,
)
from minyi.reports.periods import period_bounds, period_label, previous_period

_REPORT_ID = re.compile(r"[A-Za-z0-9-]{1,64}", re.ASCII)
FILE_TITLE = "民意速办考核报表"


class FormatNotAvailable(NotFound):
    code = "format_not_available"


def _reader(identity: StaffIdentity) -> str | None:
    """None for those who read every report (the centre, leaders); a department's name for its
    staff, who read only their own. Anyone else is 403."""
    identity.require(Role.CENTRE, Role.LEADER, Role.DEPARTMENT)
    return None if identity.sees_everything else identity.own_department()


def scope_for(identity: StaffIdentity, department: str | None) -> str | None:
    """The scope of a report `identity` asks for or lists: the department named (None: the
    county's) for the centre and leaders; a department's staff get their own, and naming another
    is 403."""
    own = _reader(identity)
    if own is None:
        return department
    if department is not None and department != own:
        raise Forbidden("a department requests and lists only its own department's reports",
                        [{"field": "department", "problem": "not your department"}])
    return own


def request_report(request: ReportRequest, now: datetime, requested_by: str, scope: str | None = None) -> Report:
    """A pending report of a period that has begun (a report of the future says nothing);
    the reports table's stream builds it."""
    start, _ = period_bounds(request.period)
    if start > now:
        raise ValidationFailed("the period has not begun", [{"field": "period", "problem": "in the future"}])
    report = Report(
        report_id=f"R{now.strftime('%Y%m%d')}{secrets.token_hex(6).upper()}",
        period=request.period,
        status=ReportStatus.PENDING,
        requested_at=now,
        requested_by=requested_by,
        kind=ReportKind.REQUESTED,
        scope=scope,
    )
    store.insert(report)
    return report


def scheduled_report(period_kind: str, now: datetime) -> Report:
    """The county's report a schedule makes at `now`: of the period of `period_kind` just ended,
    with the id S-<kind>-<period> (S-daily-2026-11-26, S-weekly-2026-W45, S-monthly-2026-10), put
    only if absent, so a schedule fired again for the same period finds the report it made (in
    whatever state: a failed one is asked again through POST /reports)."""
    kind = SCHEDULED_KINDS[period_kind]
    period = previous_period(period_kind, now)
    report = Report(report_id=f"S-{kind.value}-{period}", period=period, status=ReportStatus.PENDING,
                    requested_at=now, requested_by="schedule", kind=kind)
    if store.insert(report):
        return report
    existing = store.get(report.report_id)
    if existing is None:  # cannot be: the put found it; a table emptied in between is not ours to mend
        raise NotFound(f"no report {report.report_id}")
    return existing


def _readable(report_id: str, identity: StaffIdentity) -> Report:
    own = _reader(identity)
    report = store.get(report_id) if _REPORT_ID.fullmatch(report_id) else None
    if report is None or (own is not None and report.scope != own):
        raise NotFound(f"no report {report_id}")
    return report


def summary(report: Report) -> dict:
    """A report as `GET /reports` lists it."""
    return {
        "report_id": report.report_id,
        "period": report.period,
        "period_label": period_label(report.period),
        "kind": report.kind.value,
        "scope": report.scope,
        "status": report.status.value,
        "requested_at": clock.iso(report.requested_at),
        "ready_at": clock.iso(report.ready_at) if report.ready_at else None,
        "error": report.error,
    }


def status(report_id: str, identity: StaffIdentity, bucket: str, url_seconds: int, now: datetime,
           fmt: str = "xlsx") -> dict:
    """A report's state and, once ready, a presigned link to its file in `fmt` (xlsx by default),
    saved as 民意速办考核报表_<period label>.<fmt>. A ready report without that format is 404
    `format_not_available` (reports built before the workbook have CSV and JSON only)."""
    if fmt not in FORMATS:
        raise ValidationFailed(f"format is one of {', '.join(FORMATS)}",
                               [{"field": "format", "problem": f"must be one of {', '.join(FORMATS)}",
                                 "type": "enum"}])
    report = _readable(report_id, identity)
    answer = {**summary(report), "format": fmt, "formats": sorted(report.files), "url": None, "expires_at": None}
    if report.status is ReportStatus.READY:
        key = report.files.get(fmt)
        if key is None:
            raise FormatNotAvailable(f"report {report_id} has no {fmt} file",
                                     [{"field": "format", "problem": f"available: {', '.join(sorted(report.files))}"}])
        filename = f"{FILE_TITLE}_{period_label(report.period)}.{fmt}"
        answer["url"] = store.download_url(bucket, key, url_seconds, filename)
        answer["expires_at"] = clock.iso(now + timedelta(seconds=url_seconds))
    return answer


def listing(identity: StaffIdentity, department: str | None, limit: int, token: str | None) -> dict:
    """`GET /reports`: the caller's scope's reports (the centre and leaders: the county's, or a
    department's with `department`), newest first, a page at a time."""
    if department is not None:
        try:
            department = TypeAdapter(DepartmentName).validate_python(department)
        except ValidationError:
            raise ValidationFailed("department is a department's name",
                                   [{"field": "department", "problem": "1 to 64 characters, no control characters"}]
                                   ) from None
    scope = scope_for(identity, department)
    page: Page[Report] = store.list_reports(scope, limit, token)
    return {"scope": scope, "items": [summary(report) for report in page.items], "next": page.next_cursor}
