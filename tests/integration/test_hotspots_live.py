"""Hotspot warnings (热点预警) over the live orders: the daily run (HotspotFunction's schedule)
and the centre's on-demand detection find rising matters in the KPI counters and repeated
requests through the orders' related indexes, store each hotspot once, announce it once on the
bus (a repeated request with its unit's liaison contacts, never the citizen's phone), and staff
list them as their role and department allow; the report reads the same hotspots."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from minyi.casework.autodispatch import dispatch_received
from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.dal import counters, orders
from minyi.dal.counters import CounterKey
from minyi.models.order import Citizen
from minyi.reports.hotspot_watch import hotspot_rows
from minyi.routing import liaisons
from minyi.routing.cache import CachedDutyList
from tests.builders import an_order
from tests.helpers import CENTRE, CHENGGUAN, LEADER, SHICHANG, bus_log, import_sample_duty_list, scheduled, table_items
from tests.integration.test_staff_api import staff

DAY = date(2026, 3, 1)  # the judged day: a Sunday, detected at 00:30 on Monday
KPI = "minyi-test-KpiTable"
PHONE = "13912345678"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class World:
    """The duty list and the liaison table in force, the bus's log, and the instant staff act at."""

    def __init__(self, aws, monkeypatch) -> None:
        import_sample_duty_list()
        liaisons.import_file("附件2联络员名单.csv", liaisons.sample_csv().encode("utf-8"), "test")
        self.matcher = CachedDutyList(ttl=0).matcher
        self.now = at("2026-03-02T09:00:00")
        monkeypatch.setattr(clock, "now", lambda: self.now)
        self.bus = bus_log(aws, "minyi.hotspots", "hotspot-test")
        self.count = 0

    def received(self, matter: str, day: date, received: int, township: str | None = None) -> None:
        """The counters of `received` orders of a matter on a day, county-wide and (if named) in a township."""
        counters.replace(CounterKey("matter", "*", day, matter), {"received": received})
        if township:
            counters.replace(CounterKey("township_matter", "*", day, f"{township}/{matter}"), {"received": received})

    def baseline(self, matter: str, per_day: int, township: str | None = None, days: int = 28) -> None:
        for back in range(1, days + 1):
            self.received(matter, DAY - timedelta(days=back), per_day, township)

    def request(self, when: datetime, phone: str, title: str = "小区路灯坏了",
                content: str = "梅林镇华丰社区路灯坏了一周", expect: str = "dispatched", **fields) -> str:
        """A 12345 request received and dispatched (or merged, 并单) at `when` (the route function's own path)."""
        self.count += 1
        order = an_order("received", order_id=f"MYHOTSPOT{self.count:07d}", external_id=f"hot-{self.count}",
                         title=title, content=content, received_at=when, citizen=Citizen(name="张三", phone=phone),
                         **fields)
        assert orders.insert_order(order, clock.epoch(when + timedelta(minutes=5)), "intake", {})
        done = dispatch_received(order.order_id, self.matcher(), when, "route", 0.2)
        assert done.status.value == expect, done
        return order.order_id

    def hotspot_items(self) -> list[dict]:
        return [item for item in table_items(KPI) if item["pk"]["S"].startswith("hotspot#")
                and item["pk"]["S"] != "hotspot#open"]


@pytest.fixture
def world(aws, monkeypatch):
    return World(aws, monkeypatch)


def daily_run(day: date):
    """HotspotFunction as its schedule fires it: 00:30 Asia/Shanghai of the next day."""
    return scheduled("HotspotFunction", datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI)
                     + timedelta(minutes=30))


