"""Counting as orders move (考核计数), the pure half: an order's facts per cell, what a change
adds and takes away, the counter items a cell feeds, and the transactions they fit in."""

from __future__ import annotations

from datetime import date, timedelta

from minyi.dal.counters import MAX_ACTIONS, CounterKey
from minyi.models.clock import LimitKind
from minyi.models.lifecycle import OrderStatus
from minyi.reports.counting import (
    ALL,
    GAUGE,
    GAUGE_DAY,
    NO_TOWNSHIP,
    SEP,
    UNASSIGNED,
    UNCLASSIFIED,
    Cell,
    _chunks,
    cells_of,
    counter_deltas,
    diff,
    matter_of,
    months_between,
    township_of,
)
from tests.builders import LEAD, WHEN, an_order


def test_given_a_received_order_then_it_counts_one_received_on_its_day_and_sits_in_the_unassigned_gauge():
    order = an_order("received", department=None, matter=[], places=[], received_at=WHEN, updated_at=WHEN)
    cells = cells_of(order)
    received = Cell(date(2026, 11, 25), UNASSIGNED, order.channel, UNCLASSIFIED, NO_TOWNSHIP)
    assert cells[received.key] == {"received": 1}
    assert cells[SEP.join((GAUGE, UNASSIGNED, "status:received"))] == {"open": 1}


def test_given_a_dispatched_order_then_its_cells_name_the_matter_and_the_township_it_is_about():
    order = an_order("dispatched", places=["田村镇圩镇主街"], matter=["城乡建设", "市政设施"])
    assert township_of(order) == "田村镇" and matter_of(order) == "城乡建设"
    keys = [Cell.of_key(key) for key in cells_of(order) if not key.startswith(GAUGE)]
    assert {cell.township for cell in keys} == {"田村镇"} and {cell.matter for cell in keys} == {"城乡建设"}
    dispatched = [k for k, facts in cells_of(order).items() if "dispatched" in facts]
    assert len(dispatched) == 1 and Cell.of_key(dispatched[0]).department == LEAD


def test_given_the_same_order_twice_then_the_change_is_nothing():
    order = an_order("signed")
    assert diff(cells_of(order), cells_of(order)) == {}


def test_given_a_sign_limit_met_then_the_change_adds_the_judged_facts_and_moves_the_gauge():
    before = an_order("dispatched", updated_at=WHEN)
    sign = before.deadlines[LimitKind.SIGN]
    after = before.model_copy(update={
        "status": OrderStatus.SIGNED, "signed_at": WHEN + timedelta(minutes=30),
        "updated_at": WHEN + timedelta(minutes=30),
        "deadlines": {**before.deadlines, LimitKind.SIGN: sign.model_copy(update={"met_at": WHEN + timedelta(
            minutes=30)})}})
    change = diff(cells_of(before), cells_of(after))
    facts = {fact: amount for cell, delta in change.items() if not cell.startswith(GAUGE)
             for fact, amount in delta.items()}
    assert facts == {"sign_due": 1, "signed_in_time": 1}
    gauges = {cell.split(SEP)[2]: delta["open"] for cell, delta in change.items() if cell.startswith(GAUGE)}
    assert gauges == {"status:dispatched": -1, "status:signed": 1}


def test_given_a_cell_then_it_feeds_five_county_views_and_four_of_its_department():
    cell = Cell(date(2026, 11, 25), LEAD, "12345", "城乡建设", "田村镇")
    items = counter_deltas({cell.key: {"received": 1}})
    assert set(items) == {
        CounterKey("dept", ALL, cell.day, LEAD), CounterKey("channel", ALL, cell.day, "12345"),
        CounterKey("matter", ALL, cell.day, "城乡建设"), CounterKey("township", ALL, cell.day, "田村镇"),
        CounterKey("township_matter", ALL, cell.day, "田村镇/城乡建设"),
        CounterKey("day", LEAD, cell.day, ALL), CounterKey("channel", LEAD, cell.day, "12345"),
        CounterKey("matter", LEAD, cell.day, "城乡建设"), CounterKey("township", LEAD, cell.day, "田村镇")}
    assert all(delta == {"received": 1} for delta in items.values())
    assert CounterKey("dept", ALL, cell.day, LEAD).pk == "dept#*#2026-11"
    gauge = counter_deltas({SEP.join((GAUGE, LEAD, "queue:unsigned")): {"open": 1}})
    assert gauge == {CounterKey(GAUGE, ALL, GAUGE_DAY, f"{LEAD}{SEP}queue:unsigned"): {"open": 1}}


def test_given_two_cells_whose_changes_cancel_on_a_shared_item_then_that_item_is_not_written():
    day = date(2026, 11, 25)
    moved = {Cell(day, LEAD, "12345", "城乡建设", "田村镇").key: {"received": -1},
             Cell(day, "区住建局", "12345", "城乡建设", "田村镇").key: {"received": 1}}
    items = counter_deltas(moved)
    assert CounterKey("channel", ALL, day, "12345") not in items  # -1 + 1 on the county channel view
    assert items[CounterKey("dept", ALL, day, LEAD)] == {"received": -1}


def test_given_a_change_touching_many_days_then_it_is_split_into_transactions_that_fit():
    changes = {Cell(date(2026, 11, 1) + timedelta(days=n), LEAD, "12345", f"事项{n}", "田村镇").key: {"received": 1}
               for n in range(30)}
    groups = _chunks(changes)
    assert len(groups) > 1 and sum(len(g) for g in groups) == 30
    assert all(len(counter_deltas(g)) + 1 <= MAX_ACTIONS for g in groups)


def test_months_between_spans_a_year_end():
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_between("2026-03", "2026-02") == []
