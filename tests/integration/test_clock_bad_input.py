"""Bad input and authorization on the clock's staff routes (延期、挂起、恢复、领导包案、批示): each
route is called by the party that may take the step, on an order in a status that allows it,
so every check is reached; then by roles that can never take it (403), by another department
(404, the same as an order that does not exist), with malformed order ids (404), on orders
whose status does not allow it (409), twice at once (one 200, one 409) and twice in a row
(409 the second time). Every refusal is a 4xx in our machine-readable shape, never a 500, and
every item of the order's partition is byte for byte what it was before. Generated JSON bodies
for three routes close the file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import quote

import boto3
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from minyi.casework import supervision
from minyi.casework.autodispatch import dispatch_received
from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.dal import orders
from minyi.models import staff as payloads
from minyi.models.order import Citizen
from minyi.routing.cache import CachedDutyList
from tests.builders import an_order
from tests.conftest import PREFIX, REGION, provisioned_account
from tests.helpers import (
    CENTRE,
    CHENGGUAN,
    LEADER,
    SHICHANG,
    audit_trail,
    call_api,
    import_sample_duty_list,
    staff_token,
)
from tests.integration.test_bad_input import json_values
from tests.integration.test_closed_loop_bad_input import _raw, shaped
from tests.integration.test_closed_loop_scoping import store_state

pytestmark = pytest.mark.filterwarnings("ignore")
EXAMPLES = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
ZHUJIAN = ("zhujian01", "department", "区住建局")  # the sample duty list's co-handler of street lights
OTHER_LEADER = ("leader02", "leader")
ORDERS_TABLE = f"{PREFIX}-OrdersTable"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


DISPATCHED_AT = at("2026-01-05T09:00:00")  # a Monday: the completion limit is the end of Monday 1/12
NOW = at("2026-01-05T10:00:00")  # the instant every staff request of this file is made at


class World:
    """One account for the module, with an order in each state a clock route starts from,
    each staff member's ID token fetched once, and the clock standing at NOW."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, str]] = {}
        self.orders: dict[str, str] = {}
        self.matcher = CachedDutyList(ttl=0).matcher
        self.count = 0

    def token(self, who) -> dict[str, str]:
        if who[0] not in self.tokens:
            self.tokens[who[0]] = staff_token(*who)
        return self.tokens[who[0]]

    def call(self, method, path, who, body=None, *, raw=None, headers=None):
        return call_api("StaffApiFunction", method, path, body, raw=raw, headers={**self.token(who), **(headers or {})})

    def post(self, order_id: str, route: str, who, body=None, *, raw=None, headers=None):
        raw = raw if raw is not None else (b"" if body is None else _raw(body))
        status, answer, _ = self.call("POST", f"/orders/{order_id}/{route}", who, raw=raw, headers=headers)
        return status, answer

    def step(self, order_id: str, route: str, who, body=None) -> dict:
        status, answer = self.post(order_id, route, who, body)
        assert status in (200, 201), answer
        return answer

    def dispatched(self) -> str:
        """A 12345 request received and dispatched to 区城管局 (with 区住建局 co-handling) at DISPATCHED_AT."""
        self.count += 1
        citizen = Citizen(name="王五", phone=f"137{self.count:08d}")  # not merged (并单) into one another
        order = an_order("received", order_id=f"MYCLOCKBAD{self.count:05d}", external_id=f"clock-bad-{self.count}",
                         title="小区路灯坏了", content=f"梅林镇华丰社区{self.count}栋路灯坏了一周", citizen=citizen,
                         received_at=DISPATCHED_AT)
        assert orders.insert_order(order, clock.epoch(DISPATCHED_AT + timedelta(minutes=5)), "intake", {})
        done = dispatch_received(order.order_id, self.matcher(), DISPATCHED_AT, "route", 0.2)
        assert done.status.value == "dispatched" and done.department == "区城管局", done
        return order.order_id

    def signed(self) -> str:
        oid = self.dispatched()
        self.step(oid, "sign", CHENGGUAN)
        return oid


