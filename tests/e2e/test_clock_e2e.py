"""The clock on the local stack, compressed: a 12345 request dispatched to a department that
never signs for it is warned at 80% of its sign-for limit, reaches the `unsigned` queue
(超时未签收) when the limit passes with the ladder's first step (催办), and gets the ladder's
second (催办通知书) at the next working day's office opening. The SLA sweep is fired at
chosen instants (POST /_local/schedules/SlaCheckFunction/fire?at=...); what it puts on the
bus is read back from the stack's event log, each step once however often the sweep runs.

The stack is shared with the other e2e tests and the sweep acts on every order due, so only
this order's events and audit trail are asserted on, never the sweep's outcome counts."""

import csv
import json
import random
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from minyi.core.clock import SHANGHAI

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[2]
LIAISONS = ROOT / "src" / "minyi" / "data" / "liaisons.sample.csv"
MINUTE = timedelta(minutes=1)
SETTLE = 3.0  # seconds: longer than the stack takes to drain the bus's queue into its event log


def _ok(answer, status=200):
    assert answer.status == status, answer.raw
    return answer.body


def _at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def _fire(stack, at: datetime) -> dict:
    fired = _ok(stack.request("POST", f"/_local/schedules/SlaCheckFunction/fire?at={quote(at.isoformat())}"))
    assert fired["status"] == "ok" and _at(fired["at"]) == at, fired
    assert not fired["result"].get("failed"), fired  # no order made the sweep fail
    return fired


def _clock_events(stack, order_id: str, detail_type: str, step: str | None = None) -> list[dict]:
    found = _ok(stack.request("GET", f"/_local/events?detail-type={detail_type}&order_id={order_id}"))["events"]
    return [e for e in found if e["source"] == "minyi.clock" and e["detail"]["limit"] == "sign"
            and (step is None or e["detail"].get("step") == step)]


def _one_event(stack, order_id: str, detail_type: str, step: str | None = None) -> dict:
    """Waits for the event, then lets the log settle: there is exactly one."""
    stack.wait_for(lambda: _clock_events(stack, order_id, detail_type, step), timeout=15)
    time.sleep(SETTLE)
    found = _clock_events(stack, order_id, detail_type, step)
    assert len(found) == 1, json.dumps(found, ensure_ascii=False)
    return found[0]


def _detail(stack, order_id: str, centre) -> dict:
    return _ok(stack.request("GET", f"/staff/orders/{order_id}", headers=centre))


def _sign_audits(detail: dict, action: str) -> list[dict]:
    return [a for a in detail["audit"] if a["action"] == action and (a.get("detail") or {}).get("limit") == "sign"]


def _in_queue(stack, queue: str, order_id: str, centre) -> bool:
    cursor = None
    while True:
        page = _ok(stack.request("GET", f"/staff/queues/{queue}" + (f"?cursor={quote(cursor)}" if cursor else ""),
                                 headers=centre))
        if order_id in [o["order_id"] for o in page["orders"]]:
            return True
        cursor = page["next_cursor"]
        if not cursor:
            return False


def _sample_contact(unit: str) -> dict:
    """The unit's entry as the stack seeds it (the sample 附件2): columns by position, as the county lays them out."""
    with LIAISONS.open(encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if len(row) >= 8 and row[1] == unit]
    if not rows:
        return {"unit": unit, "liaison": None, "leader_in_charge": None}
    _, _, leader, leader_title, leader_phone, liaison, liaison_title, liaison_phone = rows[0][:8]
    return {"unit": unit,
            "liaison": {"name": liaison, "title": liaison_title, "phone": liaison_phone} if liaison else None,
            "leader_in_charge": {"name": leader, "title": leader_title, "phone": leader_phone} if leader else None}


def _unsigned_dispatched_order(stack, centre) -> dict:
    """A street-lamp request from a phone and place no other test uses (else it is merged, 并单);
    dispatched by the centre to the street-lamp matter (CX-02-04) if the county list does not place it."""
    n = random.randrange(10**4)
    created = _ok(stack.post_signed("12345", {
        "external_id": f"clock-e2e-{n:04d}-{time.time_ns()}", "title": "钟楼社区路灯不亮",
        "content": f"梅林镇钟楼社区{n % 90 + 10}栋门口的路灯坏了三天，晚上出行不便",
        "address": f"赣州市赣县区梅林镇钟楼社区{n % 90 + 10}栋",
        "citizen": {"name": "钟九", "phone": f"1360797{n:04d}"}}), 201)
    order_id = created["order_id"]
    routed = stack.wait_for(lambda: (lambda b: b if b["status"] != "received" else None)(
        stack.request("GET", f"/orders/{order_id}").body))
    if routed["status"] == "manual":
        _ok(stack.request("POST", f"/orders/{order_id}/dispatch", {"matter_code": "CX-02-04"}, headers=centre))
    detail = _detail(stack, order_id, centre)
    assert detail["order"]["status"] == "dispatched" and not detail["order"].get("parent_order_id"), detail["order"]
    return detail


