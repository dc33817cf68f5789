"""Intake function: channel webhooks, Open311 and public order status, as a Chalice
app used directly as the Lambda handler (Handler: app.app). API Gateway routes each
path to this function with one SAM Api event per route; Chalice dispatches on
requestContext.resourcePath."""

from chalice import Chalice, Response

from minyi.core import clock
from minyi.core.errors import DomainError
from minyi.core.observability import logger, metrics, tracer
from minyi.entrypoints.http import error_response, json_response, uniform_errors
from minyi.intake import accept as intake
from minyi.intake import open311

# Accept every content type here and answer a wrong one with our own 415, in our error shape.
ANY_BODY = ["application/json", "text/json", "application/x-www-form-urlencoded", "text/plain",
            "multipart/form-data", "application/xml", "text/xml", "application/octet-stream"]


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def _handle(event, context):
    return uniform_errors(Chalice.__call__(app, event, context))


class IntakeApp(Chalice):
    """Chalice, with powertools logging, tracing and metrics around each invocation."""

    def __call__(self, event, context):
        return _handle(event, context)


app = IntakeApp(app_name="minyi-intake")


def _headers() -> dict[str, str]:
    return dict(app.current_request.headers.items())


@app.route("/channels/{channel}/requests", methods=["POST"], content_types=ANY_BODY)
def post_request(channel: str) -> Response:
    try:
        order, created = intake.accept(channel, app.current_request.raw_body, _headers(), clock.now())
    except DomainError as error:
        logger.info("request rejected", extra={"channel": channel, "code": error.code, "status": error.status})
        return error_response(error)
    metrics.add_metric(name="OrdersCreated" if created else "DuplicateRequests", unit="Count", value=1)
    logger.info("order stored" if created else "duplicate request", extra={"order_id": order.order_id})
    return json_response(intake.acknowledgement(order), 201 if created else 200)


@app.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    try:
        view = intake.public_status(order_id)
    except DomainError as error:
        return error_response(error)
    return json_response(view.model_dump(mode="json"))


# ------------------------------------------------------------------ Open311 GeoReport v2
# API Gateway path parameters are whole segments, so "{service_code}.json" is one
# parameter ("CJ-SZ-GG.json") whose format suffix the domain splits off.

def _open311(call, *args) -> Response:
    try:
        status, body, content_type = call(*args)
    except open311.Open311Error as error:
        status, body, content_type = error.answer()
    return Response(body=body, status_code=status, headers={"Content-Type": content_type})


@app.route("/open311/v2/services/{document}", methods=["GET"])
def open311_service(document: str) -> Response:
    return _open311(open311.service_definition, document)


@app.route("/open311/v2/{document}", methods=["GET", "POST"], content_types=ANY_BODY)
def open311_collection(document: str) -> Response:
    request = app.current_request
    return _open311(open311.collection, request.method, document, request.query_params or {},
                    request.raw_body or b"", _headers(), clock.now())


@app.route("/open311/v2/requests/{document}", methods=["GET"])
def open311_request(document: str) -> Response:
    return _open311(open311.request_by_id, document)
