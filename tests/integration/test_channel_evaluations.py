"""The citizen's evaluation from the channel (统一评价): every channel that sends evaluations
posts one in its own shape, signed like its requests, naming its own request id. It closes
the order or makes it dissatisfied; a redelivery answers as the first time and writes
nothing; an order not waiting for an evaluation, an unsigned or a malformed one is refused
and nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minyi.casework import loop
from minyi.channels.registry import centre, registry
from minyi.core import clock
from minyi.dal import orders
from minyi.models.staff import ReplyRequest, ReplyReviewRequest
from tests.builders import CENTRE, department
from tests.helpers import call_api, table_items
from tests.integration.test_bad_input import signed
from tests.integration.test_related_and_replies import routed_from

ORDERS = "minyi-test-OrdersTable"
SAMPLES = Path(__file__).parents[2] / "samples" / "channels" / "evaluations"
EVALUATING = sorted(c.id for c in registry().values() if c.evaluation)


def evaluation_sample(channel_id: str) -> dict:
    return json.loads((SAMPLES / f"{channel_id}.json").read_text(encoding="utf-8"))


def put(body: dict, path: str, value) -> dict:
    node = body
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return body


def post(channel_id: str, body, *, raw: bytes | None = None, headers: dict | None = None):
    raw = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return call_api("IntakeFunction", "POST", f"/channels/{channel_id}/evaluations", raw=raw,
                    headers=headers if headers is not None else signed(channel_id, raw))


def awaiting_evaluation(aws, channel_id: str):
    """An order of the channel's sample request, signed for, replied and (where the channel
    names a reviewer) approved: waiting for the citizen's verdict."""
    order = routed_from(aws, channel_id)
    lead = department(order.department)
    loop.sign(lead, order.order_id, clock.now())
    loop.reply(lead, order.order_id, ReplyRequest(result="resolved", text="已办理完毕。"), clock.now())
    reviewer = registry()[channel_id].reply_reviewer
    if reviewer:
        who = CENTRE if reviewer == centre() else department(reviewer)
        loop.review_reply(who, order.order_id, ReplyReviewRequest(decision="approve"), clock.now())
    order = orders.get_order(order.order_id)
    assert order.status.value == "awaiting_evaluation"
    return order


def test_every_channel_but_open311_sends_evaluations_with_a_sample():
    assert set(EVALUATING) == set(registry()) - {"open311"}
    assert sorted(p.stem for p in SAMPLES.glob("*.json")) == EVALUATING


@pytest.mark.parametrize("channel_id", EVALUATING)
def test_a_channels_satisfied_evaluation_closes_the_order_and_a_redelivery_changes_nothing(aws, channel_id):
    # Given an order of this channel waiting for the citizen's verdict
    order = awaiting_evaluation(aws, channel_id)
    # When the channel posts its sample evaluation (satisfied, resolved)
    status, first, _ = post(channel_id, evaluation_sample(channel_id))
    # Then it is recorded and the order is closed
    assert status == 201, first
    assert first["order_id"] == order.order_id and first["satisfaction"] == "satisfied" and first["resolved"]
    closed = orders.get_order(order.order_id)
    assert closed.status.value == "closed" and closed.evaluation.source == channel_id
    assert closed.closure.kind.value == "evaluated"
    # and the same evaluation delivered again answers the same and writes nothing
    before = table_items(ORDERS)
    status, again, _ = post(channel_id, evaluation_sample(channel_id))
    assert (status, again) == (200, first)
    assert table_items(ORDERS) == before


def test_a_dissatisfied_evaluation_waits_for_the_centre_and_then_a_new_round_can_be_rated(aws):
    order = awaiting_evaluation(aws, "12315")
    body = put(evaluation_sample("12315"), "满意度", "不满意")
    put(body, "是否解决", "未解决")
    status, answer, _ = post("12315", body)
    assert status == 201 and answer["satisfaction"] == "dissatisfied" and answer["resolved"] is False
    assert orders.get_order(order.order_id).status.value == "dissatisfied"
    # the centre reopens; after the new reply the platform's next evaluation is a new one
    from minyi.models.staff import ReopenRequest

    loop.reopen(CENTRE, order.order_id, ReopenRequest(reason="诉求人不满意"), clock.now())
    loop.reply(department(order.department), order.order_id, ReplyRequest(result="resolved", text="已退款"),
               clock.now())
    status, _, _ = post("12315", body)
    assert status == 200  # the first evaluation again: its first answer, nothing new
    assert orders.get_order(order.order_id).status.value == "awaiting_evaluation"
    status, answer, _ = post("12315", put(put(dict(body), "评价编号", "EV-12315-2"), "满意度", "基本满意"))
    assert status == 201 and orders.get_order(order.order_id).status.value == "closed"


def test_an_order_not_waiting_for_an_evaluation_is_409_and_nothing_changes(aws):
    order = routed_from(aws, "12345")
    assert order.status.value == "dispatched"
    before = table_items(ORDERS)
    status, body, _ = post("12345", evaluation_sample("12345"))
    assert status == 409 and body["error"]["code"] == "conflict"
    assert table_items(ORDERS) == before


