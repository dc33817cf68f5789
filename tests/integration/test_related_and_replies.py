"""Related requests (并单) and unified replies (统一回复) delivered to a channel's endpoint."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from infra import events
from minyi.casework import loop
from minyi.channels import signatures as auth
from minyi.core import clock
from minyi.core.errors import Conflict, Forbidden
from minyi.dal import channel_config, orders
from minyi.intake import replies
from minyi.models.staff import ReplyRequest, ReplyReviewRequest
from minyi.sla.sweep import sweep
from tests.builders import CENTRE, department
from tests.conftest import REGION, channel_secret, handler
from tests.helpers import StreamReader, audit_trail, call_api, import_sample_duty_list, post_channel, request_body


def post_and_route(stream, external_id, **overrides):
    status, ack, _ = post_channel("12345", request_body(external_id, **overrides))
    assert status == 201
    stream.deliver()
    order = orders.get_order(ack["order_id"])
    if order.status.value == "manual":  # the sample duty list has no matter for it: the centre picks one
        from minyi.casework import staff
        from minyi.models.staff import ManualDispatch
        from minyi.routing.cache import CachedDutyList

        staff.dispatch(CENTRE, order.order_id, ManualDispatch(matter_code="CX-02-04"), CachedDutyList(ttl=0).matcher,
                       clock.now())
        order = orders.get_order(order.order_id)
    return order


# ------------------------------------------------------------------ 并单

def test_same_phone_same_matter_is_linked_not_dispatched_twice(aws):
    import_sample_duty_list()
    routes = StreamReader(aws, "RouteFunction")
    first = post_and_route(routes, "r-1")
    second = post_and_route(routes, "r-2", content="路灯还是不亮，已经好几天了")
    assert first.status.value == "dispatched"
    assert second.status.value == "merged" and second.parent_order_id == first.order_id
    assert orders.get_order(first.order_id).related_orders == [second.order_id]
    _, view, _ = call_api("IntakeFunction", "GET", f"/orders/{first.order_id}")
    assert view["related_count"] == 1
    _, child, _ = call_api("IntakeFunction", "GET", f"/orders/{second.order_id}")
    assert child["status"] == "merged" and child["parent_order_id"] == first.order_id
    actions = [a["action"] for a in audit_trail(first.order_id)]
    assert actions[-1] == "related_request_linked"


def test_same_address_same_matter_from_another_citizen_is_linked(aws):
    import_sample_duty_list()
    routes = StreamReader(aws, "RouteFunction")
    address = "梅林镇华丰社区幸福小区3栋门口"
    first = post_and_route(routes, "a-1", address=address)
    second = post_and_route(routes, "a-2", address=address, citizen={"name": "李四", "phone": "13911112222"})
    assert second.parent_order_id == first.order_id


def test_other_matter_or_older_than_seven_days_is_not_linked(aws):
    import_sample_duty_list()
    routes = StreamReader(aws, "RouteFunction")
    old = post_and_route(routes, "o-1", received_at=(clock.now() - timedelta(days=8)).isoformat())
    noise = post_and_route(routes, "o-2", title="夜间施工噪音扰民", content="工地夜里施工噪音很大")
    lamp = post_and_route(routes, "o-3")
    assert old.status.value == "dispatched" and noise.status.value == "dispatched"
    assert lamp.status.value == "dispatched" and lamp.parent_order_id is None


# ------------------------------------------------------------------ 统一回复

class Receiver:
    """A channel system's reply endpoint on loopback that checks signatures."""

    def __init__(self, channel_id: str, fail_first: int = 0) -> None:
        self.channel_id, self.fail_first, self.received = channel_id, fail_first, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                auth.verify(channel_secret(receiver.channel_id), dict(self.headers.items()), body, clock.now())
                receiver.received.append(json.loads(body))
                status = 503 if len(receiver.received) <= receiver.fail_first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replies"
        channel_config.put_config(channel_id, channel_config.ChannelConfig(secret=channel_secret(channel_id),
                                                                           reply_url=self.url))

    def close(self):
        self.server.shutdown()


@pytest.fixture
def dispatched(aws):
    import_sample_duty_list()
    routes = StreamReader(aws, "RouteFunction")
    return post_and_route(routes, "reply-1")


def drain_retries(aws) -> int:
    """Deliver the retry queue's messages to the reply function as Lambda's SQS source would."""
    sqs = boto3.client("sqs", region_name=REGION)
    url, arn = aws.refs["ReplyRetryQueue"], aws.attributes[("ReplyRetryQueue", "Arn")]
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        result = handler("ReplyFunction")(events.sqs_event(messages, arn, REGION), events.LambdaContext("reply"))
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(messages)


def replied(order, text="已处理"):
    """The lead department signs for the order and replies."""
    lead = department(order.department)
    loop.sign(lead, order.order_id, clock.now())
    loop.reply(lead, order.order_id, ReplyRequest(result="resolved", text=text, internal_note="内部：已派维修班组"),
               clock.now())
    return orders.get_order(order.order_id)


def approved(order_id, reviewer=CENTRE):
    loop.review_reply(reviewer, order_id, ReplyReviewRequest(decision="approve"), clock.now())
    return orders.get_order(order_id)


