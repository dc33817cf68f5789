"""Every registry channel's signed sample becomes one order; bad signatures, replays,
wrong content types and oversized bodies are refused and write nothing."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from minyi.channels.registry import registry
from minyi.core import clock
from minyi.dal import orders
from tests.helpers import post_channel, request_body, sample, table_items

ORDERS = "minyi-test-OrdersTable"
JSON_CHANNELS = sorted(c for c in registry() if c != "open311")


@pytest.mark.parametrize("channel_id", JSON_CHANNELS)
def test_each_channels_signed_sample_becomes_one_order(aws, channel_id):
    status, ack, _ = post_channel(channel_id, sample(channel_id))
    assert status == 201, ack
    order = orders.get_order(ack["order_id"])
    assert order.channel == channel_id and order.external_id == ack["external_id"]
    assert order.content and order.citizen.phone
    stored = orders.get_orders([ack["order_id"]], with_raw=True)[ack["order_id"]][1]
    assert json.loads(stored) == sample(channel_id)  # the original payload is kept (原始报文)
    again, ack2, _ = post_channel(channel_id, sample(channel_id))
    assert again == 200 and ack2 == ack


def test_registry_has_the_fifteen_channels_of_the_plan_and_open311():
    assert len(registry()) == 16
    modes = {c.aggregation_mode for c in registry().values()}
    assert modes == {"native", "interconnect", "forwarded", "merged"}


@pytest.mark.parametrize("case", ["unsigned", "wrong_secret", "tampered", "stale", "future", "other_channel"])
def test_bad_signatures_are_401_and_write_nothing(aws, case):
    body = json.dumps(request_body(), ensure_ascii=False).encode()
    kwargs = {}
    if case == "unsigned":
        kwargs["sign"] = False
    elif case == "wrong_secret":
        kwargs["secret"] = "not-the-secret"
    elif case == "stale":
        kwargs["at"] = clock.now() - timedelta(seconds=301)
    elif case == "future":
        kwargs["at"] = clock.now() + timedelta(seconds=301)
    elif case == "other_channel":
        kwargs["secret"] = "test-secret-12315"
    if case == "tampered":
        from minyi.channels import signatures as auth
        from tests.conftest import channel_secret

        headers = auth.signed_headers(channel_secret("12345"), body)
        status, answer, _ = post_channel("12345", raw=body.replace("路灯".encode(), "灯杆".encode()),
                                         sign=False, headers=headers)
    else:
        status, answer, _ = post_channel("12345", raw=body, **kwargs)
    assert status == 401 and answer["error"]["code"] == "unauthorized"
    assert table_items(ORDERS) == []


def test_a_channel_without_provisioned_secret_is_refused(aws):
    import boto3

    boto3.client("ssm").delete_parameter(Name="/minyi/dev/channels/12345")
    status, answer, _ = post_channel("12345", request_body())
    assert status == 401 and answer["error"]["message"] == "channel has no credentials configured"
    assert table_items(ORDERS) == []


def test_oversized_body_is_413_and_wrong_type_is_415(aws):
    big = json.dumps(request_body(content="长" * 100_000), ensure_ascii=False).encode()
    status, answer, _ = post_channel("12345", raw=big)
    assert status == 413 and answer["error"]["code"] == "payload_too_large"
    status, answer, _ = post_channel("12345", request_body(), headers={"Content-Type": "text/plain"})
    assert status == 415 and answer["error"]["code"] == "unsupported_media_type"
    assert table_items(ORDERS) == []


@pytest.fixture
def serializable_transactions(monkeypatch):
    """DynamoDB runs transactions serializably; in-process moto does not (a cancelled
    transaction restores a snapshot of the table, racing other threads). Serialise
    moto's TransactWriteItems so the fake keeps the guarantee the real service gives,
    while 20 threads still race through the handler."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    real = DynamoDBBackend.transact_write_items

    def serialised(self, *args, **kwargs):
        with lock:
            return real(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", serialised)


def test_twenty_concurrent_posts_of_one_request_make_one_order_and_equal_answers(aws, serializable_transactions):
    body = json.dumps(request_body("concurrent-1"), ensure_ascii=False).encode()
    gate = threading.Barrier(20)

    def post(_):
        gate.wait()
        return post_channel("12345", raw=body)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, range(20)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] * 19 + [201]
    bodies = {json.dumps(body, sort_keys=True) for _, body, _ in answers}
    assert len(bodies) == 1
    order_items = [i for i in table_items(ORDERS) if i["sk"]["S"] == "ORDER"]
    audits = [i for i in table_items(ORDERS) if i["sk"]["S"].startswith("AUDIT#")]
    assert len(order_items) == 1 and len(audits) == 1
