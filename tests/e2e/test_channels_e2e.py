"""Every channel and Open311 over HTTP against the local stack, and a reply delivered
back to a channel system that failed twice first."""

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from minyi.channels.registry import registry

pytestmark = pytest.mark.e2e
SAMPLES = Path(__file__).parents[2] / "samples" / "channels"


def sample(channel_id: str) -> dict:
    return json.loads((SAMPLES / f"{channel_id}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("channel_id", sorted(c for c in registry() if c != "open311"))
def test_channel_sample_is_stored_and_read_back(stack, channel_id):
    created = stack.post_signed(channel_id, sample(channel_id))
    assert created.status == 201, created.raw
    order = stack.request("GET", f"/orders/{created.body['order_id']}")
    assert order.status == 200 and order.body["channel"] == channel_id


def test_open311_services_post_and_get(stack):
    services = stack.request("GET", "/open311/v2/services.json")
    assert services.status == 200 and any(s["service_code"] == "CX-02-04" for s in services.body)
    form = urlencode({"api_key": stack.local["open311_api_key"], **sample("open311")}).encode()
    posted = stack.request("POST", "/open311/v2/requests.json", raw=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status == 201, posted.raw
    request_id = posted.body[0]["service_request_id"]

    def dispatched():
        answer = stack.request("GET", f"/open311/v2/requests/{request_id}.json")
        return answer.body[0] if answer.status == 200 and answer.body[0]["agency_responsible"] else None

    request = stack.wait_for(dispatched)
    assert request["status"] == "open" and request["expected_datetime"]
    bad_key = stack.request("POST", "/open311/v2/requests.json", raw=form.replace(b"local-open311-key", b"x"),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert bad_key.status == 403 and bad_key.body[0]["code"] == 403


def test_reply_reaches_the_channel_after_two_failures(stack):
    created = stack.post_signed("12315", sample("12315"))
    order_id = created.body["order_id"]
    stack.wait_for(lambda: stack.request("GET", f"/orders/{order_id}").body["status"] != "received")
    earlier = len([r for r in stack.request("GET", "/_local/replies").body if r["channel"] == "12315"])
    assert stack.request("POST", "/_local/channels/12315/fail-next?count=2").status == 200

    # 区市场监管局 signs for it and replies; 12315's platform reviews on its side, so it goes at once
    shichang = stack.token("shichang01")
    assert stack.request("POST", f"/orders/{order_id}/sign", headers=shichang).status == 200
    replied = stack.request("POST", f"/orders/{order_id}/reply",
                            {"result": "resolved", "text": "已责令商家为您退货退款。"}, headers=shichang)
    assert replied.status == 200 and replied.body["status"] == "awaiting_evaluation", replied.raw

    def delivered():
        status = stack.request("GET", f"/orders/{order_id}").body["reply_status"]
        return status if status == "delivered" else None

    assert stack.wait_for(delivered, timeout=30) == "delivered"
    received = [r for r in stack.request("GET", "/_local/replies").body if r["channel"] == "12315"][earlier:]
    assert [r["accepted"] for r in received] == [False, False, True]
    assert received[-1]["verified"] and received[-1]["reply"]["order_id"] == order_id
