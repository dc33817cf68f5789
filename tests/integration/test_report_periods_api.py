"""Reports of every period, whose they are, how they are listed and downloaded, and the daily,
weekly and monthly schedules (ReportApiFunction and ReportBuildFunction, real handlers)."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest

from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.reports.periods import previous_period
from tests.conftest import REGION
from tests.helpers import (
    CHENGGUAN,
    LEADER,
    SHICHANG,
    StreamReader,
    call_api,
    report_api,
    scheduled,
    staff_token,
    table_items,
)
from tests.integration.test_reports import download

TABLE = "minyi-test-ReportsTable"


def as_staff(who: tuple, method: str, path: str, body=None, **kwargs):
    return call_api("ReportApiFunction", method, path, body, headers=staff_token(*who), **kwargs)


def saved_as(url: str) -> str:
    """The file name a presigned link makes the browser save (RFC 5987 filename*)."""
    disposition = parse_qs(urlsplit(url).query)["response-content-disposition"][0]
    assert disposition.startswith("attachment; filename*=UTF-8''")
    return unquote(disposition.split("''", 1)[1])


@pytest.mark.parametrize(("period", "label"), [
    ("2025-11-05", "2025年11月5日"),
    ("2025-W45", "2025年第45周（11月3日—11月9日）"),
    ("2025-11", "2025年11月"),
    ("2025-Q4", "2025年第四季度"),
    ("2025", "2025年"),
    ("2025-01-05..2025-03-01", "2025年1月5日至3月1日"),
])
def test_a_report_of_each_kind_of_period_is_built_and_saved_under_its_chinese_label(aws, period, label):
    builds = StreamReader(aws, "ReportBuildFunction")
    # Given the centre asks for the report of a period
    status, asked, _ = report_api("POST", "/reports", {"period": period})
    assert status == 202 and asked["scope"] is None
    # When the reports stream builds it
    assert builds.deliver() == []
    # Then its CSV link saves as 民意速办考核报表_<label>.csv and the answer names the period
    status, ready, _ = report_api("GET", f"/reports/{asked['report_id']}", query={"format": ["csv"]})
    assert status == 200 and ready["status"] == "ready" and ready["period_label"] == label
    assert ready["kind"] == "requested" and ready["format"] == "csv"
    assert saved_as(ready["url"]) == f"民意速办考核报表_{label}.csv"
    text = download(ready["url"]).decode("utf-8")
    assert text.startswith("\ufeff计分公式") and label in text


@pytest.mark.parametrize(("period", "says"), [
    ("2026-W54", "ISO weeks 1 to 53"), ("2025-W53", "2025 has ISO weeks 1 to 52"), ("2026-Q5", "Q1 to Q4"),
    ("2026-02-30", "not a day of the calendar"), ("2026-03-01..2026-01-05", "before it starts"),
    ("2025-01-01..2026-01-02", "at most 366 days"), ("0001", "from 2000 to 2099"), ("2026-H1", "is not a period"),
])
def test_an_invalid_period_is_400_saying_why_and_writes_nothing(aws, period, says):
    status, answer, _ = report_api("POST", "/reports", {"period": period})
    assert status == 400 and answer["error"]["code"] == "validation_error"
    [detail] = answer["error"]["details"]
    assert detail["field"] == "period" and says in detail["problem"]
    assert table_items(TABLE) == []


def test_a_period_not_yet_begun_is_400(aws):
    tomorrow = (clock.now() + timedelta(days=1)).date()
    for period in (tomorrow.isoformat(), f"{tomorrow.isoformat()}..{tomorrow.isoformat()}", str(tomorrow.year + 1)):
        status, answer, _ = report_api("POST", "/reports", {"period": period})
        assert status == 400 and answer["error"]["details"][0]["problem"] == "in the future", period
    assert table_items(TABLE) == []


def test_a_department_asks_for_and_reads_only_its_own_report(aws):
    builds = StreamReader(aws, "ReportBuildFunction")
    # Given 区城管局 asks for a month's report without naming a department: its own
    status, own, _ = as_staff(CHENGGUAN, "POST", "/reports", {"period": "2025-11"})
    assert status == 202 and own["scope"] == "区城管局"
    # and naming itself is the same, but naming another department is 403 and writes nothing
    assert as_staff(CHENGGUAN, "POST", "/reports", {"period": "2025-11", "department": "区城管局"})[0] == 202
    before = table_items(TABLE)
    status, answer, _ = as_staff(CHENGGUAN, "POST", "/reports", {"period": "2025-11", "department": "区市场监管局"})
    assert status == 403 and answer["error"]["code"] == "forbidden"
    assert table_items(TABLE) == before
    # Given the centre asks for 区市场监管局's report and the county's
    _, theirs, _ = report_api("POST", "/reports", {"period": "2025-11", "department": "区市场监管局"})
    _, county, _ = report_api("POST", "/reports", {"period": "2025-11"})
    assert theirs["scope"] == "区市场监管局" and county["scope"] is None
    builds.deliver()
    # Then 区城管局 reads its own, and another's or the county's is 404, as if it did not exist
    status, mine, _ = as_staff(CHENGGUAN, "GET", f"/reports/{own['report_id']}", query={"format": ["csv"]})
    assert status == 200 and mine["scope"] == "区城管局" and mine["status"] == "ready"
    for other in (theirs["report_id"], county["report_id"]):
        status, answer, _ = as_staff(CHENGGUAN, "GET", f"/reports/{other}", query={"format": ["csv"]})
        assert status == 404 and answer["error"]["code"] == "not_found"
        assert status == as_staff(CHENGGUAN, "GET", "/reports/RNOSUCHREPORT")[0]
    # and its own report holds its own numbers only
    _, mine_json, _ = as_staff(CHENGGUAN, "GET", f"/reports/{own['report_id']}", query={"format": ["json"]})
    document = json.loads(download(mine_json["url"]))
    assert document["scope"] == "区城管局" and [row["name"] for row in document["departments"]] == ["区城管局"]
    # A leader reads any of them
    for report_id in (own["report_id"], theirs["report_id"], county["report_id"]):
        assert as_staff(LEADER, "GET", f"/reports/{report_id}", query={"format": ["json"]})[0] == 200
    # and a leader may ask for a department's report too
    assert as_staff(LEADER, "POST", "/reports", {"period": "2025-11", "department": "区城管局"})[0] == 202


def test_the_listing_shows_a_department_only_its_own_reports(aws):
    # Given two reports of 区城管局, one of 区市场监管局 and one of the county
    for _ in range(2):
        as_staff(CHENGGUAN, "POST", "/reports", {"period": "2025-10"})
    as_staff(SHICHANG, "POST", "/reports", {"period": "2025-10"})
    report_api("POST", "/reports", {"period": "2025-10"})
    # When each lists reports
    status, chengguan, _ = as_staff(CHENGGUAN, "GET", "/reports")
    assert status == 200 and chengguan["scope"] == "区城管局"
    assert [r["scope"] for r in chengguan["items"]] == ["区城管局", "区城管局"]
    assert [r["scope"] for r in as_staff(SHICHANG, "GET", "/reports")[1]["items"]] == ["区市场监管局"]
    # the centre sees the county's, and a department's when it names it
    assert [r["scope"] for r in report_api("GET", "/reports")[1]["items"]] == [None]
    named = report_api("GET", "/reports", query={"department": ["区市场监管局"]})[1]
    assert [r["scope"] for r in named["items"]] == ["区市场监管局"]
    # a department naming another is 403
    status, answer, _ = as_staff(CHENGGUAN, "GET", "/reports", query={"department": ["区市场监管局"]})
    assert status == 403 and answer["error"]["code"] == "forbidden"
    # each item says what it is
    item = chengguan["items"][0]
    assert set(item) == {"report_id", "period", "period_label", "kind", "scope", "status", "requested_at", "ready_at",
                         "error"}
    assert item["period_label"] == "2025年10月" and item["kind"] == "requested" and item["status"] == "pending"


def test_reports_are_listed_newest_first_a_page_at_a_time(aws):
    # Given five county reports, asked one after another
    asked = [report_api("POST", "/reports", {"period": f"2025-0{n}"})[1]["report_id"] for n in range(1, 6)]
    # When the centre pages through them two at a time
    seen, token, pages = [], None, 0
    while True:
        query = {"limit": ["2"], **({"next": [token]} if token else {})}
        status, page, _ = report_api("GET", "/reports", query=query)
        assert status == 200 and len(page["items"]) <= 2
        seen += [item["report_id"] for item in page["items"]]
        pages += 1
        token = page["next"]
        if token is None:
            break
    # Then three pages gave each once, newest first, and the last page says it is the last
    assert pages == 3 and seen == asked[::-1]
    # the default page holds them all
    assert [i["report_id"] for i in report_api("GET", "/reports")[1]["items"]] == asked[::-1]


def test_a_token_that_is_not_this_lists_is_400(aws):
    for _ in range(3):
        as_staff(CHENGGUAN, "POST", "/reports", {"period": "2025-10"})
        report_api("POST", "/reports", {"period": "2025-10"})
    departments_token = as_staff(CHENGGUAN, "GET", "/reports", query={"limit": ["1"]})[1]["next"]
    county_token = report_api("GET", "/reports", query={"limit": ["1"]})[1]["next"]
    assert departments_token and county_token
    # another list's token cannot start the county's list, nor junk, nor a county token a department's
    for bad in (departments_token, "junk!", "e30", "x" * 2000):
        status, answer, _ = report_api("GET", "/reports", query={"next": [bad]})
        assert status == 400 and answer["error"]["details"][0]["field"] == "next", bad
    assert as_staff(CHENGGUAN, "GET", "/reports", query={"next": [county_token]})[0] == 400
    for limit in ("0", "101", "abc", "-1"):
        status, answer, _ = report_api("GET", "/reports", query={"limit": [limit]})
        assert status == 400 and answer["error"]["details"][0]["field"] == "limit"
    assert report_api("GET", "/reports", query={"limit": ["100"]})[0] == 200


def test_a_ready_report_without_the_format_asked_is_404_with_its_own_code(aws):
    builds = StreamReader(aws, "ReportBuildFunction")
    _, asked, _ = report_api("POST", "/reports", {"period": "2025-11"})
    # While pending, any format answers the state without a link
    status, pending, _ = report_api("GET", f"/reports/{asked['report_id']}")
    assert status == 200 and pending["status"] == "pending" and pending["url"] is None and pending["format"] == "xlsx"
    builds.deliver()
    status, ready, _ = report_api("GET", f"/reports/{asked['report_id']}")
    assert status == 200 and saved_as(ready["url"]) == "民意速办考核报表_2025年11月.xlsx"
    # Given a report stored before workbooks were written (CSV and JSON only)
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=TABLE, Item={
        "report_id": {"S": "R20251201CSVONLY"}, "period": {"S": "2025-11"}, "status": {"S": "ready"},
        "requested_at": {"S": "2025-12-01T09:00:00+08:00"}, "requested_by": {"S": "centre01"},
        "ready_at": {"S": "2025-12-01T09:00:05+08:00"}, "csv_key": {"S": "reports/2025-11/R20251201CSVONLY.csv"},
        "json_key": {"S": "reports/2025-11/R20251201CSVONLY.json"}})
    # Then the default (xlsx) is 404 format_not_available, naming what there is
    status, answer, _ = report_api("GET", "/reports/R20251201CSVONLY")
    assert status == 404 and answer["error"]["code"] == "format_not_available"
    assert answer["error"]["details"] == [{"field": "format", "problem": "available: csv, json"}]
    status, answer, _ = report_api("GET", "/reports/R20251201CSVONLY", query={"format": ["xlsx"]})
    assert status == 404 and answer["error"]["code"] == "format_not_available"
    # and an unknown format is 400
    status, answer, _ = report_api("GET", f"/reports/{asked['report_id']}", query={"format": ["pdf"]})
    assert status == 400 and answer["error"]["code"] == "validation_error"
    status, as_json, _ = report_api("GET", f"/reports/{asked['report_id']}", query={"format": ["json"]})
    assert status == 200 and saved_as(as_json["url"]) == "民意速办考核报表_2025年11月.json"


def test_a_failed_report_is_listed_failed_with_its_reason(aws):
    from minyi.reports import build as reports

    _, asked, _ = report_api("POST", "/reports", {"period": "2025-11"})
    reports.build(asked["report_id"], "no-such-bucket", clock.now())
    [item] = report_api("GET", "/reports")[1]["items"]
    assert item["status"] == "failed" and "NoSuchBucket" in item["error"] and item["ready_at"]
    status, answer, _ = report_api("GET", f"/reports/{asked['report_id']}")
    assert status == 200 and answer["status"] == "failed" and answer["url"] is None


def test_a_report_stored_before_files_and_scopes_is_still_read(aws):
    # Given an item as the report table held them before (csv_key, json_key; no kind, scope or listing)
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=TABLE, Item={
        "report_id": {"S": "R20251201OLD"}, "period": {"S": "2025-11"}, "status": {"S": "ready"},
        "requested_at": {"S": "2025-12-01T09:00:00+08:00"}, "requested_by": {"S": "centre01"},
        "ready_at": {"S": "2025-12-01T09:00:05+08:00"}, "csv_key": {"S": "reports/2025-11/R20251201OLD.csv"},
        "json_key": {"S": "reports/2025-11/R20251201OLD.json"}})
    # Then it reads as the county's requested report with its CSV and JSON
    status, answer, _ = report_api("GET", "/reports/R20251201OLD", query={"format": ["csv"]})
    assert status == 200 and answer["kind"] == "requested" and answer["scope"] is None
    assert answer["formats"] == ["csv", "json"] and "R20251201OLD.csv" in answer["url"]
    # and a department cannot read it
    assert as_staff(CHENGGUAN, "GET", "/reports/R20251201OLD", query={"format": ["csv"]})[0] == 404


@pytest.mark.parametrize(("schedule", "at", "report_id", "period", "kind"), [
    ("Daily", datetime(2026, 11, 27, 1, 0, tzinfo=SHANGHAI), "S-daily-2026-11-26", "2026-11-26", "daily"),
    ("Weekly", datetime(2026, 11, 9, 1, 0, tzinfo=SHANGHAI), "S-weekly-2026-W45", "2026-W45", "weekly"),
    ("Monthly", datetime(2026, 11, 1, 1, 0, tzinfo=SHANGHAI), "S-monthly-2026-10", "2026-10", "monthly"),
    # EventBridge fires at 17:00 UTC the day before; a cross-year week
    ("Weekly", datetime(2026, 1, 4, 17, 0, tzinfo=UTC), "S-weekly-2026-W01", "2026-W01", "weekly"),
    ("Monthly", datetime(2026, 12, 31, 17, 0, tzinfo=UTC), "S-monthly-2026-12", "2026-12", "monthly"),
])
def test_each_schedule_builds_the_countys_report_of_the_period_just_ended_once(aws, schedule, at, report_id, period,
                                                                              kind):
    # When the schedule fires (its Input, with the time the local stack adds)
    result = scheduled("ReportBuildFunction", at, schedule=schedule)
    # Then it made and built the county's report of that period under a fixed id
    assert result == {"report_id": report_id, "period": period, "kind": kind, "status": "ready"}
    status, report, _ = report_api("GET", f"/reports/{report_id}", query={"format": ["csv"]})
    assert status == 200 and report["scope"] is None and report["kind"] == kind and report["url"]
    # And firing it again (EventBridge delivers at least once) makes no second report
    items = table_items(TABLE)
    assert scheduled("ReportBuildFunction", at + timedelta(minutes=3), schedule=schedule) == result
    assert table_items(TABLE) == items and len(items) == 1
    # and the stream's delivery of the insert finds it built
    assert StreamReader(aws, "ReportBuildFunction").deliver() == []
    assert [i["report_id"] for i in report_api("GET", "/reports")[1]["items"]] == [report_id]


def test_a_schedules_input_alone_as_eventbridge_delivers_it_reports_by_the_clock(aws):
    # When the weekly schedule's Input arrives without a time (as EventBridge delivers it)
    result = scheduled("ReportBuildFunction", None, schedule="Weekly")
    # Then the function read its clock: last ISO week
    assert result["period"] == previous_period("week", clock.now()) and result["status"] == "ready"
    assert result["report_id"] == f"S-weekly-{result['period']}"


def test_a_schedule_firing_after_a_failed_build_does_not_make_a_second_report(aws):
    from minyi.reports import build as reports
    from minyi.reports.requests import scheduled_report

    at = datetime(2026, 11, 27, 1, 0, tzinfo=SHANGHAI)
    # Given the daily report of 26 November was made and failed
    report = scheduled_report("day", at)
    assert reports.build(report.report_id, "no-such-bucket", at).status.value == "failed"
    # When the schedule fires again for that day, Then it is still the one failed report
    assert scheduled("ReportBuildFunction", at, schedule="Daily")["status"] == "failed"
    assert len(table_items(TABLE)) == 1
    # and the centre asks for it again with a new POST, which is built
    _, again, _ = report_api("POST", "/reports", {"period": "2026-11-26"})
    StreamReader(aws, "ReportBuildFunction").deliver()
    assert report_api("GET", f"/reports/{again['report_id']}", query={"format": ["csv"]})[1]["status"] == "ready"
