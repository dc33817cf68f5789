"""Duplicates under concurrency, over HTTP against the local stack: 60 distinct signed
requests over every hmac-sha256 channel, each sent 3 times in random order by 10
concurrent clients, make exactly 60 orders, one 201 each and 200 for every repeat, and
every acknowledged order is readable and dispatched (out of `received`) soon after.
Bounded: 180 requests, then a minute at most of reading."""

from __future__ import annotations

import copy
import json
import random
import secrets
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from minyi.channels.registry import registry

pytestmark = pytest.mark.e2e
SAMPLES = Path(__file__).parents[2] / "samples" / "channels"
REQUESTS, SENDS, CLIENTS = 60, 3, 10


def _set(payload: dict, dotted: str, value: str) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        payload = payload[part]
    payload[last] = value


def _distinct_requests(tag: str) -> dict[str, tuple[str, bytes]]:
    """key -> (channel, body): each channel's sample with its own external-id and phone
    fields varied (a shared phone would merge orders of one matter)."""
    channels = sorted(c.id for c in registry().values() if c.auth.scheme == "hmac-sha256")
    phone_base = random.randrange(10**8)
    requests = {}
    for n in range(REQUESTS):
        channel_id = channels[n % len(channels)]
        fields = registry()[channel_id].fields
        payload = copy.deepcopy(json.loads((SAMPLES / f"{channel_id}.json").read_text(encoding="utf-8")))
        _set(payload, fields["external_id"], f"{tag}-{n}")
        _set(payload, fields["citizen.phone"], f"13{phone_base + n:09d}")
        requests[f"{tag}-{n}"] = (channel_id, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    assert {channel for channel, _ in requests.values()} == set(channels)
    return requests


def test_concurrent_repeats_of_signed_requests_make_one_order_each(stack):
    from minyi.channels import signatures as auth

    tag = f"conc-{secrets.token_hex(3)}"
    requests = _distinct_requests(tag)
    sends = [key for key in requests for _ in range(SENDS)]
    random.shuffle(sends)

    def send(key: str) -> tuple[str, int, str | None]:
        channel_id, body = requests[key]
        headers = auth.signed_headers(stack.local["secrets"][channel_id], body)
        answer = stack.request("POST", f"/channels/{channel_id}/requests", raw=body, headers=headers)
        return key, answer.status, answer.body.get("order_id") if isinstance(answer.body, dict) else None

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(send, sends))
    by_request: dict[str, list[tuple[int, str | None]]] = defaultdict(list)
    for key, status, order_id in answers:
        by_request[key].append((status, order_id))
    wrong = {key: got for key, got in by_request.items()
             if sorted(s for s, _ in got) != [200] * (SENDS - 1) + [201] or len({o for _, o in got}) != 1}
    assert wrong == {}, f"{len(wrong)} requests answered wrongly: {wrong}"
    order_ids = {got[0][1]: key for key, got in by_request.items()}
    assert len(order_ids) == REQUESTS

    def read(order_id: str) -> tuple[str, int, dict]:
        answer = stack.request("GET", f"/orders/{order_id}")
        return order_id, answer.status, answer.body

    pending = set(order_ids)
    seen: dict[str, tuple[int, dict]] = {}

    def all_dispatched() -> bool:
        with ThreadPoolExecutor(CLIENTS) as pool:
            for order_id, status, body in pool.map(read, sorted(pending)):
                seen[order_id] = (status, body)
                if status == 200 and body["status"] != "received":
                    pending.discard(order_id)
        return not pending

    try:
        stack.wait_for(all_dispatched, timeout=60, interval=1)
    except AssertionError:
        raise AssertionError(f"{len(pending)} acknowledged orders not readable or still received after 60 s: "
                             f"{ {o: seen[o] for o in sorted(pending)} }") from None
    channels = {order_id: seen[order_id][1]["channel"] for order_id in order_ids}
    assert channels == {order_id: requests[key][0] for order_id, key in order_ids.items()}
