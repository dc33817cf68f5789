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


def test_an_urgent_order_dispatched_by_hand_or_redispatched_gets_the_2_hour_tier_alerts_and_on_call(aws):
    """Defect: an urgent order that went through manual dispatch or re-dispatch got the matter's
    multi-day deadline, no Emergency event and no off-hours on-call assignment."""
    from datetime import time

    from minyi.dal import roster
    from minyi.models.roster import WorkingHours
    from tests.helpers import CENTRE, CHENGGUAN, call_api, staff_token

    import_sample_duty_list()
    listener = bus_listener(aws)
    # 区城管局 and 区住建局 are never in office in this story: every dispatch is off hours
    for department in ("区城管局", "区住建局"):
        roster.put_working_hours(department, WorkingHours(periods=((time(0, 0), time(0, 0, 1)),)))
    routes = StreamReader(aws, "RouteFunction")
    # Given an urgent request the matcher cannot place: it waits in the manual queue
    _, ack, _ = post_channel("12345", request_body("urgent-manual", title="紧急求助", urgent=True,
                                                   content="有人被困在电梯里，请马上派人"))
    routes.deliver()
    order = orders.get_order(ack["order_id"])
    assert order.urgent and order.status.value == "manual"
    centre = staff_token(*CENTRE)
    # When the centre dispatches it by hand
    status, _, _ = call_api("StaffApiFunction", "POST", f"/orders/{order.order_id}/dispatch",
                            {"matter_code": "CX-02-04"}, headers=centre)
    assert status == 200
    # Then it is due in 2 hours, every linked department is alerted, and the on-call handler has it
    order = orders.get_order(order.order_id)
    assert order.due_at - order.dispatched_at == timedelta(hours=2)
    assert {a["department"] for a in received(listener)} == {order.department, *order.co_departments}
    assert order.on_call and order.on_call.startswith("快速处置专项队伍")
    # When the department returns it and the centre re-dispatches it
    status, _, _ = call_api("StaffApiFunction", "POST", f"/orders/{order.order_id}/return",
                            {"category": "not_our_duty", "text": "电梯归市场监管"}, headers=staff_token(*CHENGGUAN))
    assert status == 200
    status, _, _ = call_api("StaffApiFunction", "POST", f"/orders/{order.order_id}/review",
                            {"decision": "redispatch", "department": "区住建局"}, headers=centre)
    assert status == 200
    # Then again: the 2-hour tier from the re-dispatch, the alert, the on-call handler
    again = orders.get_order(order.order_id)
    assert again.department == "区住建局" and again.due_at - again.dispatched_at == timedelta(hours=2)
    assert "区住建局" in {a["department"] for a in received(listener)}
    assert again.on_call and again.on_call.startswith("快速处置专项队伍")
