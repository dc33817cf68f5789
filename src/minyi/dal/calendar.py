"""The county's calendar supplement, kept in the duty-list table, per year, versioned.

Layout: pk=CALENDAR#<year>/sk=V#<n, zero-padded> is version n of the year: all its days
(JSON), who stored it, when, from what; versions are never changed. pk=CALENDAR/sk=<year>
is the year's pointer: the version in force and a copy of its days, so every year's
supplement is one Query of pk=CALENDAR. A change writes the new version and moves the
pointer in one transaction, conditional on the pointer still being at the version it
was read at: of two concurrent changes one wins and the other is a 409.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import TypeAdapter
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from minyi.core import clock
from minyi.core.errors import Conflict
from minyi.dal.duty_list import DutyListTableModel
from minyi.dal.tables import transact
from minyi.models.calendar import CalendarDay, CalendarYear

POINTERS = "CALENDAR"
_DAYS = TypeAdapter(tuple[CalendarDay, ...])


class CalendarPointer(DutyListTableModel):
    """pk=CALENDAR, sk=<year>: the version in force and its days."""

    version = NumberAttribute()
    days = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class CalendarVersionRecord(DutyListTableModel):
    """pk=CALENDAR#<year>, sk=V#<n>: one version of a year, as stored (the audit of who and when)."""

    version = NumberAttribute()
    days = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    source = UnicodeAttribute()


class CalendarConflict(Conflict):
    """Another change of the same year moved its pointer first."""


def _year(pointer: CalendarPointer) -> CalendarYear:
    return CalendarYear(year=int(pointer.sk), days=_DAYS.validate_json(pointer.days), version=int(pointer.version),
                        updated_at=pointer.updated_at, updated_by=pointer.updated_by)


def _json(days: tuple[CalendarDay, ...]) -> str:
    return json.dumps([day.model_dump(mode="json") for day in days], ensure_ascii=False, separators=(",", ":"))


def load_all() -> list[CalendarYear]:
    """Every year's supplement in force: one Query."""
    return [_year(p) for p in CalendarPointer.query(POINTERS, consistent_read=True)]


def load_year(year: int) -> CalendarYear | None:
    try:
        return _year(CalendarPointer.get(POINTERS, str(year), consistent_read=True))
    except CalendarPointer.DoesNotExist:
        return None


def history(year: int) -> list[dict]:
    """Who stored each version of a year, when, from what, and how many days it had."""
    return [{"version": int(r.version), "created_at": r.created_at, "created_by": r.created_by, "source": r.source,
             "days": len(json.loads(r.days))}
            for r in CalendarVersionRecord.query(f"{POINTERS}#{year}", CalendarVersionRecord.sk.startswith("V#"))]


def save_years(years: Mapping[int, tuple[CalendarDay, ...]], actor: str, source: str) -> list[CalendarYear]:
    """Store each year's days as its next version, all years in one transaction: every
    year is stored, or none (CalendarConflict when another change got there first)."""
    if not years:
        return []
    current = {stored.year: stored.version for stored in load_all()}
    now = clock.iso(clock.now())
    written: list[CalendarYear] = []

    def build(tx: TransactWrite) -> None:
        written.clear()
        for year, days in years.items():
            previous = current.get(year)
            version = (previous or 0) + 1
            body = _json(days)
            tx.save(CalendarVersionRecord(pk=f"{POINTERS}#{year}", sk=f"V#{version:06d}", version=version, days=body,
                                          created_at=now, created_by=actor, source=source[:200]),
                    condition=CalendarVersionRecord.pk.does_not_exist())
            tx.save(CalendarPointer(pk=POINTERS, sk=str(year), version=version, days=body, updated_at=now,
                                    updated_by=actor),
                    condition=(CalendarPointer.pk.does_not_exist() if previous is None
                               else CalendarPointer.version == previous))
            written.append(CalendarYear(year=year, days=days, version=version, updated_at=now, updated_by=actor))

    if not transact(CalendarPointer._get_connection().connection, build):
        changed = ", ".join(str(year) for year in years)
        raise CalendarConflict(f"the calendar of {changed} was changed meanwhile; read it again and retry")
    return written