def test_hotline_reply_waits_for_the_centres_review_then_is_delivered_signed(aws, dispatched):
    receiver = Receiver("12345")
    replies_stream = StreamReader(aws, "ReplyFunction")
    order = replied(dispatched, "路灯已于今日修复。")
    assert order.status.value == "reply_review" and order.reply.reviewer == "区12345热线管理中心"
    assert replies_stream.deliver() == [] and receiver.received == []  # not approved: nothing is sent
    with pytest.raises(Forbidden):  # the department does not review its own reply
        loop.review_reply(department("区城管局"), dispatched.order_id, ReplyReviewRequest(decision="approve"),
                          clock.now())
    assert approved(dispatched.order_id).status.value == "awaiting_evaluation"
    assert replies_stream.deliver() == []
    assert receiver.received[0]["reply"] == "路灯已于今日修复。"
    assert receiver.received[0]["external_id"] == "reply-1"
    assert "内部" not in json.dumps(receiver.received[0], ensure_ascii=False)  # the internal note stays inside
    delivered = orders.get_order(dispatched.order_id)
    assert delivered.reply.status.value == "delivered" and delivered.reply.attempts == 1
    with pytest.raises(Conflict):
        loop.reply(department("区城管局"), dispatched.order_id, ReplyRequest(result="resolved", text="again"),
                   clock.now())
    receiver.close()


def test_failed_deliveries_are_retried_until_delivered(aws, dispatched):
    receiver = Receiver("12345", fail_first=2)
    replies_stream = StreamReader(aws, "ReplyFunction")
    replied(dispatched)
    approved(dispatched.order_id)
    replies_stream.deliver()
    assert orders.get_order(dispatched.order_id).reply.status.value == "retrying"
    replies_stream.deliver()  # approved -> retrying is not a new approval: nothing more is sent
    assert len(receiver.received) == 1
    assert drain_retries(aws) == 2
    order = orders.get_order(dispatched.order_id)
    assert order.reply.status.value == "delivered" and order.reply.attempts == 3
    assert len(receiver.received) == 3
    actions = [a["action"] for a in audit_trail(dispatched.order_id)]
    assert actions[-3:] == ["reply_retry_scheduled", "reply_retry_scheduled", "reply_delivered"]
    receiver.close()


def test_a_redelivered_approval_or_retry_sends_nothing_twice(aws, dispatched):
    """A stream batch retried from a failed record redelivers records already handled; the
    reply's first try (and any retry message seen again) must not post or queue again."""
    from infra.events import LambdaContext
    from tests.conftest import handler

    receiver = Receiver("12345", fail_first=1)
    replies_stream = StreamReader(aws, "ReplyFunction")
    replied(dispatched)
    approved(dispatched.order_id)
    records = replies_stream.pending()
    for _ in range(2):  # delivered, then delivered again as Lambda would after a retry
        handler("ReplyFunction")(replies_stream.event(records), LambdaContext("reply"))
    assert len(receiver.received) == 1
    assert drain_retries(aws) == 1  # one retry chain, not two
    assert len(receiver.received) == 2
    assert orders.get_order(dispatched.order_id).reply.status.value == "delivered"
    receiver.close()


def test_after_the_last_try_the_reply_is_dead_lettered_and_waits_for_the_centres_call(aws, dispatched):
    receiver = Receiver("12345", fail_first=99)
    replied(dispatched)
    approved(dispatched.order_id)
    StreamReader(aws, "ReplyFunction").deliver()
    drain_retries(aws)
    order = orders.get_order(dispatched.order_id)
    assert order.reply.status.value == "dead_lettered" and order.reply.attempts == replies.max_attempts()
    dlq = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=aws.refs["ReplyDeadLetterQueue"])
    assert json.loads(dlq["Messages"][0]["Body"])["order_id"] == dispatched.order_id
    # the citizen never got the answer: the evaluation window does not close it as unevaluated
    assert order.status.value == "awaiting_evaluation"
    assert sweep(clock.now() + timedelta(days=30), lambda: None, 0.35) == {}
    receiver.close()


def routed_from(aws, channel_id):
    import_sample_duty_list()
    from tests.helpers import sample

    stream = StreamReader(aws, "RouteFunction")
    _, ack, _ = post_channel(channel_id, sample(channel_id))
    stream.deliver()
    order = orders.get_order(ack["order_id"])
    if order.status.value == "manual":  # the sample duty list has no matter for it: the centre picks one
        from minyi.casework import staff
        from minyi.models.staff import ManualDispatch
        from minyi.routing.cache import CachedDutyList

        staff.dispatch(CENTRE, order.order_id, ManualDispatch(matter_code="CX-02-04"), CachedDutyList(ttl=0).matcher,
                       clock.now())
        order = orders.get_order(order.order_id)
    return order


def test_interconnected_platform_reviews_on_its_side_so_reply_goes_at_once(aws):
    order = replied(routed_from(aws, "12315"), "已责令商家退货")
    assert order.status.value == "awaiting_evaluation"
    assert order.reply.status.value == "approved" and order.reply.approved_by == "原平台审核"


def test_forwarded_channel_is_reviewed_by_its_managing_department(aws):
    order = replied(routed_from(aws, "wz-jx"), "已答复")
    assert order.status.value == "reply_review" and order.reply.reviewer == "区行政审批局"
    with pytest.raises(Forbidden):  # the centre does not review a forwarded channel's replies
        approved(order.order_id, CENTRE)
    assert approved(order.order_id, department("区行政审批局")).status.value == "awaiting_evaluation"
