"""The clock (限时办结、统一督办) with a controllable clock, on real dates: every limit of an
order, its warning and each step of the escalation ladder, fired once and at the right
working instant across a weekend, a holiday and a 调休 working Saturday; extensions, pauses
and leader cases moving the limits as documented; two sweeps at once never escalating twice.

Orders are stored and dispatched through the real domain path with a chosen `now`; staff act
through the real staff API with `minyi.core.clock.now` set to the story's instant."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest

from minyi.casework.autodispatch import dispatch_received
from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.dal import orders
from minyi.models.order import Citizen
from minyi.routing.cache import CachedDutyList
from minyi.sla.sweep import sweep
from tests.builders import an_order
from tests.helpers import CENTRE, CHENGGUAN, LEADER, audit_trail, bus_log, import_sample_duty_list
from tests.integration.test_staff_api import staff

OTHER_LEADER = ("leader02", "leader")
ZHUJIAN = ("zhujian01", "department", "区住建局")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Story:
    """The world of one story: the duty list in force, the instant staff act at, the bus's log."""

    def __init__(self, aws, monkeypatch) -> None:
        import_sample_duty_list()
        self.matcher = CachedDutyList(ttl=0).matcher
        self.now = at("2026-01-05T09:00:00")
        monkeypatch.setattr(clock, "now", lambda: self.now)
        self.events = bus_log(aws, "minyi.clock", "clock-test")
        self.count = 0

    def dispatched(self, when: datetime, title: str = "小区路灯坏了", content: str = "梅林镇华丰社区路灯坏了一周",
                   **fields) -> str:
        """A 12345 request received and dispatched at `when` (the route function's own path)."""
        self.count += 1
        # each from its own citizen: the same matter from the same phone would be merged (并单)
        citizen = Citizen(name="张三", phone=f"138{self.count:08d}")
        order = an_order("received", order_id=f"MYCLOCKTEST{self.count:05d}", external_id=f"clock-{self.count}",
                         title=title, content=content, received_at=when, citizen=citizen, **fields)
        assert orders.insert_order(order, clock.epoch(when + timedelta(minutes=5)), "intake", {})
        done = dispatch_received(order.order_id, self.matcher(), when, "route", 0.2)
        assert done.status.value == "dispatched", done
        return order.order_id

    def sweep(self, when: datetime) -> Counter:
        return sweep(when, self.matcher, 0.2)

    def act(self, method: str, path: str, who, body=None, when: datetime | None = None):
        self.now = when or self.now
        status, answer, _ = staff(method, path, who, body)
        return status, answer

    def steps(self, order_id: str) -> list[str]:
        return [entry["action"] for entry in audit_trail(order_id)]

    def bus(self, order_id: str) -> list[tuple[str, str, str | None]]:
        return [(e["detail-type"], e["detail"]["limit"], e["detail"].get("step"))
                for e in self.events() if e["detail"].get("order_id") == order_id
                and e["source"] == "minyi.clock"]


@pytest.fixture
def story(aws, monkeypatch):
    return Story(aws, monkeypatch)


def _escalations_counted(printed: str) -> Counter:
    """The per-department escalation counts the sweep emitted (CloudWatch embedded metrics)."""
    found: Counter = Counter()
    for line in printed.splitlines():
        if '"Escalations"' in line and line.startswith("{"):
            record = json.loads(line)
            found[(record["Department"], record["Limit"], record["Step"])] += 1
    return found


