"""Staff API: the centre's queues and a department's orders, manual dispatch, returns,
reviews, disputes, the duty list's and the liaison table's administration. A Chalice app used directly as
the Lambda handler (Handler: app.app), every route behind the API's Cognito authorizer:
each view gets who is calling from the verified token's claims, and `minyi.casework`
decides what that person may see and do."""

from __future__ import annotations

from chalice import Response

from minyi.casework import calendar_admin, clock_desk, duty_admin, liaison_admin, loop, staff
from minyi.core import clock, settings
from minyi.core.errors import ValidationFailed
from minyi.core.jsonbody import media_type, parse_model
from minyi.core.observability import metrics
from minyi.entrypoints.http import App, json_response
from minyi.models.hotspot import DetectRequest
from minyi.models.identity import StaffIdentity
from minyi.models.lifecycle import Command
from minyi.models.staff import (
    AttachmentRequest,
    CloseRequest,
    ContactRequest,
    DecisionRequest,
    DisputeRequest,
    EvaluationRequest,
    ExtensionRequestBody,
    ExtensionReviewRequest,
    InboxFilter,
    InstructionRequest,
    LeaderCaseRequest,
    ManualDispatch,
    OpinionRequest,
    PauseRequestBody,
    PauseReviewRequest,
    ReopenRequest,
    ReplyRequest,
    ReplyReviewRequest,
    ReturnRequest,
    ReviewDecision,
    RollbackRequest,
    SignRequest,
)
from minyi.routing.cache import CachedDutyList
from minyi.routing.liaisons import contact_of

SETTINGS = settings.load("orders_table", "duty_list_table", "event_bus_name", "attachments_bucket", "kpi_table")
duty_list = CachedDutyList(ttl=SETTINGS.duty_list_cache_seconds)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_TYPES = ["text/csv", XLSX]

app = App("minyi-staff-api")


def _body(model):
    return parse_model(app.current_request.raw_body, model)


# ------------------------------------------------------------------ reading
@app.staff_route("/staff/queues/{queue}", methods=["GET"])
def get_queue(identity: StaffIdentity, queue: str) -> Response:
    return json_response(staff.queue(identity, queue, app.limit(staff.MAX_LIST), app.cursor()))


@app.staff_route("/staff/dashboard", methods=["GET"])
def get_dashboard(identity: StaffIdentity) -> Response:
    from minyi.reports.dashboard import dashboard_for  # the assessment's code, only where it is used (cold start)

    return json_response(dashboard_for(identity, app.query().get("period"), clock.now()))


@app.staff_route("/staff/hotspots", methods=["GET"])
def list_hotspots(identity: StaffIdentity) -> Response:
    from minyi.reports import hotspot_watch

    return json_response(hotspot_watch.listing(identity, app.query(), clock.now()))


@app.staff_route("/staff/hotspots/detect", methods=["POST"])
def detect_hotspots(identity: StaffIdentity) -> Response:
    from minyi.reports import hotspot_watch

    hotspot_watch.may_detect(identity)
    now = clock.now()
    day = hotspot_watch.judged_day(_empty_or(DetectRequest).day, now)
    return json_response(hotspot_watch.detect_day(day, now, duty_list.get(), contact_of).answer())


@app.staff_route("/staff/orders", methods=["GET"])
def list_orders(identity: StaffIdentity) -> Response:
    query = app.query()
    return json_response(staff.department_orders(identity, query.get("department"), app.limit(staff.MAX_LIST),
                                                 app.cursor(), InboxFilter.from_query(query), clock.now()))


@app.staff_route("/staff/orders/{order_id}", methods=["GET"])
def get_order(identity: StaffIdentity, order_id: str) -> Response:
    return json_response(staff.order_detail(identity, order_id))


# ------------------------------------------------------------------ acting on an order
@app.staff_route("/orders/{order_id}/dispatch", methods=["POST"])
def dispatch(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.DISPATCH)
    answer = staff.dispatch(identity, order_id, _body(ManualDispatch), duty_list.matcher, clock.now())
    metrics.add_metric(name="OrdersDispatchedManually", unit="Count", value=1)
    return json_response(answer)


