"""Staff endpoints behind the Cognito authorizer, called with real ID tokens from the
account's user pool: the centre's queues and actions, a department's own orders and
returns, the duty list's administration, and the department-scoping matrix (another
department gets 403/404 and nothing changes)."""

import base64
import json
import time

import pytest

from minyi.dal import orders
from minyi.routing import duty_list
from tests.conftest import FUNCTIONS, load_handler_module
from tests.helpers import (
    CENTRE,
    CHENGGUAN,
    LEADER,
    SHICHANG,
    StreamReader,
    audit_trail,
    call_api,
    import_sample_duty_list,
    post_channel,
    request_body,
    staff_token,
    table_items,
)

ORDERS = "minyi-test-OrdersTable"
DUTY = "minyi-test-DutyListTable"


def staff(method, path, who, body=None, **kwargs):
    headers = {**staff_token(*who), **kwargs.pop("headers", {})} if who else kwargs.pop("headers", {})
    logical_id = next(fn for fn, f in FUNCTIONS.items()
                      if any(r.method == method and _matches(r.path, path) for r in f.api_routes))
    return call_api(logical_id, method, path, body, headers=headers, **kwargs)


def _matches(template_path, path):
    from infra.events import path_pattern

    return bool(path_pattern(template_path).match(path))


def routed(aws, external_id, **overrides):
    routes = StreamReader(aws, "RouteFunction")
    status, ack, _ = post_channel("12345", request_body(external_id, **overrides))
    assert status == 201
    routes.deliver()
    return orders.get_order(ack["order_id"])


@pytest.fixture
def two_orders(aws):
    """A: dispatched to 区城管局 (co-handler 区住建局). M: waiting in the manual queue."""
    import_sample_duty_list()
    dispatched = routed(aws, "a-1")
    manual = routed(aws, "m-1", title="咨询一个问题", content="请问办事大厅周六开门吗")
    assert dispatched.department == "区城管局" and manual.status.value == "manual"
    return dispatched, manual


@pytest.mark.parametrize("logical_id", ["StaffApiFunction", "ReportApiFunction", "IntakeFunction"])
def test_chalice_routes_are_exactly_the_template_api_events(logical_id):
    app = load_handler_module(logical_id).app
    chalice_routes = {(method, path) for path, methods in app.routes.items() for method in methods}
    assert chalice_routes == {(r.method, r.path) for r in FUNCTIONS[logical_id].api_routes}


def test_every_route_is_staff_only_except_webhooks_open311_and_public_status():
    public = {(r.method, r.path) for f in FUNCTIONS.values() for r in f.api_routes if r.authorizer is None}
    assert public == {("POST", "/channels/{channel}/requests"), ("POST", "/channels/{channel}/evaluations"),
                      ("GET", "/orders/{order_id}"),
                      ("GET", "/open311/v2/{document}"), ("POST", "/open311/v2/{document}"),
                      ("GET", "/open311/v2/services/{document}"), ("GET", "/open311/v2/requests/{document}")}
    guarded = [r for f in FUNCTIONS.values() for r in f.api_routes if r.authorizer]
    assert guarded and all(r.authorizer == "StaffAuthorizer" for r in guarded)


# ------------------------------------------------------------------ the authorizer
STAFF_ROUTES = [("GET", "/staff/queues/manual"), ("GET", "/staff/orders"), ("GET", "/staff/orders/X1"),
                ("POST", "/orders/X1/dispatch"), ("POST", "/orders/X1/return"), ("POST", "/orders/X1/review"),
                ("POST", "/orders/X1/dispute"), ("GET", "/duty-list/versions"), ("POST", "/duty-list/versions"),
                ("GET", "/duty-list/export"), ("POST", "/duty-list/rollback"), ("POST", "/reports"),
                ("GET", "/reports"), ("GET", "/reports/R1")]