def test_an_order_nobody_signs_climbs_the_ladder_across_a_sunday_working_day_and_the_spring_festival(story, capsys):
    # Given an order dispatched on Saturday 2025-01-25 at 17:00; Sunday 2025-01-26 was a working day (调休)
    oid = story.dispatched(at("2025-01-25T17:00:00"))
    limits = orders.get_order(oid).deadlines
    # Then signing is due after 2 working hours: 10:30 on that Sunday, with its warning at 80% (10:06)
    assert limits["sign"].due == at("2025-01-26T10:30:00") and limits["sign"].warn_at == at("2025-01-26T10:06:00")
    # and first contact by the end of the next working day, the Sunday
    assert limits["contact"].due == at("2025-01-27T00:00:00")
    assert story.sweep(at("2025-01-26T10:05:00")) == Counter()
    # When the sweep runs at 10:07, twice, Then the warning is taken once and announced
    assert story.sweep(at("2025-01-26T10:07:00")) == Counter({"warned": 1})
    assert story.sweep(at("2025-01-26T10:07:30")) == Counter()
    assert story.bus(oid) == [("DeadlineApproaching", "sign", None)]
    # When the limit passes, Then it is missed, reminded (催办) at once, and the centre sees it in `unsigned`
    assert story.sweep(at("2025-01-26T10:31:00")) == Counter({"missed": 1, "escalated": 1})
    status, queue = story.act("GET", "/staff/queues/unsigned", CENTRE)
    assert status == 200 and [o["order_id"] for o in queue["orders"]] == [oid]
    # and the written notice (催办通知书) falls on the next working day's opening, Monday 08:30
    sign = orders.get_order(oid).deadlines["sign"]
    assert (sign.next_step.value, sign.next_step_at) == ("notice", at("2025-01-27T08:30:00"))
    story.sweep(at("2025-01-27T08:29:00"))  # the contact limit (due at midnight) is missed and reminded
    assert [rung.step.value for rung in orders.get_order(oid).deadlines["sign"].steps] == ["remind"]
    story.sweep(at("2025-01-27T08:31:00"))
    assert [rung.step.value for rung in orders.get_order(oid).deadlines["sign"].steps] == ["remind", "notice"]
    # and supervision (督办) 5 working days later: the Spring Festival (1/28–2/4) is skipped and
    # Saturday 2/8 was a working day, so it falls on Monday 2/10
    sign = orders.get_order(oid).deadlines["sign"]
    assert (sign.next_step.value, sign.next_step_at) == ("supervise", at("2025-02-10T08:30:00"))
    story.sweep(at("2025-02-10T08:31:00"))
    story.sweep(at("2025-02-10T09:00:00"))
    trail = story.steps(oid)
    sign_steps = [e["detail"]["step"] for e in audit_trail(oid)
                  if (e.get("detail") or {}).get("limit") == "sign" and e["action"] in ("reminded", "notice_sent",
                                                                                     "supervised")]
    assert sign_steps == ["remind", "notice", "supervise"]
    assert trail.count("deadline_missed") == 3  # sign, contact and the co-handlers' opinion, each once
    # and each step was announced on the bus once, naming the department's contacts
    sign_events = [e for e in story.bus(oid) if e[1] == "sign"]
    assert sign_events == [("DeadlineApproaching", "sign", None), ("DeadlineEscalated", "sign", "remind"),
                           ("DeadlineEscalated", "sign", "notice"), ("DeadlineEscalated", "sign", "supervise")]
    # and each step was counted once against the department
    counted = _escalations_counted(capsys.readouterr().out)
    assert [counted[("区城管局", "sign", step)] for step in ("remind", "notice", "supervise")] == [1, 1, 1]
    # When the department finally signs, Then it leaves the `unsigned` queue
    assert story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2025-02-10T10:00:00"))[0] == 200
    status, queue = story.act("GET", "/staff/queues/unsigned", CENTRE)
    assert queue["orders"] == []


def test_the_completion_limit_skips_the_national_day_holiday_and_counts_its_working_saturday(story):
    # Given an order dispatched on 2025-09-30 with the matter's 5 working days: 10/1–10/8 were off,
    # Saturday 10/11 a working day
    oid = story.dispatched(at("2025-09-30T10:00:00"))
    order = orders.get_order(oid)
    assert order.time_limit_days == 5
    # Then it is due at the end of 10/14 (10/9, 10/10, 10/11, 10/13, 10/14)
    assert order.deadlines["complete"].due == order.due_at == at("2025-10-15T00:00:00")
    # and the staff view shows every limit under `deadlines`
    status, detail = story.act("GET", f"/staff/orders/{oid}", CHENGGUAN)
    assert status == 200 and set(detail["deadlines"]) >= {"sign", "contact", "complete"}
    assert detail["deadlines"]["complete"]["due"] == "2025-10-15T00:00:00+08:00"
    assert detail["deadlines"]["complete"]["met_at"] is None


