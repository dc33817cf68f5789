"""Hotspot warnings (热点预警) over the live orders: each day's detection (the schedule at 00:30, or
the centre on demand), stored once, announced once, listed and reported. The rules are
`hotspots.HotspotRules` (docs/kpi.md "Hotspots"); this module feeds them at a cost that does not
grow with the table:

- **rising**: the KPI counters' daily received counts (view `matter`, county-wide, and view
  `township_matter`), the judged day and the `baseline_days` before it: two Queries per month
  touched, run through `hotspots.rising_in_series` with only the judged day judged. The matter
  not yet classified (未分类) and the township not named (未明确乡镇) are no group of their own (they
  still count for the window's coverage, and for the county-wide matter once classified).
- **repeated**: the orders received on the judged day (`by_month`, then one BatchGetItem per
  100), and for each the orders of the same request key received within `repeat_window_days`
  up to the day's end (the `related_phone` / `related_address` index: one Query per key). A key
  with `min_repeats` of them is a hotspot, keyed by the index's key (a hash: the phone is read
  only to know the key and never kept).

One group's or key's episode is one hotspot (kind, key, first day), stored under the day it was
raised (the detected day that opened it; lists and reports take hotspots by it): a rising group flagged again
the day after its last day, or a repeated key asked again within the window of its last day,
extends the stored hotspot (last day, count; no second announcement); detecting a day again
changes nothing. A new hotspot is announced once on the bus (`minyi.hotspots`: `HotspotRising`,
`HotspotRepeated`, the latter with the unit's liaison contacts); a put that fails is undone so
the next detection of that day announces it.

Who sees what (`GET /staff/hotspots`, the report's section): the centre and leaders every
hotspot; a department the repeated hotspots whose unit (the lead department of the latest order)
is its own and the rising hotspots of matters the duty list has it lead (`units`, fixed when the
hotspot opened; a township government for the local matters of its township).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from minyi.core import clock
from minyi.core.errors import ValidationFailed
from minyi.core.observability import logger, metrics
from minyi.dal import counters, events, orders, periods
from minyi.dal import hotspots as store
from minyi.models.duty import DutyList
from minyi.models.hotspot import COUNTY_LABEL, KEY_LABELS, KIND_LABELS, HotspotRecord, KeyKind
from minyi.models.identity import Role, StaffIdentity
from minyi.models.kpi import Fact
from minyi.models.order import WorkOrder
from minyi.models.report import HotspotRow
from minyi.reports.counting import ALL, NO_TOWNSHIP, UNCLASSIFIED, township_of
from minyi.reports.hotspots import COUNTY, Hotspot, HotspotRules, covered_days, poisson_tail, rising_in_series
from minyi.routing.places import township_government

EARLIEST = date(2000, 1, 1)
MAX_RANGE_DAYS = 92
DEFAULT_RANGE_DAYS = 7
DETAIL_TYPES = {"rising": "HotspotRising", "repeated": "HotspotRepeated"}
ContactLookup = Callable[[str], dict[str, Any]]
_DAY = re.compile(r"20[0-9]{2}-[0-9]{2}-[0-9]{2}")


@dataclass
class Detection:
    """What one detection of a day did."""

    day: date
    opened: list[HotspotRecord] = field(default_factory=list)  # new hotspots (stored now or found unannounced)
    extended: list[HotspotRecord] = field(default_factory=list)  # episodes the day continued
    announced: int = 0
    unannounced: int = 0  # events the bus did not take: the next detection of the day puts them

    def answer(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "opened": [h.public() for h in self.opened],
                "extended": [h.public() for h in self.extended], "announced": self.announced,
                "unannounced": self.unannounced}


def yesterday(now: datetime) -> date:
    return clock.to_shanghai(now).date() - timedelta(days=1)


def judged_day(requested: date | None, now: datetime) -> date:
    """The day to detect: the one asked for (a day that has ended, from 2000), or yesterday."""
    if requested is None:
        return yesterday(now)
    today = clock.to_shanghai(now).date()
    if requested < EARLIEST or requested >= today:
        raise ValidationFailed(f"day is a day that has ended, from {EARLIEST.isoformat()} to "
                               f"{(today - timedelta(days=1)).isoformat()}",
                               [{"field": "day", "problem": "must be a past day (before today), from 2000",
                                 "type": "range"}])
    return requested


# ------------------------------------------------------------------ detection
def detect_day(day: date, now: datetime, duty_list: DutyList | None, contacts: ContactLookup,
               rules: HotspotRules | None = None) -> Detection:
    """Detect the hotspots of `day` (Asia/Shanghai), store them and announce the new ones."""
    rules = rules or HotspotRules()
    done = Detection(day)
    for found in rising_on(day, rules):
        _keep(_rising_record(found, day, now, duty_list), rules, now, contacts, done)
    for record in repeated_on(day, rules, now):
        _keep(record, rules, now, contacts, done)
    metrics.add_metric(name="HotspotsOpened", unit="Count", value=len(done.opened))
    logger.info("hotspots detected", extra={"day": day.isoformat(), "opened": len(done.opened),
                                            "extended": len(done.extended), "announced": done.announced,
                                            "unannounced": done.unannounced})
    return done


def rising_on(day: date, rules: HotspotRules) -> list[Hotspot]:
    """The groups flagged on `day` from the counters of the day and its trailing window."""
    start = day - timedelta(days=rules.baseline_days)
    daily: dict[tuple[str, str | None], dict[date, int]] = defaultdict(dict)
    active: set[date] = set()  # days with any order received: the window's coverage
    for when, matter, counts in counters.read("matter", ALL, start, day):
        received = counts.get(Fact.RECEIVED.value, 0)
        if received > 0:
            active.add(when)
            if matter != UNCLASSIFIED:
                daily[(matter, COUNTY)][when] = received
    for when, value, counts in counters.read("township_matter", ALL, start, day):
        township, _, matter = value.partition("/")
        received = counts.get(Fact.RECEIVED.value, 0)
        if received > 0 and township != NO_TOWNSHIP and matter != UNCLASSIFIED:
            daily[(matter, township)][when] = received
    judged = covered_days(sorted(active), rules) & {day}
    return rising_in_series(daily, judged, rules) if judged else []


def _rising_record(found: Hotspot, day: date, now: datetime, duty_list: DutyList | None) -> HotspotRecord:
    return HotspotRecord(
        kind="rising", key=f"{found.matter}/{found.township or '*'}", matter=found.matter, township=found.township,
        raised=day, first=day, last=day, count=found.count, baseline=found.baseline, strength=found.strength,
        p_value=_p(found.count, found.baseline), units=_leads(found.matter, found.township, duty_list),
        detected_at=now)


def _p(count: int, baseline: float) -> float:
    return float(f"{poisson_tail(count, max(baseline, 1e-9)):.3g}")


def _leads(matter: str, township: str | None, duty_list: DutyList | None) -> list[str]:
    """The departments the duty list has lead the matter's level-3 matters (a township's
    government for its local ones)."""
    if duty_list is None:
        return []
    leads = set()
    for entry in duty_list.matters:
        if entry.path[0] != matter:
            continue
        if not entry.local:
            leads.add(entry.lead)
        elif township:
            leads.add(township_government(township))
    return sorted(leads)


def repeated_on(day: date, rules: HotspotRules, now: datetime) -> list[HotspotRecord]:
    """The request keys asked `min_repeats` times within the window ending with `day`, among
    those of the orders received on `day`; each as a hotspot opening with the window's orders."""
    start = datetime.combine(day, time(), clock.SHANGHAI)
    end = start + timedelta(days=1)
    ids = list(periods.order_ids_received_between(start, end))
    todays = sorted((order for order, _ in orders.get_orders(ids).values()), key=lambda o: (o.received_at, o.order_id))
    keys: dict[tuple[KeyKind, str], WorkOrder] = {}
    for order in todays:
        phone_key, address_key = order.related_keys()
        if phone_key:
            keys[("phone", phone_key)] = order  # the latest of the day
        if address_key:
            keys[("place", address_key)] = order
    since = start - timedelta(days=rules.repeat_window_days - 1)
    found = []
    for (key_kind, key), latest in sorted(keys.items()):
        asked = store.same_request(key_kind, key, since, end)
        if len(asked) < rules.min_repeats:
            continue
        township = township_of(latest)
        found.append(HotspotRecord(
            kind="repeated", key=f"{key_kind}:{key}", matter="/".join(latest.matter) or (latest.matter_code or ""),
            matter_code=latest.matter_code, township=None if township == NO_TOWNSHIP else township,
            raised=day, first=clock.to_shanghai(asked[0][1]).date(), last=day, count=len(asked),
            strength=float(len(asked)), key_kind=key_kind, unit=_unit(latest), order_ids=[oid for oid, _ in asked],
            detected_at=now))
    return found


