"""Bad input on the closed loop's endpoints, each called by the party that may take the step
on an order in a status that allows it, so that every check is reached: at least 25
hand-written bad bodies per endpoint, then hypothesis-generated bodies (random JSON values,
and random objects over the endpoint's own field names with near-miss values). Every answer
is a 4xx in our machine-readable shape and every table and bucket holds exactly what it held
before. Odd filter values on a department's inbox and odd queue names are 400/404, never 500."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from minyi.core import settings as minyi_settings
from minyi.dal import orders
from minyi.models import staff as payloads
from minyi.models.lifecycle import OrderStatus
from minyi.routing import jurisdiction
from tests.conftest import load_handler_module, provisioned_account
from tests.helpers import (
    CENTRE,
    CHENGGUAN,
    LEADER,
    StreamReader,
    call_api,
    import_sample_duty_list,
    post_channel,
    request_body,
    staff_token,
)
from tests.integration.test_bad_input import json_values
from tests.integration.test_closed_loop_scoping import WALK as WALKS  # the walk from `dispatched` to each status
from tests.integration.test_closed_loop_scoping import ZHUJIAN, store_state

pytestmark = pytest.mark.filterwarnings("ignore")
EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
MIB = 1024 * 1024
UNKNOWN_ATTACHMENT = "A" + "0" * 24


class World:
    """One account for the module: an order in each status a closed-loop step starts from,
    and each staff member's ID token, fetched once."""

    def __init__(self, aws) -> None:
        self.aws = aws
        self.tokens: dict[str, dict[str, str]] = {}
        self.orders: dict[str, str] = {}
        self.attachments: dict[str, str] = {}

    def token(self, who) -> dict[str, str]:
        if who[0] not in self.tokens:
            self.tokens[who[0]] = staff_token(*who)
        return self.tokens[who[0]]

    def call(self, method, path, who, body=None, *, raw=None, headers=None, query=None):
        return call_api("StaffApiFunction", method, path, body, raw=raw, query=query,
                        headers={**self.token(who), **(headers or {})})

    def step(self, order_id, action, who, body=None):
        status, answer, _ = self.call("POST", f"/orders/{order_id}/{action}", who, body)
        assert status in (200, 201), answer
        return answer




@pytest.fixture(scope="module")
def populated():
    with provisioned_account() as aws:
        import_sample_duty_list()
        world = World(aws)
        routes = StreamReader(aws, "RouteFunction")
        for n, status in enumerate(WALKS):
            # different citizens and addresses: none of them is merged into another (并单)
            citizen = {"name": "李四", "phone": f"1390000001{n}"}
            ack = post_channel("12345", request_body(f"bad-loop-{n}", citizen=citizen,
                                                     address=f"梅林镇华丰社区{n}栋"))[1]
            assert routes.deliver() == []
            assert orders.get_order(ack["order_id"]).department == "区城管局"
            for action, who, body in WALKS[status]:
                world.step(ack["order_id"], action, who, body)
            assert orders.get_order(ack["order_id"]).status.value == status
            world.orders[status] = ack["order_id"]
        # on the signed order: one attachment registered and never uploaded, one uploaded short
        signed = world.orders["signed"]
        world.attachments["pending"] = world.step(signed, "attachments", CHENGGUAN, {
            "filename": "现场.pdf", "content_type": "application/pdf", "size": 100}, )["attachment_id"]
        short = world.step(signed, "attachments", CHENGGUAN,
                           {"filename": "现场.png", "content_type": "image/png", "size": 100})
        assert requests.put(short["upload_url"], data=b"x" * 10, headers={"Content-Type": "image/png"},
                            timeout=10).status_code == 200
        world.attachments["short"] = short["attachment_id"]
        yield world


@pytest.fixture
def world(populated):
    before = store_state()
    yield populated
    assert store_state() == before, "a rejected request changed the store"


