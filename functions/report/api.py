"""Report API: staff request reports, list them and fetch a file's download link. A Chalice
app used directly as the Lambda handler (Handler: api.app), like the intake function. The
centre and leaders read every report; a department's staff only their own department's
(`minyi.reports.requests`)."""

from chalice import Response

from minyi.core import clock, settings
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
    identity.require(Role.CENTRE, Role.LEADER, Role.DEPARTMENT)
    request = parse_model(app.current_request.raw_body, ReportRequest)
    scope = reports.scope_for(identity, request.department)
    report = reports.request_report(request, clock.now(), requested_by=identity.actor, scope=scope)
    metrics.add_metric(name="ReportsRequested", unit="Count", value=1)
    return json_response({"report_id": report.report_id, "status": report.status.value, "scope": report.scope}, 202)


@app.staff_route("/reports", methods=["GET"])
def list_reports(identity: StaffIdentity) -> Response:
    query = app.query()
    return json_response(reports.listing(identity, query.get("department") or None, app.limit(100, 20),
                                         query.get("next") or None))


@app.staff_route("/reports/{report_id}", methods=["GET"])
def get_report(identity: StaffIdentity, report_id: str) -> Response:
    return json_response(reports.status(report_id, identity, SETTINGS.reports_bucket, SETTINGS.report_url_seconds,
                                        clock.now(), app.query().get("format", "xlsx")))
