"""Route (stream-triggered dispatch) and the SLA sweep, with the orders table's
stream read from moto and scheduled events as EventBridge sends them."""

from datetime import datetime, timedelta

import pynamodb.connection.base

from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.dal import orders
from tests.helpers import (
    StreamReader,
    audit_trail,
    import_sample_duty_list,
    post_channel,
    put_broken_order,
    request_body,
    scheduled,
    table_items,
)

ORDERS = "minyi-test-OrdersTable"


def post(external_id: str = "t-1", **overrides) -> str:
    status, body, _ = post_channel("12345", request_body(external_id, **overrides))
    assert status == 201
    return body["order_id"]


def test_given_new_order_when_stream_delivers_it_then_dispatched_by_duty_list(aws):
    import_sample_duty_list()
    stream = StreamReader(aws, "RouteFunction")
    order_id = post()
    assert stream.deliver() == []
    order = orders.get_order(order_id)
    assert order.status.value == "dispatched"
    assert order.department == "区城管局" and order.matter[2] == "城市公共设施"
    assert order.due_at > order.dispatched_at and order.duty_list_version == 1
    assert [a["action"] for a in audit_trail(order_id)] == ["received", "dispatched"]


def test_only_order_inserts_pass_the_template_filter(aws):
    import_sample_duty_list()
    stream = StreamReader(aws, "RouteFunction")
    post()
    records = stream.pending()
    # the transaction also wrote an audit item; the filter keeps only the order insert
    assert len(records) == 1 and records[0]["dynamodb"]["NewImage"]["item_type"]["S"] == "order"


def test_given_redelivered_record_then_nothing_changes(aws):
    import_sample_duty_list()
    stream = StreamReader(aws, "RouteFunction")
    post()
    records = stream.pending()
    from infra.events import LambdaContext
    from tests.conftest import handler

    handler("RouteFunction")(stream.event(records), LambdaContext("route"))
    before = table_items(ORDERS)
    result = handler("RouteFunction")(stream.event(records), LambdaContext("route"))
    assert result == {"batchItemFailures": []}
    assert table_items(ORDERS) == before


def test_given_unmatched_request_then_manual_queue(aws):
    import_sample_duty_list()
    stream = StreamReader(aws, "RouteFunction")
    order_id = post(title="咨询一个问题", content="请问办事大厅周六开门吗")
    stream.deliver()
    order = orders.get_order(order_id)
    assert order.status.value == "manual" and order.department is None


def test_an_order_that_fails_to_route_never_holds_back_the_orders_behind_it(aws):
    """Defect: a year-1 order answered 500 on every read, and RouteFunction stopped at it and
    dead-lettered it with the three valid orders behind it."""
    import_sample_duty_list()
    stream = StreamReader(aws, "RouteFunction")
    put_broken_order("MYBROKEN00000001")
    good = [post(f"g-{n}", citizen={"name": "李四", "phone": f"1390000000{n}"},
                 content=f"梅林镇{n}号路灯坏了一周") for n in range(3)]
    records = stream.pending()
    from infra.events import LambdaContext
    from tests.conftest import handler

    result = handler("RouteFunction")(stream.event(records), LambdaContext("route"))
    assert result["batchItemFailures"] == [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
    assert [orders.get_order(order_id).status.value for order_id in good] == ["dispatched"] * 3
    # Lambda retries from the failed record: the others are redelivered and nothing changes
    before = table_items(ORDERS)
    assert handler("RouteFunction")(stream.event(records), LambdaContext("route")) == result
    assert table_items(ORDERS) == before


def test_one_order_that_fails_never_stops_the_sweep(aws):
    """Defect: once a year-1 order's watchdog fired, every SLA sweep failed (OverflowError)."""
    import_sample_duty_list()
    put_broken_order("MYBROKEN00000002")
    order_id = post()  # its stream record never delivered: the sweep's watchdog dispatches it
    outcome = scheduled("SlaCheckFunction", clock.now() + timedelta(minutes=6))
    assert outcome == {"failed": 1, "dispatched_late": 1}
    assert orders.get_order(order_id).status.value == "dispatched"


def test_given_overdue_order_when_swept_then_overdue_with_escalation_once(aws, monkeypatch):
    import_sample_duty_list()
    stream = StreamReader(aws, "RouteFunction")
    order_id = post()
    stream.deliver()
    due = orders.get_order(order_id).due_at

    def no_scan(*args, **kwargs):
        raise AssertionError("the sweep must not Scan")

    monkeypatch.setattr(pynamodb.connection.base.Connection, "scan", no_scan)
    # Given the sweep ran just before the completion limit: the earlier limits were chased, not this one
    scheduled("SlaCheckFunction", due - timedelta(minutes=1))
    order = orders.get_order(order_id)
    assert order.overdue_at is None and order.deadlines["complete"].warned_at is not None
    # When it runs just after the limit
    outcome = scheduled("SlaCheckFunction", due + timedelta(minutes=1))
    # Then the limit is missed once and the ladder's first step (催办, at the limit) is taken
    assert outcome == {"missed": 1, "escalated": 1}
    order = orders.get_order(order_id)
    # overdue is a fact about the deadline: the order is still where it was, to be signed and replied
    assert order.status.value == "dispatched" and order.overdue_at is not None
    assert [a["action"] for a in audit_trail(order_id)][-2:] == ["escalated_overdue", "reminded"]
    monkeypatch.undo()
    before = table_items(ORDERS)
    monkeypatch.setattr(pynamodb.connection.base.Connection, "scan", no_scan)
    # and a second sweep with nothing new due changes nothing
    assert scheduled("SlaCheckFunction", due + timedelta(minutes=6)) == {}
    monkeypatch.undo()
    assert table_items(ORDERS) == before


def test_given_order_the_stream_never_delivered_when_swept_then_dispatched_late(aws):
    import_sample_duty_list()
    order_id = post()  # no stream delivery: as if the trigger had lost it
    now = clock.now()
    assert scheduled("SlaCheckFunction", now + timedelta(minutes=1)) == {}
    assert scheduled("SlaCheckFunction", now + timedelta(minutes=6)) == {"dispatched_late": 1}
    order = orders.get_order(order_id)
    assert order.status.value == "dispatched"
    assert audit_trail(order_id)[-1]["actor"] == "sla_check"


def test_sweep_uses_event_time_in_shanghai(aws):
    result = scheduled("SlaCheckFunction", datetime(2026, 11, 26, 1, 0, tzinfo=SHANGHAI))
    assert result == {}


def test_the_place_named_under_a_township_is_kept_and_the_township_co_handles(aws):
    import_sample_duty_list()
    stream = StreamReader(aws, "RouteFunction")
    order_id = post("place-1", title="路灯不亮", content="田村镇圩镇主街的路灯坏了一周，晚上很黑")
    stream.deliver()
    order = orders.get_order(order_id)
    assert order.department == "区城管局" and "田村镇人民政府" in order.co_departments
    assert order.places == ["田村镇圩镇主街"]
