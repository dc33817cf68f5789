"""Emergencies (应急快速处置): the 2-hour tier and one event per linked department."""

import json
from datetime import timedelta

import boto3

from minyi.dal import orders
from tests.conftest import REGION
from tests.helpers import StreamReader, import_sample_duty_list, post_channel, request_body


def bus_listener(aws) -> str:
    """An SQS queue subscribed to the bus's Emergency events, to see what was sent."""
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="emergency-listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = aws.refs["EventBus"]
    events.put_rule(Name="emergencies", EventBusName=bus,
                    EventPattern=json.dumps({"source": ["minyi.dispatch"], "detail-type": ["Emergency"]}))
    events.put_targets(Rule="emergencies", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def received(url: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["detail"] for m in messages]


def test_a_fire_is_urgent_due_in_two_hours_and_every_linked_department_is_alerted(aws):
    import_sample_duty_list()
    listener = bus_listener(aws)
    routes = StreamReader(aws, "RouteFunction")
    fire = request_body("fire-1", title="居民楼起火", content="储潭镇一居民楼起火，有人被困，消防通道被堵",
                        citizen={"name": "赵六", "phone": "13600000000"})
    _, ack, _ = post_channel("12345", fire)
    assert routes.deliver() == []
    order = orders.get_order(ack["order_id"])
    assert order.urgent and order.status.value == "dispatched"
    assert order.due_at - order.dispatched_at == timedelta(hours=2)
    alerts = received(listener)
    assert {a["department"] for a in alerts} == {order.department, *order.co_departments}
    assert all(a["order_id"] == order.order_id for a in alerts)
    assert "13600000000" not in json.dumps(alerts, ensure_ascii=False)


def test_a_channels_urgent_flag_counts_too(aws):
    import_sample_duty_list()
    listener = bus_listener(aws)
    routes = StreamReader(aws, "RouteFunction")
    _, ack, _ = post_channel("12345", request_body("urgent-1", urgent=True))
    routes.deliver()
    order = orders.get_order(ack["order_id"])
    assert order.urgent and order.due_at - order.dispatched_at == timedelta(hours=2)
    assert len(received(listener)) == 1 + len(order.co_departments)


def test_ordinary_requests_raise_no_alert(aws):
    import_sample_duty_list()
    listener = bus_listener(aws)
    routes = StreamReader(aws, "RouteFunction")
    post_channel("12345", request_body("plain-1"))
    routes.deliver()
    assert received(listener) == []
