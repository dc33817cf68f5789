"""The citizen's evaluation from the channel (统一评价): every channel that sends evaluations
posts one in its own shape, signed like its requests, naming its own request id. It closes
the order or makes it dissatisfied; a redelivery answers as the first time and writes
nothing; an order not waiting for an evaluation, an unsigned or a malformed one is refused
with our error shape and nothing changes."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minyi.casework import loop
from minyi.channels.payloads import to_evaluation
from minyi.channels.registry import centre, registry
from minyi.core import clock
from minyi.dal import handling, orders
from minyi.intake import evaluations
from minyi.models.handling import Record
from minyi.models.order import Satisfaction
from minyi.models.staff import ReopenRequest, ReplyRequest, ReplyReviewRequest
from tests.builders import CENTRE, department
from tests.conftest import provisioned_account
from tests.helpers import audit_trail, call_api, table_items
from tests.helpers import sample as request_sample
from tests.integration.test_bad_input import EXAMPLES, JSON, json_values, signed, snapshot
from tests.integration.test_related_and_replies import routed_from

ORDERS = "minyi-test-OrdersTable"
SAMPLES = Path(__file__).parents[2] / "samples" / "channels" / "evaluations"
EVALUATING = sorted(c.id for c in registry().values() if c.evaluation)


def evaluation_sample(channel_id: str) -> dict:
    return json.loads((SAMPLES / f"{channel_id}.json").read_text(encoding="utf-8"))


def put(body: dict, path: str, value) -> dict:
    """A copy of `body` with the value at a dotted path set (DELETE: removed)."""
    body = copy.deepcopy(body)
    node = body
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return body


DELETE = object()


def path_of(channel_id: str, field: str) -> str:
    """Where the channel's evaluation carries one of our fields."""
    return registry()[channel_id].evaluation.fields[field]


def words(channel_id: str, satisfaction: Satisfaction, resolved: bool) -> dict:
    """The channel's sample evaluation saying `satisfaction` and `resolved` in its own words."""
    mapping = registry()[channel_id].evaluation
    resolved_word = next((w for w, v in mapping.resolved_values.items() if v is resolved), resolved)
    body = put(evaluation_sample(channel_id), path_of(channel_id, "satisfaction"), mapping.word_for(satisfaction))
    return put(body, path_of(channel_id, "resolved"), resolved_word)


def post(channel_id: str, body, *, raw: bytes | None = None, headers: dict | None = None):
    raw = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return call_api("IntakeFunction", "POST", f"/channels/{channel_id}/evaluations", raw=raw,
                    headers=headers if headers is not None else signed(channel_id, raw))


def refused(status: int, body) -> bool:
    """A 4xx in our error shape: {"error": {"code", "message", "details"?}}."""
    error = body.get("error") if isinstance(body, dict) else None
    return (400 <= status < 500 and isinstance(error, dict) and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str) and bool(error["message"])
            and isinstance(error.get("details", []), list))


def awaiting_evaluation(aws, channel_id: str):
    """An order of the channel's sample request, routed (dispatched by hand if it went
    manual), signed for, replied and (where the channel names a reviewer) approved: waiting
    for the citizen's verdict."""
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


# ------------------------------------------------------------------ every channel's own shape

def test_every_channel_but_open311_sends_evaluations_with_a_sample():
    assert set(EVALUATING) == set(registry()) - {"open311"}
    assert sorted(p.stem for p in SAMPLES.glob("*.json")) == EVALUATING


@pytest.mark.parametrize("channel_id", EVALUATING)
def test_each_channels_sample_names_its_request_and_has_a_word_for_every_verdict(channel_id):
    # Given the channel's registry entry and its two samples
    source = registry()[channel_id]
    request = request_sample(channel_id)
    # When its evaluation sample is read by the registry's mapping
    posted = to_evaluation(source, evaluation_sample(channel_id), clock.now())
    # Then it rates the request the channel's request sample posted, satisfied and resolved
    assert posted.external_id == str(request_id_of(channel_id, request))
    assert (posted.satisfaction, posted.resolved) == (Satisfaction.SATISFIED, True)
    assert posted.evaluated_at is not None and posted.comment
    # and every level and both answers have a word of the channel's that reads back as itself
    for level in Satisfaction:
        for resolved in (True, False):
            again = to_evaluation(source, words(channel_id, level, resolved), clock.now())
            assert (again.satisfaction, again.resolved) == (level, resolved)


