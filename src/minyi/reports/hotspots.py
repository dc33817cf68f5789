"""Hotspot warnings (热点预警): what is rising, and who keeps asking. Pure: messages in, hotspots out.

A message is (when, matter, township or None, phone hash or None, place key or None), `when` in
Asia/Shanghai; its day is its Shanghai calendar date. Two kinds of hotspot are found, with the numbers
of `HotspotRules` (defaults in brackets):

**Rising (上升热点).** For every matter in every township, and for every matter county-wide (all
messages of the matter, township or not), count messages per day. For a day d with count c:

- baseline λ = (messages of the group in the `baseline_days` [28] days before d, d excluded) / `baseline_days`,
  floored at 1 / `baseline_days` (a matter not seen in the window is judged as if seen once in it);
- tail = P(X ≥ c) for X ~ Poisson(λ);
- d is flagged when c ≥ `min_count` [5] and tail ≤ `p_value` [0.001] — that is, c is at least the
  Poisson upper quantile of λ at 1 − p and at least the minimum count;
- a day is judged only when the input covers its window: messages of any matter on at least
  `min_coverage` [0.5] of the `baseline_days` days before it. Otherwise its baseline is not known (the
  input starts there, or a feed was down), not zero: a few stray old messages do not open the window.

Consecutive flagged days of one group make one hotspot: first and last date, count = messages on the
flagged days, baseline = the sum of their baselines (the messages expected on those days), strength =
the largest −log10(tail) of its days.

**Repeated (重复诉求).** The same request: the same phone hash, or the same place key, with the same
matter. Taking each key's messages in time order, once `min_repeats` [3] of them fall within
`repeat_window_days` [30] days (first to last, inclusive of the day count: last − first < window), a
hotspot opens with those messages; each later message of the key that comes within the window of the
hotspot's last message joins it (count + 1, last date moves). A message beyond the window closes it;
a new hotspot needs `min_repeats` again. These go to the unit's leaders (liaison table). Its baseline
is 0 and its strength is its count.

Deterministic (ties broken by the keys' text) and O(n log n): one sort, then a linear pass per group.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from minyi.core import clock

Kind = Literal["rising", "repeated"]
KeyKind = Literal["phone", "place"]
COUNTY = None  # the township of a county-wide hotspot


class HotspotRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_days: int = Field(default=28, ge=1, le=366)
    min_count: int = Field(default=5, ge=1)
    p_value: float = Field(default=0.001, gt=0, lt=1)
    min_repeats: int = Field(default=3, ge=2)
    repeat_window_days: int = Field(default=30, ge=1, le=366)
    min_coverage: float = Field(default=0.5, ge=0, le=1)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime
    matter: str
    township: str | None = None
    phone: str | None = None  # a hash, never the number
    place: str | None = None


class Hotspot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    matter: str
    township: str | None  # None: county-wide (rising) or not known (repeated)
    first: date
    last: date
    count: int
    baseline: float  # messages expected over first..last (rising); 0 for repeated
    strength: float  # −log10 of the smallest Poisson tail (rising); the count (repeated)
    key_kind: KeyKind | None = None  # repeated: what made the messages the same request
    key: str | None = None  # repeated: the phone hash or place key


def poisson_tail(count: int, mean: float) -> float:
    """P(X ≥ count) for X ~ Poisson(mean), mean > 0."""
    return 10 ** -_tail_strength(count, mean)


def _tail_strength(count: int, mean: float) -> float:
    """−log10 P(X ≥ count), computed in logs so that far tails neither underflow nor lose precision."""
    if count <= 0:
        return 0.0
    if count <= mean:  # the bulk: 1 − P(X < count), a short sum
        term, below = math.exp(-mean), 0.0
        for i in range(count):
            below += term
            term *= mean / (i + 1)
        return -math.log10(max(1.0 - below, 1e-300))
    log_first = -mean + count * math.log(mean) - math.lgamma(count + 1)
    ratio_sum, ratio, i = 1.0, 1.0, count
    while True:  # terms fall geometrically once i > mean
        i += 1
        ratio *= mean / i
        ratio_sum += ratio
        if ratio < 1e-17 * ratio_sum:
            break
    return -(log_first + math.log(ratio_sum)) / math.log(10)


def _day(at: datetime) -> date:
    return (at.astimezone(clock.SHANGHAI) if at.tzinfo else at.replace(tzinfo=clock.SHANGHAI)).date()


def detect(messages: Iterable[Message], rules: HotspotRules | None = None) -> list[Hotspot]:
    """Every hotspot of the messages, strongest first."""
    rules = rules or HotspotRules()
    ordered = sorted(messages, key=lambda m: (m.at.timestamp() if m.at.tzinfo else
                                              m.at.replace(tzinfo=clock.SHANGHAI).timestamp(), m.matter))
    found = rising(ordered, rules) + repeated(ordered, rules)
    return sorted(found, key=lambda h: (-h.strength, -h.count, h.first, h.kind, h.matter, h.township or "",
                                        h.key or ""))


Series = Mapping[tuple[str, str | None], Mapping[date, int]]  # (matter, township or COUNTY) -> day -> count


def rising(ordered: list[Message], rules: HotspotRules) -> list[Hotspot]:
    if not ordered:
        return []
    judged = covered_days(sorted({_day(m.at) for m in ordered}), rules)
    daily: dict[tuple[str, str | None], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for message in ordered:
        day = _day(message.at)
        daily[(message.matter, COUNTY)][day] += 1
        if message.township:
            daily[(message.matter, message.township)][day] += 1
    return rising_in_series(daily, judged, rules)


def rising_in_series(daily: Series, judged: set[date], rules: HotspotRules) -> list[Hotspot]:
    """The rising hotspots of daily counts per group (matter, township or COUNTY), flagging only
    the `judged` days (see `covered_days`). Messages and counters (the live detector) alike."""
    found = []
    for (matter, township) in sorted(daily, key=lambda g: (g[0], g[1] or "")):
        days = sorted((day, count) for day, count in daily[(matter, township)].items() if count > 0)
        found += _rising_in(matter, township, days, judged, rules)
    return found


def covered_days(days: list[date], rules: HotspotRules) -> set[date]:
    """The days of `days` (sorted: the days with any message) whose trailing window the input
    covers (see the module's rule)."""
    covered, start = set(), 0
    for i, day in enumerate(days):
        while days[start] < day - timedelta(days=rules.baseline_days):
            start += 1
        if i - start >= rules.min_coverage * rules.baseline_days:
            covered.add(day)
    return covered


def _rising_in(matter: str, township: str | None, days: list[tuple[date, int]], judged: set[date],
               rules: HotspotRules) -> list[Hotspot]:
    found: list[Hotspot] = []
    floor = 1 / rules.baseline_days
    threshold = -math.log10(rules.p_value)
    window_sum, start = 0, 0  # days[start:i] are the days within the trailing window of days[i]
    run: list[tuple[date, int, float, float]] = []  # flagged days (day, count, baseline, strength)
    for i, (day, count) in enumerate(days):
        while start < i and days[start][0] < day - timedelta(days=rules.baseline_days):
            window_sum -= days[start][1]
            start += 1
        baseline = max(window_sum / rules.baseline_days, floor)
        window_sum += count
        if day not in judged or count < rules.min_count:
            continue
        strength = _tail_strength(count, baseline)
        if strength < threshold:
            continue
        if run and day - run[-1][0] > timedelta(days=1):
            found.append(_episode(matter, township, run))
            run = []
        run.append((day, count, baseline, strength))
    if run:
        found.append(_episode(matter, township, run))
    return found


def _episode(matter: str, township: str | None, run: list[tuple[date, int, float, float]]) -> Hotspot:
    return Hotspot(kind="rising", matter=matter, township=township, first=run[0][0], last=run[-1][0],
                   count=sum(d[1] for d in run), baseline=round(sum(d[2] for d in run), 3),
                   strength=round(max(d[3] for d in run), 2))


def repeated(ordered: list[Message], rules: HotspotRules) -> list[Hotspot]:
    by_key: dict[tuple[KeyKind, str, str], list[Message]] = defaultdict(list)
    for message in ordered:
        if message.phone:
            by_key[("phone", message.phone, message.matter)].append(message)
        if message.place:
            by_key[("place", message.place, message.matter)].append(message)
    window = timedelta(days=rules.repeat_window_days)
    found = []
    for key_kind, key, matter in sorted(by_key):
        recent: deque[Message] = deque()
        episode: list[Message] = []
        for message in by_key[(key_kind, key, matter)]:
            day = _day(message.at)
            if episode and day - _day(episode[-1].at) < window:
                episode.append(message)
                continue
            if episode:
                found.append(_repeat(key_kind, key, matter, episode))
                episode, recent = [], deque()
            recent.append(message)
            while day - _day(recent[0].at) >= window:
                recent.popleft()
            if len(recent) >= rules.min_repeats:
                episode, recent = list(recent), deque()
        if episode:
            found.append(_repeat(key_kind, key, matter, episode))
    return found


def _repeat(key_kind: KeyKind, key: str, matter: str, episode: list[Message]) -> Hotspot:
    townships = {m.township for m in episode if m.township}
    return Hotspot(kind="repeated", matter=matter, township=min(townships) if len(townships) == 1 else None,
                   first=_day(episode[0].at), last=_day(episode[-1].at), count=len(episode), baseline=0.0,
                   strength=float(len(episode)), key_kind=key_kind, key=key)
