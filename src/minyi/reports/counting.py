"""Counting as orders move (考核计数): each change of an order adds to the KPI counters what its
facts gained and takes away what they lost, exactly once per fact.

The facts of an order are a function of the order alone (`facts_of(order, as_of(order))`), so
the counters of any set of orders are the sum of their facts however the changes arrive. Each
order's ledger keeps the facts already counted, per cell (day, department, channel, matter,
township), and the order version they came from; a change is counted by diffing its facts
against the ledger and writing the difference and the new ledger in one conditional
transaction. A change delivered twice diffs to nothing; one older than the ledger is skipped;
two deliveries racing lose one transaction, which reads again. Backfill (`backfill`) rebuilds
whole months of counters from the orders table and the ledgers with them.

Views (the counter items a cell feeds, docs/kpi.md "Counters"): county-wide by department,
channel, matter, township and township × matter; and within each department by day, channel,
matter and township (a department's own report).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.core.observability import logger
from minyi.dal import counters as store
from minyi.dal.counters import CounterKey, Ledger
from minyi.models.kpi import Fact
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import WorkOrder
from minyi.reports.kpi import facts_of
from minyi.routing.places import GANXIAN_TOWNSHIPS

UNASSIGNED = "（未分拨）"
UNCLASSIFIED = "（未分类）"
NO_TOWNSHIP = "（未明确乡镇）"
ALL = "*"
SEP = "\t"  # between a cell key's parts: no name here contains a tab
COUNTY_VIEWS = ("dept", "channel", "matter", "township", "township_matter")
DEPARTMENT_VIEWS = ("day", "channel", "matter", "township")
GAUGE = "gauge"  # how many orders are in a status or queue now: kept like the counters, on no day of their own
GAUGE_DAY = date(2000, 1, 1)  # the day gauge items are stored under (one partition, read whole)
OPEN = "open"
FINISHED = (OrderStatus.CLOSED, OrderStatus.MERGED)  # no longer open: handled, or handled with another


@dataclass(frozen=True)
class Cell:
    """Where one fact is counted: its day and department, and its order's channel, matter
    (level 1) and township."""

    day: date
    department: str
    channel: str
    matter: str
    township: str

    @property
    def key(self) -> str:
        return SEP.join((self.day.isoformat(), self.department, self.channel, self.matter, self.township))

    @classmethod
    def of_key(cls, key: str) -> Cell:
        day, department, channel, matter, township = key.split(SEP)
        return cls(date.fromisoformat(day), department, channel, matter, township)

    def counter_keys(self) -> list[CounterKey]:
        county = {"dept": self.department, "channel": self.channel, "matter": self.matter,
                  "township": self.township, "township_matter": f"{self.township}/{self.matter}"}
        own = {"day": ALL, "channel": self.channel, "matter": self.matter, "township": self.township}
        return ([CounterKey(view, ALL, self.day, county[view]) for view in COUNTY_VIEWS]
                + [CounterKey(view, self.department, self.day, own[view]) for view in DEPARTMENT_VIEWS])


def counter_keys_of(key: str) -> list[CounterKey]:
    """The counter items a ledger cell feeds: a cell's views, or a gauge's one item."""
    if key.startswith(GAUGE + SEP):
        _, department, what = key.split(SEP)
        return [CounterKey(GAUGE, ALL, GAUGE_DAY, f"{department}{SEP}{what}")]
    return Cell.of_key(key).counter_keys()


def cell_month(key: str) -> str:
    return month_of(GAUGE_DAY if key.startswith(GAUGE + SEP) else Cell.of_key(key).day)


def township_of(order: WorkOrder) -> str:
    """The township the request is about (属地): the first place named under a Ganxian township."""
    for place in order.places:
        for township in GANXIAN_TOWNSHIPS:
            if place.startswith(township):
                return township
    return NO_TOWNSHIP


def matter_of(order: WorkOrder) -> str:
    return order.matter[0] if order.matter else UNCLASSIFIED


def as_of(order: WorkOrder) -> datetime:
    """The instant an order's facts are judged at: its last change. Live counting and backfill
    both judge at it, so they agree (a limit falls due between changes only until the sweep's
    next step records it)."""
    return order.updated_at or order.received_at


def cells_of(order: WorkOrder) -> dict[str, dict[str, int]]:
    """The order's facts, summed per cell: {cell key: {fact: amount}}."""
    channel, matter, township = order.channel, matter_of(order), township_of(order)
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cells[Cell(order.received_at.astimezone(SHANGHAI).date(), order.department or UNASSIGNED, channel,
               matter, township).key][Fact.RECEIVED.value] += 1
    for tally in facts_of(order, as_of(order)):
        cells[Cell(tally.day, tally.department, channel, matter, township).key][tally.fact.value] += tally.amount
    holder = order.department or UNASSIGNED
    if order.status not in FINISHED:  # open orders only: the closed would grow forever
        cells[SEP.join((GAUGE, holder, f"status:{order.status.value}"))][OPEN] = 1
    if order.queue is not None and order.status not in FINISHED:
        cells[SEP.join((GAUGE, holder, f"queue:{order.queue}"))][OPEN] = 1
    return {key: {fact: amount for fact, amount in facts.items() if amount} for key, facts in cells.items()}


