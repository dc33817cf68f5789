"""Report periods (统计周期): every kind's bounds, days and Chinese label, ISO week edges, the
period a schedule reports on, and what is not a period."""

from datetime import UTC, date, datetime
from itertools import pairwise

import pytest
from pydantic import ValidationError

from minyi.core.clock import SHANGHAI
from minyi.models.report import ReportRequest, ScheduledRun
from minyi.reports.periods import period_bounds, period_days, period_kind, period_label, previous_period


def midnight(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("period", "kind", "start", "end", "label"), [
    ("2026-11-05", "day", midnight(2026, 11, 5), midnight(2026, 11, 6), "2026年11月5日"),
    ("2026-W45", "week", midnight(2026, 11, 2), midnight(2026, 11, 9), "2026年第45周（11月2日—11月8日）"),
    ("2026-11", "month", midnight(2026, 11, 1), midnight(2026, 12, 1), "2026年11月"),
    ("2026-Q4", "quarter", midnight(2026, 10, 1), midnight(2027, 1, 1), "2026年第四季度"),
    ("2026", "year", midnight(2026, 1, 1), midnight(2027, 1, 1), "2026年"),
    ("2026-01-05..2026-03-01", "range", midnight(2026, 1, 5), midnight(2026, 3, 2), "2026年1月5日至3月1日"),
])
def test_each_kind_of_period_has_its_bounds_in_shanghai_and_its_chinese_label(period, kind, start, end, label):
    assert period_kind(period) == kind
    assert period_bounds(period) == (start, end)
    assert period_bounds(period)[0].utcoffset().total_seconds() == 8 * 3600
    assert period_label(period) == label
    days = period_days(period)
    assert days[0] == start.date() and len(days) == (end - start).days
    assert all((b - a).days == 1 for a, b in pairwise(days))


@pytest.mark.parametrize(("period", "monday", "label"), [
    # week 1 is the week with the year's first Thursday: 2026's starts in 2025
    ("2026-W01", date(2025, 12, 29), "2026年第1周（2025年12月29日—1月4日）"),
    # 2020 began on a Wednesday of a leap year: 53 weeks, the last ending in 2021
    ("2020-W53", date(2020, 12, 28), "2020年第53周（12月28日—2021年1月3日）"),
    # 2026 begins on a Thursday: 53 weeks too
    ("2026-W53", date(2026, 12, 28), "2026年第53周（12月28日—2027年1月3日）"),
    ("2027-W01", date(2027, 1, 4), "2027年第1周（1月4日—1月10日）"),
])
def test_iso_week_edges(period, monday, label):
    start, end = period_bounds(period)
    assert start == midnight(monday.year, monday.month, monday.day) and (end - start).days == 7
    assert start.weekday() == 0 and period_label(period) == label


@pytest.mark.parametrize(("period", "last_day", "days"), [
    ("2026-Q1", date(2026, 3, 31), 90), ("2024-Q1", date(2024, 3, 31), 91), ("2026-Q2", date(2026, 6, 30), 91),
    ("2026-Q3", date(2026, 9, 30), 92), ("2026-Q4", date(2026, 12, 31), 92),
    ("2024", date(2024, 12, 31), 366), ("2099", date(2099, 12, 31), 365), ("2024-02", date(2024, 2, 29), 29),
    ("2026-12", date(2026, 12, 31), 31),
])
def test_quarters_years_and_months_end_on_their_last_day(period, last_day, days):
    assert period_days(period)[-1] == last_day and len(period_days(period)) == days


@pytest.mark.parametrize(("period", "days", "label"), [
    ("2026-03-01..2026-03-01", 1, "2026年3月1日"),
    ("2025-12-01..2026-02-28", 90, "2025年12月1日至2026年2月28日"),
    ("2024-01-01..2024-12-31", 366, "2024年1月1日至12月31日"),  # a leap year: 366 days is a year
    ("2026-01-01..2027-01-01", 366, "2026年1月1日至2027年1月1日"),
])
def test_custom_ranges_include_both_days_up_to_366(period, days, label):
    assert len(period_days(period)) == days and period_label(period) == label
    assert period_kind(period) == "range"