EXTENSION = {"days": 3, "reason": "需第三方检测"}
PAUSE = {"reason": "waiting_for_citizen", "text": "等待诉求人提供购房合同"}
LEADER_CASE = {"leader": "leader01", "due": "2026-01-20T18:00:00+08:00", "note": "重点督办"}
INSTRUCTION = {"text": "请城管局三日内修复并回复", "due": "2026-01-09T18:00:00+08:00"}
DECISION = {"decision": "approve"}


def _walk(world: World) -> None:
    """The orders every probe is made on, each in the state its route starts from."""
    w, o = world, world.orders
    o["dispatched"] = w.dispatched()
    o["signed"] = w.signed()
    o["extension_asked"] = w.signed()
    w.step(o["extension_asked"], "extension", CHENGGUAN, EXTENSION)
    o["pause_asked"] = w.signed()
    w.step(o["pause_asked"], "pause", CHENGGUAN, PAUSE)
    o["paused"] = w.signed()
    w.step(o["paused"], "pause", CHENGGUAN, PAUSE)
    w.step(o["paused"], "pause-review", CENTRE, DECISION)
    o["leader_case"] = w.signed()
    w.step(o["leader_case"], "leader-case", CENTRE, LEADER_CASE)
    # one past every clock route's statuses: replied, approved, waiting for the citizen's evaluation
    o["replied"] = w.signed()
    w.step(o["replied"], "leader-case", CENTRE, LEADER_CASE)
    w.step(o["replied"], "reply", CHENGGUAN, {"result": "resolved", "text": "路灯已修复。"})
    w.step(o["replied"], "reply-review", CENTRE, DECISION)
    expected = {"dispatched": "dispatched", "signed": "signed", "extension_asked": "signed", "pause_asked": "signed",
                "paused": "paused", "leader_case": "signed", "replied": "awaiting_evaluation"}
    assert {k: orders.get_order(v).status.value for k, v in o.items()} == expected


@pytest.fixture(scope="module")
def populated():
    with provisioned_account(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: NOW)
        import_sample_duty_list()
        world = World()
        _walk(world)
        yield world


def partition(order_id: str) -> list[str]:
    """Every item of the order's partition (the order, its co-handler items, its handling
    records, its audit trail), as stored."""
    client = boto3.client("dynamodb", region_name=REGION)
    items, kwargs = [], {"TableName": ORDERS_TABLE, "ConsistentRead": True, "KeyConditionExpression": "pk = :pk",
                         "ExpressionAttributeValues": {":pk": {"S": f"ORDER#{order_id}"}}}
    while True:
        page = client.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(json.dumps(item, sort_keys=True, ensure_ascii=False) for item in items)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def world(populated):
    """The module's world; a test on it leaves every table, bucket and queue as it found them."""
    before = store_state()
    yield populated
    assert store_state() == before, "a refused request changed the store"


def refused(world: World, order_id: str, route: str, who, expected: int, body=None, *, raw=None, headers=None):
    """The request is refused with `expected` in our shape, and the order's partition is untouched."""
    before = partition(order_id)
    status, answer = world.post(order_id, route, who, body, raw=raw, headers=headers)
    assert status == expected, (route, status, answer)
    assert shaped(status, answer), answer
    assert partition(order_id) == before, f"{route}: a refused request changed the order"
    return answer


# ------------------------------------------------------------------ bad bodies
# route -> (the order it is called on, the party that may take it, a valid body)
ROUTES = {
    "extension": ("signed", CHENGGUAN, EXTENSION),
    "extension-review": ("extension_asked", CENTRE, DECISION),
    "pause": ("signed", CHENGGUAN, PAUSE),
    "pause-review": ("pause_asked", CENTRE, DECISION),
    "resume": ("paused", CHENGGUAN, None),  # says nothing: an empty body or {}
    "leader-case": ("signed", CENTRE, LEADER_CASE),
    "instructions": ("leader_case", LEADER, INSTRUCTION),
}
TEXT_PLAIN = {"Content-Type": "text/plain"}


def _with(route: str, **changes) -> dict:
    return {**(ROUTES[route][2] or {}), **changes}


def _without(route: str, *names: str) -> dict:
    return {k: v for k, v in (ROUTES[route][2] or {}).items() if k not in names}