@app.staff_route("/orders/{order_id}/return", methods=["POST"])
def return_order(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.RETURN)
    answer = staff.return_order(identity, order_id, _body(ReturnRequest), clock.now())
    metrics.add_metric(name="OrdersReturned", unit="Count", value=1)
    return json_response(answer)


@app.staff_route("/orders/{order_id}/review", methods=["POST"])
def review(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.UPHOLD)  # 维持 and 改派 are the centre's alike
    return json_response(staff.review(identity, order_id, _body(ReviewDecision), duty_list.matcher, clock.now()))


@app.staff_route("/orders/{order_id}/dispute", methods=["POST"])
def dispute(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.DISPUTE)
    return json_response(staff.dispute(identity, order_id, _body(DisputeRequest), clock.now()))


# ------------------------------------------------------------------ the closed loop (办理闭环)
def _empty_or(model):
    """A body that may be empty (签收 says nothing) or an object of `model`."""
    raw = app.current_request.raw_body
    return model() if not raw or not raw.strip() else _body(model)


@app.staff_route("/orders/{order_id}/sign", methods=["POST"])
def sign(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.SIGN)
    _empty_or(SignRequest)
    return json_response(loop.sign(identity, order_id, clock.now()))


@app.staff_route("/orders/{order_id}/contact", methods=["POST"])
def contact(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.CONTACT)
    return json_response(loop.contact(identity, order_id, _body(ContactRequest), clock.now()))


@app.staff_route("/orders/{order_id}/opinions", methods=["POST"])
def opinion(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.OPINION)
    return json_response(loop.opinion(identity, order_id, _body(OpinionRequest), clock.now()), 201)


@app.staff_route("/orders/{order_id}/attachments", methods=["POST"])
def attach(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.ATTACH)
    return json_response(loop.attach(identity, order_id, _body(AttachmentRequest), clock.now()), 201)


@app.staff_route("/orders/{order_id}/reply", methods=["POST"])
def reply(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.REPLY)
    answer = loop.reply(identity, order_id, _body(ReplyRequest), clock.now())
    metrics.add_metric(name="Replies", unit="Count", value=1)
    return json_response(answer)


@app.staff_route("/orders/{order_id}/reply-review", methods=["POST"])
def reply_review(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.APPROVE_REPLY)  # approving and rejecting are the reviewer's alike
    return json_response(loop.review_reply(identity, order_id, _body(ReplyReviewRequest), clock.now()))


@app.staff_route("/orders/{order_id}/evaluation", methods=["POST"])
def evaluation(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.EVALUATE)
    return json_response(loop.evaluate(identity, order_id, _body(EvaluationRequest), clock.now()))


@app.staff_route("/orders/{order_id}/reopen", methods=["POST"])
def reopen(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.REOPEN)
    answer = loop.reopen(identity, order_id, _body(ReopenRequest), clock.now())
    metrics.add_metric(name="OrdersReopened", unit="Count", value=1)
    return json_response(answer)


@app.staff_route("/orders/{order_id}/close", methods=["POST"])
def close(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.CLOSE)
    return json_response(loop.close(identity, order_id, _body(CloseRequest), clock.now()))


@app.staff_route("/orders/{order_id}/joint-meeting-decision", methods=["POST"])
def joint_meeting_decision(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.DECIDE)
    return json_response(loop.decide(identity, order_id, _body(DecisionRequest), duty_list.matcher, clock.now()))


# ------------------------------------------------------------------ the clock (延期、挂起、领导包案)
@app.staff_route("/orders/{order_id}/extension", methods=["POST"])
def extension(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.EXTEND)
    answer = clock_desk.request_extension(identity, order_id, _body(ExtensionRequestBody), clock.now())
    metrics.add_metric(name="ExtensionsRequested", unit="Count", value=1)
    return json_response(answer)


@app.staff_route("/orders/{order_id}/extension-review", methods=["POST"])
def extension_review(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.REVIEW_EXTENSION)
    return json_response(clock_desk.review_extension(identity, order_id, _body(ExtensionReviewRequest), clock.now()))


@app.staff_route("/orders/{order_id}/pause", methods=["POST"])
def pause(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.PAUSE)
    return json_response(clock_desk.request_pause(identity, order_id, _body(PauseRequestBody), clock.now()))


