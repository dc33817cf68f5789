"""Bad input, endpoint by endpoint: at least 25 hand-written cases each, then a
hypothesis run of 500 generated bodies, headers and path values each. Every answer
is a 4xx with a machine-readable error, and the tables, bucket and queues hold
exactly what they held before."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import quote, urlencode

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minyi.channels import signatures as auth
from minyi.core import clock
from tests.conftest import OPEN311_KEY, REGION, channel_secret, provisioned_account
from tests.helpers import call_api, import_sample_duty_list, report_api, request_body, sample

pytestmark = pytest.mark.filterwarnings("ignore")
EXAMPLES = settings(max_examples=500, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def snapshot(aws) -> dict:
    dynamodb, s3, sqs = (boto3.client(name, region_name=REGION) for name in ("dynamodb", "s3", "sqs"))
    state = {}
    for logical_id in ("OrdersTable", "DutyListTable", "ReportsTable"):
        items = dynamodb.scan(TableName=aws.refs[logical_id])["Items"]
        state[logical_id] = sorted(json.dumps(i, sort_keys=True) for i in items)
    state["bucket"] = [o["Key"] for o in s3.list_objects_v2(Bucket=aws.refs["ReportsBucket"]).get("Contents", [])]
    for logical_id in ("ReplyRetryQueue", "ReplyDeadLetterQueue"):
        attrs = sqs.get_queue_attributes(QueueUrl=aws.refs[logical_id], AttributeNames=["ApproximateNumberOfMessages"])
        state[logical_id] = attrs["Attributes"]["ApproximateNumberOfMessages"]
    return state


@pytest.fixture(scope="module")
def populated():
    """One account for the module, holding some real content, so that 'nothing
    changed' is tested against something."""
    from tests.helpers import StreamReader, post_channel

    with provisioned_account() as aws:
        import_sample_duty_list()
        routes = StreamReader(aws, "RouteFunction")
        post_channel("12345", request_body("existing-1"))
        routes.deliver()
        report_api("POST", "/reports", {"period": "2026-11"})
        yield aws


@pytest.fixture
def world(populated):
    before = snapshot(populated)
    yield populated
    assert snapshot(populated) == before, "a rejected request changed the store"


def is_error(status: int, body, *, open311: bool = False) -> bool:
    if not 400 <= status < 500:
        return False
    if open311:
        return isinstance(body, list) and isinstance(body[0].get("code"), int) and bool(body[0]["description"])
    return isinstance(body, dict) and isinstance(body.get("error", {}).get("code"), str)


def signed(channel_id: str, body: bytes, skew: int = 0) -> dict:
    return {**JSON, **auth.signed_headers(channel_secret(channel_id), body, clock.now() - timedelta(seconds=skew))}


# ------------------------------------------------------------------ POST /channels/{channel}/requests

def _valid() -> dict:
    return request_body("bad-input-1")


def _without(path: str) -> dict:
    body = _valid()
    node = body
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    del node[last]
    return body


def _with(**changes) -> dict:
    return {**_valid(), **changes}


