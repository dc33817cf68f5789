"""Report function: staff request and download reports over the API; the reports
table's stream builds each requested report; a daily schedule builds yesterday's."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from minyi import clock, reports
from minyi.errors import DomainError, MalformedBody, ValidationFailed, validation_details
from minyi.models.report import ReportRequest
from minyi.observability import logger, metrics, tracer
from minyi.settings import report_settings

settings = report_settings()
api = APIGatewayRestResolver()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _error(error: DomainError) -> Response:
    return Response(status_code=error.status, content_type="application/json", body=error.to_body())


def _requester() -> str:
    claims = (api.current_event.request_context.authorizer or {}).get("claims") or {}
    return claims.get("cognito:username") or claims.get("sub") or "anonymous"


@api.post("/reports")
def create_report() -> Response:
    try:
        try:
            body = api.current_event.json_body
        except ValueError:
            raise MalformedBody("request body is not JSON") from None
        try:
            request = ReportRequest.model_validate(body if body is not None else {})
        except ValidationError as error:
            raise ValidationFailed("report request is invalid", validation_details(error)) from None
        report = reports.request_report(request, clock.now(), requested_by=_requester())
    except DomainError as error:
        return _error(error)
    metrics.add_metric(name="ReportsRequested", unit="Count", value=1)
    return Response(status_code=202, content_type="application/json",
                    body={"report_id": report.report_id, "status": report.status.value})


@api.get("/reports/<report_id>")
def get_report(report_id: str) -> Response:
    fmt = api.current_event.get_query_string_value("format", "csv")
    if fmt not in ("csv", "json"):
        return _error(ValidationFailed("format is csv or json",
                                       [{"field": "format", "problem": "must be csv or json", "type": "enum"}]))
    try:
        answer = reports.status(report_id, settings.reports_bucket, settings.report_url_seconds, clock.now(), fmt)
    except DomainError as error:
        return _error(error)
    return Response(status_code=200, content_type="application/json", body=answer)


def _build(record: DynamoDBRecord) -> None:
    report_id = record.dynamodb.new_image["report_id"]
    report = reports.build(report_id, settings.reports_bucket, clock.now())
    logger.info("report built", extra={"report_id": report_id, "period": report.period})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    if "httpMethod" in event:
        return api.resolve(event, context)
    if "Records" in event:
        return process_partial_response(event=event, record_handler=_build, processor=processor, context=context)
    if event.get("detail-type") == "Scheduled Event":
        scheduled = parse(event=event, model=EventBridgeModel)
        report = reports.build_scheduled(clock.to_shanghai(scheduled.time), settings.reports_bucket)
        return {"report_id": report.report_id, "period": report.period}
    raise ValueError("unrecognised event for the report function")