def common(route: str) -> list[tuple[str, bytes, dict | None, int]]:
    """Not JSON, not an object, absurd, or the valid body wrapped, widened, or reaching for the order's own fields."""
    valid = ROUTES[route][2] or {}
    cases = [
        ("truncated json", b'{"days": 3', None, 400),
        ("not json", b"{not json", None, 400),
        ("invalid utf-8", b"\xff\xfe{}", None, 400),
        ("a form body", b"days=3&reason=x", None, 400),
        ("json array", b"[]", None, 400),
        ("json null", b"null", None, 400),
        ("json string", b'"approve"', None, 400),
        ("json number", b"3", None, 400),
        ("json boolean", b"true", None, 400),
        ("arrays nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, None, 400),
        ("objects nested 40 deep", b'{"a":' * 40 + b"1" + b"}" * 40, None, 400),
        ("an integer of 5,000 digits", b'{"days": ' + b"9" * 5000 + b"}", None, 400),
        ("NaN", b'{"days": NaN}', None, 400),
        ("Infinity", b'{"days": Infinity}', None, 400),
        ("a huge body", _raw({**valid, "x": "长" * 600_000}), None, 400),
        ("the valid body in an array", _raw([valid]), None, 400),
        ("an unknown field", _raw({**valid, "x": 1}), None, 400),
        ("setting the status", _raw({**valid, "status": "paused"}), None, 400),
        ("setting the due date", _raw({**valid, "due_at": "2030-01-01T00:00:00+08:00"}), None, 400),
        ("setting the extensions granted", _raw({**valid, "extensions_granted": 5}), None, 400),
        ("naming another order", _raw({**valid, "order_id": "MYNOSUCHORDER0001"}), None, 400),
        ("acting as someone else", _raw({**valid, "by": "centre01"}), None, 400),
        ("text/plain", _raw(valid) if valid else b"{}", TEXT_PLAIN, 415),
    ]
    if route != "resume":
        cases += [("empty body", b"", None, 400), ("whitespace body", b" \n\t ", None, 400),
                  ("empty object", b"{}", None, 400),
                  ("keys upper-cased", _raw({k.upper(): v for k, v in valid.items()}), None, 400)]
    return cases


def text_cases(route: str, name: str, *, required: bool = True) -> list:
    """A free-text field (at least 2, at most 1000 characters): wrong types, empty, too long, control characters."""
    cases = [(f"{name} too long", _with(route, **{name: "长" * 1001})),
             (f"{name} one character", _with(route, **{name: "长"})),
             (f"{name} a NUL", _with(route, **{name: "需要\x00检测"})),
             (f"{name} an escape sequence", _with(route, **{name: "需要\x1b[31m检测"})),
             (f"{name} a DEL", _with(route, **{name: "需要\x7f检测"})),
             (f"{name} a lone surrogate", _with(route, **{name: "需要\ud800检测"})),
             (f"{name} empty", _with(route, **{name: ""})), (f"{name} blank", _with(route, **{name: "  \n "})),
             (f"{name} a number", _with(route, **{name: 12345})),
             (f"{name} an array", _with(route, **{name: ["需第三方检测"]})),
             (f"{name} an object", _with(route, **{name: {"zh": "需第三方检测"}})),
             (f"{name} a boolean", _with(route, **{name: True}))]
    if required:
        cases += [(f"{name} missing", _without(route, name)), (f"{name} null", _with(route, **{name: None}))]
    return cases


def days_cases(route: str, name: str = "days", *, required: bool = True) -> list:
    values = [("a string", "3"), ("true", True), ("false", False), ("1.5", 1.5), ("3.0", 3.0), ("0", 0), ("-1", -1),
              ("61", 61), ("10**20", 10 ** 20), ("1e20", 1e20), ("an array", [3]), ("an object", {"days": 3})]
    cases = [(f"{name} {label}", _with(route, **{name: value})) for label, value in values]
    if required:
        cases += [(f"{name} missing", _without(route, name)), (f"{name} null", _with(route, **{name: None}))]
    return cases


def decision_cases(route: str) -> list:
    return [("decision unknown", {"decision": "maybe"}), ("decision upper case", {"decision": "APPROVE"}),
            ("decision in Chinese", {"decision": "同意"}), ("decision padded", {"decision": " approve"}),
            ("decision a boolean", {"decision": True}), ("decision a number", {"decision": 1}),
            ("decision in an array", {"decision": ["approve"]}), ("decision null", {"decision": None}),
            ("decision missing", {"note": "同意延期"}), ("decision empty", {"decision": ""}),
            ("approve true", {"approve": True}),
            *text_cases(route, "note", required=False)]


def moment_cases(route: str, name: str, *, required: bool) -> list:
    """A time a person sets: ISO 8601, after now and within a year."""
    values = [("in year 1", "0001-01-01T00:00:00+08:00"), ("naive in year 1", "0001-01-01T00:00:00"),
              ("in year 9999", "9999-12-31T23:59:59+08:00"), ("naive in year 9999", "9999-12-31T23:59:59"),
              ("at the far offset of year 9999", "9999-12-31T23:59:59-23:59"),
              ("garbage", "yesterday"), ("month 13", "2026-13-01T00:00:00+08:00"),
              ("hour 25", "2026-01-20T25:00:00+08:00"), ("offset +24:00", "2026-01-20T18:00:00+24:00"),
              ("basic format", "20260120T180000"), ("a date in words", "2026年1月20日"),
              ("empty", ""), ("blank", "  "), ("too long", "2026-01-20T18:00:00+08:00" + "0" * 100),
              ("far past", "2001-01-01T00:00:00+08:00"), ("naive far past", "2001-01-01T00:00:00"),
              ("an hour ago", "2026-01-05T09:00:00+08:00"), ("now", "2026-01-05T10:00:00+08:00"),
              ("more than a year ahead", "2027-01-06T10:00:01+08:00"), ("in 2099", "2099-12-31T00:00:00+08:00"),
              ("in 2101", "2101-01-01T00:00:00+08:00"),
              ("a unix time", 1768900000), ("a unix time as a string", "1768900000"),
              ("unix milliseconds", 1768900000000), ("a float", 1.5), ("1e20", 1e20), ("true", True),
              ("an array", ["2026-01-20T18:00:00+08:00"]), ("an object", {"date": "2026-01-20"})]
    cases = [(f"{name} {label}", _with(route, **{name: value})) for label, value in values]
    if required:
        cases += [(f"{name} missing", _without(route, name)), (f"{name} null", _with(route, **{name: None}))]
    return cases


SPECIFIC = {
    "extension": [*days_cases("extension"), *text_cases("extension", "reason"),
                  ("days over the county's 5", _with("extension", days=6)),
                  ("days 60, the centre's most", _with("extension", days=60))],
    "extension-review": [*decision_cases("extension-review"),
                         *days_cases("extension-review", required=False),
                         *(case for case in days_cases("extension-review", "grant_more", required=False)
                           if case[0] != "grant_more 0"),
                         ("grant_more 6", _with("extension-review", grant_more=6)),
                         ("grant_more null", _with("extension-review", grant_more=None))],
    "pause": [("reason unknown", _with("pause", reason="waiting")),
              ("reason upper case", _with("pause", reason="WAITING_FOR_CITIZEN")),
              ("reason in Chinese", _with("pause", reason="等待诉求人")),
              ("reason a number", _with("pause", reason=1)), ("reason empty", _with("pause", reason="")),
              ("reason null", _with("pause", reason=None)), ("reason missing", _without("pause", "reason")),
              ("reason in an array", _with("pause", reason=["other"])),
              *text_cases("pause", "text", required=False), *moment_cases("pause", "until", required=False)],
    "pause-review": decision_cases("pause-review"),
    "resume": [("a reason", {"reason": "材料已到"}), ("a date", {"until": "2026-01-20T18:00:00+08:00"}),
               ("a null field", {"x": None}), ("an empty key", {"": 1}), ("an array of objects", [{}])],
    "leader-case": [("leader missing", _without("leader-case", "leader")),
                    ("leader null", _with("leader-case", leader=None)),
                    ("leader empty", _with("leader-case", leader="")),
                    ("leader blank", _with("leader-case", leader="  ")),
                    ("leader with a space", _with("leader-case", leader="leader 01")),
                    ("leader a path", _with("leader-case", leader="../admin")),
                    ("leader too long", _with("leader-case", leader="l" * 129)),
                    ("leader a NUL", _with("leader-case", leader="leader\x0001")),
                    ("leader a number", _with("leader-case", leader=1)),
                    ("leader in an array", _with("leader-case", leader=["leader01"])),
                    *moment_cases("leader-case", "due", required=True), *text_cases("leader-case", "note",
                                                                                   required=False)],
    "instructions": [*text_cases("instructions", "text"), *moment_cases("instructions", "due", required=False)],
}

CASES = [(route, name, raw, headers, expected) for route in ROUTES
         for name, raw, headers, expected in [*common(route), *((n, _raw(b), None, 400) for n, b in SPECIFIC[route])]]


def test_every_clock_route_has_at_least_25_hand_written_bad_bodies():
    for route in ROUTES:
        assert len([c for c in CASES if c[0] == route]) >= 25, route


@pytest.mark.parametrize(("route", "name", "raw", "headers", "expected"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_clock_bad_bodies(world, route, name, raw, headers, expected):
    state, who, _ = ROUTES[route]
    answer = refused(world, world.orders[state], route, who, expected, raw=raw, headers=headers)
    if expected == 400:
        assert answer["error"]["code"] in ("validation_error", "malformed_json", "payload_too_large"), answer


# ------------------------------------------------------------------ who, and which order
NEVER = {  # roles that can never take the step, whatever the order: 403 before the body or the order is read
    "extension": (CENTRE, LEADER), "extension-review": (CHENGGUAN, LEADER), "pause": (CENTRE, LEADER),
    "pause-review": (CHENGGUAN, LEADER), "resume": (LEADER,), "leader-case": (CHENGGUAN, LEADER),
    "instructions": (CENTRE, CHENGGUAN)}
ROLE_CASES = [(route, who) for route, roles in NEVER.items() for who in roles]


@pytest.mark.parametrize(("route", "who"), ROLE_CASES, ids=[f"{r}: {w[0]}" for r, w in ROLE_CASES])
def test_a_role_that_can_never_take_the_step_is_403(world, route, who):
    state, _, body = ROUTES[route]
    answer = refused(world, world.orders[state], route, who, 403, body)
    assert answer["error"]["code"] == "forbidden", answer
    # and so it is with a body it would not even parse: the role is checked first
    refused(world, world.orders[state], route, who, 403, raw=b"{not json")


# a party the order gives no part in this step: a co-handler for the lead's steps, a leader the case does not name
WRONG_PARTY = [("extension", ZHUJIAN), ("pause", ZHUJIAN), ("resume", ZHUJIAN), ("instructions", OTHER_LEADER)]


@pytest.mark.parametrize(("route", "who"), WRONG_PARTY, ids=[f"{r}: {w[0]}" for r, w in WRONG_PARTY])
def test_a_party_the_order_gives_no_part_in_the_step_is_403(world, route, who):
    state, _, body = ROUTES[route]
    assert refused(world, world.orders[state], route, who, 403, body)["error"]["code"] == "forbidden"


DEPARTMENT_ROUTES = ["extension", "pause", "resume"]


@pytest.mark.parametrize("route", DEPARTMENT_ROUTES)
def test_another_departments_order_is_404_exactly_like_an_order_that_does_not_exist(world, route):
    state, _, body = ROUTES[route]
    order_id = world.orders[state]
    theirs = refused(world, order_id, route, SHICHANG, 404, body)
    missing = refused(world, "MYNOSUCHORDER0001", route, SHICHANG, 404, body)
    assert theirs["error"]["code"] == missing["error"]["code"] == "not_found"
    assert theirs["error"]["message"].replace(order_id, "?") == missing["error"]["message"].replace(
        "MYNOSUCHORDER0001", "?")
    # nor does reading it tell more
    status, read, _ = world.call("GET", f"/staff/orders/{order_id}", SHICHANG)
    assert status == 404 and shaped(status, read) and read["error"]["code"] == "not_found"


BAD_IDS = ["M" * 65, "MY-CLOCK-0001", "MY_CLOCK_0001", "订单00000001", "MY CLOCK 01", "abc", "MYCLOCK%00", "..",
           "MYCLOCKBAD00001\n", "ＭＹＣＬＯＣＫ００１"]


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_malformed_order_id_is_404(world, route):
    _, who, body = ROUTES[route]
    for bad in BAD_IDS:
        answer = refused(world, quote(bad, safe=""), route, who, 404, body)
        assert answer["error"]["code"] == "not_found", (bad, answer)
    for bad in BAD_IDS:
        status, read, _ = world.call("GET", f"/staff/orders/{quote(bad, safe='')}", CENTRE)
        assert status == 404 and shaped(status, read), (bad, read)


# route, the order's state, who, the body: the status (or what waits on the order) does not allow the step
NOT_NOW = [
    ("extension", "replied", CHENGGUAN, EXTENSION),  # waiting for the citizen's evaluation: the work is done
    ("extension", "paused", CHENGGUAN, EXTENSION),
    ("extension", "leader_case", CHENGGUAN, EXTENSION),  # the leader sets the deadline
    ("extension-review", "signed", CENTRE, DECISION),  # nothing asked
    ("extension-review", "replied", CENTRE, DECISION),
    ("pause", "dispatched", CHENGGUAN, PAUSE),  # not signed for
    ("pause", "paused", CHENGGUAN, PAUSE),
    ("pause", "replied", CHENGGUAN, PAUSE),
    ("pause-review", "signed", CENTRE, DECISION),  # nothing asked
    ("pause-review", "paused", CENTRE, DECISION),
    ("resume", "signed", CHENGGUAN, None),  # not paused
    ("resume", "signed", CENTRE, None),
    ("resume", "pause_asked", CENTRE, None),  # asked, not approved
    ("resume", "replied", CENTRE, None),
    ("leader-case", "replied", CENTRE, LEADER_CASE),
    ("leader-case", "leader_case", CENTRE, LEADER_CASE),  # the same leader with the same deadline again
    ("instructions", "replied", LEADER, INSTRUCTION),
]


@pytest.mark.parametrize(("route", "state", "who", "body"), NOT_NOW, ids=[f"{c[0]} on {c[1]} by {c[2][0]}"
                                                                          for c in NOT_NOW])
def test_a_step_its_status_does_not_allow_is_409(world, route, state, who, body):
    answer = refused(world, world.orders[state], route, who, 409, body)
    assert answer["error"]["code"] == "conflict", answer


def test_the_clock_queues_are_the_centres_and_leaders_not_a_departments(world):
    for queue in ("unsigned", "extension_review", "pause_review", "leader_case_proposals", "leader_cases"):
        status, page, _ = world.call("GET", f"/staff/queues/{queue}", CENTRE)
        assert status == 200 and page["queue"] == queue, page
        for who in (CHENGGUAN, ZHUJIAN):
            status, body, _ = world.call("GET", f"/staff/queues/{queue}", who)
            assert status == 403 and shaped(status, body), (queue, body)
    status, page, _ = world.call("GET", "/staff/queues/extension_review", CENTRE)
    assert world.orders["extension_asked"] in [o["order_id"] for o in page["orders"]]
    # a leader reads only the cases naming that leader
    status, page, _ = world.call("GET", "/staff/queues/leader_cases", OTHER_LEADER)
    assert status == 200 and page["orders"] == []


# ------------------------------------------------------------------ lost races and replays
def lose_the_race(monkeypatch, world: World, name: str, order_id: str, other) -> dict:
    """The next call of `supervision.<name>` reads the order, then, before its write, `other`
    (another person's request) is made and commits: the first one's conditional write must fail.
    Returns what the other request answered and the partition right after it."""
    real, seen = getattr(supervision, name), {}

    def slow(*args, **kwargs):
        step = real(*args, **kwargs)

        def step_while_the_other_commits(order):
            monkeypatch.setattr(supervision, name, real)
            seen["other"] = other()
            seen["partition"] = partition(order_id)
            return step(order)
        return step_while_the_other_commits

    monkeypatch.setattr(supervision, name, slow)
    return seen


def lost(world: World, order_id: str, route: str, who, body, seen: dict) -> None:
    status, answer = world.post(order_id, route, who, body)
    assert status == 409 and shaped(status, answer) and answer["error"]["code"] == "conflict", answer
    assert seen["other"][0] == 200, seen["other"]
    assert partition(order_id) == seen["partition"], "the loser of the race wrote something"


def test_two_reviews_of_the_same_extension_request_one_wins_and_one_is_409(populated, monkeypatch):
    w = populated
    oid = w.signed()
    w.step(oid, "extension", CHENGGUAN, EXTENSION)
    seen = lose_the_race(monkeypatch, w, "review_extension", oid,
                         lambda: w.post(oid, "extension-review", CENTRE, {"decision": "reject", "note": "不同意延期"}))
    lost(w, oid, "extension-review", CENTRE, {"decision": "approve", "days": 5}, seen)
    order = orders.get_order(oid)
    assert order.extension_request is None and [e.approved for e in order.extensions] == [False]
    assert order.due_at == at("2026-01-13T00:00:00")  # the loser's approval moved nothing
    decided = [e["action"] for e in audit_trail(oid) if e["action"] in ("extension_approved", "extension_refused")]
    assert decided == ["extension_refused"]
    # and a third review, later, finds nothing to decide and changes nothing
    refused(w, oid, "extension-review", CENTRE, 409, DECISION)


def test_two_reviews_of_the_same_pause_request_one_wins_and_one_is_409(populated, monkeypatch):
    w = populated
    oid = w.signed()
    w.step(oid, "pause", CHENGGUAN, PAUSE)
    seen = lose_the_race(monkeypatch, w, "review_pause", oid, lambda: w.post(oid, "pause-review", CENTRE, DECISION))
    lost(w, oid, "pause-review", CENTRE, {"decision": "reject", "note": "材料已齐"}, seen)
    order = orders.get_order(oid)
    assert order.status.value == "paused" and order.pause_request is None and len(order.pauses) == 1
    assert [e["action"] for e in audit_trail(oid) if e["action"] in ("pause_approved", "pause_refused")] \
        == ["pause_approved"]
    refused(w, oid, "pause-review", CENTRE, 409, DECISION)


def test_the_department_and_the_centre_resuming_at_once_resume_once(populated, monkeypatch):
    w = populated
    oid = w.signed()
    w.step(oid, "pause", CHENGGUAN, PAUSE)
    w.step(oid, "pause-review", CENTRE, DECISION)
    seen = lose_the_race(monkeypatch, w, "resume", oid, lambda: w.post(oid, "resume", CENTRE))
    lost(w, oid, "resume", CHENGGUAN, None, seen)
    assert [e["action"] for e in audit_trail(oid)].count("resumed") == 1
    assert orders.get_order(oid).status.value == "signed"
    refused(w, oid, "resume", CHENGGUAN, 409)


def test_two_extension_requests_at_once_one_is_asked_and_one_is_409(populated, monkeypatch):
    w = populated
    oid = w.signed()
    seen = lose_the_race(monkeypatch, w, "request_extension", oid,
                         lambda: w.post(oid, "extension", CHENGGUAN, {"days": 2, "reason": "还需两天"}))
    lost(w, oid, "extension", CHENGGUAN, EXTENSION, seen)
    assert orders.get_order(oid).extension_request.days == 2
    assert [e["action"] for e in audit_trail(oid)].count("extension_requested") == 1


def test_a_replayed_extension_request_is_409_and_changes_nothing(populated):
    w = populated
    oid = w.signed()
    assert w.post(oid, "extension", CHENGGUAN, EXTENSION)[0] == 200
    answer = refused(w, oid, "extension", CHENGGUAN, 409, EXTENSION)  # the partition is compared inside
    assert answer["error"]["code"] == "conflict"
    assert [e["action"] for e in audit_trail(oid)].count("extension_requested") == 1


def test_replayed_pause_leader_case_and_review_requests_are_409_and_change_nothing(populated):
    w = populated
    oid = w.signed()
    assert w.post(oid, "pause", CHENGGUAN, PAUSE)[0] == 200
    refused(w, oid, "pause", CHENGGUAN, 409, PAUSE)
    assert w.post(oid, "leader-case", CENTRE, LEADER_CASE)[0] == 200
    refused(w, oid, "leader-case", CENTRE, 409, LEADER_CASE)
    assert w.post(oid, "pause-review", CENTRE, {"decision": "reject", "note": "不予挂起"})[0] == 200
    refused(w, oid, "pause-review", CENTRE, 409, {"decision": "reject", "note": "不予挂起"})
    trail = [e["action"] for e in audit_trail(oid)]
    assert [trail.count(a) for a in ("pause_requested", "leader_case_assigned", "pause_refused")] == [1, 1, 1]


# ------------------------------------------------------------------ generated bodies
def _ahead(moment) -> bool:
    return moment is None or NOW < moment <= NOW + timedelta(days=366)


def accepted(route: str, body) -> bool:
    """Would the step take this body on the route's order? Those are left out: the sweep is about the others."""
    model = {"extension": payloads.ExtensionRequestBody, "pause": payloads.PauseRequestBody,
             "leader-case": payloads.LeaderCaseRequest}[route]
    if not isinstance(body, dict):
        return False
    try:
        request = model.model_validate(body)
    except ValidationError:
        return False
    if route == "extension":
        return request.days <= 5
    return _ahead(request.until if route == "pause" else request.due)


texts = st.text(max_size=30) | st.sampled_from(["需第三方检测", "长" * 1001, "a\x00b", "长", " ", ""])
moments = st.sampled_from(["2026-01-20T18:00:00+08:00", "2026-01-20T18:00:00", "2026-01-20", "0001-01-01T00:00:00",
                           "9999-12-31T23:59:59", "2027-06-01T00:00:00+08:00", "2026-01-05T09:00:00+08:00",
                           "yesterday", "", 1768900000, "1768900000"]) | st.datetimes().map(lambda d: d.isoformat())
NEAR = {  # values near what each field takes, so generated objects reach past the first check
    "days": st.integers(min_value=-3, max_value=70) | st.sampled_from([10 ** 20, 1e20, 1.5, "3", True, None]),
    "reason": texts | st.sampled_from(["waiting_for_citizen", "third_party", "other", "WAITING", "waiting"]),
    "text": texts, "note": texts, "until": moments, "due": moments,
    "leader": st.sampled_from(["leader01", "leader02", "leader 01", "", "l" * 129, "../x"]) | st.text(max_size=12),
}
FIELDS = {"extension": ("days", "reason"), "pause": ("reason", "text", "until"),
          "leader-case": ("leader", "due", "note")}


@st.composite
def objects_over_fields(draw, route: str):
    names = [*FIELDS[route], "x", "status", "due_at"]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    near = {name: NEAR.get(name, json_values) for name in chosen}
    return {name: draw(near[name] | json_values if draw(st.booleans()) else near[name]) for name in chosen}


@st.composite
def near_misses(draw, route: str):
    """The valid body with one to three of its fields (or an unknown one) changed or dropped."""
    body = dict(ROUTES[route][2])
    for name in draw(st.lists(st.sampled_from([*FIELDS[route], "x"]), unique=True, min_size=1, max_size=3)):
        if name in body and draw(st.integers(0, 4)) == 0:
            del body[name]
        else:
            body[name] = draw(NEAR.get(name, json_values))
    return body


@EXAMPLES
@pytest.mark.parametrize("route", list(FIELDS))
@given(data=st.data())
def test_clock_generated_bodies(populated, route, data):
    body = data.draw(st.one_of(json_values, objects_over_fields(route), near_misses(route)), label="body")
    assume(not accepted(route, body))
    state, who, _ = ROUTES[route]
    oid = populated.orders[state]
    before = partition(oid)
    status, answer = populated.post(oid, route, who, raw=json.dumps(body, ensure_ascii=False).encode())
    assert shaped(status, answer), (status, answer)
    assert partition(oid) == before


def test_an_extension_asked_before_a_leader_case_cannot_move_the_leaders_deadline(populated):
    """The leader sets a leader case's deadline: an extension request still waiting when the case
    starts may be refused, but approving it is 409 and leaves the leader's deadline where it is."""
    w = populated
    oid = w.signed()
    w.step(oid, "extension", CHENGGUAN, EXTENSION)
    w.step(oid, "leader-case", CENTRE, LEADER_CASE)
    answer = refused(w, oid, "extension-review", CENTRE, 409, {"decision": "approve"})
    assert answer["error"]["code"] == "conflict"
    assert orders.get_order(oid).due_at == at("2026-01-20T18:00:00")
    decided = w.step(oid, "extension-review", CENTRE, {"decision": "reject", "note": "已领导包案，由领导定期限"})
    assert decided["due_at"] == "2026-01-20T18:00:00+08:00" and decided["extension_request"] is None
