"""Status delivery (状态推送): each public change of an order reaches its channel's status
endpoint, signed, with the expected completion; retried with the reply's backoff, then
dead-lettered; nothing is written to the order; a channel without a status endpoint gets
nothing and nothing fails."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from infra import events
from minyi.casework import loop
from minyi.channels import signatures as auth
from minyi.core import clock
from minyi.dal import channel_config, orders
from minyi.intake import replies
from minyi.models.staff import ContactRequest, EvaluationRequest, ReopenRequest, ReplyRequest, ReplyReviewRequest
from tests.builders import CENTRE, department
from tests.conftest import REGION, channel_secret, handler
from tests.helpers import StreamReader, audit_trail, import_sample_duty_list
from tests.integration.test_related_and_replies import drain_retries, post_and_route

REPLY = ReplyRequest(result="resolved", text="路灯已于今日修复，如有问题请拨打13912345678联系。",
                     internal_note="内部：维修单号 LD-2026-1188")


class ChannelSystem:
    """A channel system's reply and status endpoints on loopback: checks each signature with
    the channel's secret, keeps what it was sent (with its X-Minyi-Delivery) and fails
    the first `fail_status` status notices with 503."""

    def __init__(self, channel_id: str, fail_status: int = 0, status_endpoint: bool = True) -> None:
        self.channel_id, self.fail_status = channel_id, fail_status
        self.statuses: list[tuple[str, dict]] = []  # (X-Minyi-Delivery, body), every try
        self.replies: list[dict] = []
        system = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                auth.verify(channel_secret(system.channel_id), dict(self.headers.items()), body, clock.now())
                status = 200
                if self.path == "/status":
                    system.statuses.append((self.headers["X-Minyi-Delivery"], json.loads(body)))
                    status = 503 if len(system.statuses) <= system.fail_status else 200
                else:
                    system.replies.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        channel_config.put_config(channel_id, channel_config.ChannelConfig(
            secret=channel_secret(channel_id), reply_url=f"{base}/replies",
            status_url=f"{base}/status" if status_endpoint else None))

    def kept(self) -> list[dict]:
        """What a channel keeps: one notice per X-Minyi-Delivery, of accepted tries."""
        accepted = self.statuses[self.fail_status:]
        return list({delivery: body for delivery, body in accepted}.values())

    def close(self):
        self.server.shutdown()


@pytest.fixture
def hotline(aws):
    system = ChannelSystem("12345")
    yield system
    system.close()


def queue_messages(aws, queue: str) -> list[dict]:
    """The queue's messages, left visible for whoever reads it next."""
    sqs = boto3.client("sqs", region_name=REGION)
    found = sqs.receive_message(QueueUrl=aws.refs[queue], MaxNumberOfMessages=10,
                                VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def test_each_public_change_reaches_the_channel_in_order_signed_with_the_expected_completion(aws, hotline):
    # Given a 12345 request the stream dispatched to 区城管局
    import_sample_duty_list()
    notices = StreamReader(aws, "ReplyFunction")
    order = post_and_route(StreamReader(aws, "RouteFunction"), "status-1")
    lead = department(order.department)
    oid, now = order.order_id, clock.now
    assert notices.deliver() == []

    def walk(step):
        step()
        assert notices.deliver() == []

    # When the department signs, contacts the citizen (not a public change) and replies
    # (waiting for the centre's review is still 办理中); the centre approves; the citizen is
    # dissatisfied (still 已答复); the centre reopens; the second reply is approved; satisfied
    walk(lambda: loop.sign(lead, oid, now()))
    walk(lambda: loop.contact(lead, oid, ContactRequest(method="phone", note="已电话联系"), now()))
    walk(lambda: loop.reply(lead, oid, REPLY, now()))
    walk(lambda: loop.review_reply(CENTRE, oid, ReplyReviewRequest(decision="approve"), now()))
    walk(lambda: loop.evaluate(CENTRE, oid, EvaluationRequest(satisfaction="dissatisfied", resolved=False,
                                                                method="phone"), now()))
    walk(lambda: loop.reopen(CENTRE, oid, ReopenRequest(reason="诉求人反映路灯再次损坏", days=3), now()))
    walk(lambda: loop.reply(lead, oid, REPLY, now()))
    walk(lambda: loop.review_reply(CENTRE, oid, ReplyReviewRequest(decision="approve"), now()))
    walk(lambda: loop.evaluate(CENTRE, oid, EvaluationRequest(satisfaction="satisfied", resolved=True,
                                                                method="phone"), now()))

    # Then the channel was told each public change once, in order, each signed (the endpoint
    # checks) and named by its order version
    sent = hotline.statuses
    assert [(body["stage"], body["reopen_count"]) for _, body in sent] == [
        ("dispatched", 0), ("signed", 0), ("replied", 0), ("signed", 1), ("replied", 1), ("closed", 1)]
    versions = [body["version"] for _, body in sent]
    assert versions == sorted(set(versions))
    assert [delivery for delivery, _ in sent] == [f"{oid}-status-{v}" for v in versions]
    assert [body["status_label"] for _, body in sent] == ["已派发", "办理中", "已答复", "办理中", "已答复", "已办结"]
    # with the department and the expected completion: the deadline, a new one after the reopen
    final = orders.get_order(oid)
    assert all(body["department"] == "区城管局" and body["external_id"] == "status-1" for _, body in sent)
    assert sent[0][1]["expected_completion"] == order.due_at.isoformat()
    assert sent[-1][1]["expected_completion"] == final.due_at.isoformat() != order.due_at.isoformat()
    assert clock.parse_iso(sent[-1][1]["updated_at"]) == final.updated_at
    # the reply's text, once approved for the citizen, masked; never before, never the old one after a reopen
    assert [body["reply"] is not None for _, body in sent] == [False, False, True, False, True, True]
    assert sent[2][1]["reply"] == "路灯已于今日修复，如有问题请拨打139****5678联系。"
    assert sent[2][1]["reply_result"] == "resolved" and sent[2][1]["reply_result_label"] == "已解决"
    everything = json.dumps([body for _, body in sent], ensure_ascii=False)
    assert "内部" not in everything and "LD-2026" not in everything  # the internal note stays inside
    assert "13800000000" not in everything and "张三" not in everything and "路灯坏了一周" not in everything
    # and the replies themselves went to the reply endpoint as before
    assert len(hotline.replies) == 2 and final.reply.status.value == "delivered"


def test_a_failed_notice_is_retried_with_the_same_delivery_id_and_nothing_is_written_to_the_order(aws):
    system = ChannelSystem("12345", fail_status=1)
    import_sample_duty_list()
    notices = StreamReader(aws, "ReplyFunction")
    order = post_and_route(StreamReader(aws, "RouteFunction"), "status-retry")
    trail = audit_trail(order.order_id)
    assert notices.deliver() == []
    # the next try waits on the reply retry queue, carrying the notice of the version it reports
    [retry] = queue_messages(aws, "ReplyRetryQueue")
    assert (retry["kind"], retry["attempt"], retry["version"]) == ("status", 2, order.version)
    assert retry["notice"]["stage"] == "dispatched"
    assert drain_retries(aws) == 1
    tries = system.statuses
    assert len(tries) == 2 and tries[0] == tries[1]  # the same delivery id and the same notice
    assert tries[1][0] == f"{order.order_id}-status-{order.version}" and tries[1][1]["stage"] == "dispatched"
    assert system.kept() == [tries[1][1]]
    assert queue_messages(aws, "ReplyRetryQueue") == []
    # status delivery writes nothing: the order and its audit trail are as the dispatch left them
    assert orders.get_order(order.order_id).version == order.version
    assert audit_trail(order.order_id) == trail
    system.close()


def test_after_the_last_try_the_notice_is_dead_lettered(aws):
    system = ChannelSystem("12345", fail_status=99)
    import_sample_duty_list()
    notices = StreamReader(aws, "ReplyFunction")
    order = post_and_route(StreamReader(aws, "RouteFunction"), "status-dead")
    notices.deliver()
    while drain_retries(aws):
        pass
    assert len(system.statuses) == replies.max_attempts()
    assert {delivery for delivery, _ in system.statuses} == {f"{order.order_id}-status-{order.version}"}
    [dead] = queue_messages(aws, "ReplyDeadLetterQueue")
    assert (dead["kind"], dead["order_id"], dead["version"], dead["attempts"]) == (
        "status", order.order_id, order.version, replies.max_attempts())
    assert dead["last_error"] == "HTTP 503 from the channel" and dead["notice"]["stage"] == "dispatched"
    assert queue_messages(aws, "ReplyRetryQueue") == []
    assert orders.get_order(order.order_id).version == order.version
    system.close()


def test_a_redelivered_stream_record_sends_the_same_delivery_id_so_the_channel_keeps_one(aws, hotline):
    """A stream batch retried from a failed record redelivers records already handled.
    Status delivery writes nothing to the order, so it cannot know it sent one already:
    it sends the same notice under the same X-Minyi-Delivery, and the channel keeps one."""
    import_sample_duty_list()
    notices = StreamReader(aws, "ReplyFunction")
    order = post_and_route(StreamReader(aws, "RouteFunction"), "status-again")
    records = notices.pending()
    for _ in range(2):
        handler("ReplyFunction")(notices.event(records), events.LambdaContext("reply"))
    assert [delivery for delivery, _ in hotline.statuses] == [f"{order.order_id}-status-{order.version}"] * 2
    assert len(hotline.kept()) == 1


def test_a_channel_without_a_status_endpoint_gets_no_notices_and_nothing_fails(aws):
    system = ChannelSystem("12345", status_endpoint=False)
    import_sample_duty_list()
    notices = StreamReader(aws, "ReplyFunction")
    order = post_and_route(StreamReader(aws, "RouteFunction"), "status-none")
    lead = department(order.department)
    loop.sign(lead, order.order_id, clock.now())
    loop.reply(lead, order.order_id, REPLY, clock.now())
    loop.review_reply(CENTRE, order.order_id, ReplyReviewRequest(decision="approve"), clock.now())
    assert notices.deliver() == []
    assert system.statuses == [] and len(system.replies) == 1  # the reply still goes
    assert queue_messages(aws, "ReplyRetryQueue") == [] and queue_messages(aws, "ReplyDeadLetterQueue") == []
    system.close()


def test_configuring_a_status_endpoint_keeps_the_channels_secret_and_reply_endpoint(aws, capsys):
    from minyi.entrypoints import cli

    assert cli.main(["channel", "configure", "12315", "--reply-url", "https://12315.example.cn/replies"]) == 0
    assert "secret" not in json.loads(capsys.readouterr().out)  # it has one: kept, not printed again
    assert cli.main(["channel", "configure", "12315", "--status-url", "https://12315.example.cn/status"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["status_url"] == "https://12315.example.cn/status"
    config = channel_config.get_config("12315")
    assert (config.secret, config.reply_url, config.status_url) == (
        channel_secret("12315"), "https://12315.example.cn/replies", "https://12315.example.cn/status")
    assert cli.main(["channel", "configure", "newchan"]) == 0  # a new channel gets a new secret, printed once
    assert json.loads(capsys.readouterr().out)["secret"] == channel_config.get_config("newchan").secret