def test_a_saturday_working_day_counts_for_the_sign_limit_2026_02_14(story):
    # Given an order dispatched on Friday 2026-02-13 at 17:00 (one office hour left that day)
    oid = story.dispatched(at("2026-02-13T17:00:00"))
    # Then the second working hour is on Saturday 2/14, a working day before the Spring Festival
    assert orders.get_order(oid).deadlines["sign"].due == at("2026-02-14T09:30:00")
    # and a 5-day limit runs past the Spring Festival (2/15–2/23): 2/14, 2/24, 2/25, 2/26, 2/27
    assert orders.get_order(oid).due_at == at("2026-02-28T00:00:00")


def test_signing_contact_and_the_reply_meet_their_limits_and_stop_their_clocks(story):
    oid = story.dispatched(at("2026-01-05T09:00:00"))  # a Monday
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    story.act("POST", f"/orders/{oid}/contact", CHENGGUAN, {"method": "phone", "note": "已电话联系"},
              when=at("2026-01-05T10:00:00"))
    story.act("POST", f"/orders/{oid}/opinions", ZHUJIAN, {"text": "住建无异议"})
    order = orders.get_order(oid)
    assert order.deadlines["sign"].met_at == at("2026-01-05T09:30:00")
    assert order.deadlines["contact"].met_at == at("2026-01-05T10:00:00")
    story.act("POST", f"/orders/{oid}/reply", CHENGGUAN, {"result": "resolved", "text": "已修复路灯。"},
              when=at("2026-01-06T10:00:00"))
    order = orders.get_order(oid)
    # Then completion is met, and the reviewer's own limit starts: 1 working day
    assert order.deadlines["complete"].met_at == at("2026-01-06T10:00:00")
    assert order.deadlines["review"].due == at("2026-01-08T00:00:00") and order.deadlines["review"].party
    # When nobody reviews it in time, Then the reviewer is warned and reminded, not the department
    outcome = story.sweep(at("2026-01-08T00:01:00"))
    assert outcome == Counter({"missed": 1, "escalated": 1})
    assert story.bus(oid)[-1] == ("DeadlineEscalated", "review", "remind")
    # When it is approved, Then the evaluation window runs: 3 working days
    story.act("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"}, when=at("2026-01-08T09:00:00"))
    order = orders.get_order(oid)
    assert order.deadlines["review"].met_at and order.deadlines["evaluation"].due == at("2026-01-14T00:00:00")


def test_an_extension_asked_in_time_and_approved_moves_the_completion_limit_and_rearms_its_warning(story):
    oid = story.dispatched(at("2026-01-05T09:00:00"))  # due at the end of Monday 1/12
    assert orders.get_order(oid).due_at == at("2026-01-13T00:00:00")
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    # a department may not ask for more days than the county allows, nor the centre's decision
    assert story.act("POST", f"/orders/{oid}/extension", CHENGGUAN, {"days": 9, "reason": "需第三方检测"})[0] == 400
    assert story.act("POST", f"/orders/{oid}/extension", ZHUJIAN, {"days": 3, "reason": "需第三方检测"})[0] == 403
    status, asked = story.act("POST", f"/orders/{oid}/extension", CHENGGUAN, {"days": 3, "reason": "需第三方检测"},
                              when=at("2026-01-09T10:00:00"))
    assert status == 200 and asked["extension_request"]["days"] == 3
    status, queue = story.act("GET", "/staff/queues/extension_review", CENTRE)
    assert [o["order_id"] for o in queue["orders"]] == [oid]
    assert story.act("POST", f"/orders/{oid}/extension-review", CHENGGUAN, {"decision": "approve"})[0] == 403
    status, decided = story.act("POST", f"/orders/{oid}/extension-review", CENTRE, {"decision": "approve"},
                                when=at("2026-01-09T11:00:00"))
    # Then the limit moves 3 working days (1/13, 1/14, 1/15) and its warning is ahead again
    assert status == 200 and decided["due_at"] == "2026-01-16T00:00:00+08:00"
    order = orders.get_order(oid)
    assert order.deadlines["complete"].due == at("2026-01-16T00:00:00")
    assert order.deadlines["complete"].warn_at > at("2026-01-09T11:00:00")
    # and a sweep past the old limit finds the completion limit not missed
    story.sweep(at("2026-01-13T00:01:00"))
    assert orders.get_order(oid).deadlines["complete"].missed_at is None and orders.get_order(oid).overdue_at is None
    # and a second extension is refused (one per order unless the centre grants more)
    assert story.act("POST", f"/orders/{oid}/extension", CHENGGUAN, {"days": 1, "reason": "还需一天"})[0] == 409
    # and an extension asked after the limit is refused too
    late = story.dispatched(at("2026-01-05T09:00:00"))
    story.act("POST", f"/orders/{late}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    assert story.act("POST", f"/orders/{late}/extension", CHENGGUAN, {"days": 2, "reason": "来不及"},
                     when=at("2026-01-13T09:00:00"))[0] == 409
    assert story.steps(oid).count("extension_approved") == 1