def test_an_order_nobody_signs_is_warned_queued_as_unsigned_reminded_then_sent_a_notice(stack):
    centre = stack.token("zhongxin01")

    # Given a 12345 request dispatched to a department, which nobody there signs for
    detail = _unsigned_dispatched_order(stack, centre)
    order_id, department = detail["order"]["order_id"], detail["order"]["department"]
    sign = detail["deadlines"]["sign"]
    warn_at, due = _at(sign["warn_at"]), _at(sign["due"])
    dispatched_at = _at(detail["order"]["dispatched_at"])
    assert dispatched_at < warn_at < due, sign
    assert sign["party"] == department and sign["missed_at"] is None and sign["steps"] == [], sign
    assert department == "区城管局", detail["order"]  # street lamps; the sample table has its liaison
    contacts = [_sample_contact(department)]
    assert contacts[0]["liaison"] and contacts[0]["liaison"]["phone"], contacts

    # When the sweep runs just before the warning, Then nothing is said about this order's sign-for limit
    _fire(stack, warn_at - MINUTE)
    time.sleep(SETTLE)
    assert _clock_events(stack, order_id, "DeadlineApproaching") == []

    # When it runs a minute after the warning instant, twice
    _fire(stack, warn_at + MINUTE)
    _fire(stack, warn_at + MINUTE)

    # Then one DeadlineApproaching event for the sign-for limit, naming whom to call
    warned = _one_event(stack, order_id, "DeadlineApproaching")
    assert warned["detail"]["department"] == department and warned["detail"]["units"] == [department]
    assert _at(warned["detail"]["warn_at"]) == warn_at and _at(warned["detail"]["due_at"]) == due
    assert warned["detail"]["contacts"] == contacts, warned["detail"]
    assert _ok(stack.request("GET", f"/orders/{order_id}"))["status"] == "dispatched"
    assert not _in_queue(stack, "unsigned", order_id, centre)  # warned, not yet late

    # When it runs a minute after the limit, twice
    _fire(stack, due + MINUTE)
    _fire(stack, due + MINUTE)

    # Then the order is 超时未签收 in the centre's `unsigned` queue, and the first step (催办) is on the bus once
    assert _in_queue(stack, "unsigned", order_id, centre)
    reminded = _one_event(stack, order_id, "DeadlineEscalated", "remind")
    assert reminded["detail"]["step_label"] == "催办" and reminded["detail"]["next_step"] == "notice"
    assert _at(reminded["detail"]["missed_at"]) == due and reminded["detail"]["contacts"] == contacts
    assert reminded["detail"]["department"] == department and reminded["detail"]["units"] == [department]
    after_miss = _detail(stack, order_id, centre)
    sign = after_miss["deadlines"]["sign"]
    assert _at(sign["missed_at"]) == due and [s["step"] for s in sign["steps"]] == ["remind"], sign
    notice_at = _at(sign["next_step"]["at"])
    assert sign["next_step"]["step"] == "notice", sign
    # the next working day's office opening (the county's default hours: 08:30)
    local = notice_at.astimezone(SHANGHAI)
    assert local.date() > due.astimezone(SHANGHAI).date() and (local.hour, local.minute) == (8, 30), sign
    assert local - due < timedelta(days=12), sign  # the next working day, not a week on

    # When the sweep runs a minute before the notice is due, Then no notice yet
    _fire(stack, notice_at - MINUTE)
    time.sleep(SETTLE)
    assert _clock_events(stack, order_id, "DeadlineEscalated", "notice") == []
    assert not _sign_audits(_detail(stack, order_id, centre), "notice_sent")

    # When it runs a minute after, twice, Then the second step (催办通知书) is on the bus once
    _fire(stack, notice_at + MINUTE)
    _fire(stack, notice_at + MINUTE)
    noticed = _one_event(stack, order_id, "DeadlineEscalated", "notice")
    assert noticed["detail"]["step_label"] == "催办通知书" and noticed["detail"]["next_step"] == "supervise"
    assert noticed["detail"]["contacts"] == contacts and _at(noticed["detail"]["missed_at"]) == due

    # and each step stays once on the log and in the audit trail, the order still unsigned in the queue
    time.sleep(SETTLE)
    assert len(_clock_events(stack, order_id, "DeadlineApproaching")) == 1
    assert len(_clock_events(stack, order_id, "DeadlineEscalated", "remind")) == 1
    assert len(_clock_events(stack, order_id, "DeadlineEscalated", "notice")) == 1
    final = _detail(stack, order_id, centre)
    for action in ("deadline_approaching", "deadline_missed", "reminded", "notice_sent"):
        assert len(_sign_audits(final, action)) == 1, (action, final["audit"])
    sign = final["deadlines"]["sign"]
    assert [s["step"] for s in sign["steps"]] == ["remind", "notice"] and sign["next_step"]["step"] == "supervise"
    assert final["order"]["status"] == "dispatched" and _in_queue(stack, "unsigned", order_id, centre)

    # whom to call is on the bus, never in the stack's logs (nor is the citizen's phone)
    phones = {p for c in contacts for who in ("liaison", "leader_in_charge") if c[who] for p in [c[who]["phone"]]}
    phones.add(final["order"]["citizen"]["phone"])
    logs = sorted(stack.state_dir.glob("*.log"))
    assert any(log.name == "SlaCheckFunction.log" for log in logs), logs
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert not [p for p in phones if p in text], log.name