def request_id_of(channel_id: str, request: dict):
    """The channel's own id in its request sample."""
    node = request
    for part in registry()[channel_id].fields["external_id"].split("."):
        node = node[part]
    return node


def test_channel_words_come_from_the_registry():
    now = clock.now()
    star = put(put(evaluation_sample("minsheng"), "评价星级", 2), "评价时间", None)
    assert to_evaluation(registry()["minsheng"], star, now).satisfaction.value == "dissatisfied"
    code = put(evaluation_sample("12333"), "满意度评价", "2")
    assert to_evaluation(registry()["12333"], code, now).satisfaction.value == "basically_satisfied"
    five = put(evaluation_sample("gjzwfw"), "评价等级", "非常不满意")
    assert to_evaluation(registry()["gjzwfw"], five, now).satisfaction.value == "dissatisfied"
    partly = put(evaluation_sample("dc-gov"), "问题是否解决", "部分解决")
    assert to_evaluation(registry()["dc-gov"], partly, now).resolved is False


@pytest.mark.parametrize("channel_id", EVALUATING)
def test_a_channels_satisfied_evaluation_closes_the_order_and_a_redelivery_changes_nothing(aws, channel_id):
    # Given an order of this channel waiting for the citizen's verdict
    order = awaiting_evaluation(aws, channel_id)
    trail = audit_trail(order.order_id)
    posted = to_evaluation(registry()[channel_id], evaluation_sample(channel_id), clock.now())
    # When the channel posts its sample evaluation (satisfied, resolved), signed
    status, first, _ = post(channel_id, evaluation_sample(channel_id))
    # Then it is recorded and the order is closed, as evaluated, by the channel
    assert status == 201, first
    assert first == {"order_id": order.order_id, "channel": channel_id, "external_id": order.external_id,
                     "evaluation_id": posted.evaluation_id, "satisfaction": "satisfied", "resolved": True,
                     "recorded_at": first["recorded_at"]}
    closed = orders.get_order(order.order_id)
    assert closed.status.value == "closed" and closed.closure.kind.value == "evaluated"
    assert closed.evaluation.source == channel_id and closed.closure.by == f"channel:{channel_id}"
    # with exactly one audit record and one evaluation record, in the channel's method,
    # the channel's own time kept beside ours
    new = [entry for entry in audit_trail(order.order_id) if entry not in trail]
    assert [(e["action"], e["actor"], e["to"]) for e in new] == [("evaluated", f"channel:{channel_id}", "closed")]
    [record] = handling.records(order.order_id, Record.EVALUATION)
    assert (record.evaluation_id, record.method) == (posted.evaluation_id, registry()[channel_id].evaluation.method)
    assert record.evaluated_at == posted.evaluated_at and record.comment == posted.comment
    assert abs(record.at - clock.now()) < timedelta(minutes=1) and clock.iso(record.at) == first["recorded_at"]
    # When the same evaluation is delivered again
    before = table_items(ORDERS)
    status, again, _ = post(channel_id, evaluation_sample(channel_id))
    # Then it answers as the first time and writes nothing
    assert (status, again) == (200, first)
    assert table_items(ORDERS) == before