# ------------------------------------------------------------------ rising
def test_a_spike_well_above_its_four_week_baseline_is_stored_once_and_announced_once(world):
    # Given four weeks of about one 城乡建设 request a day in 梅林镇, and 环境保护 steady at three a day
    world.baseline("城乡建设", 1, "梅林镇")
    world.baseline("环境保护", 3, "梅林镇")
    # and on the judged day fourteen 城乡建设 requests in 梅林镇, 环境保护 as ever
    world.received("城乡建设", DAY, 14, "梅林镇")
    world.received("环境保护", DAY, 3, "梅林镇")

    # When the daily run detects the day just ended
    outcome = daily_run(DAY)

    # Then 城乡建设 is rising, in 梅林镇 and county-wide (the same requests), and nothing else
    assert outcome == {"day": "2026-03-01", "opened": 2, "extended": 0, "announced": 2}
    stored = world.hotspot_items()
    assert len(stored) == 2
    bodies = sorted((json.loads(item["body"]["S"]) for item in stored), key=lambda b: b["township"] or "")
    assert [(b["kind"], b["matter"], b["township"], b["count"]) for b in bodies] == [
        ("rising", "城乡建设", None, 14), ("rising", "城乡建设", "梅林镇", 14)]
    assert bodies[0]["baseline"] == 1.0 and bodies[0]["p_value"] < 1e-9
    # the duty list has 区城管局 and others lead 城乡建设's matters: they may see it
    assert "区城管局" in bodies[0]["units"]
    # and each was announced once, in Chinese, with its numbers
    sent = world.bus()
    assert sorted((e["detail-type"], e["detail"]["place"]) for e in sent) == [
        ("HotspotRising", "全县"), ("HotspotRising", "梅林镇")]
    detail = next(e["detail"] for e in sent if e["detail"]["place"] == "梅林镇")
    assert detail["kind_label"] == "上升热点" and detail["first_day"] == detail["last_day"] == "2026-03-01"
    assert detail["count"] == 14 and detail["baseline"] == 1.0 and detail["p_value"] < 1e-9
    assert "梅林镇“城乡建设”类诉求2026-03-01受理14件" in detail["summary"]

    # When the day is detected again (a retried run, then the centre on demand)
    assert daily_run(DAY)["opened"] == 0
    status, answer, _ = staff("POST", "/staff/hotspots/detect", CENTRE, {"day": "2026-03-01"})
    # Then nothing new is stored and nothing announced twice
    assert status == 200 and answer["opened"] == [] and answer["announced"] == 0
    assert len(world.hotspot_items()) == 2
    assert world.bus() == sent


def test_a_spike_that_goes_on_the_next_day_extends_the_same_hotspot_without_a_second_announcement(world):
    # Given a 城乡建设 spike county-wide on the judged day, detected
    world.baseline("城乡建设", 1)
    world.received("城乡建设", DAY, 12)
    daily_run(DAY)
    # When the next day is as high and is detected too
    world.received("城乡建设", DAY + timedelta(days=1), 15)
    world.now = at("2026-03-03T09:00:00")
    outcome = daily_run(DAY + timedelta(days=1))
    # Then it is the same hotspot, now two days long with both days' requests
    assert outcome["opened"] == 0 and outcome["extended"] == 1
    (item,) = world.hotspot_items()
    body = json.loads(item["body"]["S"])
    assert (body["first"], body["last"], body["count"]) == ("2026-03-01", "2026-03-02", 27)
    assert len(world.bus()) == 1
    # and the report's section shows it once, with the trailing daily mean
    (row,) = hotspot_rows(DAY, DAY + timedelta(days=1), None)
    assert (row.kind, row.matter, row.place, row.first_day, row.last_day, row.count) == (
        "rising", "城乡建设", "全县", DAY, DAY + timedelta(days=1), 27)
    assert row.baseline is not None and 0 < row.baseline < 2


def test_fewer_requests_than_the_minimum_raise_no_hotspot_however_unlikely(world):
    # Given 商贸旅游 never seen in four weeks of steady 环境保护, and four 商贸旅游 requests today
    world.baseline("环境保护", 3)
    world.received("商贸旅游", DAY, 4)
    world.received("环境保护", DAY, 3)
    # When the day is detected
    outcome = daily_run(DAY)
    # Then four is below the minimum count however unlikely: no hotspot
    assert outcome["opened"] == 0 and world.hotspot_items() == [] and world.bus() == []


def test_a_spike_after_days_without_any_counters_is_not_judged(world):
    # Given only ten days of counters before the judged day (less than half the 28-day window)
    world.baseline("城乡建设", 1, days=10)
    world.received("城乡建设", DAY, 20)
    # When it is detected, Then its baseline is not known: nothing is flagged
    assert daily_run(DAY)["opened"] == 0 and world.hotspot_items() == []