def test_a_pause_stops_the_clock_and_resuming_moves_every_open_limit_by_the_paused_working_time(story):
    oid = story.dispatched(at("2026-01-05T09:00:00"))  # Monday; due at the end of Monday 1/12
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    status, _ = story.act("POST", f"/orders/{oid}/pause", CHENGGUAN,
                          {"reason": "waiting_for_citizen", "text": "等待诉求人提供购房合同"},
                          when=at("2026-01-06T10:00:00"))
    assert status == 200
    status, paused = story.act("POST", f"/orders/{oid}/pause-review", CENTRE, {"decision": "approve"},
                               when=at("2026-01-06T12:00:00"))
    assert status == 200 and paused["status"] == "paused"
    # While paused nothing is chased, even past the old limit
    assert story.sweep(at("2026-01-13T00:01:00")) == Counter()
    # When the department resumes on Thursday 1/8 at 12:00: two whole working days paused
    status, resumed = story.act("POST", f"/orders/{oid}/resume", CHENGGUAN, when=at("2026-01-08T12:00:00"))
    assert status == 200 and resumed["status"] == "signed"
    # Then the completion limit moves by those 48 working hours: the end of Wednesday 1/14
    assert resumed["due_at"] == "2026-01-15T00:00:00+08:00"
    assert orders.get_order(oid).pauses[-1].moved_seconds["complete"] == 48 * 3600


def test_a_pause_with_a_date_resumes_by_itself_across_a_weekend(story):
    oid = story.dispatched(at("2026-01-09T09:00:00"))  # Friday
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-09T09:30:00"))
    before = orders.get_order(oid).due_at
    story.act("POST", f"/orders/{oid}/pause", CHENGGUAN,
              {"reason": "third_party", "until": "2026-01-13T09:00:00+08:00"}, when=at("2026-01-09T10:00:00"))
    story.act("POST", f"/orders/{oid}/pause-review", CENTRE, {"decision": "approve"}, when=at("2026-01-09T12:00:00"))
    assert story.sweep(at("2026-01-13T08:59:00")) == Counter()
    assert story.sweep(at("2026-01-13T09:01:00")) == Counter({"resumed": 1})
    order = orders.get_order(oid)
    # Then every limit moves by the working time paused: Friday 12:00 → Tuesday 09:01 is 12 h of Friday,
    # all of Monday and 9 h 1 min of Tuesday; the weekend does not count, before or after
    assert before == at("2026-01-17T00:00:00")
    assert order.status.value == "signed" and order.due_at == at("2026-01-20T21:01:00")
    assert story.steps(oid)[-1] == "resumed"


