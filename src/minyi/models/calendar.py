"""The county's calendar supplement (节假日补充): the days a year's arrangement makes
holidays (放假) or working days (调休上班) where the statutory calendar package says
otherwise or says nothing yet, and a county's own days off (县庆).

A year is stored whole: each change is a new version of all its days. Whatever writes a
year validates it here first, every problem at once, so nothing half-right is stored."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

from minyi.core.errors import ValidationFailed

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_DAYS = 366  # a year has no more dates than this, so no arrangement lists more days
MAX_YEARS = 20  # one file stores its years in one transaction (two items a year)

Kind = Literal["holiday", "workday"]
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


def _a_date(value: Any) -> Any:
    """2027-02-06, or 2027/2/6 as Excel writes dates into a CSV in a Chinese locale."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("a date is written YYYY-MM-DD")
    match = _DATE.match(value.strip())
    if not match:
        raise ValueError("a date is written YYYY-MM-DD")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:  # 2027-02-30
        raise ValueError(f"{value.strip()} is not a date") from None


Day = Annotated[date, BeforeValidator(_a_date)]


class CalendarDay(BaseModel):
    """One day of the supplement: a holiday (放假) or a working day (上班, e.g. 调休上班)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: Day
    kind: Kind
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]

    @property
    def working(self) -> bool:
        return self.kind == "workday"


class CalendarYear(BaseModel):
    """A year's supplement as stored: version 0 (no days, no author) when none was ever stored."""

    model_config = ConfigDict(frozen=True)

    year: int
    days: tuple[CalendarDay, ...] = ()
    version: int = 0
    updated_at: str | None = None
    updated_by: str | None = None


def year_of(text: str) -> int:
    """A year from a path or a command line, 2000 to 2100; anything else is a 400."""
    if not (text.isascii() and text.isdigit() and len(text) == 4) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise ValidationFailed(f"a year is {FIRST_YEAR} to {LAST_YEAR}",
                               [{"field": "year", "problem": f"must be a year from {FIRST_YEAR} to {LAST_YEAR}"}])
    return int(text)


@dataclass(frozen=True)
class Entry:
    """One day as given, before validation, and where it was given: a file's row (the
    header is row 1) with the file's own column names, or a JSON body's path."""

    values: Mapping[str, Any]
    row: int | None = None
    path: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)

    def problem(self, name: str, problem: str) -> dict[str, Any]:
        where = self.columns.get(name, name)
        if self.row is not None:
            return {"row": self.row, "field": where, "problem": problem}
        return {"field": f"{self.path}.{where}" if self.path else where, "problem": problem}

    @property
    def place(self) -> str:
        return f"row {self.row}" if self.row is not None else self.path


def validate_days(entries: Iterable[Entry], year: int | None = None) -> dict[int, tuple[CalendarDay, ...]]:
    """Each year's days, sorted by date, or ValidationFailed listing every problem.

    With `year`, every date must fall in it and that year is returned even if no day is
    given (storing no days withdraws the year's supplement); without, the years are the
    dates' own."""
    entries = list(entries)
    if len(entries) > MAX_DAYS * MAX_YEARS or (year is not None and len(entries) > MAX_DAYS):
        limit = MAX_DAYS if year is not None else MAX_DAYS * MAX_YEARS
        raise ValidationFailed("calendar rejected; nothing was changed",
                               [{"field": "days", "problem": f"at most {limit} days, not {len(entries)}"}])
    problems: list[dict[str, Any]] = []
    years: dict[int, list[CalendarDay]] = {year: []} if year is not None else {}
    seen: dict[date, Entry] = {}
    for entry in entries:
        try:
            day = CalendarDay.model_validate(entry.values)
        except ValidationError as error:
            for err in error.errors(include_url=False, include_input=False):
                name = str(err["loc"][0]) if err["loc"] else "date"
                problems.append(entry.problem(name, _plain(err)))
            continue
        if year is not None and day.date.year != year:
            problems.append(entry.problem("date", f"{day.date.isoformat()} is not in {year}"))
            continue
        if not FIRST_YEAR <= day.date.year <= LAST_YEAR:
            problems.append(entry.problem("date", f"a year is {FIRST_YEAR} to {LAST_YEAR}"))
            continue
        if day.date in seen:
            problems.append(entry.problem("date", f"{day.date.isoformat()} is given twice, first at "
                                                  f"{seen[day.date].place}"))
            continue
        seen[day.date] = entry
        years.setdefault(day.date.year, []).append(day)
    if len(years) > MAX_YEARS:
        problems.append({"field": "date", "problem": f"at most {MAX_YEARS} years at once, not {len(years)}"})
    if problems:
        raise ValidationFailed("calendar rejected; nothing was changed", problems)
    return {y: tuple(sorted(days, key=lambda d: d.date)) for y, days in sorted(years.items())}


def _plain(err: Mapping[str, Any]) -> str:
    message = str(err["msg"])
    if err["type"] == "literal_error":
        return "kind is holiday (放假) or workday (上班)"
    if err["type"] == "value_error":
        return message.removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "missing"
    if err["type"] in ("string_too_short", "string_too_long"):
        return "a name is 1 to 20 characters"
    return message