@pytest.mark.parametrize("channel_id", EVALUATING)
def test_a_channels_dissatisfied_evaluation_leaves_the_order_for_the_centre(aws, channel_id):
    # Given an order of this channel waiting for the citizen's verdict
    order = awaiting_evaluation(aws, channel_id)
    # When the channel says, in its own words, dissatisfied and not resolved
    status, answer, _ = post(channel_id, words(channel_id, Satisfaction.DISSATISFIED, False))
    # Then the order waits for the centre to reopen or close it (不满意待研判)
    assert status == 201, answer
    assert (answer["satisfaction"], answer["resolved"]) == ("dissatisfied", False)
    after = orders.get_order(order.order_id)
    assert after.status.value == "dissatisfied" and after.closure is None
    assert after.evaluation.by == f"channel:{channel_id}"


def test_basically_satisfied_closes_the_order_too(aws):
    # Given a 12333 order waiting for its verdict
    order = awaiting_evaluation(aws, "12333")
    # When 12333 sends its code 2 (基本满意)
    status, answer, _ = post("12333", put(evaluation_sample("12333"), "满意度评价", 2))
    # Then it closes the order
    assert status == 201 and answer["satisfaction"] == "basically_satisfied", answer
    assert orders.get_order(order.order_id).status.value == "closed"


def test_after_a_reopen_the_first_evaluation_replays_and_the_platforms_next_one_is_new(aws):
    # Given a 12315 order the citizen rated dissatisfied through the platform
    order = awaiting_evaluation(aws, "12315")
    body = words("12315", Satisfaction.DISSATISFIED, False)
    status, first, _ = post("12315", body)
    assert status == 201 and orders.get_order(order.order_id).status.value == "dissatisfied"
    # and the centre reopened it and the department replied again
    loop.reopen(CENTRE, order.order_id, ReopenRequest(reason="诉求人不满意"), clock.now())
    loop.reply(department(order.department), order.order_id, ReplyRequest(result="resolved", text="已退款"),
               clock.now())
    # When the platform redelivers its first evaluation
    before = table_items(ORDERS)
    status, again, _ = post("12315", body)
    # Then it gets its first answer and nothing is written, though the order waits again
    assert (status, again) == (200, first)
    assert table_items(ORDERS) == before
    assert orders.get_order(order.order_id).status.value == "awaiting_evaluation"
    # When the platform sends the citizen's second evaluation (a new id)
    second = put(put(body, "评价编号", "EV-12315-2"), "满意度", "基本满意")
    status, answer, _ = post("12315", second)
    # Then it is recorded and closes the order; both evaluations are kept
    assert status == 201 and answer["evaluation_id"] == "EV-12315-2"
    assert orders.get_order(order.order_id).status.value == "closed"
    assert sorted(e.evaluation_id for e in handling.records(order.order_id, Record.EVALUATION)) == \
        sorted([first["evaluation_id"], "EV-12315-2"])


def test_an_order_not_yet_replied_is_409_and_nothing_changes(aws):
    # Given a 12345 order a department holds, not replied yet
    order = routed_from(aws, "12345")
    assert order.status.value == "dispatched"
    before = table_items(ORDERS)
    # When the channel posts an evaluation of it
    status, body, _ = post("12345", evaluation_sample("12345"))
    # Then it is refused as a conflict and nothing is written
    assert status == 409 and refused(status, body) and body["error"]["code"] == "conflict"
    assert table_items(ORDERS) == before


def test_another_evaluation_of_an_order_already_rated_is_409_and_nothing_changes(aws):
    # Given a 12345 order the citizen's evaluation closed
    awaiting_evaluation(aws, "12345")
    assert post("12345", evaluation_sample("12345"))[0] == 201
    before = table_items(ORDERS)
    # When the channel posts a different evaluation of it (a new id, now dissatisfied)
    other = put(put(evaluation_sample("12345"), "evaluation_id", "EV-OTHER"), "satisfaction", "不满意")
    status, body, _ = post("12345", other)
    # Then it is a conflict, not a replay, and nothing is written
    assert status == 409 and refused(status, body)
    assert table_items(ORDERS) == before