def shaped(status: int, body) -> bool:
    """A 4xx in our shape: {"error": {"code", "message", "details"?}}."""
    if not 400 <= status < 500 or not isinstance(body, dict) or set(body) != {"error"}:
        return False
    error = body["error"]
    return (isinstance(error.get("code"), str) and isinstance(error.get("message"), str) and error["message"]
            and set(error) <= {"code", "message", "details"} and isinstance(error.get("details", []), list))


# ------------------------------------------------------------------ who calls, on which order
# action -> (the order's status, the party that may take the step, the endpoint's model, a valid body)
ENDPOINTS = {
    "sign": ("dispatched", CHENGGUAN, payloads.SignRequest, {}),
    "contact": ("signed", CHENGGUAN, payloads.ContactRequest, {"method": "phone", "note": "已电话联系诉求人"}),
    "opinions": ("signed", ZHUJIAN, payloads.OpinionRequest, {"text": "住建无异议"}),
    "attachments": ("signed", CHENGGUAN, payloads.AttachmentRequest,
                    {"filename": "现场照片.jpg", "content_type": "image/jpeg", "size": 2048}),
    "reply": ("signed", CHENGGUAN, payloads.ReplyRequest, {"result": "resolved", "text": "路灯已修复。"}),
    "reply-review": ("reply_review", CENTRE, payloads.ReplyReviewRequest, {"decision": "reject", "reason": "请补充"}),
    "evaluation": ("awaiting_evaluation", CENTRE, payloads.EvaluationRequest,
                   {"satisfaction": "satisfied", "resolved": True, "method": "phone"}),
    "reopen": ("dissatisfied", CENTRE, payloads.ReopenRequest, {"reason": "路灯再次损坏", "days": 3}),
    "close": ("dissatisfied", CENTRE, payloads.CloseRequest, {"reason": "policy_limit", "text": "政策不允许"}),
    "joint-meeting-decision": ("joint_meeting", CENTRE, payloads.DecisionRequest,
                               {"department": "区住建局", "note": "会议决定"}),
    "mayor-day-decision": ("mayor_day", LEADER, payloads.DecisionRequest,
                           {"department": "区城管局", "note": "区长决定"}),
}


def target(world: World, action: str) -> tuple[str, tuple]:
    status, who, _, _ = ENDPOINTS[action]
    path = "joint-meeting-decision" if action.endswith("-decision") else action
    return f"/orders/{world.orders[status]}/{path}", who


def _raw(value) -> bytes:
    """JSON as UTF-8; a lone surrogate (which UTF-8 cannot hold) as the JSON escape \\udXXX."""
    if isinstance(value, bytes):
        return value
    try:
        return json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value).encode()


def _with(action: str, **changes) -> dict:
    return {**ENDPOINTS[action][3], **changes}


def _without(action: str, *names: str) -> dict:
    return {k: v for k, v in ENDPOINTS[action][3].items() if k not in names}


TEXT_PLAIN = {"Content-Type": "text/plain"}