def _unit(order: WorkOrder) -> str | None:
    """Who answers for the request: its lead department, or (merged, 并单) its parent's."""
    if order.department or not order.parent_order_id:
        return order.department
    parent = orders.get_order(order.parent_order_id)
    return parent.department if parent else None


def _keep(found: HotspotRecord, rules: HotspotRules, now: datetime, contacts: ContactLookup,
          done: Detection) -> None:
    """Store a hotspot found on `done.day`: extend its key's open episode, or open a new one
    (and announce it), or nothing when the day was detected before."""
    day = done.day
    current = store.open_episode(found.kind, found.key)
    if current is not None and current.first <= day <= current.last:
        return  # detected before
    if current is not None and current.last < day and _continues(current, found, day, rules):
        extended = _extended(current, found)
        if store.extend(current, extended):
            done.extended.append(extended)
        return
    if not store.insert(found):
        found = store.get(found.kind, found.key, found.raised) or found
        if found.announced_at is not None:
            return  # stored and announced by an earlier detection of the day
    done.opened.append(found)
    _announce(found, now, contacts, done)


def _continues(current: HotspotRecord, found: HotspotRecord, day: date, rules: HotspotRules) -> bool:
    if found.kind == "rising":
        return current.last == day - timedelta(days=1)
    return (day - current.last).days < rules.repeat_window_days


