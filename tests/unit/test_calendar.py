"""Working days: the county's supplement over the calendar package over Monday-Friday,
on real dates; which years are covered; the supplement's cache per warm container."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from minyi.core import settings
from minyi.core.clock import SHANGHAI
from minyi.models.calendar import CalendarDay, CalendarYear
from minyi.timelimits import calendar
from minyi.timelimits.calendar import coverage, is_certain, is_working_day


def day(text: str, kind: str, name: str) -> CalendarDay:
    return CalendarDay(date=text, kind=kind, name=name)


SPRING_2027 = CalendarYear(year=2027, version=1, days=(
    *(day(f"2027-02-{d:02d}", "holiday", "春节") for d in range(6, 13)),  # Saturday 6 to Friday 12
    day("2027-02-20", "workday", "调休上班"),  # a Saturday
))
COUNTY_DAY_2026 = CalendarYear(year=2026, version=3, days=(day("2026-03-16", "holiday", "县庆"),))  # a Monday


def given_supplement(*years: CalendarYear) -> None:
    calendar.reset(load=lambda: calendar.Supplement.of(years), ttl=60)


# ------------------------------------------------------------------ the package's years
@pytest.mark.parametrize(("when", "working"), [
    (date(2025, 1, 26), True),  # a Sunday swapped in before the 2025 Spring Festival
    *((date(2025, 10, d), False) for d in range(1, 9)),  # National Day and Mid-autumn, 1-8 October 2025
    (date(2025, 10, 11), True),  # the Saturday after, swapped in
    (date(2026, 2, 14), True),  # a Saturday swapped in before the 2026 Spring Festival
    *((date(2026, 2, d), False) for d in range(15, 24)),  # 2026 Spring Festival, 15-23 February
    (date(2026, 2, 24), True),
])
def test_given_no_supplement_when_a_package_year_then_the_statutory_arrangement_holds(when, working):
    given_supplement()
    assert is_working_day(when) is working
    assert coverage(when.year) == "package" and is_certain(when)


def test_given_a_year_nobody_published_when_no_supplement_then_monday_to_friday_and_not_certain():
    given_supplement()
    assert coverage(2027) == "none"
    assert not is_certain(date(2027, 2, 8))
    assert is_working_day(date(2027, 2, 8))  # a Monday: in fact 春节, but nobody has said so yet
    assert not is_working_day(date(2027, 2, 20))  # a Saturday


def test_given_the_centre_stored_2027_when_counting_then_its_holidays_and_swapped_saturday_hold():
    given_supplement(SPRING_2027)
    assert coverage(2027) == "supplement" and is_certain(date(2027, 6, 1))
    # Friday 5 works; Saturday 6 to Friday 12 off; Saturday 13 is a weekend day; Monday 15 works
    assert [is_working_day(date(2027, 2, d)) for d in range(5, 16)] == \
        [True, False, False, False, False, False, False, False, False, False, True]
    assert is_working_day(date(2027, 2, 20))  # 调休上班 on a Saturday
    assert is_working_day(date(2027, 3, 1))  # a day it does not name: Monday to Friday


def test_given_a_county_day_off_in_a_package_year_then_it_overrides_the_package_for_that_date_only():
    given_supplement(COUNTY_DAY_2026)
    assert not is_working_day(date(2026, 3, 16))  # 县庆, a Monday
    assert is_working_day(date(2026, 3, 17))
    assert is_working_day(date(2026, 2, 14)) and not is_working_day(date(2026, 2, 16))  # the package still
    assert coverage(2026) == "package"


def test_given_a_supplement_that_makes_a_package_holiday_a_working_day_then_the_supplement_wins():
    given_supplement(CalendarYear(year=2025, version=1, days=(day("2025-10-08", "workday", "县里安排上班"),)))
    assert is_working_day(date(2025, 10, 8))
    assert not is_working_day(date(2025, 10, 7))


def test_given_an_empty_stored_year_then_it_covers_nothing():
    given_supplement(CalendarYear(year=2027, version=2, days=()))
    assert coverage(2027) == "none"


def test_a_datetime_is_read_as_its_date():
    given_supplement(SPRING_2027)
    assert not is_working_day(datetime(2027, 2, 8, 9, 0, tzinfo=SHANGHAI))


def test_years_before_the_package_are_none_without_a_supplement():
    given_supplement()
    assert coverage(2003) == "none" and coverage(2004) == "package" and coverage(2026) == "package"


# ------------------------------------------------------------------ the cache
class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_given_a_new_version_when_the_ttl_passes_then_the_next_answer_follows_it():
    stored: list[CalendarYear] = []
    reads: list[int] = []

    def load() -> calendar.Supplement:
        reads.append(1)
        return calendar.Supplement.of(stored)

    tick = Ticking()
    calendar.reset(load=load, ttl=60, monotonic=tick)
    assert is_working_day(date(2027, 2, 8))  # nothing stored yet
    stored.append(SPRING_2027)  # another container stores 2027
    tick.now += 59
    assert is_working_day(date(2027, 2, 8)) and coverage(2027) == "none"  # within the TTL: as read
    tick.now += 2
    assert not is_working_day(date(2027, 2, 8)) and coverage(2027) == "supplement"
    assert len(reads) == 2  # one read per TTL, not per question


def test_the_package_answers_are_memoised_but_never_hide_a_supplement_change():
    given_supplement()
    assert is_working_day(date(2026, 3, 16))  # memoised by the package's cache
    given_supplement(COUNTY_DAY_2026)
    assert not is_working_day(date(2026, 3, 16))


def test_a_ttl_of_zero_reads_every_time():
    reads: list[int] = []
    calendar.reset(load=lambda: reads.append(1) or calendar.EMPTY, ttl=0, monotonic=Ticking())
    is_working_day(date(2027, 1, 4))
    is_working_day(date(2027, 1, 5))
    assert len(reads) >= 1


def test_given_a_failing_read_then_the_last_supplement_is_kept_and_a_first_failure_is_raised():
    tick, fail = Ticking(), []

    def load() -> calendar.Supplement:
        if fail:
            raise RuntimeError("throttled")
        return calendar.Supplement.of([SPRING_2027])

    calendar.reset(load=load, ttl=60, monotonic=tick)
    assert not is_working_day(date(2027, 2, 8))
    fail.append(1)
    tick.now += 61
    assert not is_working_day(date(2027, 2, 8))  # kept
    calendar.reset(load=load, ttl=60, monotonic=tick)
    with pytest.raises(RuntimeError):
        is_working_day(date(2027, 2, 8))


def test_without_the_duty_list_table_the_supplement_is_empty_and_nothing_crashes(monkeypatch):
    monkeypatch.delenv("DUTY_LIST_TABLE")
    settings.reset()
    try:
        calendar.reset()  # the real source, reading through the data-access layer
        assert calendar.cache.get() is calendar.EMPTY
        assert is_working_day(date(2027, 2, 8)) and coverage(2027) == "none"
    finally:
        monkeypatch.undo()
        settings.reset()


@pytest.mark.parametrize("value", ["-1", "3601", "soon"])
def test_calendar_cache_seconds_is_0_to_3600(monkeypatch, value):
    monkeypatch.setenv("CALENDAR_CACHE_SECONDS", value)
    try:
        with pytest.raises(settings.SettingsError, match="CALENDAR_CACHE_SECONDS"):
            settings.load()
    finally:
        monkeypatch.undo()
        settings.reset()


def test_calendar_cache_seconds_defaults_to_a_minute(monkeypatch):
    monkeypatch.delenv("CALENDAR_CACHE_SECONDS", raising=False)
    settings.reset()
    assert settings.current().calendar_cache_seconds == 60
    monkeypatch.setenv("CALENDAR_CACHE_SECONDS", "0")
    settings.reset()
    assert settings.current().calendar_cache_seconds == 0
    monkeypatch.undo()
    settings.reset()


# ------------------------------------------------------------------ the effective arrangement
def test_the_arrangement_lists_the_days_that_are_not_monday_to_friday_with_their_source():
    given_supplement(COUNTY_DAY_2026)
    listed = {d["date"]: d for d in calendar.arrangement(2026)}
    assert listed["2026-03-16"] == {"date": "2026-03-16", "kind": "holiday", "name": "县庆", "source": "supplement"}
    assert listed["2026-02-14"] == {"date": "2026-02-14", "kind": "workday", "name": "春节", "source": "package"}
    assert listed["2026-02-16"]["kind"] == "holiday"
    assert "2026-02-15" not in listed  # a Sunday off is what Monday to Friday says anyway
    assert "2026-03-17" not in listed


def test_importing_the_calendar_does_not_load_openpyxl():
    import subprocess
    import sys

    probe = "import sys, minyi.timelimits.calendar; print('openpyxl' in sys.modules, 'pynamodb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
