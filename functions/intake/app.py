"""Intake function: channel webhooks and public order status, as a Chalice app used
directly as the Lambda handler (Handler: app.app). API Gateway routes each path to
this function with one SAM Api event per route; Chalice dispatches on resourcePath."""

import json

from chalice import Chalice, Response

from minyi import clock, intake
from minyi.errors import DomainError
from minyi.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def _handle(event, context):
    return Chalice.__call__(app, event, context)


class IntakeApp(Chalice):
    """Chalice, with powertools logging, tracing and metrics around each invocation."""

    def __call__(self, event, context):
        return _handle(event, context)


app = IntakeApp(app_name="minyi-intake")
JSON = "application/json"


def _json(body: dict, status: int) -> Response:
    # Chinese stays readable in the body: UTF-8, not \u escapes
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8"})


def _error(error: DomainError) -> Response:
    return _json(error.to_body(), error.status)


@app.route("/channels/{channel}/requests", methods=["POST"], content_types=[JSON])
def post_request(channel: str) -> Response:
    try:
        order, created = intake.accept(channel, app.current_request.raw_body, clock.now())
    except DomainError as error:
        logger.info("request rejected", extra={"channel": channel, "code": error.code})
        return _error(error)
    metrics.add_metric(name="OrdersCreated" if created else "DuplicateRequests", unit="Count", value=1)
    logger.info("order stored" if created else "duplicate request", extra={"order_id": order.order_id})
    return _json({"order_id": order.order_id, "status": order.status.value}, 201 if created else 200)


@app.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    try:
        view = intake.public_status(order_id)
    except DomainError as error:
        return _error(error)
    return _json(view.model_dump(mode="json"), 200)