def test_channel_words_come_from_the_registry():
    from minyi.channels.payloads import to_evaluation

    now = clock.now()
    star = put(put(evaluation_sample("minsheng"), "评价星级", 2), "评价时间", None)
    assert to_evaluation(registry()["minsheng"], star, now).satisfaction.value == "dissatisfied"
    code = put(evaluation_sample("12333"), "满意度评价", "2")
    assert to_evaluation(registry()["12333"], code, now).satisfaction.value == "basically_satisfied"
    five = put(evaluation_sample("gjzwfw"), "评价等级", "非常不满意")
    assert to_evaluation(registry()["gjzwfw"], five, now).satisfaction.value == "dissatisfied"


# ------------------------------------------------------------------ refused, nothing written

def _bad(path: str, value) -> bytes:
    body = evaluation_sample("12345")
    if value is _DELETE:
        body.pop(path)
    else:
        body[path] = value
    return json.dumps(body, ensure_ascii=False).encode()


_DELETE = object()
BAD = [
    ("no satisfaction", _bad("satisfaction", _DELETE), 400),
    ("unknown satisfaction word", _bad("satisfaction", "还行"), 400),
    ("satisfaction a number", _bad("satisfaction", 5), 400),
    ("satisfaction true", _bad("satisfaction", True), 400),
    ("satisfaction a list", _bad("satisfaction", ["满意"]), 400),
    ("satisfaction null", _bad("satisfaction", None), 400),
    ("no resolved", _bad("resolved", _DELETE), 400),
    ("resolved a word", _bad("resolved", "maybe"), 400),
    ("resolved an object", _bad("resolved", {"v": True}), 400),
    ("no evaluation id", _bad("evaluation_id", _DELETE), 400),
    ("evaluation id empty", _bad("evaluation_id", ""), 400),
    ("evaluation id with spaces", _bad("evaluation_id", "a b"), 400),
    ("evaluation id too long", _bad("evaluation_id", "x" * 129), 400),
    ("no request id", _bad("external_id", _DELETE), 400),
    ("unknown request", _bad("external_id", "GX12345-NO-SUCH"), 404),
    ("comment too long", _bad("comment", "好" * 501), 400),
    ("comment with a control character", _bad("comment", "a\x00b"), 400),
    ("comment a number", _bad("comment", 12), 400),
    ("evaluated in year 1", _bad("evaluated_at", "0001-01-01T00:00:00+08:00"), 400),
    ("evaluated next year", _bad("evaluated_at", "2099-01-01T00:00:00+08:00"), 400),
    ("evaluated at 1e20", _bad("evaluated_at", 1e20), 400),
    ("evaluated at nonsense", _bad("evaluated_at", "yesterday"), 400),
    ("satisfaction an empty string", _bad("satisfaction", ""), 400),
    ("a JSON array", b"[1, 2]", 400),
    ("a JSON string", b'"satisfied"', 400),
    ("not JSON", b"satisfied", 400),
    ("empty body", b"", 400),
    ("nested 50,000 deep", b"[" * 50_000 + b"]" * 50_000, 400),
    ("an integer of 5,000 digits", b'{"satisfaction": ' + b"9" * 5000 + b"}", 400),
    ("invalid UTF-8", b'{"comment": "\xff\xfe"}', 400),
    ("over 256 KiB", json.dumps({"comment": "x" * 300_000}).encode(), 413),
]


@pytest.mark.parametrize(("name", "raw", "expected"), BAD, ids=[c[0] for c in BAD])
def test_bad_evaluations_are_refused_and_change_nothing(aws, name, raw, expected):
    awaiting_evaluation(aws, "12345")
    before = table_items(ORDERS)
    status, body, _ = post("12345", None, raw=raw)
    assert status == expected and isinstance(body["error"]["code"], str), (status, body)
    assert table_items(ORDERS) == before


@pytest.mark.parametrize(("name", "headers", "expected"), [
    ("unsigned", {"Content-Type": "application/json"}, 401),
    ("signed with another channel's secret", None, 401),
    ("a form, not JSON", "form", 415),
])
def test_unauthenticated_or_wrong_media_type_is_refused(aws, name, headers, expected):
    awaiting_evaluation(aws, "12345")
    raw = json.dumps(evaluation_sample("12345"), ensure_ascii=False).encode()
    if headers is None:
        headers = signed("12315", raw)
    elif headers == "form":
        headers = {**signed("12345", raw), "Content-Type": "application/x-www-form-urlencoded"}
    before = table_items(ORDERS)
    status, body, _ = post("12345", None, raw=raw, headers=headers)
    assert status == expected, body
    assert table_items(ORDERS) == before


def test_open311_sends_no_evaluations(aws):
    status, body, _ = post("open311", {"x": 1})
    assert status == 404 and "no evaluations" in body["error"]["message"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=20)
FIELDS = ["evaluation_id", "external_id", "satisfaction", "resolved", "comment", "evaluated_at"]


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)))
def test_generated_signed_evaluations_never_answer_5xx_nor_write(aws, body):
    before = table_items(ORDERS)
    status, answer, _ = post("12345", body)
    assert 400 <= status < 500 and isinstance(answer["error"]["code"], str), (status, answer)
    assert table_items(ORDERS) == before
