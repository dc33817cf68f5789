"""The local stack's clock and event log, over HTTP: what the handlers put on the event bus
is kept at GET /_local/events, and a schedule can be fired at an instant of one's choosing
(POST /_local/schedules/<Function>/fire?at=...), as `make run` tells people to."""

import json
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from minyi.core.clock import SHANGHAI

pytestmark = pytest.mark.e2e

URGENT = {"external_id": "clock-urgent-1", "title": "小区路灯坏了", "content": "梅林镇某小区路灯坏了一周",
          "citizen": {"name": "钱七", "phone": "13500000000"}, "urgent": True}


def test_an_urgent_orders_emergency_alerts_are_on_the_event_log(stack):
    # Given an urgent request from the 12345 hotline
    created = stack.post_signed("12345", URGENT)
    assert created.status == 201, created.raw
    order_id = created.body["order_id"]

    # When it is dispatched, Then one Emergency event per linked department is on the bus, real-shaped
    def dispatched():
        answer = stack.request("GET", f"/orders/{order_id}")
        return answer.body if answer.body["status"] != "received" else None

    order = stack.wait_for(dispatched, timeout=15)
    assert order["status"] == "dispatched" and order["urgent"] is True

    def alerts():
        answer = stack.request("GET", f"/_local/events?detail-type=Emergency&order_id={order_id}")
        return answer.body["events"] if answer.status == 200 else None

    events = stack.wait_for(alerts, timeout=15)
    assert {e["detail"]["department"] for e in events} >= {order["department"]}
    for event in events:
        assert (event["source"], event["detail-type"]) == ("minyi.dispatch", "Emergency")
        assert event["detail"]["order_id"] == order_id and event["detail"]["due_at"] == order["due_at"]
        assert datetime.fromisoformat(event["time"]).tzinfo is not None
    assert "13500000000" not in json.dumps(events, ensure_ascii=False)

    # and the filters filter: another order's events, or another type, are not this order's
    assert stack.request("GET", "/_local/events?order_id=MYNOSUCHORDER").body == {"events": []}
    everything = stack.request("GET", f"/_local/events?order_id={order_id}").body["events"]
    assert len(everything) >= len(events)
    assert all(e["detail"]["order_id"] == order_id for e in everything)


def test_the_sla_sweep_fired_at_a_chosen_instant_answers_with_its_outcome(stack):
    # Given the stack's clock (the e2e stack runs the sweep on the real clock)
    clock = stack.request("GET", "/_local/clock").body
    assert clock["virtual"] is False and clock["compression"] == 300

    # When the SLA sweep is fired as of now (in Shanghai's zone, with a literal "+")
    at = datetime.now(SHANGHAI).replace(microsecond=0)
    fired = stack.request("POST", f"/_local/schedules/SlaCheckFunction/fire?at={at.isoformat()}")

    # Then it ran synchronously and answered with the sweep's outcome counts
    assert fired.status == 200, fired.raw
    assert fired.body["function"] == "SlaCheckFunction" and fired.body["status"] == "ok"
    assert datetime.fromisoformat(fired.body["at"]) == at
    outcome = fired.body["result"]
    assert isinstance(outcome, dict) and all(isinstance(n, int) and n >= 0 for n in outcome.values())


def test_the_daily_report_fired_at_a_chosen_instant_builds_the_day_before_it(stack):
    # When the daily report's schedule fires as of 01:00 on 15 March 2026 in Shanghai (percent-encoded)
    at = datetime(2026, 3, 15, 1, 0, tzinfo=SHANGHAI)
    fired = stack.request("POST", f"/_local/schedules/ReportBuildFunction/fire?at={quote(at.isoformat())}")

    # Then the handler got that instant as the event's time: it built the report of 14 March
    assert fired.status == 200, fired.raw
    assert fired.body["status"] == "ok"
    assert fired.body["result"]["period"] == "2026-03-14" and fired.body["result"]["status"] == "ready"
    assert datetime.fromisoformat(fired.body["at"]) == at


def test_bad_instants_and_unknown_schedules_are_4xx(stack):
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).isoformat()
    for bad in ("tomorrow", "2026-12-01T09:00:00", "2026-12-01", "2026-13-01T09:00:00Z", ""):
        answer = stack.request("POST", f"/_local/schedules/SlaCheckFunction/fire?at={quote(bad)}")
        if bad == "":  # an empty at is no at: the stack's clock
            assert answer.status == 200
            continue
        assert answer.status == 400, (bad, answer.raw)
        assert answer.body["error"]["code"] == "invalid_at" and answer.body["error"]["details"][0]["field"] == "at"
    unknown = stack.request("POST", f"/_local/schedules/NoSuchFunction/fire?at={quote(tomorrow)}")
    assert unknown.status == 404 and unknown.body["error"]["code"] == "not_found"
    unscheduled = stack.request("POST", f"/_local/schedules/IntakeFunction/fire?at={quote(tomorrow)}")
    assert unscheduled.status == 404
    assert stack.request("GET", "/_local/schedules/SlaCheckFunction/fire").status == 404