def test_a_leader_case_names_the_leader_who_alone_instructs_and_sets_its_deadline(story):
    oid = story.dispatched(at("2026-01-05T09:00:00"))
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    assert story.act("POST", f"/orders/{oid}/leader-case", CHENGGUAN,
                     {"leader": "leader01", "due": "2026-01-20T18:00:00+08:00"})[0] == 403
    assert story.act("POST", f"/orders/{oid}/leader-case", CENTRE,
                     {"leader": "leader01", "due": "0001-01-01T00:00:00"})[0] == 400
    status, case = story.act("POST", f"/orders/{oid}/leader-case", CENTRE,
                             {"leader": "leader01", "due": "2026-01-20T18:00:00+08:00", "note": "重点督办"},
                             when=at("2026-01-06T09:00:00"))
    assert status == 200 and case["leader_case"]["leader"] == "leader01"
    # Then the leader's deadline is the completion limit
    assert orders.get_order(oid).due_at == at("2026-01-20T18:00:00")
    # and the case is in that leader's queue, not another leader's
    assert [o["order_id"] for o in story.act("GET", "/staff/queues/leader_cases", LEADER)[1]["orders"]] == [oid]
    assert story.act("GET", "/staff/queues/leader_cases", OTHER_LEADER)[1]["orders"] == []
    # When the leader instructs and sets a new deadline
    status, _ = story.act("POST", f"/orders/{oid}/instructions", LEADER,
                          {"text": "请城管局三日内修复并回复", "due": "2026-01-09T18:00:00+08:00"})
    assert status == 201
    order = orders.get_order(oid)
    assert order.due_at == at("2026-01-09T18:00:00") and order.leader_case.instructions[0].by == "leader01"
    # Then nobody else instructs, and the leader gains no other action
    assert story.act("POST", f"/orders/{oid}/instructions", OTHER_LEADER, {"text": "我也说两句"})[0] == 403
    assert story.act("POST", f"/orders/{oid}/instructions", CHENGGUAN, {"text": "我也说两句"})[0] == 403
    assert story.act("POST", f"/orders/{oid}/reply", LEADER, {"result": "resolved", "text": "好了"})[0] == 403


def test_the_ladder_proposes_a_leader_case_and_the_centre_takes_it_up(story):
    oid = story.dispatched(at("2026-01-05T09:00:00"))
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    story.act("POST", f"/orders/{oid}/contact", CHENGGUAN, {"method": "phone", "note": "已联系"})
    story.act("POST", f"/orders/{oid}/opinions", ZHUJIAN, {"text": "无异议"})
    # When completion is missed and the ladder runs its course (due 1/13 → notice 1/14 → supervise 1/21 → 1/28)
    for day in ("2026-01-13T00:01:00", "2026-01-14T08:31:00", "2026-01-21T08:31:00", "2026-01-28T08:31:00"):
        story.sweep(at(day))
    order = orders.get_order(oid)
    steps = [rung.step.value for rung in order.deadlines["complete"].steps]
    assert steps == ["remind", "notice", "supervise", "propose_leader_case"]
    assert order.leader_case_proposed_at is not None and order.lapses[0].department == "区城管局"
    assert [o["order_id"] for o in story.act("GET", "/staff/queues/leader_case_proposals", CENTRE)[1]["orders"]] \
        == [oid]
    status, _ = story.act("POST", f"/orders/{oid}/leader-case", CENTRE,
                          {"leader": "leader01", "due": "2026-02-06T18:00:00+08:00"}, when=at("2026-01-28T10:00:00"))
    assert status == 200 and orders.get_order(oid).leader_case_proposed_at is None