def common(action: str) -> list[tuple[str, bytes, dict | None, int]]:
    """Bad bodies every endpoint refuses: not JSON, not an object, absurd, or the valid body
    wrapped, widened or given a field of the order's own."""
    valid = ENDPOINTS[action][3]
    cases = [
        ("truncated json", b'{"a": 1', None, 400),
        ("not json", b"{not json", None, 400),
        ("invalid utf-8", b"\xff\xfe{}", None, 400),
        ("invalid utf-8 in a string", b'{"note": "\xe4\xb8"}', None, 400),
        ("a form body", b"note=a&text=b", None, 400),
        ("json array", b"[]", None, 400),
        ("json null", b"null", None, 400),
        ("json string", b'"text"', None, 400),
        ("json number", b"42", None, 400),
        ("json boolean", b"true", None, 400),
        ("arrays nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, None, 400),
        ("objects nested 40 deep", b'{"a":' * 40 + b"1" + b"}" * 40, None, 400),
        ("an integer of 5,000 digits", b'{"x": ' + b"9" * 5000 + b"}", None, 400),
        ("NaN", b'{"x": NaN}', None, 400),
        ("a huge body", _raw({**valid, "x": "长" * 600_000}), None, 400),
        ("the valid body in an array", _raw([valid]), None, 400),
        ("an extra field", _raw({**valid, "x": 1}), None, 400),
        ("setting the status", _raw({**valid, "status": "closed"}), None, 400),
        ("naming another order", _raw({**valid, "order_id": "MYNOSUCHORDER0001"}), None, 400),
        ("naming another department", _raw({**valid, "department_of": "区市场监管局"}), None, 400),
        ("text/plain", _raw(valid), TEXT_PLAIN, 415),
    ]
    if action != "sign":  # 签收 says nothing: an empty body is its valid body
        cases += [("empty body", b"", None, 400), ("whitespace body", b" \n\t ", None, 400),
                  ("empty object", b"{}", None, 400),
                  ("keys upper-cased", _raw({k.upper(): v for k, v in valid.items()}), None, 400)]
    return cases


def text_cases(action: str, name: str, maximum: int, *, required: bool = True, minimum: int = 1) -> list:
    """A free-text field: wrong types, empty, too long, control characters, lone surrogates."""
    cases = [(f"{name} too long", _with(action, **{name: "长" * (maximum + 1)})),
             (f"{name} control character", _with(action, **{name: "已联系\x00诉求人"})),
             (f"{name} escape character", _with(action, **{name: "已联系\x1b[31m诉求人"})),
             (f"{name} lone surrogate", _with(action, **{name: "已联系\ud800诉求人"})),
             (f"{name} a number", _with(action, **{name: 12345})),
             (f"{name} an array", _with(action, **{name: ["已联系"]})),
             (f"{name} an object", _with(action, **{name: {"zh": "已联系"}})),
             (f"{name} a boolean", _with(action, **{name: True}))]
    if minimum > 1:
        cases.append((f"{name} shorter than {minimum}", _with(action, **{name: "长" * (minimum - 1)})))
    if required:
        cases += [(f"{name} missing", _without(action, name)), (f"{name} null", _with(action, **{name: None})),
                  (f"{name} empty", _with(action, **{name: ""})), (f"{name} blank", _with(action, **{name: "  \n "}))]
    return cases


def enum_cases(action: str, name: str, word: str) -> list:
    return [(f"{name} unknown word", _with(action, **{name: "unknown"})),
            (f"{name} upper case", _with(action, **{name: word.upper()})),
            (f"{name} in Chinese", _with(action, **{name: "满意"})),
            (f"{name} padded", _with(action, **{name: f" {word}x"})),
            (f"{name} a number", _with(action, **{name: 1})),
            (f"{name} in an array", _with(action, **{name: [word]})),
            (f"{name} null", _with(action, **{name: None})),
            (f"{name} missing", _without(action, name))]


SPECIFIC = {
    "sign": [("a note", {"note": "已签收"}), ("a department", {"department": "区城管局"}),
             ("signed_by", {"signed_by": "someone"}), ("signed_at", {"signed_at": "2026-11-25T10:00:00+08:00"}),
             ("an empty key", {"": 1}), ("an array of objects", [{}]), ("a null field", {"x": None}),
             ("the order's status", {"status": "signed"})],
    "contact": [*enum_cases("contact", "method", "phone"), *text_cases("contact", "note", 1000)],
    "opinions": [*text_cases("opinions", "text", 2000),
                 ("the department of the opinion", _with("opinions", department="区城管局"))],
    "attachments": [
        ("size 0", _with("attachments", size=0)), ("size -1", _with("attachments", size=-1)),
        ("size over 20 MiB", _with("attachments", size=20 * MIB + 1)),
        ("size over 100 MiB", _with("attachments", size=100 * MIB + 1)),
        ("size 1e20", _with("attachments", size=1e20)), ("size 1.5", _with("attachments", size=1.5)),
        ("size a string", _with("attachments", size="2048")), ("size true", _with("attachments", size=True)),
        ("size null", _with("attachments", size=None)), ("size missing", _without("attachments", "size")),
        ("filename with a path", _with("attachments", filename="../../etc/a.jpg")),
        ("filename in a folder", _with("attachments", filename="照片/a.jpg")),
        ("filename with a windows path", _with("attachments", filename="C:\\照片\\a.jpg")),
        ("filename with a colon", _with("attachments", filename="a:b.jpg")),
        ("filename empty", _with("attachments", filename="")),
        ("filename too long", _with("attachments", filename="长" * 200 + ".jpg")),
        ("filename with a control character", _with("attachments", filename="a\x00.jpg")),
        ("filename a number", _with("attachments", filename=1)),
        ("filename missing", _without("attachments", "filename")),
        ("type gif", _with("attachments", content_type="image/gif", filename="a.gif")),
        ("type an executable", _with("attachments", content_type="application/x-msdownload", filename="a.exe")),
        ("type text", _with("attachments", content_type="text/plain", filename="a.txt")),
        ("type upper case", _with("attachments", content_type="IMAGE/JPEG")),
        ("type with parameters", _with("attachments", content_type="image/jpeg; charset=utf-8")),
        ("type missing", _without("attachments", "content_type")),
        ("name not matching the type", _with("attachments", filename="a.pdf")),
        ("a jpg that is an exe", _with("attachments", filename="a.jpg.exe")),
        ("a docx named xlsx", _with("attachments", filename="a.xlsx", content_type=(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))),
        ("choosing the key", _with("attachments", key="attachments/OTHER/A1")),
    ],
    "reply": [
        *enum_cases("reply", "result", "resolved"), *text_cases("reply", "text", 2000),
        *text_cases("reply", "internal_note", 2000, required=False),
        ("an unknown attachment", _with("reply", attachment_ids=[UNKNOWN_ATTACHMENT])),
        ("a malformed attachment id", _with("reply", attachment_ids=["../x"])),
        ("attachment_ids a string", _with("reply", attachment_ids=UNKNOWN_ATTACHMENT)),
        ("attachment_ids numbers", _with("reply", attachment_ids=[1, 2])),
        ("attachment_ids null", _with("reply", attachment_ids=None)),
        ("21 attachments", _with("reply", attachment_ids=[f"A{n:024d}" for n in range(21)])),
        ("an attachment twice", "twice"), ("an attachment never uploaded", "pending"),
        ("an attachment uploaded short", "short"), ("a good and a missing attachment", "pending+unknown"),
        ("setting the reviewer", _with("reply", reviewer="区城管局")),
        ("setting the approval", _with("reply", status="approved")),
    ],
    "reply-review": [
        *enum_cases("reply-review", "decision", "approve"),
        ("reject without a reason", {"decision": "reject"}), ("reject with a null reason", _with("reply-review",
                                                                                                 reason=None)),
        ("reject with an empty reason", _with("reply-review", reason="")),
        ("reject with a blank reason", _with("reply-review", reason="   ")),
        ("reason one character", _with("reply-review", reason="差")),
        ("reason too long", _with("reply-review", reason="长" * 1001)),
        ("reason a control character", _with("reply-review", reason="请补充\x00说明")),
        ("reason a number", _with("reply-review", reason=42)),
        ("reason an array", _with("reply-review", reason=["请补充"])),
        ("approve true", {"approve": True}), ("decision a boolean", {"decision": True}),
    ],
    "evaluation": [
        *enum_cases("evaluation", "satisfaction", "satisfied"),
        ("resolved as a string", _with("evaluation", resolved="true")),
        ("resolved false as a string", _with("evaluation", resolved="false")),
        ("resolved 1", _with("evaluation", resolved=1)), ("resolved 0", _with("evaluation", resolved=0)),
        ("resolved null", _with("evaluation", resolved=None)), ("resolved missing", _without("evaluation", "resolved")),
        ("resolved yes", _with("evaluation", resolved="yes")),
        ("method email", _with("evaluation", method="email")), ("method missing", _without("evaluation", "method")),
        *text_cases("evaluation", "comment", 500, required=False),
        ("the source is the channel", _with("evaluation", source="channel")),
        ("by someone else", _with("evaluation", by="leader01")),
    ],
    "reopen": [
        *text_cases("reopen", "reason", 1000, minimum=2),
        ("days 0", _with("reopen", days=0)), ("days 61", _with("reopen", days=61)),
        ("days 1e20", _with("reopen", days=1e20)), ("days -1", _with("reopen", days=-1)),
        ("days 2.5", _with("reopen", days=2.5)), ("days a string", _with("reopen", days="3")),
        ("days true", _with("reopen", days=True)), ("days an array", _with("reopen", days=[3])),
        ("days huge", _with("reopen", days=10 ** 30)),
    ],
    "close": [*enum_cases("close", "reason", "policy_limit"), *text_cases("close", "text", 1000, minimum=2),
              ("evaluation changed", _with("close", satisfaction="satisfied"))],
    "joint-meeting-decision": [
        ("neither a department nor an escalation", {"note": "会议决定"}),
        ("both escalate and a department", _with("joint-meeting-decision", escalate=True)),
        ("escalate with a matter", {"escalate": True, "note": "会议决定", "matter_code": "CX-02-04"}),
        ("escalate with co-handlers", {"escalate": True, "note": "会议决定", "co_departments": ["区住建局"]}),
        ("escalate as a string", {"escalate": "true", "note": "会议决定"}),
        ("escalate 1", {"escalate": 1, "note": "会议决定"}),
        ("escalate null", {"escalate": None, "note": "会议决定"}),
        ("an unknown department", _with("joint-meeting-decision", department="区不存在局")),
        ("the 属地 placeholder", _with("joint-meeting-decision", department="属地乡镇")),
        ("an unknown co-handler", _with("joint-meeting-decision", co_departments=["区住建局", "区不存在局"])),
        ("eleven co-handlers", _with("joint-meeting-decision", co_departments=["区住建局"] * 11)),
        ("co-handlers a string", _with("joint-meeting-decision", co_departments="区住建局")),
        ("an unknown matter", _with("joint-meeting-decision", matter_code="XX-99-99")),
        ("a malformed matter", _with("joint-meeting-decision", matter_code="CX 02 04")),
        ("department one character", _with("joint-meeting-decision", department="局")),
        ("department too long", _with("joint-meeting-decision", department="局" * 41)),
        ("department a number", _with("joint-meeting-decision", department=1)),
        *text_cases("joint-meeting-decision", "note", 1000, minimum=2),
    ],
    "mayor-day-decision": [
        ("neither a department nor an escalation", {"note": "区长决定"}),
        ("both escalate and a department", _with("mayor-day-decision", escalate=True)),
        ("an unknown department", _with("mayor-day-decision", department="区不存在局")),
        ("an unknown co-handler", _with("mayor-day-decision", co_departments=["区不存在局"])),
        ("an unknown matter", _with("mayor-day-decision", matter_code="XX-99-99")),
        ("escalate as a string", {"escalate": "false", "department": "区城管局", "note": "区长决定"}),
        *text_cases("mayor-day-decision", "note", 1000, minimum=2),
    ],
}
# a decision on a 区长热线日 order cannot escalate it again: its status allows no escalation (409)
CONFLICTS = {"mayor-day-decision": [("escalating it again", {"escalate": True, "note": "再次升级"})]}


def _reply_body(world: World, kind: str) -> dict:
    named = {"twice": [world.attachments["pending"]] * 2, "pending": [world.attachments["pending"]],
             "short": [world.attachments["short"]], "pending+unknown": [world.attachments["pending"],
                                                                         UNKNOWN_ATTACHMENT]}[kind]
    return _with("reply", attachment_ids=named)


CASES = [(action, name, raw, headers, expected) for action in ENDPOINTS
         for name, raw, headers, expected in [
             *common(action), *((name, body, None, 400) for name, body in SPECIFIC[action]),
             *((name, body, None, 409) for name, body in CONFLICTS.get(action, []))]]


def test_every_endpoint_has_at_least_25_hand_written_bad_bodies():
    for action in ENDPOINTS:
        assert len([c for c in CASES if c[0] == action]) >= 25, action


@pytest.mark.parametrize(("action", "name", "raw", "headers", "expected"), CASES,
                         ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_closed_loop_bad_bodies(world, action, name, raw, headers, expected):
    path, who = target(world, action)
    if isinstance(raw, str):
        raw = _reply_body(world, raw)
    status, body, _ = world.call("POST", path, who, raw=_raw(raw), headers=headers)
    assert status == expected, (status, body)
    assert shaped(status, body), body


# ------------------------------------------------------------------ generated bodies
def _known_departments() -> set[str]:
    return jurisdiction.departments(load_handler_module("StaffApiFunction").duty_list.matcher().duty_list)


def accepted(action: str, body) -> bool:
    """Would the step accept this body (on the world's order, by its party)? Generated bodies
    it would accept are left out: they are valid, and the sweep is about the others."""
    model = ENDPOINTS[action][2]
    if not isinstance(body, dict):
        return False
    try:
        request = model.model_validate(body)
    except ValidationError:
        return False
    if action == "attachments":
        return request.size <= minyi_settings.current().attachment_max_bytes
    if action == "reply":
        return not request.attachment_ids  # generated ids are never uploaded to the order
    if action.endswith("-decision"):
        if request.escalate:
            return action == "joint-meeting-decision"
        matcher = load_handler_module("StaffApiFunction").duty_list.matcher()
        known = _known_departments()
        return (all(d in known for d in [request.department, *(request.co_departments or [])])
                and (request.matter_code is None or request.matter_code in matcher.by_code))
    return True


texts = st.text(max_size=30) | st.sampled_from(["已电话联系", "长" * 1001, "长" * 2001, "a\x00b", " ", ""])
NEAR = {  # values near what each field takes, so generated objects reach past the first check
    "method": st.sampled_from(["phone", "sms", "visit", "online", "other", "fax", "email", "PHONE", ""]),
    "note": texts, "text": texts, "comment": texts, "internal_note": texts,
    "reason": texts | st.sampled_from(["unreasonable_demand", "policy_limit", "citizen_unreachable", "other"]),
    "filename": st.sampled_from(["a.jpg", "a.JPEG", "a.png", "a.pdf", "a.docx", "a.xlsx", "../a.jpg", "a/b.pdf",
                                 "a.exe", "", "a.jpg.exe"]) | st.text(max_size=20),
    "content_type": st.sampled_from([*payloads.ATTACHMENT_TYPES, "image/gif", "text/plain", ""]),
    "size": st.integers(min_value=-2, max_value=200 * MIB) | st.integers(min_value=20 * MIB + 1, max_value=100 * MIB)
    | st.sampled_from([0, 20 * MIB, 20 * MIB + 1, 1e20, 1.5, "2048", True]),
    "result": st.sampled_from(["resolved", "partly_resolved", "explained", "answered", "done"]),
    "attachment_ids": st.lists(st.sampled_from([UNKNOWN_ATTACHMENT, "A" + "1" * 24, "x", ""]), max_size=3)
    | st.lists(st.sampled_from(["pending", "short"]), min_size=1, max_size=2),  # the world's, by name
    "decision": st.sampled_from(["approve", "reject", "uphold", ""]),
    "satisfaction": st.sampled_from(["satisfied", "basically_satisfied", "dissatisfied", "happy"]),
    "resolved": st.sampled_from([True, False, "true", "false", 1, 0, None]),
    "days": st.integers(min_value=-5, max_value=70) | st.sampled_from([1e20, 2.5, "3", None]),
    "department": st.sampled_from(["区城管局", "区住建局", "区不存在局", "属地乡镇", "局", ""]) | st.text(max_size=8),
    "co_departments": st.lists(st.sampled_from(["区住建局", "区城管局", "区不存在局"]), max_size=3) | st.none(),
    "matter_code": st.sampled_from(["CX-02-04", "XX-99-99", "CX 02", ""]) | st.none(),
    "escalate": st.sampled_from([True, False, "true", 1, None]),
}


@st.composite
def objects_over_fields(draw, action: str):
    model = ENDPOINTS[action][2]
    names = [*model.model_fields, "x", "status", "order_id"]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    return {name: draw(NEAR.get(name, json_values) | json_values if draw(st.booleans())
                       else NEAR.get(name, json_values)) for name in chosen}


@st.composite
def near_misses(draw, action: str):
    """The valid body with one to three of its fields (or unknown ones) changed or dropped:
    most pass the model and must be refused by the step itself (sizes over the limit,
    attachments never uploaded, departments and matters the duty list does not know)."""
    body = dict(ENDPOINTS[action][3])
    names = [*ENDPOINTS[action][2].model_fields, "x"]
    for name in draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=3)):
        if name in body and draw(st.integers(0, 5)) == 0:
            del body[name]
        else:
            body[name] = draw(NEAR.get(name, json_values))
    return body