def test_the_same_evaluation_delivered_twice_at_once_is_recorded_once(aws, monkeypatch):
    # Given an order waiting for its verdict, and a delivery that read it before another
    # delivery of the same evaluation recorded it
    order = awaiting_evaluation(aws, "wz-gz")
    stale = orders.get_order(order.order_id)
    status, first, _ = post("wz-gz", evaluation_sample("wz-gz"))
    assert status == 201
    before = table_items(ORDERS)
    real = evaluations._recorded
    seen = []

    def not_yet(*args):  # the slower delivery looked before the first one wrote
        seen.append(args)
        return None if len(seen) == 1 else real(*args)

    monkeypatch.setattr(evaluations, "find_order", lambda *_: stale)
    monkeypatch.setattr(evaluations, "_recorded", not_yet)
    # When the slower delivery tries to record it on the order as it read it
    status, again, _ = post("wz-gz", evaluation_sample("wz-gz"))
    # Then its conditional write loses, it finds the evaluation recorded and answers as the first
    assert (status, again) == (200, first) and len(seen) == 2
    assert table_items(ORDERS) == before


def test_open311_sends_no_evaluations(aws):
    # GeoReport v2 has no evaluation; the centre follows Open311 requests up itself
    status, body, _ = post("open311", {"x": 1})
    assert status == 404 and refused(status, body) and "no evaluations" in body["error"]["message"]


# ------------------------------------------------------------------ refused, nothing written

BAD_CHANNELS = ("12345", "wz-gz", "12333", "minsheng")


def _body(channel_id: str, **changes) -> bytes:
    body = evaluation_sample(channel_id)
    for field, value in changes.items():
        body = put(body, path_of(channel_id, field), value)
    return json.dumps(body, ensure_ascii=False).encode()


def _raw_value(channel_id: str, field: str, literal: str) -> bytes:
    """The sample with one field's value as raw JSON text (NaN, 5,000-digit integers)."""
    body = evaluation_sample(channel_id)
    marker = "\u2063MARK\u2063"
    text = json.dumps(put(body, path_of(channel_id, field), marker), ensure_ascii=False)
    return text.replace(json.dumps(marker, ensure_ascii=False), literal).encode()


