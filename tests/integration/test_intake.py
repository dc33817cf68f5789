"""Intake handler (the Chalice app) called with API Gateway REST proxy events."""

import pytest

from minyi.dal import orders
from tests.conftest import handler, load_handler_module
from tests.helpers import audit_trail, call_api, post_channel, request_body, table_items

ORDERS = "minyi-test-OrdersTable"


def test_chalice_routes_are_exactly_the_template_api_events():
    from tests.conftest import FUNCTIONS

    app = load_handler_module("IntakeFunction").app
    chalice_routes = {(method, path) for path, methods in app.routes.items() for method in methods}
    template_routes = {(r.method, r.path) for r in FUNCTIONS["IntakeFunction"].api_routes}
    assert chalice_routes == template_routes
    assert handler("IntakeFunction") is app  # the Chalice app itself is the Lambda handler


def test_given_new_request_when_posted_then_201_and_order_and_audit_are_stored(aws):
    status, body, headers = post_channel("12345", request_body())
    assert status == 201
    order = orders.get_order(body["order_id"])
    assert order.status.value == "received" and order.citizen.phone == "13800000000"
    trail = audit_trail(body["order_id"])
    assert [a["action"] for a in trail] == ["received"]
    assert headers["Content-Type"].startswith("application/json")


def test_given_same_external_id_when_posted_again_then_200_same_id_and_nothing_new(aws):
    _, first, _ = post_channel("12345", request_body("dup"))
    before = table_items(ORDERS)
    status, second, _ = post_channel("12345", request_body("dup", title="改了标题"))
    assert status == 200 and second["order_id"] == first["order_id"]
    assert table_items(ORDERS) == before


@pytest.mark.parametrize("raw", ["{not json", "", "[]", '"text"', '{"external_id": 1}'])
def test_given_malformed_body_then_400_machine_readable_and_nothing_written(aws, raw):
    status, body, _ = post_channel("12345", raw=raw.encode())
    assert status == 400
    assert body["error"]["code"] in ("malformed_json", "validation_error")
    assert table_items(ORDERS) == []


def test_given_schema_errors_then_each_field_is_named(aws):
    bad = request_body(title="", citizen={"name": "张三", "phone": "12"})
    status, body, _ = post_channel("12345", bad)
    assert status == 400
    assert {d["field"] for d in body["error"]["details"]} == {"title", "citizen.phone"}
    assert table_items(ORDERS) == []


def test_given_unknown_channel_then_404_and_nothing_written(aws):
    status, body, _ = post_channel("99999", request_body())
    assert status == 404 and body["error"]["code"] == "not_found"
    assert table_items(ORDERS) == []


def test_given_stored_order_when_status_read_then_no_personal_data(aws):
    _, created, _ = post_channel("12345", request_body())
    status, body, _ = call_api("IntakeFunction", "GET", f"/orders/{created['order_id']}")
    assert status == 200 and body["status"] == "received"
    assert body["reply_status"] is None and body["related_count"] == 0
    text = str(body)
    assert "13800000000" not in text and "张三" not in text and "citizen" not in body
    assert set(body) >= {"status", "department", "matter", "due_at"}


@pytest.mark.parametrize("order_id", ["MYDOESNOTEXIST", "x" * 100, "a;b"])
def test_given_unknown_order_then_404(aws, order_id):
    status, body, _ = call_api("IntakeFunction", "GET", f"/orders/{order_id}")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_an_order_id_cannot_be_computed_from_the_channel_and_its_external_id(aws):
    """Defect: ids were an unkeyed hash of (channel, external id): anyone who knew a channel's
    id pattern could compute an order's id and read its public status."""
    import base64
    import hashlib

    status, body, _ = post_channel("12345", request_body("guessable-1"))
    assert status == 201
    unkeyed = "MY" + base64.b32encode(hashlib.sha256(b"12345\x1fguessable-1\x1f0").digest()).decode()[:14]
    assert body["order_id"] != unkeyed
    assert call_api("IntakeFunction", "GET", f"/orders/{unkeyed}")[0] == 404


def test_a_retry_of_a_request_stored_under_its_old_unkeyed_id_finds_that_order(aws):
    """Ids issued before keyed ids keep working: the order is read by its id, and a channel's
    retry of its request gets 200 with that id, never a second order."""
    from minyi.core import clock
    from minyi.core.ids import legacy_order_id
    from minyi.dal import orders as store
    from minyi.models.order import Citizen, WorkOrder

    old_id = legacy_order_id("12345", "before-keys")
    old = WorkOrder(order_id=old_id, channel="12345", external_id="before-keys", title="小区路灯坏了",
                    content="梅林镇某小区路灯坏了一周", citizen=Citizen(name="张三", phone="13800000000"),
                    received_at=clock.now())
    assert store.insert_order(old, clock.epoch(clock.now()) + 300, actor="channel:12345", detail={})
    before = table_items(ORDERS)
    status, body, _ = post_channel("12345", request_body("before-keys"))
    assert status == 200 and body["order_id"] == old_id
    assert table_items(ORDERS) == before
    assert call_api("IntakeFunction", "GET", f"/orders/{old_id}")[0] == 200