CHANNEL_CASES = [
    # (name, channel, raw body, headers, expected status)
    ("unsigned", "12345", json.dumps(_valid()).encode(), JSON, 401),
    ("unknown channel", "99999", json.dumps(_valid()).encode(), JSON, 404),
    ("unknown channel with path chars", "..%2F..", b"{}", JSON, 404),
    ("empty body", "12345", b"", None, 400),
    ("whitespace body", "12345", b"   ", None, 400),
    ("truncated json", "12345", b'{"external_id": "x"', None, 400),
    ("not utf-8", "12345", b"\xff\xfe\x00{", None, 400),
    ("json array", "12345", b"[]", None, 400),
    ("json string", "12345", b'"hello"', None, 400),
    ("json null", "12345", b"null", None, 400),
    ("json number", "12345", b"42", None, 400),
    ("missing external_id", "12345", json.dumps(_without("external_id")).encode(), None, 400),
    ("missing content", "12345", json.dumps(_without("content")).encode(), None, 400),
    ("missing citizen", "12345", json.dumps(_without("citizen")).encode(), None, 400),
    ("missing phone", "12345", json.dumps(_without("citizen.phone")).encode(), None, 400),
    ("phone letters", "12345", json.dumps(_with(citizen={"name": "a", "phone": "abc"})).encode(), None, 400),
    ("phone too short", "12345", json.dumps(_with(citizen={"name": "a", "phone": "1380000"})).encode(), None, 400),
    ("bad id number", "12345", json.dumps(_with(citizen={"name": "a", "phone": "13800000000",
                                                          "id_number": "360721199001011235"})).encode(), None, 400),
    ("empty title", "12345", json.dumps(_with(title="")).encode(), None, 400),
    ("title too long", "12345", json.dumps(_with(title="长" * 201)).encode(), None, 400),
    ("content too long", "12345", json.dumps(_with(content="长" * 5001)).encode(), None, 400),
    ("control chars in title", "12345", json.dumps(_with(title="a\x00b")).encode(), None, 400),
    ("external_id with spaces", "12345", json.dumps(_with(external_id="a b")).encode(), None, 400),
    ("external_id object", "12345", json.dumps(_with(external_id={"x": 1})).encode(), None, 400),
    ("received_at garbage", "12345", json.dumps(_with(received_at="yesterday")).encode(), None, 400),
    ("citizen is a list", "12345", json.dumps(_with(citizen=["张三"])).encode(), None, 400),
    ("over 256 KiB", "12345", json.dumps(_with(content="长" * 90_000)).encode(), None, 413),
    ("text/plain", "12345", json.dumps(_valid()).encode(), {"Content-Type": "text/plain"}, 415),
    ("stale signature", "12345", json.dumps(_valid()).encode(), "stale", 401),
    ("signature of another channel", "12345", json.dumps(_valid()).encode(), "other", 401),
    ("petition missing 诉求内容", "petition", None, None, 400),
]


@pytest.mark.parametrize(("name", "channel_id", "raw", "headers", "expected"), CHANNEL_CASES,
                         ids=[c[0] for c in CHANNEL_CASES])
def test_channel_webhook_bad_cases(world, name, channel_id, raw, headers, expected):
    if raw is None:
        payload = sample("petition")
        del payload["诉求内容"]
        raw = json.dumps(payload, ensure_ascii=False).encode()
    if headers is None:
        headers = signed(channel_id, raw)
    elif headers == "stale":
        headers = signed(channel_id, raw, skew=400)
    elif headers == "other":
        headers = signed("12315", raw)
    elif headers == {"Content-Type": "text/plain"}:
        headers = {**signed(channel_id, raw), **headers}
    path = f"/channels/{channel_id}/requests"
    status, body, _ = call_api("IntakeFunction", "POST", path, raw=raw, headers=headers)
    assert status == expected, body
    assert is_error(status, body)


ABSURD_BODIES = [
    ("an integer of 5,000 digits", b'{"external_id": ' + b"9" * 5000 + b"}"),
    ("JSON nested 50,000 deep", b"[" * 50_000 + b"]" * 50_000),
    ("objects nested 40,000 deep", b"{\"a\":" * 40_000 + b"1" + b"}" * 40_000),
    ("received_at 1e20", json.dumps(_with(received_at=1e20)).encode()),
    ("received_at -1e20", json.dumps(_with(received_at=-1e20)).encode()),
    ("received_at in year 1", json.dumps(_with(received_at="0001-01-01 00:00:00")).encode()),
    ("received_at in year 9999", json.dumps(_with(received_at="9999-12-31T23:00:00-01:00")).encode()),
    ("received_at a week ahead", json.dumps(_with(received_at=(clock.now() + timedelta(days=7)).isoformat())).encode()),
]


