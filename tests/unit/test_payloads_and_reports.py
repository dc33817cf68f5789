from datetime import datetime

import pytest

from minyi.channels import payloads
from minyi.channels.registry import channel, registry
from minyi.core.clock import SHANGHAI
from minyi.core.errors import MalformedBody, PayloadTooLarge, ValidationFailed
from minyi.core.ids import legacy_order_id, order_id_for
from minyi.core.jsonbody import load_json
from minyi.intake import accept as intake
from minyi.models.report import ReportRequest
from minyi.reports import periods
from tests.helpers import sample

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)


def to_request(source, payload):
    return payloads.to_request(source, payload, NOW)


def native(payload) -> object:
    return to_request(channel("12345"), payload)


def test_schema_errors_name_each_field_path():
    with pytest.raises(ValidationFailed) as caught:
        native({"external_id": "", "title": "x", "content": "y", "citizen": {"name": "张三", "phone": "123"}})
    assert {d["field"] for d in caught.value.details} == {"external_id", "citizen.phone"}


def test_schema_errors_are_named_by_the_channels_own_field_paths():
    payload = sample("petition")
    payload["来信人"]["联系电话"] = "12"
    del payload["诉求内容"]
    with pytest.raises(ValidationFailed) as caught:
        to_request(channel("petition"), payload)
    assert {d["field"] for d in caught.value.details} == {"来信人.联系电话", "诉求内容"}


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[1,2", b"", b"  ",
                                 b"[" * 50_000 + b"]" * 50_000,  # nested 50,000 deep: RecursionError before
                                 b'{"a": ' * 40 + b"1" + b"}" * 40,  # deeper than any payload of ours
                                 b'{"n": ' + b"9" * 5000 + b"}"])  # over Python's 4,300-digit limit
def test_malformed_bodies(raw):
    with pytest.raises(MalformedBody):
        load_json(raw)


@pytest.mark.parametrize("sent", ["0001-01-01 00:00:00", "1999-12-31T23:59:59", "9999-12-31 23:59:59",
                                  "9999-12-31T23:00:00-01:00", 1e20, -1e20, 10**30, "2026-11-30T10:00:00"])
def test_received_at_outside_2000_to_a_day_ahead_is_a_validation_error(sent):
    """Defect: "0001-01-01 00:00:00" was stored, and every read of the order answered 500."""
    with pytest.raises(ValidationFailed) as caught:
        native({"external_id": "a", "title": "t", "content": "c",
                "citizen": {"name": "n", "phone": "13800000000"}, "received_at": sent})
    assert [d["field"] for d in caught.value.details] == ["received_at"]


@pytest.mark.parametrize("payload", [None, [], "text", 3])
def test_bodies_that_are_not_objects(payload):
    with pytest.raises(ValidationFailed):
        native(payload)


def test_oversized_body():
    with pytest.raises(PayloadTooLarge):
        intake.check_size(b" " * (256 * 1024 + 1))
    intake.check_size(b" " * (256 * 1024))


@pytest.mark.parametrize("sent", ["2026-11-26T09:00:00", "2026-11-26 09:00:00", "2026/11/26 09:00:00",
                                  "20261126090000", "2026-11-26T01:00:00Z"])
def test_channel_time_formats_are_shanghai_time(sent):
    request = native({"external_id": "a", "title": "t", "content": "c",
                      "citizen": {"name": "n", "phone": "13800000000"}, "received_at": sent})
    assert request.received_at == datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


def test_every_registry_channel_maps_its_sample():
    for channel_id, source in registry().items():
        if channel_id == "open311":
            continue
        request = to_request(source, sample(channel_id))
        assert request.external_id and request.content and request.citizen.phone, channel_id


def test_id_numbers_are_checked():
    citizen = {"name": "张三", "phone": "13800000000", "id_number": "360721199001011234"}
    with pytest.raises(ValidationFailed):
        native({"external_id": "a", "title": "t", "content": "c", "citizen": citizen})
    citizen["id_number"] = "11010519491231002X"  # the GB 11643 example number
    assert native({"external_id": "a", "title": "t", "content": "c", "citizen": citizen}).citizen.id_number


def test_urgent_values_come_from_the_registry():
    payload = sample("petition")
    payload["紧急程度"] = "特急"
    assert to_request(channel("petition"), payload).urgent is True
    payload["紧急程度"] = "一般"
    assert to_request(channel("petition"), payload).urgent is False


def test_order_ids_are_deterministic_per_channel_and_external_id():
    key = b"k" * 32
    assert order_id_for(key, "12345", "a") == order_id_for(key, "12345", "a")
    assert order_id_for(key, "12345", "a") != order_id_for(key, "12315", "a")
    assert order_id_for(key, "12345", "a").isalnum() and len(order_id_for(key, "12345", "a")) == 16


def test_order_ids_cannot_be_computed_without_the_key():
    """Defect: ids were an unkeyed hash of (channel, external id), so anyone who knew a channel's
    id pattern could compute an order's id and read its status."""
    assert order_id_for(b"k" * 32, "12345", "a") != order_id_for(b"j" * 32, "12345", "a")
    assert order_id_for(b"k" * 32, "12345", "a") != legacy_order_id("12345", "a")
    with pytest.raises(ValueError):
        order_id_for(b"", "12345", "a")


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-11", "2026-02-30", "2026-11-26T00", ""])
def test_bad_periods(period):
    with pytest.raises(ValueError):
        ReportRequest(period=period)


def test_period_bounds():
    start, end = periods.period_bounds("2026-12")
    assert (start.month, end.year, end.month, end.day) == (12, 2027, 1, 1)
    start, end = periods.period_bounds("2026-11-26")
    assert (end - start).days == 1