def test_two_sweeps_at_once_on_the_same_fired_orders_never_escalate_twice(story):
    ids = [story.dispatched(at("2026-01-05T09:00:00"), title=f"路灯坏了{n}", content=f"梅林镇第{n}路口路灯坏了")
           for n in range(6)]
    when = at("2026-01-14T08:31:00")  # sign, contact, opinion and completion all missed, notices due
    outcomes: list[Counter] = []
    threads = [threading.Thread(target=lambda: outcomes.append(story.sweep(when))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for oid in ids:
        trail = audit_trail(oid)
        taken = Counter((e["action"], (e.get("detail") or {}).get("limit"), (e.get("detail") or {}).get("step"))
                        for e in trail if e["action"] not in ("received", "dispatched"))
        assert taken and max(taken.values()) == 1, taken
    assert sum(o["failed"] for o in outcomes) == 0


def test_a_deadline_in_a_year_nobody_entered_is_marked_uncertain_until_the_centre_enters_it(story):
    # Given 2027's arrangement is not published yet (the package covers up to 2026)
    status, coverage = story.act("GET", "/calendar/coverage", CENTRE, when=at("2026-12-28T09:00:00"))
    assert status == 200 and coverage["years"]["2026"] == "package" and coverage["years"]["2027"] == "none"
    # When an order dispatched on Monday 2026-12-28 runs into 2027
    before = story.dispatched(at("2026-12-28T09:00:00"))
    order = orders.get_order(before)
    # Then its limit is still computed (Mon–Fri: 12/29, 12/30, 12/31, 1/1, 1/4), and marked uncertain
    assert order.due_at == at("2027-01-05T00:00:00") and order.calendar_uncertain
    assert story.act("GET", f"/staff/orders/{before}", CENTRE)[1]["deadlines"]["complete"]["calendar_uncertain"]
    # When the centre enters 2027 (元旦 on Friday 1/1)
    status, _ = story.act("PUT", "/calendar/2027", CENTRE,
                          {"days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]})
    assert status == 200
    assert story.act("GET", "/calendar/coverage", CENTRE)[1]["years"]["2027"] == "supplement"
    # Then an order dispatched now runs on it: 12/29, 12/30, 12/31, 1/4, 1/5, and is certain
    after = story.dispatched(at("2026-12-28T09:00:00"), content="梅林镇华丰社区另一处路灯坏了")
    order = orders.get_order(after)
    assert order.due_at == at("2027-01-06T00:00:00") and not order.calendar_uncertain


def test_a_rejected_reply_and_a_reopen_put_the_department_back_on_the_completion_clock(story):
    oid = story.dispatched(at("2026-01-05T09:00:00"))
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    story.act("POST", f"/orders/{oid}/reply", CHENGGUAN, {"result": "resolved", "text": "已修复。"},
              when=at("2026-01-06T10:00:00"))
    # When the reviewer sends the reply back, Then the completion limit runs on from where it was
    story.act("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "reject", "reason": "未附现场照片"},
              when=at("2026-01-06T11:00:00"))
    complete = orders.get_order(oid).deadlines["complete"]
    assert complete.met_at is None and complete.due == at("2026-01-13T00:00:00")
    story.act("POST", f"/orders/{oid}/reply", CHENGGUAN, {"result": "resolved", "text": "已修复，附照片。"},
              when=at("2026-01-07T10:00:00"))
    story.act("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"}, when=at("2026-01-07T11:00:00"))
    story.act("POST", f"/orders/{oid}/evaluation", CENTRE,
              {"satisfaction": "dissatisfied", "resolved": False, "method": "phone"}, when=at("2026-01-08T10:00:00"))
    # When the centre reopens it, Then a new completion run starts now: 5 working days, not met
    status, reopened = story.act("POST", f"/orders/{oid}/reopen", CENTRE, {"reason": "路灯仍不亮"},
                                 when=at("2026-01-08T11:00:00"))
    assert status == 200 and reopened["due_at"] == "2026-01-16T00:00:00+08:00"
    order = orders.get_order(oid)
    complete = order.deadlines["complete"]
    assert complete.met_at is None and complete.start == at("2026-01-08T11:00:00")
    assert complete.due == order.due_at == at("2026-01-16T00:00:00")
    assert complete.basis == "重办" and "evaluation" in order.deadlines and order.deadlines["evaluation"].met_at


def test_a_reply_withdraws_an_extension_request_still_waiting_and_it_leaves_the_review_queue(story):
    oid = story.dispatched(at("2026-01-05T09:00:00"))
    story.act("POST", f"/orders/{oid}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    story.act("POST", f"/orders/{oid}/extension", CHENGGUAN, {"days": 2, "reason": "需第三方检测"})
    # When the department replies before the centre decides
    story.act("POST", f"/orders/{oid}/reply", CHENGGUAN, {"result": "resolved", "text": "已修复。"},
              when=at("2026-01-06T10:00:00"))
    # Then the request is withdrawn (audited with the reply) and nobody is asked to review it
    assert orders.get_order(oid).extension_request is None
    assert story.act("GET", "/staff/queues/extension_review", CENTRE)[1]["orders"] == []
    replied = [e for e in audit_trail(oid) if e["action"] == "replied"][-1]
    assert replied["detail"]["withdrawn"] == ["extension_request"]