def _forged(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def test_no_token_a_bad_token_or_a_forged_one_is_401_on_every_staff_route(aws):
    good = staff_token(*CHENGGUAN)["Authorization"]
    bad = {"none": {}, "garbage": {"Authorization": "not-a-jwt"},
           "forged department": {"Authorization": _forged(good, **{"custom:department": "区市场监管局"})},
           "forged group": {"Authorization": _forged(good, **{"cognito:groups": ["centre"]})},
           "other pool": {"Authorization": _forged(good, iss="https://cognito-idp.us-east-1.amazonaws.com/x")}}
    before = table_items(ORDERS), table_items(DUTY)
    for method, path in STAFF_ROUTES:
        for name, headers in bad.items():
            status, body, _ = staff(method, path, None, {}, headers=headers)
            assert (status, body) == (401, {"message": "Unauthorized"}), (method, path, name)
    assert (table_items(ORDERS), table_items(DUTY)) == before


def test_an_expired_token_is_refused(aws):
    from tests.helpers import _authorizer

    token = staff_token(*CENTRE)
    authorizer = _authorizer("StaffAuthorizer")
    assert authorizer.claims(token)["cognito:username"] == "centre01"
    from infra.authorizer import Unauthorized

    with pytest.raises(Unauthorized):
        authorizer.claims(token, now=time.time() + 2 * 3600)


# ------------------------------------------------------------------ the centre's work
def test_centre_lists_the_manual_queue_and_dispatches(two_orders):
    _, manual = two_orders
    status, body, _ = staff("GET", "/staff/queues/manual", CENTRE)
    assert status == 200 and [o["order_id"] for o in body["orders"]] == [manual.order_id]
    assert "citizen" not in json.dumps(body) and "138" not in json.dumps(body)  # the queue carries no personal data
    status, body, _ = staff("POST", f"/orders/{manual.order_id}/dispatch", CENTRE, {"matter_code": "CX-02-04"})
    assert status == 200 and body["status"] == "dispatched" and body["department"] == "区城管局"
    trail = audit_trail(manual.order_id)
    assert trail[-1]["action"] == "dispatched_manually" and trail[-1]["actor"] == "centre01"
    assert staff("GET", "/staff/queues/manual", CENTRE)[1]["orders"] == []


def test_manual_dispatch_rejects_unknown_matters_and_departments_and_changes_nothing(two_orders):
    _, manual = two_orders
    before = table_items(ORDERS)
    for body in ({"matter_code": "XX-99-99"}, {"matter_code": "CX-02-04", "department": "不存在的局"},
                 {"matter_code": "CX-02-04", "extra": 1}, {}):
        status, answer, _ = staff("POST", f"/orders/{manual.order_id}/dispatch", CENTRE, body)
        assert status == 400 and answer["error"]["code"] == "validation_error", body
    status, answer, _ = staff("POST", f"/orders/{manual.order_id}/dispatch", CENTRE, raw="{not json")
    assert status == 400 and answer["error"]["code"] == "malformed_json"
    assert table_items(ORDERS) == before


def test_department_returns_centre_redispatches_second_return_goes_to_the_joint_meeting(two_orders):
    dispatched, _ = two_orders
    order_id = dispatched.order_id
    status, body, _ = staff("POST", f"/orders/{order_id}/return", CHENGGUAN,
                            {"category": "not_our_duty", "text": "小区内路灯属物业管理"})
    assert status == 200 and body["status"] == "returned"
    assert [o["order_id"] for o in staff("GET", "/staff/queues/review", CENTRE)[1]["orders"]] == [order_id]
    status, body, _ = staff("POST", f"/orders/{order_id}/review", CENTRE,
                            {"decision": "redispatch", "matter_code": "CX-10-03"})
    assert status == 200 and body["department"] == "区住建局"
    zhujian = ("zhujian01", "department", "区住建局")
    status, body, _ = staff("POST", f"/orders/{order_id}/return", zhujian,
                            {"category": "not_our_duty", "text": "应由城管负责"})
    assert status == 200 and body["status"] == "joint_meeting"
    queue = staff("GET", "/staff/queues/joint_meeting", LEADER)[1]["orders"]
    assert [o["order_id"] for o in queue] == [order_id]
    detail = staff("GET", f"/staff/orders/{order_id}", CENTRE)[1]
    assert [a["action"] for a in detail["audit"]] == ["received", "dispatched", "returned", "redispatched",
                                                      "returned_to_joint_meeting"]
    assert detail["audit"][2]["actor"] == "区城管局/chengguan01"  # the department and the person
    assert set(detail["departments_involved"]) >= {"区城管局", "区住建局"}


def _co_items(order_id):
    return sorted(item["sk"]["S"] for item in table_items(ORDERS)
                  if item["pk"]["S"] == f"ORDER#{order_id}" and item["sk"]["S"].startswith("CO#"))


def test_a_redispatch_moves_the_order_between_department_lists(two_orders):
    # Given an order led by 区城管局 and co-handled by 区住建局 (CX-02-04)
    dispatched, _ = two_orders
    order_id = dispatched.order_id
    zhujian = ("zhujian01", "department", "区住建局")
    huanjing = ("huanjing01", "department", "区生态环境局")

    def roles(who):
        return [(o["order_id"], o["role"]) for o in staff("GET", "/staff/orders", who)[1]["orders"]]

    assert roles(CHENGGUAN) == [(order_id, "lead")] and roles(zhujian) == [(order_id, "co")]
    assert _co_items(order_id) == ["CO#区住建局", "CO#梅林镇人民政府"]  # the request names 梅林镇
    # When 区城管局 returns it and the centre re-dispatches it to 大气污染 (HB-02-06: 区生态环境局
    # leads, 区城管局 co-handles; 区住建局 is no longer involved)
    staff("POST", f"/orders/{order_id}/return", CHENGGUAN, {"category": "not_our_duty", "text": "是油烟问题"})
    status, body, _ = staff("POST", f"/orders/{order_id}/review", CENTRE,
                            {"decision": "redispatch", "matter_code": "HB-02-06"})
    assert status == 200 and body["department"] == "区生态环境局"
    # Then each department's list says its new part, and 区住建局's item is gone with its part
    assert roles(huanjing) == [(order_id, "lead")]
    assert roles(CHENGGUAN) == [(order_id, "co")]
    assert roles(zhujian) == []
    assert _co_items(order_id) == ["CO#区城管局", "CO#梅林镇人民政府"]


def test_review_uphold_and_dispute(two_orders):
    dispatched, _ = two_orders
    order_id = dispatched.order_id
    staff("POST", f"/orders/{order_id}/return", CHENGGUAN, {"category": "wrong_place", "text": "不在我辖区"})
    status, body, _ = staff("POST", f"/orders/{order_id}/review", CENTRE, {"decision": "uphold"})
    assert status == 200 and body["status"] == "dispatched" and body["department"] == "区城管局"
    status, body, _ = staff("POST", f"/orders/{order_id}/review", CENTRE, {"decision": "uphold"})
    assert status == 409 and body["error"]["code"] == "conflict"
    status, body, _ = staff("POST", f"/orders/{order_id}/dispute", CENTRE, {"reason": "城管与住建对路灯权属有争议"})
    assert status == 200 and body["status"] == "joint_meeting" and "区城管局" in body["departments_involved"]


def test_department_lists_its_own_orders_and_sees_the_citizen(two_orders):
    dispatched, _ = two_orders
    status, body, _ = staff("GET", "/staff/orders", CHENGGUAN)
    assert status == 200 and body["department"] == "区城管局"
    assert [o["order_id"] for o in body["orders"]] == [dispatched.order_id]
    status, body, _ = staff("GET", f"/staff/orders/{dispatched.order_id}", CHENGGUAN)
    assert status == 200 and body["order"]["citizen"]["phone"] == "13800000000"  # the handler calls back
    co_handler = ("zhujian01", "department", "区住建局")
    assert staff("GET", f"/staff/orders/{dispatched.order_id}", co_handler)[0] == 200  # 协办 sees it too
    listed = staff("GET", "/staff/orders", co_handler)[1]["orders"]  # and lists it, as co-handler
    assert [(o["order_id"], o["role"], o["status"]) for o in listed] == [(dispatched.order_id, "co", "dispatched")]
    assert "citizen" not in listed[0] and "13800000000" not in json.dumps(listed, ensure_ascii=False)
    assert staff("GET", "/staff/orders", SHICHANG)[1]["orders"] == []  # nor anyone uninvolved
    assert staff("GET", "/staff/orders", CENTRE, query={"department": ["区城管局"]})[1]["orders"][0]["order_id"] \
        == dispatched.order_id
    assert staff("GET", "/staff/orders", CENTRE)[0] == 400


# ------------------------------------------------------------------ the scoping matrix
def _matrix(dispatched, manual):
    """(method, path, request, status for another department, status for a leader)."""
    a, m = dispatched.order_id, manual.order_id
    return [
        ("GET", f"/staff/orders/{a}", {}, 404, 200),
        ("GET", "/staff/queues/manual", {}, 403, 200),
        ("GET", "/staff/queues/review", {}, 403, 200),
        ("GET", "/staff/orders", {"query": {"department": ["区城管局"]}}, 404, 200),
        ("POST", f"/orders/{m}/dispatch", {"body": {"matter_code": "CX-02-04"}}, 403, 403),
        ("POST", f"/orders/{a}/return", {"body": {"category": "not_our_duty", "text": "不是我们的事"}}, 404, 403),
        ("POST", f"/orders/{a}/review", {"body": {"decision": "uphold"}}, 403, 403),
        ("POST", f"/orders/{a}/dispute", {"body": {"reason": "有争议的事项"}}, 403, 403),
        ("GET", "/duty-list/versions", {}, 403, 200),
        ("GET", "/duty-list/export", {}, 403, 200),
        ("POST", "/duty-list/versions", {"raw": duty_list.sample_csv(), "headers": {"Content-Type": "text/csv"}},
         403, 403),
        ("POST", "/duty-list/rollback", {"body": {"version": 1}}, 403, 403),
        # a department asks for its own report only (another's: 403), and reads and lists only its own
        ("POST", "/reports", {"body": {"period": "2026-11", "department": "区城管局"}}, 403, 202),
        ("GET", "/reports", {"query": {"department": ["区城管局"]}}, 403, 200),
        ("GET", "/reports/RPT1", {}, 404, 404),  # the leader may read reports; this one does not exist
    ]


def test_department_scoping_matrix_another_department_gets_403_or_404_and_nothing_changes(two_orders):
    dispatched, manual = two_orders
    before = table_items(ORDERS), table_items(DUTY)
    for method, path, request, other_department, _ in _matrix(dispatched, manual):
        status, body, _ = staff(method, path, SHICHANG, **request)
        assert status == other_department, (method, path, status, body)
        assert body["error"]["code"] == ("not_found" if status == 404 else "forbidden")
    assert (table_items(ORDERS), table_items(DUTY)) == before


def test_leader_reads_everything_and_acts_on_nothing(two_orders):
    dispatched, manual = two_orders
    before = table_items(ORDERS), table_items(DUTY)
    for method, path, request, _, leader in _matrix(dispatched, manual):
        status, body, _ = staff(method, path, LEADER, **request)
        assert status == leader, (method, path, status, body)
    assert (table_items(ORDERS), table_items(DUTY)) == before


def test_a_department_account_without_a_department_sees_nothing(two_orders):
    dispatched, _ = two_orders
    lost = ("nodept01", "department", None)
    with pytest.raises(Exception, match="department"):
        staff_token(*lost)
    from minyi.dal import staff_directory
    from minyi.models.identity import Role

    staff_directory.add_user("nodept02", Role.DEPARTMENT, "Test-nodept02-Passw0rd", department="区城管局")
    import boto3

    from tests.conftest import current_account

    boto3.client("cognito-idp").admin_delete_user_attributes(
        UserPoolId=current_account().refs["StaffUserPool"], Username="nodept02",
        UserAttributeNames=["custom:department"])
    token = {"Authorization": staff_directory.id_token("nodept02", "Test-nodept02-Passw0rd")}
    status, body, _ = call_api("StaffApiFunction", "GET", "/staff/orders", headers=token)
    assert status == 403 and "department" in body["error"]["message"]
    status, _, _ = call_api("StaffApiFunction", "GET", f"/staff/orders/{dispatched.order_id}", headers=token)
    assert status == 404


# ------------------------------------------------------------------ duty-list administration
def test_duty_list_import_export_versions_and_rollback_over_http(aws):
    import_sample_duty_list()
    status, body, _ = staff("POST", "/duty-list/versions", CENTRE, raw=duty_list.county_csv().encode(),
                            headers={"Content-Type": "text/csv"}, query={"filename": ["职责清单.csv"]})
    assert status == 201 and body == {"version": 2, "current": 2}
    status, body, _ = staff("GET", "/duty-list/versions", LEADER)
    assert body["current"] == 2 and [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["created_by"] == "centre01"
    status, text, headers = staff("GET", "/duty-list/export", CENTRE, query={"version": ["1"]})
    assert status == 200 and text.startswith("\ufeff事项编码") and headers["Content-Type"].startswith("text/csv")
    status, body, _ = staff("POST", "/duty-list/rollback", CENTRE, {"version": 1})
    assert status == 200 and body == {"current": 1}


def test_an_invalid_upload_lists_every_problem_and_changes_nothing(aws):
    import_sample_duty_list()
    before = table_items(DUTY)
    broken = duty_list.sample_csv().replace("区城管局,区住建局,求助,5", "区城管局,区住建局,求助,五")
    status, body, _ = staff("POST", "/duty-list/versions", CENTRE, raw=broken.encode(),
                            headers={"Content-Type": "text/csv"})
    assert status == 400 and body["error"]["details"][0]["row"] == 2
    assert body["error"]["details"][0]["column"] == "办理时限(工作日)"
    status, body, _ = staff("POST", "/duty-list/versions", CENTRE, raw="事项编码\n".encode("gbk") + b"\xff\xfe",
                            headers={"Content-Type": "text/csv"})
    assert status == 400
    assert table_items(DUTY) == before


def test_an_xlsx_upload_arrives_base64_and_becomes_a_version(aws):
    import io

    from openpyxl import Workbook

    import_sample_duty_list()
    book = Workbook()
    import csv

    for row in csv.reader(io.StringIO(duty_list.sample_csv())):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    status, body, _ = staff("POST", "/duty-list/versions", CENTRE, raw=out.getvalue(), headers={"Content-Type": xlsx})
    assert status == 201 and body["version"] == 2


BAD_BODIES = [b"", b"{not json", b"[]", b"null", b'"text"', b"\xff\xfe", b'{"x": 1}',
              b'{"matter_code": 5, "category": 5, "decision": 5, "reason": 5, "version": "one"}',
              ('{"text": "' + "长" * 5000 + '", "reason": "' + "长" * 5000 + '"}').encode(),
              b'{"decision": "redispatch"}', b'{"decision": "uphold", "matter_code": "CX-02-04"}',
              b'{"category": "because", "text": "x"}', b'{"version": 0}', b'{"version": -1}',
              b'{"version": 1234567}', b'{"version": ' + b"9" * 5000 + b"}", b"[" * 100_000]


@pytest.mark.parametrize("action", ["dispatch", "return", "review", "dispute", "rollback"])
def test_bad_bodies_get_400_with_a_machine_readable_error_and_change_nothing(two_orders, action):
    dispatched, manual = two_orders
    who, path = {"dispatch": (CENTRE, f"/orders/{manual.order_id}/dispatch"),
                 "return": (CHENGGUAN, f"/orders/{dispatched.order_id}/return"),
                 "review": (CENTRE, f"/orders/{dispatched.order_id}/review"),
                 "dispute": (CENTRE, f"/orders/{dispatched.order_id}/dispute"),
                 "rollback": (CENTRE, "/duty-list/rollback")}[action]
    before = table_items(ORDERS), table_items(DUTY)
    for raw in BAD_BODIES:
        status, body, _ = staff("POST", path, who, raw=raw)
        assert status == 400, (raw[:40], status, body)
        assert body["error"]["code"] in ("malformed_json", "validation_error"), body
    assert (table_items(ORDERS), table_items(DUTY)) == before


def test_odd_query_values_are_400_not_500(two_orders):
    for path, query in (("/staff/queues/manual", {"limit": ["²"]}), ("/staff/orders", {"limit": ["0"]}),
                        ("/duty-list/export", {"version": ["²"]}), ("/staff/orders", {"department": ["局" * 500]})):
        status, body, _ = staff("GET", path, CENTRE, query=query)
        assert status == 400 and body["error"]["code"] == "validation_error", (path, query, body)
    status, body, _ = staff("GET", "/duty-list/export", CENTRE, query={"version": ["999"]})
    assert status == 404


def test_a_half_written_version_is_never_put_in_force(aws):
    import_sample_duty_list()
    duty_list.import_csv(duty_list.county_csv(), actor="centre")
    import boto3

    # as if the import of version 1 had died after its first matters
    boto3.client("dynamodb").delete_item(TableName=DUTY, Key={"pk": {"S": "V#1"}, "sk": {"S": "M#CX-02-04"}})
    status, body, _ = staff("POST", "/duty-list/rollback", CENTRE, {"version": 1})
    assert status == 404 and "complete" in body["error"]["message"]
    assert staff("GET", "/duty-list/versions", CENTRE)[1]["current"] == 2


def test_manual_dispatch_of_a_townships_own_matter_goes_to_the_township_named(aws):
    duty_list.import_csv(duty_list.county_csv(), actor="centre")
    local = next(m for m in duty_list.parse_csv(duty_list.county_csv()) if m.local)
    nowhere = routed(aws, "l-1", title="咨询一个问题", content="请问办事大厅周六开门吗")
    somewhere = routed(aws, "l-2", title="咨询一个问题", content="长洛乡长洛村办事大厅周六开门吗")
    for order in (nowhere, somewhere):
        if order.status.value != "manual":
            pytest.skip("the matcher dispatched the probe itself")
    before = table_items(ORDERS)
    status, body, _ = staff("POST", f"/orders/{nowhere.order_id}/dispatch", CENTRE, {"matter_code": local.code})
    assert status == 400 and body["error"]["details"][0]["field"] == "department"
    status, body, _ = staff("POST", f"/orders/{nowhere.order_id}/dispatch", CENTRE,
                            {"matter_code": local.code, "department": "属地乡镇"})
    assert status == 400
    assert table_items(ORDERS) == before
    status, body, _ = staff("POST", f"/orders/{somewhere.order_id}/dispatch", CENTRE, {"matter_code": local.code})
    assert status == 200 and body["department"] == "长洛乡人民政府"
    assert "属地乡镇" not in orders.get_order(somewhere.order_id).co_departments


# ------------------------------------------------------------------ orders nobody could see, and paging
def test_the_centre_sees_orders_not_yet_dispatched_and_merged_ones_under_their_parent(aws):
    """Defect: orders in `received` and `merged` appeared in no staff listing."""
    import_sample_duty_list()
    # Given an order the stream has not routed yet
    waiting = post_channel("12345", request_body("w-1", citizen={"name": "王五", "phone": "13500000000"}))[1]
    status, body, _ = staff("GET", "/staff/queues/undispatched", CENTRE)
    assert status == 200 and [o["order_id"] for o in body["orders"]] == [waiting["order_id"]]
    assert "13500000000" not in json.dumps(body, ensure_ascii=False)
    # Given an open order and a repeat of it from the same phone, merged into it (并单)
    routes = StreamReader(aws, "RouteFunction")
    routes.deliver()
    first = orders.get_order(waiting["order_id"])
    repeat = post_channel("12345", request_body("w-2", citizen={"name": "王五", "phone": "13500000000"}))[1]
    routes.deliver()
    assert orders.get_order(repeat["order_id"]).status.value == "merged"
    # Then the parent, read by the centre or its department, lists the merged request
    for who in (CENTRE, CHENGGUAN):
        status, detail, _ = staff("GET", f"/staff/orders/{first.order_id}", who)
        assert status == 200 and [r["order_id"] for r in detail["related_orders"]] == [repeat["order_id"]]
        assert detail["related_orders"][0]["status"] == "merged"
    assert staff("GET", "/staff/queues/undispatched", CENTRE)[1]["orders"] == []
    # the merged request is seen through its parent, wherever the parent goes
    assert staff("GET", f"/staff/orders/{repeat['order_id']}", CHENGGUAN)[0] == 200
    listed = [o["order_id"] for o in staff("GET", "/staff/orders", CHENGGUAN)[1]["orders"]]
    assert listed == [first.order_id]  # listed under its parent, not on its own
    assert staff("POST", f"/orders/{first.order_id}/return", CHENGGUAN,
                 {"category": "not_our_duty", "text": "不归我们管"})[0] == 200
    assert staff("POST", f"/orders/{first.order_id}/review", CENTRE,
                 {"decision": "redispatch", "department": "区市场监管局"})[0] == 200
    assert staff("GET", f"/staff/orders/{repeat['order_id']}", CHENGGUAN)[0] == 404
    assert staff("GET", f"/staff/orders/{repeat['order_id']}", SHICHANG)[0] == 200


def test_staff_lists_page_with_a_cursor_past_200(aws):
    """Defect: staff lists stopped at 200 with no way on."""
    import_sample_duty_list()
    routes = StreamReader(aws, "RouteFunction")
    ids = {post_channel("12345", request_body(f"p-{n}", citizen={"name": "王五", "phone": f"1350000{n:04d}"},
                                              address=f"梅林镇华丰社区{n}栋"))[1]["order_id"] for n in range(7)}
    routes.deliver()
    seen, cursor, pages = [], None, 0
    while True:
        query = {"department": ["区城管局"], "limit": ["3"], **({"cursor": [cursor]} if cursor else {})}
        status, body, _ = staff("GET", "/staff/orders", CENTRE, query=query)
        assert status == 200 and len(body["orders"]) <= 3
        seen += [o["order_id"] for o in body["orders"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and pages >= 3  # every order once, newest first, page by page
    # a cursor is only good for the list that gave it: never another department's partition
    first = staff("GET", "/staff/orders", CENTRE, query={"department": ["区城管局"], "limit": ["3"]})[1]
    for bad in ("not-a-cursor", first["next_cursor"] + "x", base64.urlsafe_b64encode(b"[]").decode()):
        status, body, _ = staff("GET", "/staff/orders", CENTRE, query={"department": ["区城管局"], "cursor": [bad]})
        assert status == 400 and body["error"]["code"] == "validation_error", bad
    status, _, _ = staff("GET", "/staff/orders", CENTRE,
                         query={"department": ["区住建局"], "cursor": [first["next_cursor"]]})
    assert status == 400
    status, _, _ = staff("GET", "/staff/queues/manual", CENTRE, query={"cursor": [first["next_cursor"]]})
    assert status == 400


def test_a_lost_race_between_two_operators_is_409_and_one_dispatch_stands(two_orders, monkeypatch):
    """Two operators dispatch the same manual order at once: the one who commits second gets 409."""
    _, manual = two_orders
    from minyi.casework import steps

    real = steps.manual_dispatch

    def slow_operator(*args, **kwargs):
        step = real(*args, **kwargs)

        def step_while_the_other_commits(order):
            monkeypatch.setattr(steps, "manual_dispatch", real)
            status, _, _ = staff("POST", f"/orders/{manual.order_id}/dispatch", CENTRE, {"matter_code": "CX-02-04"})
            assert status == 200  # the other operator, first
            return step(order)

        return step_while_the_other_commits

    monkeypatch.setattr(steps, "manual_dispatch", slow_operator)
    status, body, _ = staff("POST", f"/orders/{manual.order_id}/dispatch", CENTRE, {"matter_code": "CX-10-03"})
    assert status == 409 and body["error"]["code"] == "conflict"
    order = orders.get_order(manual.order_id)
    assert order.matter_code == "CX-02-04"
    assert [a["action"] for a in audit_trail(manual.order_id)].count("dispatched_manually") == 1


def test_a_role_that_can_never_act_is_403_before_its_body_is_read(two_orders):
    """The order of checks docs/lifecycle.md promises: a department's dispatch with a bad body is
    403 (not 400), and nothing of the order or the duty list is read for it."""
    _, manual = two_orders
    for path in (f"/orders/{manual.order_id}/dispatch", f"/orders/{manual.order_id}/review",
                 f"/orders/{manual.order_id}/dispute"):
        status, body, _ = staff("POST", path, SHICHANG, raw="{not json")
        assert status == 403 and body["error"]["code"] == "forbidden", path
    status, _, _ = staff("POST", f"/orders/{manual.order_id}/return", LEADER, raw="{not json")
    assert status == 403