# ------------------------------------------------------------------ repeated
def test_the_same_request_three_times_in_thirty_days_goes_to_the_units_leaders_without_the_phone(world):
    # Given the same caller reporting the same broken street light on 2/9, 2/19 and 3/1 (each dispatched
    # to 区城管局: ten days apart, none merged), and another caller once on 3/1
    first = world.request(at("2026-02-09T10:00:00"), PHONE)
    second = world.request(at("2026-02-19T10:00:00"), PHONE)
    third = world.request(at("2026-03-01T10:00:00"), PHONE)
    world.request(at("2026-03-01T11:00:00"), "13700000000")

    # When the centre detects 3/1 on demand
    status, answer, _ = staff("POST", "/staff/hotspots/detect", CENTRE, {"day": "2026-03-01"})

    # Then one repeated request is stored: the same phone, the same matter, three orders since 2/9
    assert status == 200, answer
    (found,) = answer["opened"]
    assert (found["kind"], found["key_kind"], found["matter_code"], found["count"]) == ("repeated", "phone",
                                                                                        "CX-02-04", 3)
    assert (found["first_day"], found["last_day"], found["unit"]) == ("2026-02-09", "2026-03-01", "区城管局")
    assert found["order_ids"] == [first, second, third] and found["township"] == "梅林镇"
    # and announced once, to 区城管局's leader in charge and liaison
    (event,) = world.bus()
    assert event["source"] == "minyi.hotspots" and event["detail-type"] == "HotspotRepeated"
    detail = event["detail"]
    assert detail["key_label"] == "同一来电人" and detail["count"] == 3
    (contact,) = detail["contacts"]
    assert contact["unit"] == "区城管局" and contact["leader_in_charge"]["name"] == "张三"
    assert contact["liaison"]["name"] == "李四"
    # and the caller's phone is nowhere: not in the event, not in any stored hotspot, not in the answer
    items = [item for item in table_items(KPI) if item["pk"]["S"].startswith("hotspot#")]
    assert items
    for text in (json.dumps(event, ensure_ascii=False), json.dumps(items, ensure_ascii=False),
                 json.dumps(answer, ensure_ascii=False)):
        assert PHONE not in text
    # nor the index's hash of it outside the stored key
    index_key = orders.get_order(third).related_keys()[0]
    assert index_key.split("#")[1] not in json.dumps(event) + json.dumps(answer)

    # When the same caller asks a fourth time a week later (merged into the open third: 并单)
    fourth = world.request(at("2026-03-08T09:00:00"), PHONE, expect="merged")
    world.now = at("2026-03-09T09:00:00")
    outcome = daily_run(date(2026, 3, 8))
    # Then the same hotspot grows (no second announcement to the leaders)
    assert outcome["opened"] == 0 and outcome["extended"] == 1 and len(world.bus()) == 1
    status, listed, _ = staff("GET", "/staff/hotspots", CENTRE, query={"from": ["2026-02-01"], "to": ["2026-03-09"]})
    assert status == 200
    (shown,) = listed["hotspots"]
    assert shown["count"] == 4 and shown["last_day"] == "2026-03-08" and shown["order_ids"][-1] == fourth
    assert shown["unit"] == "区城管局"  # the merged request's unit is its parent's


def test_two_requests_in_thirty_days_or_three_over_a_longer_time_are_no_repeat(world):
    # Given one caller twice within 30 days, another three times over 40 days
    world.request(at("2026-02-20T10:00:00"), PHONE)
    world.request(at("2026-03-01T10:00:00"), PHONE)
    world.request(at("2026-01-20T10:00:00"), "13700000001")
    world.request(at("2026-02-05T10:00:00"), "13700000001")  # 15 days later: ten days apart would merge
    world.request(at("2026-03-01T12:00:00"), "13700000001", title="路灯不亮",
                  content="梅林镇华丰社区路灯不亮")
    # When the day is detected
    outcome = daily_run(DAY)
    # Then neither is a repeated request (1/20 to 3/1 is 40 days; within 30 days of 3/1 each has two)
    assert outcome["opened"] == 0 and world.bus() == []


# ------------------------------------------------------------------ the API
@pytest.fixture
def both_kinds(world):
    """A rising 城乡建设 in 梅林镇 (and county-wide) and a repeated request for 区城管局, detected."""
    world.baseline("城乡建设", 1, "梅林镇")
    world.received("城乡建设", DAY, 14, "梅林镇")
    for when in ("2026-02-09T10:00:00", "2026-02-19T10:00:00", "2026-03-01T10:00:00"):
        world.request(at(when), PHONE)
    status, answer, _ = staff("POST", "/staff/hotspots/detect", LEADER, {})  # default: yesterday, 3/1
    assert status == 200 and answer["day"] == "2026-03-01" and len(answer["opened"]) == 3
    return world


