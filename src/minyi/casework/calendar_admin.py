"""The county calendar supplement's administration (节假日补充) through the staff API: any
staff reads a year and which years are covered; the centre stores a year's arrangement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minyi.core.errors import PayloadTooLarge, ValidationFailed
from minyi.core.jsonbody import load_object
from minyi.dal import calendar as store
from minyi.models.calendar import MAX_DAYS, CalendarDay, CalendarYear, Entry, validate_days, year_of
from minyi.models.identity import Role, StaffIdentity
from minyi.timelimits import calendar, calendar_file

ANY_STAFF = (Role.CENTRE, Role.LEADER, Role.DEPARTMENT)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BODY = 256 * 1024  # a year of 366 named days is ~30 KB of JSON


def _answer(stored: CalendarYear, supplement: calendar.Supplement) -> dict[str, Any]:
    return {"year": stored.year, "version": stored.version or None, "updated_at": stored.updated_at,
            "updated_by": stored.updated_by, "coverage": calendar.coverage(stored.year, supplement),
            "days": [day.model_dump(mode="json") for day in stored.days],
            "effective": calendar.arrangement(stored.year, supplement)}


def read_year(identity: StaffIdentity, year_text: str) -> dict[str, Any]:
    """A year's stored days and version, its coverage and the days that are not what
    Monday to Friday says, as deadlines count them now (read fresh, not from the cache)."""
    identity.require(*ANY_STAFF)
    year = year_of(year_text)
    supplement = calendar.Supplement.of(store.load_all())
    return _answer(supplement.years.get(year) or CalendarYear(year=year), supplement)


def coverage(identity: StaffIdentity, now: datetime) -> dict[str, Any]:
    """Where each year's holidays come from, two years either side of this one."""
    identity.require(*ANY_STAFF)
    supplement = calendar.Supplement.of(store.load_all())
    return {"years": {str(year): calendar.coverage(year, supplement)
                      for year in range(now.year - 2, now.year + 3)}}


def _json_days(raw: bytes | str | None, year: int) -> dict[int, tuple[CalendarDay, ...]]:
    body = load_object(raw)
    problems = [{"field": name, "problem": "unknown field"} for name in body if name != "days"]
    days = body.get("days")
    if not isinstance(days, list):
        problems.append({"field": "days", "problem": "missing" if days is None else "must be a list"})
    elif len(days) > MAX_DAYS:
        problems.append({"field": "days", "problem": f"at most {MAX_DAYS} days, not {len(days)}"})
    if problems:
        raise ValidationFailed("calendar rejected; nothing was changed", problems)
    entries, wrong = [], []
    for index, item in enumerate(days):
        if isinstance(item, dict):
            entries.append(Entry(values=item, path=f"days.{index}"))
        else:
            wrong.append({"field": f"days.{index}", "problem": "must be an object {date, kind, name}"})
    try:
        checked = validate_days(entries, year)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, wrong + error.details) from None
    if wrong:
        raise ValidationFailed("calendar rejected; nothing was changed", wrong)
    return checked


def store_year(identity: StaffIdentity, year_text: str, content_type: str, raw: bytes | str | None
               ) -> dict[str, Any]:
    """Validate the whole year (JSON {"days": [...]}, or the CSV/xlsx the CLI imports),
    then store it as the year's next version; this container counts with it at once."""
    identity.require(Role.CENTRE)
    year = year_of(year_text)
    data = raw.encode("utf-8") if isinstance(raw, str) else (raw or b"")
    if len(data) > MAX_BODY:
        raise PayloadTooLarge(f"a calendar is at most {MAX_BODY // 1024} KiB")
    if content_type == "text/csv":
        days = calendar_file.parse_csv(calendar_file.decode(data), year)
    elif content_type == XLSX:
        days = calendar_file.parse_xlsx(data, year)
    else:
        days = _json_days(data, year)
    [stored] = store.save_years(days, actor=identity.actor, source=content_type or "application/json")
    calendar.cache.forget()
    return _answer(stored, calendar.Supplement.of(store.load_all()))