@pytest.mark.parametrize(("name", "raw"), ABSURD_BODIES, ids=[c[0] for c in ABSURD_BODIES])
def test_signed_absurd_bodies_are_400_and_change_nothing(world, name, raw):
    """Defect: a signed body with an integer over 4,300 digits, JSON nested 50,000 deep or
    received_at 1e20 answered 500; one with received_at in year 1 was stored, and the order
    then answered 500 on every read."""
    status, body, _ = call_api("IntakeFunction", "POST", "/channels/12345/requests", raw=raw,
                               headers=signed("12345", raw))
    assert status == 400 and is_error(status, body), body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)


DELETE = object()
PHONE = re.compile(r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
NEAR_MISSES = [("external_id", DELETE), ("external_id", ""), ("external_id", None), ("external_id", [1]),
               ("external_id", "a b"), ("external_id", "x" * 129), ("title", ""), ("title", "x" * 201),
               ("title", "a\x00b"), ("title", {"t": 1}), ("content", DELETE), ("content", ""), ("content", None),
               ("content", []), ("citizen", DELETE), ("citizen", None), ("citizen", "张三"), ("citizen", []),
               ("citizen", {"name": "", "phone": "13800000000"}), ("citizen.phone", None),
               ("received_at", "not a time"), ("received_at", [2026]), ("received_at", {"y": 2026}),
               ("urgent", "maybe"), ("urgent", [True])]


@st.composite
def channel_attempts(draw):
    """Unsigned noise, signed noise, and signed near-misses of a valid request."""
    kind = draw(st.sampled_from(["bytes", "json", "mutated"]))
    if kind == "bytes":
        raw = draw(st.binary(max_size=300))
    elif kind == "json":
        raw = json.dumps(draw(json_values)).encode()
    else:
        # one required part of a valid request broken in a way that can never be valid
        body = _valid()
        field, value = draw(st.sampled_from(NEAR_MISSES))
        if field == "citizen.phone":
            value = draw(st.text(max_size=12).filter(lambda t: not PHONE.match(t.strip())))
            body["citizen"] = {**body["citizen"], "phone": value}
        elif value is DELETE:
            del body[field]
        else:
            body[field] = value
        raw = json.dumps(body).encode()
    headers = draw(st.sampled_from(["signed", "none", "garbage"]))
    if headers == "signed":
        hdrs = signed("12345", raw)
    elif headers == "none":
        hdrs = dict(JSON)
    else:
        hdrs = {**JSON, "X-Minyi-Timestamp": draw(st.text(max_size=12)),
                "X-Minyi-Signature": draw(st.text(max_size=70))}
    return raw, hdrs


@EXAMPLES
@given(attempt=channel_attempts())
def test_channel_webhook_generated(world, attempt):
    raw, headers = attempt
    headers = {k: v for k, v in headers.items() if "\n" not in v and "\r" not in v}
    status, body, _ = call_api("IntakeFunction", "POST", "/channels/12345/requests", raw=raw, headers=headers)
    assert is_error(status, body), (status, body)


# ------------------------------------------------------------------ GET /orders/{order_id}

ORDER_IDS = ["MYNOSUCHORDER", "x", "0", "-1", "a" * 65, "a" * 1000, "MY' OR 1=1", "<script>", "路灯", "%00",
             "..", "ORDER#MY", "null", "undefined", "MY\u202eX", "😀", "MY ZTB5", "MYZTB5O5YCZDZRC",
             "myztb5o5yczdzrcr", "MY-ZTB", "{order_id}", "${jndi:x}", "\\", "MY;DROP", "true", "[]"]


@pytest.mark.parametrize("order_id", ORDER_IDS)
def test_order_status_bad_cases(world, order_id):
    status, body, _ = call_api("IntakeFunction", "GET", f"/orders/{quote(order_id, safe='')}")
    assert status == 404 and is_error(status, body)


@EXAMPLES
@given(order_id=st.text(min_size=1, max_size=80).filter(lambda t: "/" not in t),
       query=st.dictionaries(st.text(min_size=1, max_size=8), st.lists(st.text(max_size=8), min_size=1, max_size=2),
                             max_size=3))
def test_order_status_generated(world, order_id, query):
    status, body, _ = call_api("IntakeFunction", "GET", f"/orders/{quote(order_id, safe='')}", query=query or None)
    assert is_error(status, body), (status, body)


# ------------------------------------------------------------------ Open311

def o311_form(**changes) -> bytes:
    fields = {"api_key": OPEN311_KEY, **sample("open311"), **changes}
    return urlencode({k: v for k, v in fields.items() if v is not None}).encode()


OPEN311_POST_CASES = [
    ("no api_key", o311_form(api_key=None), FORM, 403),
    ("wrong api_key", o311_form(api_key="nope"), FORM, 403),
    ("empty api_key", o311_form(api_key=""), FORM, 403),
    ("no service_code", o311_form(service_code=None), FORM, 400),
    ("unknown service_code", o311_form(service_code="XX"), FORM, 400),
    ("no location", o311_form(lat=None, long=None, address_string=None), FORM, 400),
    ("lat only", o311_form(long=None, address_string=None), FORM, 400),
    ("lat text", o311_form(lat="north"), FORM, 400),
    ("lat out of range", o311_form(lat="95"), FORM, 400),
    ("long out of range", o311_form(long="-200"), FORM, 400),
    ("nan lat", o311_form(lat="nan"), FORM, 400),
    ("no phone", o311_form(phone=None), FORM, 400),
    ("bad phone", o311_form(phone="12345"), FORM, 400),
    ("no description", o311_form(description=None), FORM, 400),
    ("description too long", o311_form(description="长" * 5001), FORM, 400),
    ("repeated parameter", o311_form() + b"&phone=13900000000", FORM, 400),
    ("json body", json.dumps(sample("open311")).encode(), JSON, 400),
    ("no content type", o311_form(), {}, 400),
    ("not utf-8", b"api_key=\xff\xfe", FORM, 400),
    ("broken encoding", b"api_key&&&==", FORM, 400),
    ("empty body", b"", FORM, 403),
    ("control chars", o311_form(description="a\x00b"), FORM, 400),
    ("too large", b"description=" + b"a" * (256 * 1024), FORM, 413),
    ("xml format wrong key", o311_form(api_key="nope"), FORM, 403),
    ("unknown document", o311_form(), FORM, 404),
    ("services is read-only", o311_form(), FORM, 400),
]


@pytest.mark.parametrize(("name", "raw", "headers", "expected"), OPEN311_POST_CASES,
                         ids=[c[0] for c in OPEN311_POST_CASES])
def test_open311_post_bad_cases(world, name, raw, headers, expected):
    document = {"unknown document": "things.json", "services is read-only": "services.json",
                "xml format wrong key": "requests.xml"}.get(name, "requests.json")
    status, body, _ = call_api("IntakeFunction", "POST", f"/open311/v2/{document}", raw=raw, headers=headers)
    assert status == expected, body
    if document.endswith(".xml"):
        assert "<errors><error><code>" in body
    else:
        assert is_error(status, body, open311=True)


@EXAMPLES
@given(fields=st.dictionaries(st.sampled_from(["api_key", "service_code", "lat", "long", "address_string", "phone",
                                               "description", "email", "first_name", "x"]),
                              st.text(max_size=30), max_size=8),
       document=st.sampled_from(["requests.json", "requests.xml", "services.json", "x.json", "requests"]))
def test_open311_post_generated(world, fields, document):
    fields.pop("api_key", None)  # without a key nothing may be stored, whatever else is sent
    status, body, _ = call_api("IntakeFunction", "POST", f"/open311/v2/{document}",
                               raw=urlencode(fields).encode(), headers=FORM)
    assert 400 <= status < 500, (status, body)


OPEN311_GET_CASES = [
    ("/open311/v2/services.csv", None, 400), ("/open311/v2/services", None, 400), ("/open311/v2/x.json", None, 404),
    ("/open311/v2/.json", None, 404), ("/open311/v2/services/NOPE.json", None, 404),
    ("/open311/v2/services/NOPE.xml", None, 404), ("/open311/v2/services/CX-02-04", None, 400),
    ("/open311/v2/services/CX-02-04.yaml", None, 400), ("/open311/v2/requests/MYNOPE.json", None, 404),
    ("/open311/v2/requests/MYNOPE", None, 400), ("/open311/v2/requests/%27%20OR%201.json", None, 404),
    ("/open311/v2/requests/" + "A" * 100 + ".json", None, 404),
    ("/open311/v2/requests.json", {"status": ["pending"]}, 400),
    ("/open311/v2/requests.json", {"status": ["open,done"]}, 400),
    ("/open311/v2/requests.json", {"start_date": ["yesterday"]}, 400),
    ("/open311/v2/requests.json", {"end_date": ["2026-13-01"]}, 400),
    ("/open311/v2/requests.json", {"start_date": ["2020-01-01T00:00:00Z"]}, 400),
    ("/open311/v2/requests.json", {"start_date": ["2026-11-26T00:00:00Z"], "end_date": ["2026-11-01T00:00:00Z"]}, 400),
    ("/open311/v2/requests.json", {"unknown": ["1"]}, 400),
    ("/open311/v2/requests.json", {"api_key": ["x"]}, 400),
    ("/open311/v2/requests.xml", {"status": ["x"]}, 400),
    ("/open311/v2/requests.json", {"start_date": ["2026-11-26T25:00:00"]}, 400),
    ("/open311/v2/requests.json", {"end_date": ["2026-11-26T00:00:00+99:00"]}, 400),
    ("/open311/v2/services/%E8%B7%AF.json", None, 404),
    ("/open311/v2/requests/MY%00.json", None, 404),
    ("/open311/v2/requests.json", {"service_request_id": [","]}, 200),
    ("/open311/v2/requests.json", {"status": ["OPEN"]}, 400),
    ("/open311/v2/requests.json", {"status": ["open;closed"]}, 400),
    ("/open311/v2/requests.json", {"start_date": ["2026-11-01"], "end_date": ["2026-10-01"]}, 400),
    ("/open311/v2/requests.json", {"end_date": ["tomorrow"]}, 400),
    ("/open311/v2/requests.json", {"start_date": ["1e9"]}, 400),
    ("/open311/v2/requests.json", {"start_date": ["2026-11-26T00:00:00Z"], "x": ["1"]}, 400),
    ("/open311/v2/requests.json", {"end_date": ["2099-01-01T00:00:00Z"]}, 400),
    ("/open311/v2/requests.xml", {"start_date": ["2020-01-01T00:00:00Z"]}, 400),
    ("/open311/v2/services.json", {"jurisdiction_id": ["x"], "zz": ["1"]}, 200),
    ("/open311/v2/REQUESTS.json", None, 404),
]


@pytest.mark.parametrize("name", ORDER_IDS)
@pytest.mark.parametrize("kind", ["services", "requests"])
def test_open311_document_bad_cases(world, kind, name):
    """The hand-written odd ids, as Open311 service codes and request ids."""
    status, body, _ = call_api("IntakeFunction", "GET", f"/open311/v2/{kind}/{quote(name + '.json', safe='')}")
    assert status == 404 and is_error(status, body, open311=True), body


@pytest.mark.parametrize("query", [{"end_date": ["0001-01-01"]}, {"end_date": ["9999-12-31"]},
                                   {"start_date": ["0001-01-01T00:00:00Z"]},
                                   {"end_date": ["9999-12-31T23:59:59-12:00"]}])
def test_open311_dates_out_of_range_are_400_not_500(world, query):
    """Defect: end_date 0001-01-01 or 9999-12-31 answered 500 on the public list."""
    status, body, _ = call_api("IntakeFunction", "GET", "/open311/v2/requests.json", query=query)
    assert status == 400 and body[0]["code"] == 400, body


@pytest.mark.parametrize(("path", "query", "expected"), OPEN311_GET_CASES)
def test_open311_get_bad_cases(world, path, query, expected):
    status, body, _ = call_api("IntakeFunction", "GET", path, query=query)
    assert status == expected, body
    if status == 200:  # odd but harmless input, answered with what exists
        assert isinstance(body, list)
    elif isinstance(body, str) and body.startswith("<?xml"):
        assert "<errors><error><code>" in body
    else:
        assert is_error(status, body, open311=True)


@EXAMPLES
@pytest.mark.parametrize("kind", ["collection", "service", "request"])
@given(name=st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t),
       fmt=st.sampled_from([".json", ".xml", ".csv", ""]),
       query=st.dictionaries(st.sampled_from(["status", "start_date", "end_date", "service_code",
                                              "service_request_id", "zz"]),
                             st.lists(st.text(max_size=25), min_size=1, max_size=1), max_size=3))
