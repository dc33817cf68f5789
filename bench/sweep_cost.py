"""What the SLA sweep costs as the orders table grows, in-process on moto.

The orders table is filled with N open orders (10,000 and 100,000 by default): realistic orders
(tests/builders.py's `an_order`, dispatched or signed, their limits planned by
`timelimits.limits.plan_dispatch`), stored as `record_of(order)` with their one timer armed at
`timing.timer_of(order)`. All but D of them have their timer in the future; D (200) were
dispatched long enough ago that their sign-for warning (签收预警) has fired at the sweep's `now`.

For each N, in the same run:
- finding the due orders through the sparse `due` index (`dal.timers.due_orders`, what the
  sweep reads) beside a full Scan filtered on `timer_at <= now` (the baseline), interleaved,
  median of a few rounds: items DynamoDB returned (Query/Scan `ScannedCount`, GetItem and
  BatchGetItem items) and time, per due timer;
- the sweep itself (`sla.sweep.sweep`, acting on every due order: a conditional write with its
  audit record and the warning on the bus): items read, DynamoDB read and write calls and time
  per due timer, and how much of that time was inside DynamoDB calls.

Every DynamoDB call is counted on the wire (botocore's client, whoever made it). The benchmark
asserts only what it counts: every due order acted on, once (a second sweep does nothing).

    python bench/sweep_cost.py [--sizes 10000,100000] [--due 200] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH", "1")

import tests.conftest as harness  # noqa: E402  (sets the test environment before minyi loads)

os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
os.environ["DUTY_LIST_CACHE_SECONDS"] = "60"  # production's (settings' default; tests use 0)

import boto3  # noqa: E402
import botocore.client  # noqa: E402

from minyi.casework import timing  # noqa: E402
from minyi.core import clock  # noqa: E402
from minyi.core.clock import SHANGHAI  # noqa: E402
from minyi.dal.order_records import OrderRecord, order_of, record_of, timer_shard  # noqa: E402
from minyi.dal.timers import due_orders  # noqa: E402
from minyi.models.order import Citizen, WorkOrder  # noqa: E402
from minyi.routing.liaisons import contact_of  # noqa: E402
from minyi.sla.sweep import sweep  # noqa: E402
from tests.builders import LEAD, an_order  # noqa: E402

DUE = 200
WARM = 20  # orders a first sweep acts on in each account before the measured one (warm caches, warm code)
ROUNDS = 3  # finding rounds (read-only), index and Scan interleaved
BATCH = 25  # BatchWriteItem's limit
# the orders dispatched long ago enough for their sign-for warning to fire at the sweep's `now`
DISPATCHED = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)  # a Wednesday
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class Wire:
    """Every DynamoDB call any botocore client makes in this process: how many of each,
    the items each returned, and the time spent inside them."""

    def __init__(self) -> None:
        self.reset()
        self._original = botocore.client.BaseClient._make_api_call
        wire = self

        def counted(client, operation_name, api_params):
            if client.meta.service_model.service_name != "dynamodb":
                return wire._original(client, operation_name, api_params)
            started = time.perf_counter()
            try:
                return (response := wire._original(client, operation_name, api_params))
            finally:
                wire.seconds[operation_name] += time.perf_counter() - started
                wire.calls[operation_name] += 1
                if operation_name in READS and "response" in locals():
                    wire.items_read += _items_read(operation_name, response)

        self._counted = counted

    def reset(self) -> None:
        self.calls: Counter = Counter()
        self.items_read = 0
        self.seconds: Counter = Counter()

    def __enter__(self) -> Wire:
        botocore.client.BaseClient._make_api_call = self._counted
        return self

    def __exit__(self, *exc) -> None:
        botocore.client.BaseClient._make_api_call = self._original

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if op in READS)

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if op in WRITES)


def _items_read(operation: str, response: dict) -> int:
    if operation in ("Query", "Scan"):
        return response.get("ScannedCount", response.get("Count", 0))
    if operation == "GetItem":
        return 1 if "Item" in response else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in response.get("Responses", {}).values())
    return sum(1 for got in response.get("Responses", []) if got.get("Item"))


# ------------------------------------------------------------------ the orders
def due_order(i: int, early: bool = False) -> WorkOrder:
    """Dispatched at 09:00 (+ i seconds), never signed: its sign-for limit (2 working hours)
    warns at 80%, ~10:36, and is due at ~11:00. An early one, for the warm-up sweep, was
    dispatched at 08:50: it warns at ~10:26 and is due at ~10:50, after the measured sweep."""
    when = DISPATCHED + timedelta(seconds=i) - (timedelta(minutes=10) if early else timedelta())
    name = "WARM" if early else "DUE"
    return an_order("dispatched", order_id=f"MYBENCH{name}{i:05d}", external_id=f"bench-{name}-{i}",
                    received_at=when - timedelta(minutes=3), dispatched_at=when, due_at=when + timedelta(days=7),
                    citizen=Citizen(name="王五", phone=f"137{i:08d}"))


def future_templates(now: datetime, count: int = 64) -> list[tuple[WorkOrder, int]]:
    """Open orders whose timer is ahead of `now`: dispatched in the last hour (sign-for not yet
    warned), or signed and contacted over the past days (completion and opinion limits ahead)."""
    chooser = random.Random(10)
    found: list[tuple[WorkOrder, int]] = []
    while len(found) < count:
        days = chooser.choice((5, 10, 15, 20))
        if chooser.random() < 0.3:
            when = now - timedelta(minutes=chooser.randint(1, 60))
            order = an_order("dispatched", received_at=when - timedelta(minutes=2), dispatched_at=when,
                             due_at=when + timedelta(days=days), time_limit_days=days)
        else:
            when = now - timedelta(hours=chooser.randint(2, 24 * days // 3))
            order = an_order("signed", received_at=when - timedelta(minutes=5), dispatched_at=when,
                             due_at=when + timedelta(days=days), time_limit_days=days,
                             signed_at=when + timedelta(minutes=40), first_contact_at=when + timedelta(hours=3),
                             opinions_from=["区住建局"] if chooser.random() < 0.7 else [])
        timer = timing.timer_of(order)
        if timer is not None and timer > clock.epoch(now) + 600:
            found.append((order, timer))
    return found


def item_of(order: WorkOrder, timer: int) -> dict:
    record = record_of(order)
    record.timer_shard = timer_shard(order.order_id)
    record.timer_at = timer
    record.version = 1
    return record.serialize()


def fill(client, table: str, n: int, due: list[WorkOrder], now: datetime) -> float:
    """N items with BatchWriteItem, 25 a call, built a batch at a time (memory stays bounded);
    the due (and warm-up) orders spread evenly among the others."""
    templates = future_templates(now)
    every = n // len(due)
    started = time.perf_counter()
    batch: list[dict] = []
    for i in range(n):
        if i % every == 0 and i // every < len(due):
            order = due[i // every]
            item = item_of(order, timing.timer_of(order))
        else:
            template, timer = templates[i % len(templates)]
            order = template.model_copy(update={"order_id": f"MYBENCH{i:09d}", "external_id": f"bench-{i}",
                                                "citizen": Citizen(name="张三", phone=f"139{i:08d}")})
            item = item_of(order, timer)
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == BATCH or i == n - 1:
            pending = {table: batch}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            batch = []
    return time.perf_counter() - started


# ------------------------------------------------------------------ finding and sweeping
def find_by_index(now: datetime) -> int:
    return sum(1 for fired in due_orders(now) if fired.order is not None)


def find_by_scan(now: datetime) -> int:
    """The baseline: every item of the table read, the due ones kept. moto sorts the whole
    table again for every 1 MB page of a Scan (quadratic in N; DynamoDB's Scan is linear), so
    here it returns the table in one page: the same items read, moto's time linear in N."""
    from moto.dynamodb.models import table as moto_table

    limit, moto_table.RESULT_SIZE_LIMIT = moto_table.RESULT_SIZE_LIMIT, 1 << 40
    try:
        return sum(1 for record in OrderRecord.scan(OrderRecord.timer_at <= clock.epoch(now)) if order_of(record))
    finally:
        moto_table.RESULT_SIZE_LIMIT = limit


def measured(wire: Wire, fn, *args) -> tuple[object, float, Counter, int, float]:
    gc.collect()
    wire.reset()
    started = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - started
    return result, elapsed, Counter(wire.calls), wire.items_read, Counter(wire.seconds)


def run(n: int, d: int) -> dict:
    with contextlib.ExitStack() as stack:
        null = stack.enter_context(open(os.devnull, "w"))
        stack.enter_context(contextlib.redirect_stdout(null))
        aws = stack.enter_context(harness.provisioned_account())
        due = [due_order(i) for i in range(d)]
        early = [due_order(i, early=True) for i in range(WARM)]
        now = max(order.deadlines["sign"].warn_at for order in due) + timedelta(minutes=1)
        warm_now = max(order.deadlines["sign"].warn_at for order in early) + timedelta(minutes=1)
        # the measured sweep takes each due order's warning and nothing else; the warm-up none of them
        assert now < min(order.deadlines["sign"].due for order in due + early)
        assert warm_now < min(order.deadlines["sign"].warn_at for order in due)
        client = boto3.client("dynamodb", region_name=harness.REGION)
        load_seconds = fill(client, aws.refs["OrdersTable"], n, due + early, now)
        table_bytes = _table_bytes(aws.refs["OrdersTable"])
        assert sweep(warm_now, lambda: None, 0.2) == Counter({"warned": WARM})  # warm code and caches

        finds = {"index": [], "scan": []}
        with Wire() as wire:
            for _ in range(ROUNDS):
                for name, fn in (("index", find_by_index), ("scan", find_by_scan)):
                    found, seconds, calls, items, inside = measured(wire, fn, now)
                    assert found == d, f"{name} found {found} of {d} due orders"
                    finds[name].append((seconds, calls, items, inside))
            # a warm container, as every 5 minutes: its caches (roster hours, liaisons) fresh
            timing.hours_of(LEAD), contact_of(LEAD)
            outcome, seconds, calls, items, inside = measured(wire, sweep, now, lambda: None, 0.2)
            assert outcome == Counter({"warned": d}), outcome  # every due order acted on
            again, *_ = measured(wire, sweep, now, lambda: None, 0.2)
            assert again == Counter(), again  # and only once
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "d": d, "load": load_seconds, "bytes": table_bytes, "rss": rss_mb, "finds": finds,
            "sweep": (seconds, calls, items, inside)}


