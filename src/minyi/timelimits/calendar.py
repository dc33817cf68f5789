"""Working days on the Chinese calendar (工作日): statutory holidays and the weekend days
swapped in to make up for them (调休), with the county's own supplement on top.

Which answer wins for a date, first that has one:
  1. the county's supplement (the centre stores it per year: `minyi calendar import`,
     `PUT /calendar/{year}`): a holiday is not a working day, a workday is;
  2. the chinesecalendar package, for the years it has data for;
  3. Monday to Friday.
The State Council publishes each year's arrangement in late autumn and the package
follows a release later; until then the centre can store the arrangement itself, and a
county's own days off (县庆) go in the supplement of any year.

The supplement is read through the data-access layer (one Query for every year) and kept
per warm container for `calendar_cache_seconds`; a process without the duty-list table
(the offline `minyi dispatch`) has none. Only the package's answers are memoised, so a
new version of the supplement is never hidden behind a cached answer.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import chinese_calendar

from minyi.core import settings
from minyi.models.calendar import CalendarYear

Coverage = Literal["package", "supplement", "none"]


@dataclass(frozen=True)
class Supplement:
    """Every stored year's supplement, and what it says of each date it names."""

    years: Mapping[int, CalendarYear] = field(default_factory=dict)
    working: Mapping[date, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, years: Iterable[CalendarYear]) -> Supplement:
        stored = {year.year: year for year in years}
        return cls(stored, {day.date: day.working for year in stored.values() for day in year.days})

    def arranged(self, year: int) -> bool:
        """The centre stored an arrangement of this year (an empty one withdraws it)."""
        return bool(year in self.years and self.years[year].days)


EMPTY = Supplement()


def _stored() -> Supplement:
    if settings.current().duty_list_table is None:  # no table here: nothing the centre stored can be read
        return EMPTY
    from minyi.dal import calendar as store  # imported on first use: a process that never counts days skips it

    return Supplement.of(store.load_all())


class SupplementCache:
    """The supplement per warm container: read again once `ttl` seconds have passed
    (default: the `calendar_cache_seconds` setting). A read that fails keeps the last
    supplement read, if any, until the next try; a first read that fails raises."""

    def __init__(self, load: Callable[[], Supplement] = _stored, ttl: float | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.load = load
        self.ttl = ttl
        self.monotonic = monotonic
        self._value: Supplement | None = None
        self._read_at = 0.0

    def get(self) -> Supplement:
        now = self.monotonic()
        ttl = self.ttl if self.ttl is not None else settings.current().calendar_cache_seconds
        if self._value is None or now - self._read_at > ttl:
            try:
                self._value = self.load()
            except Exception:
                if self._value is None:
                    raise
                from minyi.core.observability import logger

                logger.warning("calendar supplement not read; the last one read is used", exc_info=True)
            self._read_at = now
        return self._value

    def forget(self) -> None:
        """Read the supplement again on next use (this container just stored a new one)."""
        self._value = None


cache = SupplementCache()


def reset(load: Callable[[], Supplement] = _stored, ttl: float | None = None,
          monotonic: Callable[[], float] = time.monotonic) -> None:
    """A fresh cache with this source (tests: a fresh account, or no AWS at all)."""
    cache.__init__(load, ttl, monotonic)


def _day(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day


@functools.cache
def _package_years() -> tuple[int, int]:
    return min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year


def package_covers(year: int) -> bool:
    first, last = _package_years()
    return first <= year <= last


@functools.lru_cache(maxsize=4096)
def _statutory(day: date) -> bool:
    """The package's answer, else Monday to Friday (its answers never change in a process)."""
    if package_covers(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def is_working_day(day: date) -> bool:
    """True on a working day: the county's supplement for the date if it names it, else
    the statutory calendar (including the weekend days swapped in, 调休), else Mon-Fri."""
    day = _day(day)
    arranged = cache.get().working.get(day)
    return _statutory(day) if arranged is None else arranged


def coverage(year: int, supplement: Supplement | None = None) -> Coverage:
    """Where a year's holidays come from: the package has the year ("package"), else the
    centre stored its arrangement ("supplement"), else nobody knows them yet ("none":
    Monday to Friday is a guess)."""
    if package_covers(year):
        return "package"
    return "supplement" if (supplement or cache.get()).arranged(year) else "none"


def is_certain(day: date) -> bool:
    """Whether `is_working_day(day)` rests on a published arrangement rather than a guess."""
    return coverage(_day(day).year) != "none"


_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.constants.Holiday}


def arrangement(year: int, supplement: Supplement | None = None) -> list[dict[str, Any]]:
    """The year's days that are not what Monday to Friday says, as in force: each with
    working or not, its name and where the answer comes from."""
    supplement = supplement or cache.get()
    stored = {d.date: d for d in supplement.years[year].days} if year in supplement.years else {}
    days = []
    day, end = date(year, 1, 1), date(year, 12, 31)
    while day <= end:
        arranged = supplement.working.get(day)
        working = _statutory(day) if arranged is None else arranged
        if working != (day.weekday() < 5):
            if day in stored:
                name, source = stored[day].name, "supplement"
            else:
                name, source = _package_name(day), "package"
            days.append({"date": day.isoformat(), "kind": "workday" if working else "holiday", "name": name,
                         "source": source})
        day += timedelta(days=1)
    return days


def _package_name(day: date) -> str | None:
    _, name = chinese_calendar.get_holiday_detail(day)
    return _NAMES.get(name, name)
