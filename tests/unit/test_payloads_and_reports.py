import json
from datetime import datetime

import pytest

from minyi import intake, reports
from minyi.clock import SHANGHAI
from minyi.errors import MalformedBody, PayloadTooLarge, ValidationFailed
from minyi.ids import order_id_for
from minyi.models.report import Report, ReportRequest, ReportRow, ReportStatus


def test_schema_errors_name_each_field_path():
    body = json.dumps({"external_id": "", "title": "x", "content": "y", "citizen": {"name": "张三", "phone": "123"},
                       "extra": 1})
    with pytest.raises(ValidationFailed) as caught:
        intake.parse_request(body)
    fields = {d["field"] for d in caught.value.details}
    assert {"external_id", "citizen.phone", "extra"} <= fields


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[1,2", "null"])
def test_malformed_bodies(raw):
    with pytest.raises((MalformedBody, ValidationFailed)):
        intake.parse_request(raw)


def test_oversized_body():
    with pytest.raises(PayloadTooLarge):
        intake.parse_request(b"{" + b" " * (256 * 1024) + b"}")


def test_naive_received_at_is_shanghai_time():
    request = intake.parse_request(json.dumps({
        "external_id": "a", "title": "t", "content": "c", "citizen": {"name": "n", "phone": "13800000000"},
        "received_at": "2026-11-26T09:00:00"}))
    assert request.received_at == datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


def test_order_ids_are_deterministic_per_channel_and_external_id():
    assert order_id_for("12345", "a") == order_id_for("12345", "a")
    assert order_id_for("12345", "a") != order_id_for("12315", "a")
    assert order_id_for("12345", "a").isalnum()


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-11", "2026-02-30", "2026-11-26T00", ""])
def test_bad_periods(period):
    with pytest.raises(ValueError):
        ReportRequest(period=period)


def test_period_bounds():
    start, end = reports.period_bounds("2026-12")
    assert (start.month, end.year, end.month, end.day) == (12, 2027, 1, 1)
    start, end = reports.period_bounds("2026-11-26")
    assert (end - start).days == 1


def test_csv_is_excel_ready_utf8_with_bom_and_chinese_headers():
    rows = [ReportRow(department="区城管局", by_status={"dispatched": 2, "overdue": 1}, total=3, overdue=1)]
    data = reports.render_csv(rows)
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "部门,待分拨,办理中,待人工分拨,已超期,合计,超期件数"
    assert lines[1] == "区城管局,0,2,0,1,3,1"
    assert lines[-1].startswith("合计,")
    now = datetime(2026, 11, 26, tzinfo=SHANGHAI)
    report = Report(report_id="R1", period="2026-11", status=ReportStatus.READY, requested_at=now,
                    requested_by="t")
    document = json.loads(reports.render_json(report, rows, now))
    assert document["rows"][0]["department"] == "区城管局" and document["totals"] == {"total": 3, "overdue": 1}
