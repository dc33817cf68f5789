"""Assessment on the local stack: an order taken in over HTTP reaches the assess function through
the orders table's change stream emulated as Kinesis Data Streams for DynamoDB, and the staff
dashboard (GET /staff/dashboard) counts it — the centre sees every department, a department only
itself. The stack is shared with the other e2e tests: only differences are asserted on."""

from datetime import datetime

import pytest

from minyi.core.clock import SHANGHAI

pytestmark = pytest.mark.e2e


def _board(stack, who: str, period: str) -> dict:
    answer = stack.request("GET", f"/staff/dashboard?period={period}", headers=stack.token(who))
    assert answer.status == 200, answer.raw
    return answer.body


def _row(board: dict, department: str) -> dict:
    return next((row for row in board["departments"] if row["department"] == department),
                {"counts": {"received": 0, "sign_due": 0, "signed_in_time": 0}})


def test_an_order_taken_in_and_signed_shows_on_the_dashboard_once(stack):
    period = datetime.now(SHANGHAI).strftime("%Y-%m")
    before = _row(_board(stack, "zhongxin01", period), "区城管局")["counts"]
    created = stack.post_signed("12345", {"external_id": "kpi-e2e-1", "title": "路灯坏了",
                                          "content": "梅林镇华丰社区路灯坏了一周", "citizen": {"name": "钱七",
                                                                                "phone": "13900002222"}})
    assert created.status == 201, created.raw
    order_id = created.body["order_id"]
    stack.wait_for(lambda: stack.request("GET", f"/orders/{order_id}").body["status"] == "dispatched")
    signed = stack.request("POST", f"/orders/{order_id}/sign", headers=stack.token("chengguan01"))
    assert signed.status == 200, signed.raw

    def counted():
        counts = _row(_board(stack, "zhongxin01", period), "区城管局")["counts"]
        return counts if counts["signed_in_time"] == before["signed_in_time"] + 1 else None

    counts = stack.wait_for(counted, timeout=30)
    assert counts["received"] == before["received"] + 1 and counts["sign_due"] == before["sign_due"] + 1
    own = _board(stack, "chengguan01", period)
    assert [row["department"] for row in own["departments"]] == ["区城管局"]
    assert own["departments"][0]["response_rate"] is not None
    bad = stack.request("GET", "/staff/dashboard?period=2026-00", headers=stack.token("zhongxin01"))
    assert bad.status == 400 and bad.body["error"]["code"] == "validation_error"