def _extended(current: HotspotRecord, found: HotspotRecord) -> HotspotRecord:
    if found.kind == "rising":
        return current.model_copy(update={
            "last": found.last, "count": current.count + found.count,
            "baseline": round(current.baseline + found.baseline, 3), "strength": max(current.strength, found.strength),
            "p_value": min(current.p_value or 1.0, found.p_value or 1.0)})
    order_ids = list(dict.fromkeys([*current.order_ids, *found.order_ids]))
    return current.model_copy(update={"last": found.last, "count": len(order_ids), "strength": float(len(order_ids)),
                                      "order_ids": order_ids, "unit": found.unit or current.unit})


def _announce(record: HotspotRecord, now: datetime, contacts: ContactLookup, done: Detection) -> None:
    if not store.claim_announcement(record, now):
        return  # a concurrent detection of the same day announced it
    try:
        events.hotspot_event(DETAIL_TYPES[record.kind], event_detail(record, contacts))
    except Exception:
        logger.exception("a hotspot event was not put on the bus", extra={"hotspot_id": record.id})
        metrics.add_metric(name="HotspotEventsFailed", unit="Count", value=1)
        store.release_announcement(record)
        done.unannounced += 1
        return
    done.announced += 1


def event_detail(record: HotspotRecord, contacts: ContactLookup) -> dict[str, Any]:
    """The event's detail: Chinese labels and a sentence for people, the numbers for machines;
    no phone and no key (the hash of one) in it."""
    detail: dict[str, Any] = {
        "hotspot_id": record.id, "kind": record.kind, "kind_label": KIND_LABELS[record.kind],
        "matter": record.matter, "township": record.township, "place": record.place,
        "first_day": record.first.isoformat(), "last_day": record.last.isoformat(), "count": record.count,
        "summary": _summary(record),
    }
    if record.kind == "rising":
        detail |= {"baseline": record.baseline, "p_value": record.p_value, "strength": record.strength,
                   "units": record.units}
    else:
        detail |= {"matter_code": record.matter_code, "key_kind": record.key_kind,
                   "key_label": KEY_LABELS[record.key_kind] if record.key_kind else None,
                   "strength": record.strength, "unit": record.unit, "order_ids": record.order_ids,
                   "contacts": [contacts(record.unit)] if record.unit else []}
    return detail