def test_open311_get_generated(world, kind, name, fmt, query):
    prefix = {"collection": "/open311/v2/", "service": "/open311/v2/services/",
              "request": "/open311/v2/requests/"}[kind]
    status, body, _ = call_api("IntakeFunction", "GET", prefix + quote(name + fmt, safe=""), query=query or None)
    assert status < 500, (status, body)


# ------------------------------------------------------------------ reports

REPORT_CASES = [b"", b"{", b"[]", b"null", b'"2026-11"', b"42", b"{}", b'{"period": null}', b'{"period": 202611}',
                b'{"period": ""}', b'{"period": "2026-Q5"}', b'{"period": "2026-13"}', b'{"period": "2026-00"}',
                b'{"period": "2026-1"}', b'{"period": "26-11"}', b'{"period": "2026-02-30"}',
                b'{"period": "2026-11-31"}', b'{"period": "2026-11-26T00"}', b'{"period": "2026/11"}',
                b'{"period": "\xe4\xb8\x80\xe6\x9c\x88"}', b'{"period": "2026-11", "x": 1}',
                b'{"period": ["2026-11"]}', b'{"period": {"m": 11}}', b"\xff\xfe", b'{"period": "2026-11 "}',
                b'{"Period": "2026-11"}', b'{"period": "2025-W53"}',
                b'{"period": "2026-03-01..2026-01-05"}', b'{"period": "2025-01-01..2026-01-02"}',
                b'{"period": "2026-11", "department": ""}', b'{"period": "2026-11", "department": "a\\u0000b"}',
                b'{"period": "2026-11", "department": 7}']


