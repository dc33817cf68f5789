"""Intake function: channel webhooks (requests and the citizens' evaluations), Open311 and
public order status, as a Chalice app used directly as the Lambda handler (Handler: app.app).
API Gateway routes each path to this function with one SAM Api event per route; Chalice
dispatches on requestContext.resourcePath."""

from chalice import Response

from minyi.core import clock, settings
from minyi.core.observability import logger, metrics
from minyi.entrypoints.http import App, json_response
from minyi.intake import accept as intake
from minyi.intake import open311
from minyi.routing.cache import CachedDutyList

SETTINGS = settings.load("orders_table", "duty_list_table", "channel_config_path", "order_id_key_secret")
# Open311's services and status reads use the duty list in force, cached per warm container
published = CachedDutyList(ttl=SETTINGS.duty_list_cache_seconds)

# Accept every content type here and answer a wrong one with our own 415, in our error shape.
ANY_BODY = ["application/json", "text/json", "application/x-www-form-urlencoded", "text/plain",
            "multipart/form-data", "application/xml", "text/xml", "application/octet-stream"]

app = App("minyi-intake")


@app.route("/channels/{channel}/requests", methods=["POST"], content_types=ANY_BODY)
def post_request(channel: str) -> Response:
    order, created = intake.accept(channel, app.current_request.raw_body, app.headers(), clock.now())
    metrics.add_metric(name="OrdersCreated" if created else "DuplicateRequests", unit="Count", value=1)
    logger.info("order stored" if created else "duplicate request", extra={"order_id": order.order_id})
    return json_response(intake.acknowledgement(order), 201 if created else 200)


@app.route("/channels/{channel}/evaluations", methods=["POST"], content_types=ANY_BODY)
def post_evaluation(channel: str) -> Response:
    # imported on first use: evaluations take a step through the casework shell (the calendar,
    # the lifecycle's steps), which a cold start that only accepts requests does not need
    from minyi.intake import evaluations

    body, created = evaluations.receive(channel, app.current_request.raw_body, app.headers(), clock.now())
    metrics.add_metric(name="ChannelEvaluations" if created else "DuplicateEvaluations", unit="Count", value=1)
    return json_response(body, 201 if created else 200)


@app.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    return json_response(intake.public_status(order_id).model_dump(mode="json"))


# ------------------------------------------------------------------ Open311 GeoReport v2
# API Gateway path parameters are whole segments, so "{service_code}.json" is one
# parameter ("CJ-SZ-GG.json") whose format suffix the domain splits off. Open311 has its
# own error shape ([{"code", "description"}]), as the standard says.

def _open311(call, *args) -> Response:
    try:
        status, body, content_type = call(*args)
    except open311.Open311Error as error:
        status, body, content_type = error.answer()
    return Response(body=body, status_code=status, headers={"Content-Type": content_type})


@app.route("/open311/v2/services/{document}", methods=["GET"])
def open311_service(document: str) -> Response:
    return _open311(open311.service_definition, document, published)


@app.route("/open311/v2/{document}", methods=["GET", "POST"], content_types=ANY_BODY)
def open311_collection(document: str) -> Response:
    request = app.current_request
    return _open311(open311.collection, request.method, document, app.query(), request.raw_body or b"",
                    app.headers(), clock.now(), published)


@app.route("/open311/v2/requests/{document}", methods=["GET"])
def open311_request(document: str) -> Response:
    return _open311(open311.request_by_id, document, published)