WEEK_AHEAD = (clock.now() + timedelta(days=7)).isoformat()
BAD = [
    # (name, channel, raw body, expected status, expected code, the channel's field named in details)
    ("no satisfaction", "12345", _body("12345", satisfaction=DELETE), 400, "validation_error", "satisfaction"),
    ("unknown satisfaction word", "12345", _body("12345", satisfaction="还行"), 400, "validation_error",
     "satisfaction"),
    ("satisfaction a number", "12345", _body("12345", satisfaction=5), 400, "validation_error", "satisfaction"),
    ("satisfaction true", "12345", _body("12345", satisfaction=True), 400, "validation_error", "satisfaction"),
    ("satisfaction a list", "12345", _body("12345", satisfaction=["满意"]), 400, "validation_error",
     "satisfaction"),
    ("satisfaction null", "12345", _body("12345", satisfaction=None), 400, "validation_error", "satisfaction"),
    ("satisfaction empty", "12345", _body("12345", satisfaction=""), 400, "validation_error", "satisfaction"),
    ("no resolved", "12345", _body("12345", resolved=DELETE), 400, "validation_error", "resolved"),
    ("resolved a word", "12345", _body("12345", resolved="maybe"), 400, "validation_error", "resolved"),
    ("resolved the string true", "12345", _body("12345", resolved="true"), 400, "validation_error", "resolved"),
    ("resolved 1", "12345", _body("12345", resolved=1), 400, "validation_error", "resolved"),
    ("resolved an object", "12345", _body("12345", resolved={"v": True}), 400, "validation_error", "resolved"),
    ("no evaluation id", "12345", _body("12345", evaluation_id=DELETE), 400, "validation_error", "evaluation_id"),
    ("evaluation id empty", "12345", _body("12345", evaluation_id=""), 400, "validation_error", "evaluation_id"),
    ("evaluation id with spaces", "12345", _body("12345", evaluation_id="a b"), 400, "validation_error",
     "evaluation_id"),
    ("evaluation id too long", "12345", _body("12345", evaluation_id="x" * 129), 400, "validation_error",
     "evaluation_id"),
    ("evaluation id 1e20", "12345", _body("12345", evaluation_id=1e20), 400, "validation_error", "evaluation_id"),
    ("evaluation id of 5,000 digits", "12345", _raw_value("12345", "evaluation_id", "9" * 5000), 400,
     "malformed_json", None),
    ("no request id", "12345", _body("12345", external_id=DELETE), 400, "validation_error", "external_id"),
    ("request id a list", "12345", _body("12345", external_id=["GX12345-20261126-000842"]), 400,
     "validation_error", "external_id"),
    ("unknown request", "12345", _body("12345", external_id="GX12345-NO-SUCH"), 404, "not_found", None),
    ("comment too long", "12345", _body("12345", comment="好" * 501), 400, "validation_error", "comment"),
    ("comment with a control character", "12345", _body("12345", comment="a\x00b"), 400, "validation_error",
     "comment"),
    ("comment a number", "12345", _body("12345", comment=12), 400, "validation_error", "comment"),
    ("comment nested 40 deep", "12345", _raw_value("12345", "comment", '{"a":' * 40 + "1" + "}" * 40), 400,
     "malformed_json", None),
    ("evaluated in year 1", "12345", _body("12345", evaluated_at="0001-01-01T00:00:00+08:00"), 400,
     "validation_error", "evaluated_at"),
    ("evaluated in 1999", "12345", _body("12345", evaluated_at="1999-12-31 23:59:59"), 400, "validation_error",
     "evaluated_at"),
    ("evaluated a week ahead", "12345", _body("12345", evaluated_at=WEEK_AHEAD), 400, "validation_error",
     "evaluated_at"),
    ("evaluated at 9999-12-31T23:00-01:00", "12345", _body("12345", evaluated_at="9999-12-31T23:00:00-01:00"),
     400, "validation_error", "evaluated_at"),
    ("evaluated at 1e20", "12345", _body("12345", evaluated_at=1e20), 400, "validation_error", "evaluated_at"),
    ("evaluated at -1e20", "12345", _body("12345", evaluated_at=-1e20), 400, "validation_error", "evaluated_at"),
    ("evaluated at NaN", "12345", _raw_value("12345", "evaluated_at", "NaN"), 400, "validation_error",
     "evaluated_at"),
    ("evaluated at Infinity", "12345", _raw_value("12345", "evaluated_at", "Infinity"), 400, "validation_error",
     "evaluated_at"),
    ("evaluated at nonsense", "12345", _body("12345", evaluated_at="yesterday"), 400, "validation_error",
     "evaluated_at"),
    ("evaluated at an object", "12345", _body("12345", evaluated_at={"y": 2026}), 400, "validation_error",
     "evaluated_at"),
    ("a JSON array", "12345", b"[1, 2]", 400, "validation_error", "(body)"),
    ("a JSON string", "12345", b'"satisfied"', 400, "validation_error", "(body)"),
    ("JSON null", "12345", b"null", 400, "validation_error", "(body)"),
    ("not JSON", "12345", b"satisfied", 400, "malformed_json", None),
    ("truncated JSON", "12345", _body("12345")[:-5], 400, "malformed_json", None),
    ("empty body", "12345", b"", 400, "malformed_json", None),
    ("nested 50,000 deep", "12345", b"[" * 50_000 + b"]" * 50_000, 400, "malformed_json", None),
    ("invalid UTF-8", "12345", b'{"comment": "\xff\xfe"}', 400, "malformed_json", None),
    ("over 256 KiB", "12345", json.dumps({"comment": "x" * 300_000}).encode(), 413, "payload_too_large", None),
    # the Chinese platforms' own shapes and words
    ("问政赣州: 评价信息 a string", "wz-gz", json.dumps(put(evaluation_sample("wz-gz"), "评价信息", "满意"),
                                                   ensure_ascii=False).encode(),
     400, "validation_error", "评价信息.评价编号"),
    ("问政赣州: an English word", "wz-gz", _body("wz-gz", satisfaction="satisfied"), 400, "validation_error",
     "评价信息.满意度"),
    ("问政赣州: 是否解决 a JSON boolean", "wz-gz", _body("wz-gz", resolved=True), 400, "validation_error",
     "评价信息.是否解决"),
    ("问政赣州: 12345's shape", "wz-gz", _body("12345"), 400, "validation_error", "评价信息.评价编号"),
    ("问政赣州: another channel's request id", "wz-gz", _body("wz-gz", external_id="GX12345-20261126-000842"),
     404, "not_found", None),
    ("12333: code 4", "12333", _body("12333", satisfaction="4"), 400, "validation_error", "满意度评价"),
    ("12333: code 1.0", "12333", _body("12333", satisfaction=1.0), 400, "validation_error", "满意度评价"),
    ("12333: 评价时间 compact in year 1", "12333", _body("12333", evaluated_at="00010101000000"), 400,
     "validation_error", "评价时间"),
    ("民声: six stars", "minsheng", _body("minsheng", satisfaction=6), 400, "validation_error", "评价星级"),
    ("民声: 4.5 stars", "minsheng", _body("minsheng", satisfaction=4.5), 400, "validation_error", "评价星级"),
    ("民声: 是否解决 是 (its words are 已解决/未解决)", "minsheng", _body("minsheng", resolved="是"), 400,
     "validation_error", "是否解决"),
]