@EXAMPLES
@pytest.mark.parametrize("action", list(ENDPOINTS))
@given(data=st.data())
def test_closed_loop_generated_bodies(world, action, data):
    body = data.draw(st.one_of(json_values, objects_over_fields(action), near_misses(action)), label="body")
    if isinstance(body, dict) and isinstance(body.get("attachment_ids"), list):
        body["attachment_ids"] = [world.attachments.get(a, a) if isinstance(a, str) else a
                                  for a in body["attachment_ids"]]
    assume(not accepted(action, body))
    path, who = target(world, action)
    status, answer, _ = world.call("POST", path, who, raw=json.dumps(body, ensure_ascii=False).encode())
    assert shaped(status, answer), (status, answer)


# ------------------------------------------------------------------ odd query values
INBOX_QUERIES = [
    {"status": ["nope"]}, {"status": ["signed,nope"]}, {"status": ["SIGNED"]},
    {"status": [",".join(["signed"] * (len(OrderStatus) + 1))]},
    {"due_before": ["0001-01-01"]}, {"due_before": ["9999-12-31"]}, {"due_before": ["yesterday"]},
    {"due_before": ["2026-13-01"]}, {"due_before": ["2026-11-26T25:00:00"]}, {"due_before": ["1e9"]},
    {"due_before": ["2026-11-26T00:00:00+99:00"]}, {"due_before": ["2" * 100]},
    {"overdue": ["yes"]}, {"overdue": ["1"]}, {"overdue": [""]}, {"overdue": ["TRUE"]},
    {"urgent": ["no"]}, {"urgent": ["0"]}, {"role": ["boss"]}, {"role": ["LEAD"]}, {"role": ["lead,co"]},
    {"cursor": ["not-a-cursor"]}, {"cursor": ["e30"]}, {"cursor": ["W10"]}, {"cursor": ["x" * 3000]},
    {"limit": ["0"]}, {"limit": ["201"]}, {"limit": ["-1"]}, {"limit": ["1e3"]},
]


