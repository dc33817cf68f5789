"""Staff API: the centre's queues and a department's orders, manual dispatch, returns,
reviews, disputes and the duty list's administration. A Chalice app used directly as
the Lambda handler (Handler: app.app), every route behind the API's Cognito
authorizer: the view reads who is calling from the verified token's claims and
`minyi.casework` decides what that person may see and do."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from chalice import Chalice, Response

from minyi.casework import staff as casework
from minyi.core import clock
from minyi.core.errors import DomainError, ValidationFailed
from minyi.core.observability import logger, metrics, tracer
from minyi.core.settings import route_settings
from minyi.entrypoints.http import error_response, json_response, parse_json, uniform_errors
from minyi.models.identity import StaffIdentity
from minyi.models.staff import DisputeRequest, ManualDispatch, ReturnRequest, ReviewDecision, RollbackRequest
from minyi.routing.duty_list import CachedDutyList

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_TYPES = ["text/csv", XLSX]

duty_list = CachedDutyList(ttl=route_settings().duty_list_cache_seconds)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def _handle(event, context):
    return uniform_errors(Chalice.__call__(app, event, context))


class StaffApp(Chalice):
    """Chalice, with powertools logging, tracing and metrics around each invocation."""

    def __call__(self, event, context):
        return _handle(event, context)


app = StaffApp(app_name="minyi-staff-api")


def _identity() -> StaffIdentity:
    claims = (app.current_request.context.get("authorizer") or {}).get("claims")
    return StaffIdentity.from_claims(claims)


def staff_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Every staff view: the caller's identity first, domain errors as our 4xx shape,
    and who did what in the log (the audit trail has it in the table too)."""

    @wraps(view)
    def wrapper(*args, **kwargs) -> Response:
        try:
            identity = _identity()
            response = view(identity, *args, **kwargs)
        except DomainError as error:
            logger.info("staff request refused", extra={"view": view.__name__, "code": error.code,
                                                        "status": error.status})
            return error_response(error)
        logger.info("staff request", extra={"view": view.__name__, "user": identity.username,
                                            "department": identity.department})
        return response

    return wrapper


def _limit() -> int:
    raw = (app.current_request.query_params or {}).get("limit", str(casework.MAX_LIST))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3) or not 1 <= int(raw) <= casework.MAX_LIST:
        raise ValidationFailed("limit is 1 to 200", [{"field": "limit", "problem": "must be 1..200"}])
    return int(raw)


# ------------------------------------------------------------------ reading
@app.route("/staff/queues/{queue}", methods=["GET"])
@staff_view
def get_queue(identity: StaffIdentity, queue: str) -> Response:
    return json_response(casework.queue(identity, queue, _limit()))


@app.route("/staff/orders", methods=["GET"])
@staff_view
def list_orders(identity: StaffIdentity) -> Response:
    department = (app.current_request.query_params or {}).get("department")
    return json_response(casework.department_orders(identity, department, _limit()))


@app.route("/staff/orders/{order_id}", methods=["GET"])
@staff_view
def get_order(identity: StaffIdentity, order_id: str) -> Response:
    return json_response(casework.order_detail(identity, order_id))


# ------------------------------------------------------------------ acting on an order
@app.route("/orders/{order_id}/dispatch", methods=["POST"])
@staff_view
def dispatch(identity: StaffIdentity, order_id: str) -> Response:
    request = parse_json(app.current_request.raw_body, ManualDispatch)
    answer = casework.dispatch(identity, order_id, request, duty_list.matcher(), clock.now())
    metrics.add_metric(name="OrdersDispatchedManually", unit="Count", value=1)
    return json_response(answer)


@app.route("/orders/{order_id}/return", methods=["POST"])
@staff_view
def return_order(identity: StaffIdentity, order_id: str) -> Response:
    request = parse_json(app.current_request.raw_body, ReturnRequest)
    answer = casework.return_order(identity, order_id, request, clock.now())
    metrics.add_metric(name="OrdersReturned", unit="Count", value=1)
    return json_response(answer)


@app.route("/orders/{order_id}/review", methods=["POST"])
@staff_view
def review(identity: StaffIdentity, order_id: str) -> Response:
    request = parse_json(app.current_request.raw_body, ReviewDecision)
    return json_response(casework.review(identity, order_id, request, duty_list.matcher(), clock.now()))


@app.route("/orders/{order_id}/dispute", methods=["POST"])
@staff_view
def dispute(identity: StaffIdentity, order_id: str) -> Response:
    request = parse_json(app.current_request.raw_body, DisputeRequest)
    return json_response(casework.dispute(identity, order_id, request, clock.now()))


# ------------------------------------------------------------------ duty list (职责清单)
@app.route("/duty-list/versions", methods=["GET"])
@staff_view
def duty_list_versions(identity: StaffIdentity) -> Response:
    return json_response(casework.duty_list_versions(identity))


@app.route("/duty-list/versions", methods=["POST"], content_types=UPLOAD_TYPES)
@staff_view
def import_duty_list(identity: StaffIdentity) -> Response:
    request = app.current_request
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    filename = (request.query_params or {}).get("filename") or ("duty-list.xlsx" if content_type == XLSX
                                                                else "duty-list.csv")
    if content_type == XLSX and not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    answer = casework.import_duty_list(identity, filename, request.raw_body or b"")
    return json_response(answer, 201)


@app.route("/duty-list/export", methods=["GET"])
@staff_view
def export_duty_list(identity: StaffIdentity) -> Response:
    raw = (app.current_request.query_params or {}).get("version")
    if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
        raise ValidationFailed("version is a number", [{"field": "version", "problem": "must be a number"}])
    text = casework.export_duty_list(identity, int(raw) if raw else None)
    return Response(body=text, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": "attachment; filename*=UTF-8''%E8%81%8C%E8%B4%A3%E6%B8%85%E5%8D%95.csv"})


@app.route("/duty-list/rollback", methods=["POST"])
@staff_view
def rollback_duty_list(identity: StaffIdentity) -> Response:
    request = parse_json(app.current_request.raw_body, RollbackRequest)
    return json_response(casework.rollback_duty_list(identity, request))