@pytest.mark.parametrize(("period", "says"), [
    ("2026-W54", "2026 has ISO weeks 1 to 53"),
    ("2025-W53", "2025 has ISO weeks 1 to 52"),
    ("2026-W00", "ISO weeks 1 to 53"),
    ("2026-Q5", "Q1 to Q4"), ("2026-Q0", "Q1 to Q4"),
    ("2026-02-30", "not a day of the calendar"), ("2026-13", "01 to 12"), ("2026-00", "01 to 12"),
    ("2026-03-01..2026-01-05", "ends (2026-01-05) before it starts"),
    ("2026-01-01..2027-01-02", "at most 366 days"),
    ("2026-01-01..2026-02-30", "not a day of the calendar"),
    ("2026-01..2026-03", "not a day YYYY-MM-DD"),
    ("0001", "from 2000 to 2099"), ("1999-12-31", "from 2000 to 2099"), ("2100", "from 2000 to 2099"),
    ("1999-W52", "from 2000 to 2099"), ("1999-12-31..2000-01-02", "from 2000 to 2099"),
    ("2026-1", "is not a period"), ("26-11", "is not a period"), ("2026-w45", "is not a period"),
    ("2026-11-05\n", "is not a period"), ("２０２６", "is not a period"), ("", "is not a period"),
    ("2026-11-05 ", "is not a period"), ("2026-H1", "is not a period"),
])
def test_what_is_not_a_period_says_why(period, says):
    with pytest.raises(ValueError) as raised:
        period_bounds(period)
    assert says in str(raised.value)
    with pytest.raises(ValidationError) as invalid:
        ReportRequest(period=period)
    assert says in invalid.value.errors()[0]["msg"]


@pytest.mark.parametrize(("now", "kind", "period"), [
    # the 01:00 runs: yesterday, last ISO week (on Monday), last month (on the 1st)
    (datetime(2026, 11, 27, 1, 0, tzinfo=SHANGHAI), "day", "2026-11-26"),
    (datetime(2026, 3, 1, 1, 0, tzinfo=SHANGHAI), "day", "2026-02-28"),
    (datetime(2024, 3, 1, 1, 0, tzinfo=SHANGHAI), "day", "2024-02-29"),
    (datetime(2026, 11, 9, 1, 0, tzinfo=SHANGHAI), "week", "2026-W45"),
    (datetime(2026, 1, 5, 1, 0, tzinfo=SHANGHAI), "week", "2026-W01"),
    (datetime(2021, 1, 4, 1, 0, tzinfo=SHANGHAI), "week", "2020-W53"),
    (datetime(2027, 1, 4, 1, 0, tzinfo=SHANGHAI), "week", "2026-W53"),
    (datetime(2026, 12, 1, 1, 0, tzinfo=SHANGHAI), "month", "2026-11"),
    (datetime(2027, 1, 1, 1, 0, tzinfo=SHANGHAI), "month", "2026-12"),
    (datetime(2027, 1, 1, 1, 0, tzinfo=SHANGHAI), "quarter", "2026-Q4"),
    (datetime(2027, 1, 1, 1, 0, tzinfo=SHANGHAI), "year", "2026"),
    # the UTC instants EventBridge fires at (17:00 the day before) are read in Shanghai
    (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), "month", "2026-11"),
    (datetime(2026, 11, 8, 17, 0, tzinfo=UTC), "week", "2026-W45"),
    (datetime(2026, 11, 26, 17, 0, tzinfo=UTC), "day", "2026-11-26"),
])
def test_the_period_just_ended(now, kind, period):
    assert previous_period(kind, now) == period
    assert period_bounds(period)[1] <= now


def test_a_range_has_no_period_just_ended():
    with pytest.raises(ValueError):
        previous_period("range", datetime(2026, 11, 9, tzinfo=SHANGHAI))


def test_a_schedules_input_names_its_kind_and_may_carry_the_local_stacks_time():
    assert ScheduledRun.model_validate({"period_kind": "week"}) == ScheduledRun(period_kind="week")
    run = ScheduledRun.model_validate({"period_kind": "month", "time": "2026-11-30T17:00:00Z"})
    assert run.time == datetime(2026, 11, 30, 17, tzinfo=UTC)
    # a plain Scheduled Event (no Input) is the daily run at its time
    plain = ScheduledRun.model_validate({"detail-type": "Scheduled Event", "source": "aws.events",
                                         "time": "2026-11-26T17:00:00Z", "id": "x"})
    assert plain.period_kind == "day" and plain.time == datetime(2026, 11, 26, 17, tzinfo=UTC)
    for bad in ({"period_kind": "range"}, {"period_kind": "week", "time": "2026-11-30T17:00:00"}):
        with pytest.raises(ValidationError):
            ScheduledRun.model_validate(bad)