@app.staff_route("/orders/{order_id}/pause-review", methods=["POST"])
def pause_review(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.REVIEW_PAUSE)
    return json_response(clock_desk.review_pause(identity, order_id, _body(PauseReviewRequest), clock.now()))


@app.staff_route("/orders/{order_id}/resume", methods=["POST"])
def resume(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.RESUME)
    _empty_or(SignRequest)  # says nothing
    return json_response(clock_desk.resume(identity, order_id, clock.now()))


@app.staff_route("/orders/{order_id}/leader-case", methods=["POST"])
def leader_case(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.LEADER_CASE)
    answer = clock_desk.assign_leader_case(identity, order_id, _body(LeaderCaseRequest), clock.now())
    metrics.add_metric(name="LeaderCases", unit="Count", value=1)
    return json_response(answer)


@app.staff_route("/orders/{order_id}/instructions", methods=["POST"])
def instructions(identity: StaffIdentity, order_id: str) -> Response:
    staff.may(identity, Command.INSTRUCT)
    return json_response(clock_desk.instruct(identity, order_id, _body(InstructionRequest), clock.now()), 201)


# ------------------------------------------------------------------ duty list (职责清单)
@app.staff_route("/duty-list/versions", methods=["GET"])
def duty_list_versions(identity: StaffIdentity) -> Response:
    return json_response(duty_admin.versions(identity))


@app.staff_route("/duty-list/versions", methods=["POST"], content_types=UPLOAD_TYPES)
def import_duty_list(identity: StaffIdentity) -> Response:
    request = app.current_request
    content_type = media_type(app.headers())
    filename = app.query().get("filename") or ("duty-list.xlsx" if content_type == XLSX else "duty-list.csv")
    if content_type == XLSX and not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    return json_response(duty_admin.import_file(identity, filename, request.raw_body or b""), 201)


@app.staff_route("/duty-list/export", methods=["GET"])
def export_duty_list(identity: StaffIdentity) -> Response:
    raw = app.query().get("version")
    if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
        raise ValidationFailed("version is a number", [{"field": "version", "problem": "must be a number"}])
    text = duty_admin.export(identity, int(raw) if raw else None)
    return Response(body=text, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": "attachment; filename*=UTF-8''%E8%81%8C%E8%B4%A3%E6%B8%85%E5%8D%95.csv"})


@app.staff_route("/duty-list/rollback", methods=["POST"])
def rollback_duty_list(identity: StaffIdentity) -> Response:
    return json_response(duty_admin.rollback(identity, _body(RollbackRequest)))


# ------------------------------------------------------------------ liaison table (联络员名单, 附件2)
@app.staff_route("/liaisons", methods=["GET"])
def get_liaisons(identity: StaffIdentity) -> Response:
    return json_response(liaison_admin.table(identity, duty_list.get()))


@app.staff_route("/liaisons", methods=["POST"], content_types=UPLOAD_TYPES)
def import_liaisons(identity: StaffIdentity) -> Response:
    content_type = media_type(app.headers())
    filename = app.query().get("filename") or ("liaisons.xlsx" if content_type == XLSX else "liaisons.csv")
    if content_type == XLSX and not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    answer = liaison_admin.import_file(identity, filename, app.current_request.raw_body or b"", duty_list.get())
    return json_response(answer, 201)
# ------------------------------------------------------------------ calendar supplement (节假日补充)
# API Gateway matches the literal /calendar/coverage before /calendar/{year}; so does the
# local stack, by the template's order, where CalendarCoverage comes first
@app.staff_route("/calendar/coverage", methods=["GET"])
def calendar_coverage(identity: StaffIdentity) -> Response:
    return json_response(calendar_admin.coverage(identity, clock.now()))


@app.staff_route("/calendar/{year}", methods=["GET"])
def get_calendar(identity: StaffIdentity, year: str) -> Response:
    return json_response(calendar_admin.read_year(identity, year))


@app.staff_route("/calendar/{year}", methods=["PUT"], content_types=["application/json", *UPLOAD_TYPES])
def put_calendar(identity: StaffIdentity, year: str) -> Response:
    return json_response(calendar_admin.store_year(identity, year, media_type(app.headers()),
                                                   app.current_request.raw_body))
