"""One citizen request from a channel webhook to a downloadable report, over HTTP
against the local stack: the acceptance path of the walking skeleton."""

import io
import json
import urllib.request

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e

REQUEST = {"external_id": "t-1", "title": "小区路灯坏了", "content": "梅林镇某小区路灯坏了一周",
           "citizen": {"name": "张三", "phone": "13800000000"}}


def test_request_is_stored_dispatched_deduplicated_and_reported(stack):
    created = stack.post_signed("12345", REQUEST)
    assert created.status == 201, created.raw
    order_id = created.body["order_id"]

    def dispatched():
        answer = stack.request("GET", f"/orders/{order_id}")
        return answer.body if answer.body["status"] != "received" else None

    order = stack.wait_for(dispatched, timeout=15)
    assert order["status"] == "dispatched" and order["department"] == "区城管局"
    assert order["due_at"] and "13800000000" not in json.dumps(order)

    def told():  # the channel system's status endpoint hears of the dispatch, signed
        return [s for s in stack.request("GET", "/_local/statuses").body
                if s.get("status", {}).get("order_id") == order_id] or None

    [notice] = stack.wait_for(told, timeout=15)
    assert notice["verified"] and notice["delivery"] == f"{order_id}-status-{notice['status']['version']}"
    assert (notice["status"]["stage"], notice["status"]["expected_completion"]) == ("dispatched", order["due_at"])

    again = stack.post_signed("12345", REQUEST)
    assert again.status == 200 and again.body["order_id"] == order_id

    period = order["received_at"][:7]
    assert stack.request("POST", "/reports", {"period": period}).status == 401  # staff only
    centre = stack.token("zhongxin01")
    requested = stack.request("POST", "/reports", {"period": period}, headers=centre)
    assert requested.status == 202
    report_id = requested.body["report_id"]

    def ready():
        answer = stack.request("GET", f"/reports/{report_id}?format=csv", headers=centre)
        return answer.body if answer.body["status"] == "ready" else None

    report = stack.wait_for(ready, timeout=15)
    assert report["url"].startswith("http://127.0.0.1:")
    with urllib.request.urlopen(report["url"], timeout=10) as response:
        content = response.read()
    assert content.startswith("\ufeff".encode())
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("计分公式：得分 = 100 ×")
    assert any(",区城管局," in line for line in text.splitlines())
    # and the workbook (the default format) opens with its sheets and native charts
    workbook = stack.request("GET", f"/reports/{report_id}", headers=centre).body
    with urllib.request.urlopen(workbook["url"], timeout=10) as response:
        book = load_workbook(io.BytesIO(response.read()))
    assert book.sheetnames == ["总览", "趋势", "渠道", "事项", "乡镇", "热点", "明细"]
    assert book["总览"]._charts and book["趋势"]._charts and book["渠道"]._charts


def test_bad_input_gets_4xx_and_a_machine_readable_error(stack):
    unsigned = stack.request("POST", "/channels/12345/requests", REQUEST)
    assert unsigned.status == 401 and unsigned.body["error"]["code"] == "unauthorized"
    malformed = stack.post_signed("12345", raw=b"{not json")
    assert malformed.status == 400 and malformed.body["error"]["code"] == "malformed_json"
    invalid = stack.post_signed("12345", {**REQUEST, "citizen": {"name": "", "phone": "1"}})
    assert invalid.status == 400
    assert {d["field"] for d in invalid.body["error"]["details"]} == {"citizen.name", "citizen.phone"}
    unknown = stack.request("POST", "/channels/nope/requests", {**REQUEST, "external_id": "t-x"})
    assert unknown.status == 404
    missing = stack.request("GET", "/orders/MYNOSUCHORDER")
    assert missing.status == 404
    no_route = stack.request("DELETE", "/orders/MYNOSUCHORDER")
    assert no_route.status == 403  # API Gateway's answer for a method it has no route for


def test_unmatched_request_waits_in_the_manual_queue(stack):
    created = stack.post_signed("12345", {**REQUEST, "external_id": "t-manual", "title": "咨询",
                                          "content": "请问办事大厅周六开门吗",
                                          "citizen": {"name": "王五", "phone": "13700000000"}})
    order_id = created.body["order_id"]

    def routed():
        answer = stack.request("GET", f"/orders/{order_id}")
        return answer.body if answer.body["status"] != "received" else None

    assert stack.wait_for(routed)["status"] == "manual"
