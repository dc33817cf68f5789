"""Report API: staff request a report and fetch its download link. A Chalice app used
directly as the Lambda handler (Handler: api.app), like the intake function."""

import json

from chalice import Chalice, Response
from pydantic import ValidationError

from minyi import clock, reports
from minyi.errors import DomainError, MalformedBody, ValidationFailed, validation_details
from minyi.models.report import ReportRequest
from minyi.observability import logger, metrics, tracer
from minyi.settings import report_settings

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


def _requester() -> str:
    claims = (app.current_request.context.get("authorizer") or {}).get("claims") or {}
    return claims.get("cognito:username") or claims.get("sub") or "anonymous"


def _report_request(raw_body: bytes) -> ReportRequest:
    try:
        body = json.loads(raw_body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedBody("request body is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise ValidationFailed("request body must be a JSON object",
                               [{"field": "(body)", "problem": "must be an object", "type": "dict_type"}])
    try:
        return ReportRequest.model_validate(body)
    except ValidationError as error:
        raise ValidationFailed("report request is invalid", validation_details(error)) from None


@app.route("/reports", methods=["POST"], content_types=["application/json"])
def create_report() -> Response:
    try:
        report = reports.request_report(_report_request(app.current_request.raw_body), clock.now(),
                                        requested_by=_requester())
    except DomainError as error:
        return _json(error.to_body(), error.status)
    metrics.add_metric(name="ReportsRequested", unit="Count", value=1)
    return _json({"report_id": report.report_id, "status": report.status.value}, 202)


@app.route("/reports/{report_id}", methods=["GET"])
def get_report(report_id: str) -> Response:
    fmt = (app.current_request.query_params or {}).get("format", "csv")
    try:
        if fmt not in ("csv", "json"):
            raise ValidationFailed("format is csv or json",
                                   [{"field": "format", "problem": "must be csv or json", "type": "enum"}])
        answer = reports.status(report_id, settings.reports_bucket, settings.report_url_seconds, clock.now(), fmt)
    except DomainError as error:
        return _json(error.to_body(), error.status)
    return _json(answer, 200)