@pytest.mark.parametrize("raw", REPORT_CASES)
def test_report_request_bad_cases(world, raw):
    status, body, _ = report_api("POST", "/reports", raw=raw)
    assert status == 400 and is_error(status, body), body


@EXAMPLES
@given(payload=json_values, raw=st.binary(max_size=100), use_raw=st.booleans())
def test_report_request_generated(world, payload, raw, use_raw):
    if isinstance(payload, dict) and "period" in payload:
        payload["period"] = [payload["period"]]  # never a valid period
    body = raw if use_raw else json.dumps(payload).encode()
    status, answer, _ = report_api("POST", "/reports", raw=body)
    assert is_error(status, answer), (status, answer)


REPORT_IDS = ["RNOPE", "x", "R" * 65, "R' OR 1", "<b>", "路", "%00", "..", "null", "R;X", "😀", "{report_id}", "R X",
              "0", "-1", "R\u202e", "true", "[]", "R20261126", "r2026112600000000", "R-1", "R_1", "R.1", "R:1", "R@1"]


@pytest.mark.parametrize("report_id", REPORT_IDS)
def test_report_status_bad_cases(world, report_id):
    status, body, _ = report_api("GET", f"/reports/{quote(report_id, safe='')}")
    assert status == 404 and is_error(status, body)
    status, body, _ = report_api("GET", "/reports/RNOPE", query={"format": [report_id]})
    assert status in (400, 404) and is_error(status, body)


@EXAMPLES
@given(report_id=st.text(min_size=1, max_size=70).filter(lambda t: "/" not in t),
       fmt=st.one_of(st.none(), st.text(max_size=10)))
def test_report_status_generated(world, report_id, fmt):
    query = {"format": [fmt]} if fmt is not None else None
    status, body, _ = report_api("GET", f"/reports/{quote(report_id, safe='')}", query=query)
    assert is_error(status, body), (status, body)
