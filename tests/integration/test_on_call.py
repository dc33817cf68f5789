"""7×24 on-call: dispatch outside office hours goes to the rapid-handling team's
handler of that duty day, with an event; a controllable clock decides the hour."""

import json
from datetime import datetime

import boto3
import pytest

from minyi.casework.autodispatch import dispatch_received
from minyi.core.clock import SHANGHAI
from minyi.dal import duty_list as duty_store
from minyi.dal import orders, roster
from minyi.models.roster import OnCall, WorkingHours
from minyi.routing import duty_list
from minyi.routing.matcher import Matcher
from minyi.timelimits.hours import duty_day, is_open
from tests.conftest import REGION
from tests.helpers import post_channel, request_body


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def setup(aws):
    duty_list.import_csv(duty_list.sample_csv(), actor="test")
    roster.put_on_call(OnCall(day="2026-11-27", handler="刘队长", phone="13700001234"))
    roster.put_on_call(OnCall(day="2026-11-28", handler="陈队员", phone="13700005678"))
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="off-hours")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="off-hours", EventBusName=aws.refs["EventBus"],
                    EventPattern=json.dumps({"detail-type": ["OffHoursDispatch"]}))
    events.put_targets(Rule="off-hours", EventBusName=aws.refs["EventBus"], Targets=[{"Id": "q", "Arn": arn}])
    matcher = Matcher(duty_store.load())
    return matcher, url


def dispatch_at(matcher, moment, external_id):
    _, ack, _ = post_channel("12345", request_body(external_id, citizen={"name": "张三",
                                                                        "phone": f"1390000{external_id[-4:]}"}))
    return dispatch_received(ack["order_id"], matcher, moment, actor="route", threshold=0.35)


def announced(url):
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"])["detail"] for m in messages.get("Messages", [])]


@pytest.mark.parametrize(("moment", "on_call"), [
    (at(2026, 11, 27, 10, 0), None),  # Friday morning: office hours
    (at(2026, 11, 27, 12, 30), "快速处置专项队伍:刘队长"),  # lunch break
    (at(2026, 11, 27, 20, 0), "快速处置专项队伍:刘队长"),  # Friday night
    (at(2026, 11, 28, 2, 0), "快速处置专项队伍:刘队长"),  # 02:00 Saturday is still Friday's shift
    (at(2026, 11, 28, 10, 0), "快速处置专项队伍:陈队员"),  # Saturday: not a working day
    (at(2026, 11, 29, 10, 0), "快速处置专项队伍"),  # no roster entry: the team itself
])
def test_off_hours_dispatch_goes_to_the_on_call_handler(setup, moment, on_call):
    matcher, url = setup
    order = dispatch_at(matcher, moment, f"oc-{moment:%d%H%M}")
    assert order.status.value == "dispatched" and order.on_call == on_call
    assert orders.get_order(order.order_id).on_call == on_call
    alerts = announced(url)
    assert [a["order_id"] for a in alerts] == ([order.order_id] if on_call else [])


def test_a_department_with_its_own_hours(setup):
    matcher, _ = setup
    roster.put_working_hours("区城管局", WorkingHours(periods=(("00:00", "23:59"),)))
    order = dispatch_at(matcher, at(2026, 11, 27, 20, 0), "oc-2001")
    assert order.department == "区城管局" and order.on_call is None


def test_duty_days():
    assert duty_day(at(2026, 11, 28, 2, 0)) == "2026-11-27"
    assert duty_day(at(2026, 11, 28, 8, 30)) == "2026-11-28"
    assert not is_open(WorkingHours(), at(2026, 10, 1, 10, 0))  # National Day
    assert is_open(WorkingHours(), at(2026, 10, 10, 10, 0))  # a Saturday worked in exchange (调休)
