"""Report function: API routes, the reports-table stream that builds, the daily schedule."""

import io
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from openpyxl import load_workbook

from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.dal import orders
from tests.conftest import REGION
from tests.helpers import (
    StreamReader,
    import_sample_duty_list,
    post_channel,
    report_api,
    request_body,
    scheduled,
    table_items,
)

BUCKET = "minyi-test-reportsbucket"


def download(url: str) -> bytes:
    parts = urlsplit(url)
    if parts.hostname.startswith(BUCKET + "."):  # virtual-hosted style
        bucket, key = BUCKET, parts.path.lstrip("/")
    else:  # path style, as against moto server
        _, bucket, key = parts.path.split("/", 2)
    assert bucket == BUCKET
    return boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()


def dispatched_order() -> str:
    import_sample_duty_list()
    _, body, _ = post_channel("12345", request_body())
    return body["order_id"]


def test_given_a_counted_order_when_the_month_report_is_requested_then_its_three_files_carry_it(aws):
    # Given an order taken in, dispatched and counted by the assess function
    routes, counts = StreamReader(aws, "RouteFunction"), StreamReader(aws, "AssessFunction")
    builds = StreamReader(aws, "ReportBuildFunction")
    order_id = dispatched_order()
    routes.deliver()
    assert counts.deliver() == []
    period = clock.now().strftime("%Y-%m")
    # When the centre asks for the month's report
    status, body, _ = report_api("POST", "/reports", {"period": period})
    assert status == 202 and body["status"] == "pending"
    report_id = body["report_id"]
    status, pending, _ = report_api("GET", f"/reports/{report_id}")
    assert pending["status"] == "pending" and pending["url"] is None
    assert builds.deliver() == []
    # Then it is ready in xlsx (the default), CSV and JSON, each behind a short-lived link
    status, ready, _ = report_api("GET", f"/reports/{report_id}")
    assert status == 200 and ready["status"] == "ready" and sorted(ready["formats"]) == ["csv", "json", "xlsx"]
    expires = datetime.fromisoformat(ready["expires_at"])
    assert timedelta(0) < expires - clock.now() <= timedelta(minutes=15)
    assert int(parse_qs(urlsplit(ready["url"]).query)["X-Amz-Expires"][0]) <= 900
    book = load_workbook(io.BytesIO(download(ready["url"])))
    assert book.sheetnames == ["总览", "趋势", "渠道", "事项", "乡镇", "热点", "明细"]
    details = [row for row in book["明细"].iter_rows(values_only=True) if order_id in row]
    assert len(details) == 1 and "区城管局" in details[0]
    _, as_csv, _ = report_api("GET", f"/reports/{report_id}", query={"format": ["csv"]})
    text = download(as_csv["url"]).decode("utf-8")
    assert text.startswith("\ufeff") and "区城管局" in text and "得分" in text
    _, as_json, _ = report_api("GET", f"/reports/{report_id}", query={"format": ["json"]})
    document = json.loads(download(as_json["url"]))
    rows = {row["name"]: row for row in document["departments"]}
    assert rows["区城管局"]["counters"]["received"] == 1 and rows["区城管局"]["counters"]["dispatched"] == 1
    assert document["total"]["counters"]["received"] == 1 and document["details"][0]["order_id"] == order_id
    # And no personal data is in any of them
    for fmt in ("xlsx", "csv", "json"):
        _, link, _ = report_api("GET", f"/reports/{report_id}", query={"format": [fmt]})
        raw = download(link["url"])
        if fmt == "xlsx":
            raw = b"".join(str(cell).encode() for sheet in load_workbook(io.BytesIO(raw)).worksheets
                           for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
        assert b"13800000000" not in raw and "张三".encode() not in raw, fmt


@pytest.mark.parametrize("body", [{"period": "2026-13"}, {}, {"period": "2026-11", "x": 1}, {"period": 202611},
                                  {"period": "2026-02-30\n"}, {"period": "２０２６-11"}])
def test_given_bad_report_request_then_400_and_nothing_written(aws, body):
    status, answer, _ = report_api("POST", "/reports", body)
    assert status == 400 and answer["error"]["code"] == "validation_error"
    assert table_items("minyi-test-ReportsTable") == []


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1999-12-31", "2099-12", "2100-01"])
def test_report_periods_before_2000_or_not_yet_begun_are_400(aws, period):
    """Defect: 0000-01 and 9999-12 were accepted and stayed pending forever."""
    status, answer, _ = report_api("POST", "/reports", {"period": period})
    assert status == 400 and answer["error"]["code"] == "validation_error"
    assert table_items("minyi-test-ReportsTable") == []


def test_given_malformed_json_then_400(aws):
    status, answer, _ = report_api("POST", "/reports", raw="{oops")
    assert status == 400 and answer["error"]["code"] == "malformed_json"
    assert table_items("minyi-test-ReportsTable") == []


def test_given_unknown_report_then_404(aws):
    status, answer, _ = report_api("GET", "/reports/RNOPE")
    assert status == 404 and answer["error"]["code"] == "not_found"
    status, answer, _ = report_api("GET", "/reports/RNOPE", query={"format": ["xlsx"]})
    assert status == 404
    status, answer, _ = report_api("GET", "/reports/RNOPE", query={"format": ["pdf"]})
    assert status == 400 and answer["error"]["details"][0]["field"] == "format"


def test_daily_schedule_builds_yesterdays_report(aws):
    at = datetime(2026, 11, 27, 1, 0, tzinfo=SHANGHAI)
    result = scheduled("ReportBuildFunction", at)
    assert result["period"] == "2026-11-26"
    _status, report, _ = report_api("GET", f"/reports/{result['report_id']}", query={"format": ["json"]})
    assert report["status"] == "ready"
    document = json.loads(download(report["url"]))
    assert document["period_label"] == "2026年11月26日" and document["total"]["counters"]["received"] == 0
    assert [day["name"] for day in document["daily"]] == ["2026-11-26"]


def test_rebuilding_a_ready_report_changes_nothing(aws):
    from minyi.reports import build as reports

    period = clock.now().strftime("%Y-%m")
    _, body, _ = report_api("POST", "/reports", {"period": period})
    first = reports.build(body["report_id"], BUCKET, clock.now())
    before = table_items("minyi-test-ReportsTable")
    again = reports.build(body["report_id"], BUCKET, clock.now())
    assert again.files == first.files == {fmt: f"reports/{period}/{body['report_id']}.{fmt}"
                                          for fmt in ("xlsx", "csv", "json")}
    assert table_items("minyi-test-ReportsTable") == before


def test_a_report_that_cannot_be_built_is_marked_failed_with_its_reason_and_can_be_asked_again(aws):
    """Defect: a report whose build failed stayed pending forever; `failed` existed and nothing set it."""
    from minyi.reports import build as reports

    period = clock.now().strftime("%Y-%m")
    _, body, _ = report_api("POST", "/reports", {"period": period})
    broken = reports.build(body["report_id"], "no-such-bucket", clock.now())  # S3 refuses: NoSuchBucket
    assert broken.status.value == "failed"
    status, answer, _ = report_api("GET", f"/reports/{body['report_id']}")
    assert status == 200 and answer["status"] == "failed" and "NoSuchBucket" in answer["error"]
    assert answer["url"] is None
    # building it again leaves the verdict as it is; asking again gives a new report that is built
    assert reports.build(body["report_id"], BUCKET, clock.now()).status.value == "failed"
    _, again, _ = report_api("POST", "/reports", {"period": period})
    assert StreamReader(aws, "ReportBuildFunction").deliver() == []
    assert report_api("GET", f"/reports/{again['report_id']}", query={"format": ["csv"]})[1]["status"] == "ready"


def test_a_wrong_content_type_is_415_in_our_error_shape(aws):
    """Defect: the report API answered a 415 in Chalice's own shape ({"Code", "Message"})."""
    status, answer, _ = report_api("POST", "/reports", raw='{"period": "2026-11"}',
                                   headers={"Content-Type": "text/plain"})
    assert status == 415 and answer["error"]["code"] == "unsupported_media_type"
    assert table_items("minyi-test-ReportsTable") == []


def test_an_order_that_ran_over_counts_against_its_department_after_a_redispatch(aws):
    """Defect: a re-dispatch set overdue_at to nothing and reports counted by the current
    department, so the department that let the order run over dropped out of the count."""
    from tests.helpers import CENTRE, CHENGGUAN, call_api, staff_token

    routes, counts = StreamReader(aws, "RouteFunction"), StreamReader(aws, "AssessFunction")
    builds = StreamReader(aws, "ReportBuildFunction")
    order_id = dispatched_order()
    routes.deliver()
    due = datetime.fromisoformat(call_api("IntakeFunction", "GET", f"/orders/{order_id}")[1]["due_at"])
    # Given 区城管局 let it run over
    outcome = scheduled("SlaCheckFunction", due + timedelta(minutes=1))
    assert "failed" not in outcome and orders.get_order(order_id).overdue_at is not None
    # When it returns the order and the centre re-dispatches it to 区住建局
    status, _, _ = call_api("StaffApiFunction", "POST", f"/orders/{order_id}/return",
                            {"category": "not_our_duty", "text": "小区内路灯属物业"}, headers=staff_token(*CHENGGUAN))
    assert status == 200
    status, _, _ = call_api("StaffApiFunction", "POST", f"/orders/{order_id}/review",
                            {"decision": "redispatch", "department": "区住建局"}, headers=staff_token(*CENTRE))
    assert status == 200
    assert counts.deliver() == []
    # Then a report from today to the day it fell due counts the overdue order against 区城管局, not 区住建局
    span = f"{clock.to_shanghai(clock.now()):%Y-%m-%d}..{clock.to_shanghai(due):%Y-%m-%d}"
    _, body, _ = report_api("POST", "/reports", {"period": span})
    builds.deliver()
    _, ready, _ = report_api("GET", f"/reports/{body['report_id']}", query={"format": ["json"]})
    rows = {row["name"]: row["counters"] for row in json.loads(download(ready["url"]))["departments"]}
    assert rows["区城管局"]["overdue"] == 1 and rows["区城管局"]["returns_redispatched"] == 1
    assert rows["区住建局"]["overdue"] == 0 and rows["区住建局"]["received"] == 1
