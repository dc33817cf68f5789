"""Report API: staff request a report and fetch its download link. A Chalice app used
directly as the Lambda handler (Handler: api.app), like the intake function. Reports
compare departments, so the centre and leaders read them."""

from chalice import Response

from minyi.core import clock, settings
from minyi.core.errors import ValidationFailed
from minyi.core.jsonbody import parse_model
from minyi.core.observability import metrics
from minyi.entrypoints.http import App, json_response
from minyi.models.identity import Role, StaffIdentity
from minyi.models.report import ReportRequest
from minyi.reports import requests as reports

SETTINGS = settings.load("reports_table", "reports_bucket")

app = App("minyi-report-api")


@app.staff_route("/reports", methods=["POST"], content_types=["application/json"])
def create_report(identity: StaffIdentity) -> Response:
    identity.require(Role.CENTRE, Role.LEADER)
    report = reports.request_report(parse_model(app.current_request.raw_body, ReportRequest), clock.now(),
                                    requested_by=identity.username)
    metrics.add_metric(name="ReportsRequested", unit="Count", value=1)
    return json_response({"report_id": report.report_id, "status": report.status.value}, 202)


@app.staff_route("/reports/{report_id}", methods=["GET"])
def get_report(identity: StaffIdentity, report_id: str) -> Response:
    identity.require(Role.CENTRE, Role.LEADER)
    fmt = app.query().get("format", "csv")
    if fmt not in ("csv", "json"):
        raise ValidationFailed("format is csv or json",
                               [{"field": "format", "problem": "must be csv or json", "type": "enum"}])
    return json_response(reports.status(report_id, SETTINGS.reports_bucket, SETTINGS.report_url_seconds,
                                        clock.now(), fmt))