class TestRefusedEvaluations:
    """One account for the class, with an order of each channel below waiting for its
    verdict, so that 'nothing changed' is tested where a slip would write."""

    @pytest.fixture(scope="class")
    @classmethod
    def waiting(cls):
        with provisioned_account() as aws:
            yield aws, {channel_id: awaiting_evaluation(aws, channel_id) for channel_id in BAD_CHANNELS}

    @pytest.fixture
    def world(self, waiting):
        aws, _ = waiting
        before = snapshot(aws)
        yield waiting
        assert snapshot(aws) == before, "a refused evaluation changed the store"
        assert {o.status.value for o in (orders.get_order(o.order_id) for o in waiting[1].values())} == \
            {"awaiting_evaluation"}

    @pytest.mark.parametrize(("name", "channel_id", "raw", "expected", "code", "field"), BAD,
                             ids=[c[0] for c in BAD])
    def test_bad_evaluations_are_refused_and_change_nothing(self, world, name, channel_id, raw, expected, code,
                                                            field):
        # When the channel posts, signed, a body that is wrong in one way
        status, body, _ = post(channel_id, None, raw=raw)
        # Then it gets a 4xx in our error shape saying what is wrong, in the channel's own field names
        assert (status, refused(status, body)) == (expected, True), body
        assert body["error"]["code"] == code, body
        if field:
            assert field in [d["field"] for d in body["error"]["details"]], body

    @pytest.mark.parametrize(("name", "channel_id", "headers", "expected"), [
        ("unsigned", "12345", lambda raw: dict(JSON), 401),
        ("signed with another channel's secret", "12345", lambda raw: signed("12315", raw), 401),
        ("signed 400 s ago", "12345", lambda raw: signed("12345", raw, skew=400), 401),
        ("signed 400 s ahead", "12345", lambda raw: signed("12345", raw, skew=-400), 401),
        ("the signature of another body", "12345", lambda raw: signed("12345", raw + b" "), 401),
        ("a garbage signature", "12345", lambda raw: {**JSON, "X-Minyi-Timestamp": "x", "X-Minyi-Signature": "y"},
         401),
        ("a form, not JSON", "12345", lambda raw: {**signed("12345", raw),
                                                   "Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("text/plain", "wz-gz", lambda raw: {**signed("wz-gz", raw), "Content-Type": "text/plain"}, 415),
        ("unknown channel", "99999", lambda raw: signed("12345", raw), 404),
        ("open311", "open311", lambda raw: signed("open311", raw), 404),
    ], ids=lambda v: v if isinstance(v, str) else None)
    def test_unauthenticated_wrong_media_type_or_unknown_channel_is_refused(self, world, name, channel_id, headers,
                                                                          expected):
        # Given a valid evaluation of a waiting order
        sample_of = channel_id if channel_id in BAD_CHANNELS else "12345"
        raw = json.dumps(evaluation_sample(sample_of), ensure_ascii=False).encode()
        # When it comes unsigned, signed wrongly, as another media type or to another channel
        status, body, _ = post(channel_id, None, raw=raw, headers=headers(raw))
        # Then it is refused in our error shape (the world checks nothing was written)
        assert (status, refused(status, body)) == (expected, True), body

    @EXAMPLES
    @given(attempt=st.data())
    def test_generated_evaluations_never_answer_5xx_nor_write(self, world, attempt):
        raw, headers, channel_id = attempt.draw(evaluation_attempts())
        headers = {k: v for k, v in headers.items() if "\n" not in v and "\r" not in v}
        status, body, _ = post(channel_id, None, raw=raw, headers=headers)
        assert refused(status, body), (status, body)


# ids are ExternalId-shaped, so a 404 is the lookup's answer, not the schema's
NEAR_MISSES = [("evaluation_id", DELETE), ("evaluation_id", None), ("evaluation_id", ""), ("evaluation_id", [1]),
               ("evaluation_id", "a b"), ("evaluation_id", "x" * 129), ("evaluation_id", 1.5),
               ("external_id", DELETE), ("external_id", None), ("external_id", {"id": 1}), ("external_id", "NO-SUCH"),
               ("satisfaction", DELETE), ("satisfaction", None), ("satisfaction", "还行"), ("satisfaction", 2.5),
               ("satisfaction", True), ("satisfaction", []), ("resolved", DELETE), ("resolved", None),
               ("resolved", "maybe"), ("resolved", [True]), ("resolved", 0.5), ("comment", "x" * 501),
               ("comment", "a\x07b"), ("comment", 12), ("comment", ["好"]), ("evaluated_at", "not a time"),
               ("evaluated_at", 1e20), ("evaluated_at", "0001-01-01"), ("evaluated_at", [2026]),
               ("evaluated_at", True)]


@st.composite
def evaluation_attempts(draw):
    """Signed noise, signed near-misses of a valid evaluation of a waiting order (other
    fields scrambled too), and unsigned or wrongly signed valid ones."""
    channel_id = draw(st.sampled_from(BAD_CHANNELS))
    kind = draw(st.sampled_from(["bytes", "json", "fields", "mutated", "mutated", "unsigned"]))
    fields = list(registry()[channel_id].evaluation.fields.values())
    if kind == "bytes":
        raw = draw(st.binary(max_size=300))
    elif kind == "json":
        raw = json.dumps(draw(json_values)).encode()
    elif kind == "fields":  # the channel's own field names, random values
        body = {}
        for path in draw(st.lists(st.sampled_from(fields), unique=True)):
            body = put(body, path, draw(json_values))
        raw = json.dumps(body, ensure_ascii=False).encode()
    else:
        body = evaluation_sample(channel_id)
        if kind == "mutated":
            for path in draw(st.lists(st.sampled_from(fields), unique=True, max_size=3)):
                body = put(body, path, draw(json_values))
            # one field broken in a way that can never be valid, last, so nothing repairs it
            field, value = draw(st.sampled_from(NEAR_MISSES))
            body = put(body, path_of(channel_id, field), value)
        raw = json.dumps(body, ensure_ascii=False).encode()
    if kind == "unsigned":
        headers = draw(st.sampled_from([
            dict(JSON), signed("12315", raw), signed(channel_id, raw, skew=draw(st.sampled_from([-4000, 400, 10**6]))),
            {**JSON, "X-Minyi-Timestamp": draw(st.text(max_size=12)), "X-Minyi-Signature": draw(st.text(max_size=70))},
        ]))
    else:
        headers = signed(channel_id, raw)
    return raw, headers, channel_id