def diff(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """What to add per cell to go from `before` to `after` (negative amounts take away)."""
    changed: dict[str, dict[str, int]] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key, {}), after.get(key, {})
        delta = {fact: new.get(fact, 0) - old.get(fact, 0) for fact in old.keys() | new.keys()}
        delta = {fact: amount for fact, amount in delta.items() if amount}
        if delta:
            changed[key] = delta
    return changed


def counter_deltas(cell_deltas: dict[str, dict[str, int]]) -> dict[CounterKey, dict[str, int]]:
    """Cell deltas summed onto the counter items they feed."""
    items: dict[CounterKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, delta in cell_deltas.items():
        for counter in counter_keys_of(key):
            for fact, amount in delta.items():
                items[counter][fact] += amount
    return {key: {f: a for f, a in facts.items() if a} for key, facts in items.items() if any(facts.values())}


def _chunks(cell_deltas: dict[str, dict[str, int]]) -> list[dict[str, dict[str, int]]]:
    """Cell deltas in groups whose counter items fit one transaction with the ledger."""
    groups: list[dict[str, dict[str, int]]] = []
    current: dict[str, dict[str, int]] = {}
    touched: set[CounterKey] = set()
    for key in sorted(cell_deltas):
        keys = set(counter_keys_of(key))
        if current and len(touched | keys) + 1 > store.MAX_ACTIONS:
            groups.append(current)
            current, touched = {}, set()
        current[key] = cell_deltas[key]
        touched |= keys
    if current:
        groups.append(current)
    return groups


def count(order: WorkOrder, attempts: int = 5) -> int:
    """Count one change of `order` (the order as that change left it). Returns the number of
    counter items changed: 0 when the change was counted before or is older than what was."""
    for _ in range(attempts):
        entry = store.ledger(order.order_id)
        if entry.stored and entry.version >= order.version:
            return 0
        target = cells_of(order)
        try:
            return _apply(entry, target, order.version)
        except store.LostRace:
            continue  # another delivery moved the ledger: read it again
    raise store.LostRace(order.order_id)


def _apply(entry: Ledger, target: dict[str, dict[str, int]], version: int) -> int:
    """Bring the ledger and the counters from `entry` to `target`, one transaction per group of
    cells (most changes are one group); the ledger records each group as it lands, so a crash
    between groups resumes where it stopped."""
    changed = diff(entry.cells, target)
    groups = _chunks(changed) or [{}]
    written = 0
    cells = dict(entry.cells)
    seq = entry.seq
    expected: int | None = entry.seq if entry.stored else None
    for i, group in enumerate(groups):
        for key in group:
            if key in target:
                cells[key] = target[key]
            else:
                cells.pop(key, None)
        last = i == len(groups) - 1
        seq += 1
        step = Ledger(entry.order_id, version if last else entry.version, seq, dict(cells), True)
        deltas = counter_deltas(group)
        store.apply(step, expected, deltas)
        expected = seq
        written += len(deltas)
    return written


# ------------------------------------------------------------------ backfill
def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def is_gauge(key: str) -> bool:
    return key.startswith(GAUGE + SEP)


def backfill(orders: Iterable[WorkOrder], months: list[str], gauges: bool = False) -> dict[str, int]:
    """Rebuild every counter item of `months` (YYYY-MM) from `orders` (every order whose facts
    may fall in them: the caller reads those received from well before the first month) and
    set each order's ledger cells of those months to what was counted. With `gauges`, the
    gauges too (then `orders` must be every order still open).

    Each ledger keeps the version it had (0 if there was none): a change waiting in the stream
    while the counting was paused is then counted against the rebuilt cells (those of the
    rebuilt months diff to nothing; the others are counted as live counting would). Run it
    while the live counting is paused (its event source mapping disabled: the change stream
    keeps what arrives meanwhile). Returns what it did: orders read, ledgers written, items
    written and deleted."""
    wanted = set(months)

    def rebuilt(key: str) -> bool:
        return gauges if is_gauge(key) else cell_month(key) in wanted

    totals: dict[CounterKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    done = {"orders": 0, "ledgers": 0, "items": 0, "deleted": 0}
    for order in orders:
        done["orders"] += 1
        cells = {key: facts for key, facts in cells_of(order).items() if rebuilt(key)}
        for key, facts in cells.items():
            for counter in counter_keys_of(key):
                for fact, amount in facts.items():
                    totals[counter][fact] += amount
        for _ in range(5):
            entry = store.ledger(order.order_id)
            kept = {key: facts for key, facts in entry.cells.items() if not rebuilt(key)}
            if entry.stored and kept | cells == entry.cells:
                break
            step = Ledger(order.order_id, entry.version, entry.seq + 1, kept | cells, True)
            try:
                store.put_ledger(step, entry.seq if entry.stored else None)
            except store.LostRace:
                continue
            done["ledgers"] += 1
            break
        else:
            logger.warning("backfill: ledger kept moving", extra={"order_id": order.order_id})
    existing: set[CounterKey] = set(store.month_items(GAUGE, ALL, month_of(GAUGE_DAY))) if gauges else set()
    for month in months:
        for view in COUNTY_VIEWS:
            existing.update(store.month_items(view, ALL, month))
        departments = {key.value for key in existing if key.view == "dept"} | {
            key.scope for key in totals if key.scope != ALL}
        for department in departments:
            for view in DEPARTMENT_VIEWS:
                existing.update(store.month_items(view, department, month))
    for key in existing | set(totals):
        if not (gauges if key.view == GAUGE else month_of(key.day) in wanted):
            continue
        counts = dict(totals.get(key, {}))
        store.replace(key, counts)
        done["items" if any(counts.values()) else "deleted"] += 1
    return done


def months_between(first: str, last: str) -> list[str]:
    """YYYY-MM months from `first` to `last`, both included."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    found = []
    while (year, month) <= end:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def rebuild(first: str, last: str, lookback_days: int, gauges: bool = False) -> dict[str, int]:
    """`backfill` of the months first..last (YYYY-MM) from the orders table: every order received
    from `lookback_days` before the first month to the end of the last (an order's facts fall
    on or after the day it came; a completion judged a year later is rare enough to need
    a longer lookback, which the command takes); with `gauges`, up to now (every open order).
    An order received before the lookback whose facts still fall in those months is not read:
    its counts are left out of the rebuilt items (the lookback must reach it)."""
    from minyi.dal.orders import get_orders
    from minyi.dal.periods import order_ids_received_between

    months = months_between(first, last)
    if not months:
        raise ValueError("the first month is after the last")
    year, month = map(int, months[-1].split("-"))
    start = datetime(int(first[:4]), int(first[5:7]), 1, tzinfo=SHANGHAI) - timedelta(days=lookback_days)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=SHANGHAI)
    if gauges:
        end = max(end, clock.now() + timedelta(seconds=1))

    def orders() -> Iterable[WorkOrder]:
        batch: list[str] = []
        for order_id in order_ids_received_between(start, end):
            batch.append(order_id)
            if len(batch) == 100:
                yield from (order for order, _ in get_orders(batch).values())
                batch = []
        if batch:
            yield from (order for order, _ in get_orders(batch).values())

    return backfill(orders(), months, gauges=gauges)