def _summary(record: HotspotRecord) -> str:
    if record.kind == "rising":
        where = record.township or COUNTY_LABEL
        return (f"{where}“{record.matter}”类诉求{record.first.isoformat()}受理{record.count}件，"
                f"近{HotspotRules().baseline_days}天日均约{record.baseline:.2f}件（P≈{record.p_value:.1e}），请关注。")
    same = KEY_LABELS[record.key_kind] if record.key_kind else "同一诉求"
    return (f"{same}就“{record.matter}”在{record.first.isoformat()}至{record.last.isoformat()}间"
            f"反映{record.count}次，请{record.unit or '责任单位'}领导关注。")


# ------------------------------------------------------------------ reading
def _visible(scope: str | None, record: HotspotRecord) -> bool:
    if scope is None:
        return True
    return record.unit == scope if record.kind == "repeated" else scope in record.units


def _scope(identity: StaffIdentity) -> str | None:
    return None if identity.sees_everything else identity.own_department()


def _parse_day(name: str, text: str) -> date:
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{name} is a day YYYY-MM-DD (2000-2099)",
                               [{"field": name, "problem": "must be YYYY-MM-DD", "type": "pattern"}]) from None


def listing(identity: StaffIdentity, query: dict[str, str], now: datetime) -> dict[str, Any]:
    """GET /staff/hotspots?from=&to=&kind=: the hotspots raised in the range (default: the last 7
    days, today included), the latest day first and the strongest first within a day, as the
    caller may see them."""
    scope = _scope(identity)
    today = clock.to_shanghai(now).date()
    end = _parse_day("to", query["to"]) if query.get("to") else today
    start = _parse_day("from", query["from"]) if query.get("from") else end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise ValidationFailed("from is after to", [{"field": "from", "problem": "must not be after to",
                                                     "type": "range"}])
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(f"a range is at most {MAX_RANGE_DAYS} days",
                               [{"field": "to", "problem": f"at most {MAX_RANGE_DAYS} days after from",
                                 "type": "range"}])
    kind = query.get("kind")
    if kind is not None and kind not in KIND_LABELS:
        raise ValidationFailed("kind is rising or repeated",
                               [{"field": "kind", "problem": "must be rising or repeated", "type": "enum"}])
    found = [r for r in store.between(start, end) if (kind is None or r.kind == kind) and _visible(scope, r)]
    found.sort(key=lambda r: (-r.raised.toordinal(), -r.strength, r.kind, r.key))
    return {"from": start.isoformat(), "to": end.isoformat(), "kind": kind, "scope": scope,
            "count": len(found), "hotspots": [r.public() for r in found], "as_of": clock.iso(now)}


def may_detect(identity: StaffIdentity) -> None:
    identity.require(Role.CENTRE, Role.LEADER)


def hotspot_rows(start: date, end: date, scope: str | None) -> list[HotspotRow]:
    """The report's section (热点预警): the hotspots raised in start..end (inclusive), as `scope`
    (a department; None: the county) may see them, by the day raised, then strength."""
    rows = []
    found = sorted(store.between(start, end), key=lambda r: (r.raised, -r.strength, r.kind, r.key))
    for record in found:
        if not _visible(scope, record):
            continue
        days = (record.last - record.first).days + 1
        if record.kind == "rising":
            note = f"P≈{record.p_value:.1e}" if record.p_value is not None else ""
            baseline: float | None = round(record.baseline / days, 2)
        else:
            note = f"责任单位：{record.unit}" if record.unit else "责任单位未定"
            baseline = None
        rows.append(HotspotRow(kind=record.kind, matter=record.matter, place=record.place, first_day=record.first,
                               last_day=record.last, count=record.count, baseline=baseline, note=note))
    return rows