def _tampered_cursors(world: World) -> list[str]:
    """A real cursor with its department, its keys or its shape changed."""
    import base64

    status, page, _ = world.call("GET", "/staff/orders", CHENGGUAN, query={"limit": ["1"]})
    assert status == 200 and page["next_cursor"], page
    real = page["next_cursor"]
    key = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))

    def encode(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return [real + "x", real[:-2], encode({**key, "department": {"S": "区市场监管局"}}),
            encode({**key, "extra": {"S": "x"}}), encode({k: v for k, v in key.items() if k != "sk"}),
            encode({**key, "received_at": {"N": "1"}}), encode({**key, "pk": {"S": ""}}),
            encode({**key, "pk": {"S": "x" * 600}}), encode([key]), encode("x")]


def test_odd_inbox_filter_values_are_400_not_500(world):
    for query in [*INBOX_QUERIES, *({"cursor": [c]} for c in _tampered_cursors(world))]:
        for who, extra in ((CHENGGUAN, {}), (CENTRE, {"department": ["区城管局"]})):
            status, body, _ = world.call("GET", "/staff/orders", who, query={**query, **extra})
            assert status == 400 and shaped(status, body), (query, status, body)
            assert body["error"]["code"] == "validation_error", body


def test_a_well_formed_cursor_of_the_right_department_pointing_anywhere_is_not_a_500(world):
    """A cursor rebuilt with the right department but keys of no listed item: the list goes on
    from there or refuses it, but never fails."""
    import base64

    status, page, _ = world.call("GET", "/staff/orders", CHENGGUAN, query={"limit": ["1"]})
    real = page["next_cursor"]
    key = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    for change in ({"pk": {"S": "ORDER#MYNOSUCHORDER0001"}}, {"sk": {"S": "CO#区市场监管局"}},
                   {"received_at": {"S": "not a time"}}, {"received_at": {"S": "9999-12-31T00:00:00+08:00"}}):
        cursor = base64.urlsafe_b64encode(json.dumps({**key, **change}).encode()).decode().rstrip("=")
        for query in ({}, {"status": ["signed"]}):
            status, body, _ = world.call("GET", "/staff/orders", CHENGGUAN, query={**query, "cursor": [cursor]})
            assert status < 500, (change, body)
            if status == 200:
                assert all(o["order_id"] in world.orders.values() for o in body["orders"])
            else:
                assert shaped(status, body), body


QUEUE_NAMES = ["nope", "REPLY_REVIEW", "reply-review", "follow up", "mayor_day ", "mayorday", "..", "%00", "队列",
               "x" * 300, "undispatched;", "{queue}", "follow_up%2F..", "0", "null"]


@pytest.mark.parametrize("name", QUEUE_NAMES)
def test_odd_queue_names_are_404_for_the_centre_and_403_for_a_department(world, name):
    status, body, _ = world.call("GET", f"/staff/queues/{quote(name, safe='')}", CENTRE)
    assert status == 404 and shaped(status, body), body
    status, body, _ = world.call("GET", f"/staff/queues/{quote(name, safe='')}", CHENGGUAN)
    assert status == 403 and shaped(status, body), body


filter_values = st.text(max_size=30) | st.sampled_from(
    ["signed", "dispatched,signed", "lead", "co", "true", "false", "2026-11-26", "2026-11-26T10:00:00+08:00",
     "0001-01-01", ""])


@EXAMPLES
@given(query=st.dictionaries(st.sampled_from(["status", "role", "due_before", "overdue", "urgent", "cursor", "limit",
                                              "department", "x"]),
                             st.lists(filter_values, min_size=1, max_size=1), max_size=5),
       who=st.sampled_from(["department", "centre"]),
       queue=st.sampled_from(["reply_review", "follow_up", "dissatisfied", "mayor_day"]))
def test_generated_inbox_and_queue_queries_are_never_a_500(world, query, who, queue):
    caller = CHENGGUAN if who == "department" else CENTRE
    status, body, _ = world.call("GET", "/staff/orders", caller, query=query)
    assert status == 200 or shaped(status, body), (query, status, body)
    status, body, _ = world.call("GET", f"/staff/queues/{queue}", CENTRE, query=query)
    assert status == 200 or shaped(status, body), (query, status, body)