def _table_bytes(table_name: str) -> int:
    """The table's size as DynamoDB counts it (moto's Item.size), for the Scan's page count:
    DynamoDB's 1 MB page limit applies to the items read, moto's to the items kept."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][harness.REGION].get_table(table_name)
    return sum(item.size() for partition in table.items.values() for item in partition.values())


# ------------------------------------------------------------------ the table printed
def figures(rows: list, d: int) -> dict:
    """Per due timer, the median over rounds: items read, ms, ms of it in the index Query
    (moto reads every item of the table for an index query; DynamoDB reads the index
    partition, so its cost is the items returned), read and write calls."""
    def med(pick):
        return statistics.median(pick(row) for row in rows)

    return {"items": med(lambda r: r[2]) / d, "ms": med(lambda r: r[0]) * 1000 / d,
            "query_ms": med(lambda r: r[3]["Query"]) * 1000 / d,
            "storage": med(lambda r: sum(r[3].values()) / r[0]),
            "reads": med(lambda r: sum(n for op, n in r[1].items() if op in READS)) / d,
            "writes": med(lambda r: sum(n for op, n in r[1].items() if op in WRITES)) / d,
            "calls": rows[0][1]}


def report(results: list[dict]) -> None:
    d = results[0]["d"]
    print(f"SLA sweep cost: {d} due timers among N open orders, in-process moto "
          f"(finding: median of {ROUNDS} rounds, index and Scan interleaved)")
    print(f"  {'N':>8}  {'per due timer':<27} {'items read':>10} {'ms':>7} {'ms w/o Query':>12}"
          f" {'reads':>6} {'writes':>6}  {'in moto':>7}")
    per: dict[tuple[int, str], dict] = {}
    for r in results:
        n = r["n"]
        per[(n, "index")] = figures(r["finds"]["index"], d)
        per[(n, "scan")] = figures(r["finds"]["scan"], d)
        per[(n, "sweep")] = figures([r["sweep"]], d)
        for name, label in (("index", "find: `due` index (sweep)"), ("scan", "find: full Scan (baseline)"),
                            ("sweep", "sweep: find and act")):
            f = per[(n, name)]
            print(f"  {n:>8,}  {label:<27} {f['items']:>10.2f} {f['ms']:>7.2f} {f['ms'] - f['query_ms']:>12.2f}"
                  f" {f['reads']:>6.3f} {f['writes']:>6.3f}  {f['storage']:>7.0%}")
        calls = per[(n, "sweep")]["calls"]
        print(f"  {'':>8}  the sweep's calls: {', '.join(f'{op} {c}' for op, c in sorted(calls.items()))}; "
              f"table {r['bytes'] / 1e6:.0f} MB (a Scan is >= {-(-r['bytes'] // 1_000_000)} pages in DynamoDB), "
              f"filled in {r['load']:.0f} s (BatchWriteItem, 25 a call); peak RSS {r['rss']:,.0f} MB")
    if len(results) > 1:
        small, large = results[0]["n"], results[-1]["n"]
        print(f"  {large:,} / {small:,}, per due timer:")
        for name, label in (("index", "find via `due` index"), ("sweep", "sweep, find and act"),
                            ("scan", "find via full Scan")):
            a, b = per[(small, name)], per[(large, name)]
            print(f"    {label:<21} items read {b['items'] / a['items']:>6.2f}  time {b['ms'] / a['ms']:>6.2f}"
                  f"  time without the index Query {(b['ms'] - b['query_ms']) / (a['ms'] - a['query_ms']):>6.2f}")
    print("  Scan / sweep, per due timer:")
    for r in results:
        n = r["n"]
        scan, index, swept = per[(n, "scan")], per[(n, "index")], per[(n, "sweep")]
        print(f"    {n:>8,}  Scan / index find: items read {scan['items'] / index['items']:,.0f}, "
              f"time {scan['ms'] / index['ms']:,.1f};  Scan / whole sweep: items read "
              f"{scan['items'] / swept['items']:,.0f}, time {scan['ms'] / swept['ms']:,.2f}")
    print("  goal <= 1.1 items read per due timer, flat with N; the sweep read "
          + ", ".join(f"{per[(r['n'], 'sweep')]['items']:.2f} at {r['n']:,}" for r in results) + ".")
    print("  (moto reads every item of the table for an index Query: that part of the time grows with N here, "
          "not in DynamoDB, whose Query reads the index partition; the Scan is read in one moto page, since moto "
          "re-sorts the table for every 1 MB page.)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated table sizes (default 10000,100000)")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 orders")
    parser.add_argument("--due", type=int, default=DUE, help=f"due timers at the sweep's now (default {DUE})")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [10_000, 100_000]
    if args.sizes:
        sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    results = []
    for n in sizes:
        print(f"  filling {n:,} orders ...", file=sys.stderr, flush=True)
        results.append(run(n, args.due))
    report(results)


if __name__ == "__main__":
    main()
