from datetime import date, datetime

import pytest

from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.timelimits.calendar import is_working_day
from minyi.timelimits.deadlines import working_days_deadline


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_given_friday_dispatch_when_one_working_day_then_due_end_of_monday():
    assert working_days_deadline(at(2026, 11, 20, 16, 0), 1) == at(2026, 11, 24, 0, 0)


def test_given_national_day_holiday_when_counting_then_swapped_saturday_counts_and_holidays_do_not():
    # 2026-10-01..07 are holidays; Saturday 2026-10-10 is a working day (调休)
    assert working_days_deadline(at(2026, 9, 30, 10, 0), 3) == at(2026, 10, 11, 0, 0)


def test_given_dispatch_in_the_evening_when_counting_then_the_start_day_is_not_counted():
    assert working_days_deadline(at(2026, 11, 26, 23, 59), 1) == at(2026, 11, 28, 0, 0)


def test_given_a_year_the_calendar_package_does_not_cover_then_weekdays_are_working_days():
    future = date(2099, 1, 5)  # a Monday
    assert is_working_day(future)
    assert not is_working_day(date(2099, 1, 4))


def test_given_utc_time_when_converted_then_shanghai_wall_clock():
    moment = datetime.fromisoformat("2026-11-25T17:30:00+00:00")
    assert clock.iso(moment) == "2026-11-26T01:30:00+08:00"
    assert clock.month_of(moment) == "2026-11"


def test_given_naive_time_then_rejected():
    with pytest.raises(ValueError):
        clock.to_shanghai(datetime(2026, 1, 1))


def test_given_zero_days_then_rejected():
    with pytest.raises(ValueError):
        working_days_deadline(at(2026, 1, 5), 0)


@pytest.mark.parametrize(("moment", "ok"), [
    (datetime(1, 1, 1, tzinfo=SHANGHAI), False), (datetime(1999, 12, 31, 23, 59, tzinfo=SHANGHAI), False),
    (datetime(2000, 1, 1, tzinfo=SHANGHAI), True), (at(2026, 11, 29, 9, 0), True),
    (at(2026, 11, 29, 11, 0), False), (datetime(9999, 12, 31, 23, 0, tzinfo=SHANGHAI), False),
])
def test_a_plausible_incoming_time_is_from_2000_to_a_day_ahead(moment, ok):
    assert clock.plausible(moment, at(2026, 11, 28, 10, 0)) is ok