def test_the_centre_lists_every_hotspot_of_the_last_week_and_filters_by_kind(both_kinds):
    status, answer, _ = staff("GET", "/staff/hotspots", CENTRE)
    assert status == 200
    assert (answer["from"], answer["to"]) == ("2026-02-24", "2026-03-02")
    # each raised on 3/1 (the repeated request's first order was on 2/9)
    assert sorted((h["kind"], h["place"], h["raised_day"]) for h in answer["hotspots"]) == [
        ("repeated", "梅林镇（同一来电人）", "2026-03-01"), ("rising", "全县", "2026-03-01"),
        ("rising", "梅林镇", "2026-03-01")]
    # nothing was raised the week before
    status, answer, _ = staff("GET", "/staff/hotspots", CENTRE, query={"to": ["2026-02-28"]})
    assert status == 200 and (answer["from"], answer["count"]) == ("2026-02-22", 0)
    status, answer, _ = staff("GET", "/staff/hotspots", CENTRE,
                              query={"from": ["2026-02-01"], "to": ["2026-03-02"], "kind": ["repeated"]})
    assert status == 200 and [h["kind"] for h in answer["hotspots"]] == ["repeated"]
    assert answer["hotspots"][0]["place"] == "梅林镇（同一来电人）"
    assert PHONE not in json.dumps(answer)


def test_a_department_sees_the_hotspots_of_its_own_unit_and_of_the_matters_it_leads(both_kinds):
    query = {"from": ["2026-02-01"], "to": ["2026-03-02"]}
    status, answer, _ = staff("GET", "/staff/hotspots", CHENGGUAN, query=query)
    assert status == 200 and answer["scope"] == "区城管局"
    assert sorted(h["kind"] for h in answer["hotspots"]) == ["repeated", "rising", "rising"]
    # 区市场监管局 leads no 城乡建设 matter and answers for no repeated request here
    status, answer, _ = staff("GET", "/staff/hotspots", SHICHANG, query=query)
    assert status == 200 and answer["hotspots"] == []
    # and the report's section for a department is scoped the same way
    assert {r.kind for r in hotspot_rows(date(2026, 2, 1), DAY, "区城管局")} == {"rising", "repeated"}
    assert hotspot_rows(date(2026, 2, 1), DAY, "区市场监管局") == []
    assert len(hotspot_rows(date(2026, 2, 1), DAY, None)) == 3


@pytest.mark.parametrize("query, field", [
    ({"from": ["2026-03-02"], "to": ["2026-03-01"]}, "from"),
    ({"from": ["2025-01-01"], "to": ["2026-03-01"]}, "to"),
    ({"from": ["2026-02-30"]}, "from"),
    ({"to": ["1999-12-31"]}, "to"),
    ({"to": ["20260301"]}, "to"),
    ({"kind": ["hot"]}, "kind"),
])
def test_a_bad_range_or_kind_is_a_400_naming_the_field(world, query, field):
    status, answer, _ = staff("GET", "/staff/hotspots", CENTRE, query=query)
    assert status == 400 and answer["error"]["code"] == "validation_error"
    assert answer["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("body", [{"day": "2026-03-02"}, {"day": "2026-03-03"}, {"day": "1999-12-31"},
                                  {"day": "2026-02-30"}, {"day": 5}, {"when": "2026-03-01"}])
def test_detecting_today_a_future_day_a_day_before_2000_or_a_bad_body_is_a_400(world, body):
    status, answer, _ = staff("POST", "/staff/hotspots/detect", CENTRE, body)
    assert status == 400 and answer["error"]["code"] == "validation_error", answer
    assert world.hotspot_items() == []


def test_only_the_centre_and_leaders_detect_on_demand(world):
    status, answer, _ = staff("POST", "/staff/hotspots/detect", CHENGGUAN, {"day": "2026-03-01"})
    assert status == 403 and answer["error"]["code"] == "forbidden"
    status, _, _ = staff("POST", "/staff/hotspots/detect", None, {"day": "2026-03-01"})
    assert status == 401
