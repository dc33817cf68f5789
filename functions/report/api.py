"""Report API: staff request a report and fetch its download link. A Chalice app used
directly as the Lambda handler (Handler: api.app), like the intake function."""

import json

from chalice import Chalice, Response

from minyi.core import clock
from minyi.core.errors import DomainError, ValidationFailed
from minyi.core.observability import logger, metrics, tracer
from minyi.core.settings import report_settings
from minyi.entrypoints.http import parse_json
from minyi.models.identity import Role, StaffIdentity
from minyi.models.report import ReportRequest
from minyi.reports import reports

settings = report_settings()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def _handle(event, context):
    return Chalice.__call__(app, event, context)


class ReportApp(Chalice):
    """Chalice, with powertools logging, tracing and metrics around each invocation."""

    def __call__(self, event, context):
        return _handle(event, context)


app = ReportApp(app_name="minyi-report-api")


def _json(body: dict, status: int) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8"})


def _reader() -> StaffIdentity:
    """Reports compare departments, so the centre and leaders read them; a department's
    own figures come with the KPI work."""
    identity = StaffIdentity.from_claims((app.current_request.context.get("authorizer") or {}).get("claims"))
    identity.require(Role.CENTRE, Role.LEADER)
    return identity


@app.route("/reports", methods=["POST"], content_types=["application/json"])
def create_report() -> Response:
    try:
        requester = _reader()
        report = reports.request_report(parse_json(app.current_request.raw_body, ReportRequest), clock.now(),
                                        requested_by=requester.username)
    except DomainError as error:
        return _json(error.to_body(), error.status)
    metrics.add_metric(name="ReportsRequested", unit="Count", value=1)
    return _json({"report_id": report.report_id, "status": report.status.value}, 202)


@app.route("/reports/{report_id}", methods=["GET"])
def get_report(report_id: str) -> Response:
    fmt = (app.current_request.query_params or {}).get("format", "csv")
    try:
        _reader()
        if fmt not in ("csv", "json"):
            raise ValidationFailed("format is csv or json",
                                   [{"field": "format", "problem": "must be csv or json", "type": "enum"}])
        answer = reports.status(report_id, settings.reports_bucket, settings.report_url_seconds, clock.now(), fmt)
    except DomainError as error:
        return _json(error.to_body(), error.status)
    return _json(answer, 200)
