"""The liaison table (联络员名单, 附件2) as the county keeps it, and whom to call about a unit.

The form: a title row or two (附件2, 赣县区12345政务服务便民热线工作联络员名单), then a header such as
`序号 | 单位 | 分管领导 | 职务 | 联系电话 | 联络员 | 职务 | 联系电话(24小时)`, then one row per unit. The two
职务 and 联系电话 columns are told apart by position: each belongs to the person named in the
column before it (分管领导 first, 联络员 second, in the county's layout). A plain CSV with the header
`unit,leader,leader_title,leader_phone,liaison,liaison_title,liaison_phone` is read too. A file is
validated whole: every problem by row and column, nothing stored on any.

`liaison_for(unit)` is what the clock calls when it escalates: cached per warm container, and
never an exception when nothing was imported or this process has no table: then None.
"""

from __future__ import annotations

import csv
import io
import time
import unicodedata
from collections.abc import Iterable
from importlib import resources
from typing import Any

from pydantic import TypeAdapter, ValidationError

from minyi.core import settings
from minyi.core.errors import ValidationFailed
from minyi.core.observability import logger
from minyi.dal import liaisons as store
from minyi.models.liaison import Liaison, LiaisonTable, PersonName, Title, UnitName, no_contact
from minyi.models.order import Phone
from minyi.routing.places import GANXIAN_TOWNSHIPS, township_government

MAX_UNITS = 500  # the table is one item (400 KB); a county has ~60 units
HEADER_SEARCH_ROWS = 10  # title rows above the header, at most

# field -> how problems name its column in the county's form
CHINESE = {"unit": "单位",
           "leader_name": "分管领导", "leader_title": "分管领导职务", "leader_phone": "分管领导联系电话",
           "liaison_name": "联络员", "liaison_title": "联络员职务", "liaison_phone": "联络员联系电话"}
ENGLISH = {"unit": "unit", "leader": "leader_name", "leader_name": "leader_name", "leader_title": "leader_title",
           "leader_phone": "leader_phone", "liaison": "liaison_name", "liaison_name": "liaison_name",
           "liaison_title": "liaison_title", "liaison_phone": "liaison_phone"}
ENGLISH_LABELS = {"leader_name": "leader", "liaison_name": "liaison"}  # as the English header names them
REQUIRED = ("unit", "leader_name", "leader_phone", "liaison_name", "liaison_phone")
UNIT_HEADERS = {"单位", "责任单位", "单位名称", "责任单位名称", "部门", "部门名称", "承办单位", "单位(部门)"}
PHONE_WORDS = ("电话", "手机", "联系方式")

_FIELD_TYPES = {"unit": TypeAdapter(UnitName), "name": TypeAdapter(PersonName), "title": TypeAdapter(Title),
                "phone": TypeAdapter(Phone)}


def _header(cell: Any) -> str:
    """`联系电话\n（24小时）` -> `联系电话(24小时)`: Excel line breaks, spaces, full-width brackets, `*` marks."""
    text = unicodedata.normalize("NFKC", "" if cell is None else str(cell))
    return "".join(text.split()).replace("*", "").strip().lower()


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():  # a phone typed into a number cell
        value = int(value)
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def _columns(header: list[str]) -> tuple[dict[str, int], dict[str, str], list[dict]]:
    """(field -> column index, field -> the name problems use, problems) of a header row."""
    names = [_header(cell) for cell in header]
    english = "unit" in names
    labels = {field: (ENGLISH_LABELS.get(field, field) if english else CHINESE[field]) for field in CHINESE}
    found: dict[str, int] = {}
    problems: list[dict] = []
    owner: str | None = None  # the person (leader / liaison) whose 职务 and 电话 follow

    def claim(field: str, index: int) -> None:
        if field in found:
            problems.append({"row": 0, "column": header[index] or field,
                             "problem": f"a second column for {labels[field]}"})
        else:
            found[field] = index

    for index, name in enumerate(names):
        if not name:
            continue
        if english:
            if name in ENGLISH:
                claim(ENGLISH[name], index)
            continue
        if name in UNIT_HEADERS:
            claim("unit", index)
            continue
        person = "leader" if name.startswith("分管领导") else "liaison" if name.startswith("联络员") else None
        if person:
            owner = person
            rest = name.removeprefix("分管领导" if person == "leader" else "联络员")
        else:
            rest = name
        if "职务" in rest:
            field = "title"
        elif any(word in rest for word in PHONE_WORDS):
            field = "phone"
        elif person and rest in ("", "姓名", "(姓名)"):
            field = "name"
        else:
            continue  # 序号, 备注 and anything else the form adds
        if owner is None:
            problems.append({"row": 0, "column": header[index],
                             "problem": "comes before 分管领导 and 联络员: whose is it?"})
            continue
        claim(f"{owner}_{field}", index)
    return found, labels, problems


def _find_header(rows: list[list[Any]]) -> int | None:
    for number, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {_header(cell) for cell in row}
        if "unit" in names or (names & UNIT_HEADERS and any(n.startswith(("联络员", "分管领导")) for n in names)):
            return number
    return None


def canonical_unit(unit: str) -> str:
    """A township as the form may name it (田村镇, 田村镇政府) -> as dispatch names it (田村镇人民政府)."""
    unit = unicodedata.normalize("NFKC", unit).strip()
    for township in GANXIAN_TOWNSHIPS:
        if unit in (township, f"{township}政府"):
            return township_government(township)
    return unit


def _check(kind: str, value: str) -> str | None:
    """The problem with a cell, in words, or None."""
    try:
        _FIELD_TYPES[kind].validate_python(value)
    except ValidationError as error:
        if kind == "phone":
            return "not a phone number: a mobile (13800000001) or a landline with its area code (0797-4441234)"
        err = error.errors(include_url=False, include_input=False)[0]
        return {"string_too_long": f"too long: at most {err.get('ctx', {}).get('max_length')} characters",
                "string_pattern_mismatch": "holds a control character or a space"}.get(err["type"], err["msg"])
    return None


def parse_rows(rows: list[list[Any]]) -> tuple[Liaison, ...]:
    """Every problem by row (as the spreadsheet numbers it) and column, or the units."""
    if not any(_cell(c) for row in rows for c in row):
        raise ValidationFailed("liaison table rejected; nothing was changed",
                               [{"row": 1, "column": "", "problem": "the file is empty"}])
    at = _find_header(rows)
    if at is None:
        raise ValidationFailed("liaison table rejected; nothing was changed", [{
            "row": 1, "column": "",
            "problem": "no header row: 单位, 分管领导, 职务, 联系电话, 联络员, 职务, 联系电话(24小时) "
                       "(or unit, leader, leader_title, leader_phone, liaison, liaison_title, liaison_phone)"}])
    header = ["" if c is None else str(c).strip() for c in rows[at]]
    columns, labels, problems = _columns(header)
    for problem in problems:
        problem["row"] = at + 1
    problems += [{"row": at + 1, "column": labels[field], "problem": "missing column"}
                 for field in REQUIRED if field not in columns]
    if problems:
        raise ValidationFailed("liaison table rejected; nothing was changed", problems)

    units: list[Liaison] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[at + 1:], start=at + 2):
        cells = {field: _cell(row[index]) if index < len(row) else "" for field, index in columns.items()}
        if not any(cells.values()):
            continue  # a blank line, a 序号 with nothing after it, a 注：… below the table
        row_problems: list[dict] = []

        def problem(field: str, text: str, row_number: int = number, found: list[dict] = row_problems) -> None:
            found.append({"row": row_number, "column": labels[field], "problem": text})

        unit = canonical_unit(cells["unit"]) if cells["unit"] else ""
        if not unit:
            problem("unit", "empty: which unit is this row about?")
        elif (why := _check("unit", unit)) is not None:
            problem("unit", why)
        elif unit in seen:
            problem("unit", f"duplicate unit, first on row {seen[unit]}")
        else:  # even a row with other problems: its unit is taken
            seen[unit] = number
        for person, who in (("leader", "分管领导"), ("liaison", "联络员")):
            name, title, phone = (cells.get(f"{person}_{part}", "") for part in ("name", "title", "phone"))
            if not (name or title or phone):
                continue  # no one named yet: kept, and a liaison missing is listed as a gap
            if not name:
                problem(f"{person}_name", f"empty, but this row gives the {who}'s 职务 or 电话")
            elif why := _check("name", name):
                problem(f"{person}_name", why)
            if title and (why := _check("title", title)):
                problem(f"{person}_title", why)
            if not phone:
                problem(f"{person}_phone", f"empty: the {who} needs a phone")
            elif why := _check("phone", phone.replace(" ", "")):
                raw = row[columns[f"{person}_phone"]]
                if isinstance(raw, int | float) and not str(int(raw)).startswith("1"):
                    why += "; the cell is a number, which drops a landline's leading 0: format it as text"
                problem(f"{person}_phone", why)
        if row_problems:
            problems += row_problems
            continue
        people = {field: cells.get(field) or None for field in CHINESE if field != "unit"}
        people["leader_phone"] = people["leader_phone"] and people["leader_phone"].replace(" ", "")
        people["liaison_phone"] = people["liaison_phone"] and people["liaison_phone"].replace(" ", "")
        units.append(Liaison(unit=unit, **people))
    if not units and not problems:
        problems.append({"row": at + 2, "column": labels["unit"], "problem": "the table names no unit"})
    if len(units) > MAX_UNITS:
        problems.append({"row": at + 2 + MAX_UNITS, "column": labels["unit"],
                         "problem": f"more than {MAX_UNITS} units"})
    if problems:
        raise ValidationFailed("liaison table rejected; nothing was changed", problems)
    return tuple(units)


def parse_csv(text: str) -> tuple[Liaison, ...]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise ValidationFailed("liaison table rejected; nothing was changed",
                               [{"row": reader.line_num, "column": "", "problem": str(error)[:200]}]) from None
    return parse_rows(rows)


def parse_xlsx(data: bytes) -> tuple[Liaison, ...]:
    """The first sheet of the workbook the county keeps the form in."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]  # rows are read lazily: may fail here
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationFailed("not a readable xlsx workbook",
                               [{"row": 0, "column": "", "problem": str(error)[:200]}]) from None
    return parse_rows(rows)


def parse_file(name: str, data: bytes) -> tuple[Liaison, ...]:
    if not data:
        raise ValidationFailed("liaison table rejected; nothing was changed",
                               [{"row": 1, "column": "", "problem": "the file is empty"}])
    if name.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return parse_xlsx(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed("a liaison-table CSV is UTF-8 (Excel: 另存为 CSV UTF-8)",
                               [{"row": 0, "column": "", "problem": f"not UTF-8 at byte {error.start}"}]) from None
    return parse_csv(text)


def import_file(name: str, data: bytes, actor: str) -> LiaisonTable:
    """Validate the whole file, then store it as the next version, in force at once."""
    table = store.save_new_version(parse_file(name, data), actor, name)
    logger.info("liaison table imported", extra={"version": table.version, "units": len(table.units),
                                                 "gaps": len(table.gaps())})
    return table


def sample_csv() -> str:
    return resources.files("minyi.data").joinpath("liaisons.sample.csv").read_text(encoding="utf-8")


# ------------------------------------------------------------------ lookups
class CachedLiaisons:
    """The table in force per warm container: every `ttl` seconds one small read of the
    pointer; the version itself (one item) only when the pointer names another one. A
    process without the duty-list table, or a store it cannot read, gets the copy it has
    (None at first), never an exception: the clock must run on without a phone number."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: LiaisonTable | None = None
        self._token: str | None = None
        self._checked_at: float | None = None

    def get(self) -> LiaisonTable | None:
        if self._checked_at is not None and time.monotonic() - self._checked_at <= self.ttl:
            return self._value
        self._checked_at = time.monotonic()
        try:
            if settings.current().duty_list_table is None:
                self._value, self._token = None, None
                return None
            current = store.pointer()
            if current is None:
                self._value, self._token = None, None
            elif current[1] != self._token:
                self._value, self._token = store.load(current[0]), current[1]
        except Exception:  # a lookup for an alert must not stop the alert
            logger.exception("liaison table unreadable; using the copy in hand",
                             extra={"version": self._value.version if self._value else None})
        return self._value

    def liaison_for(self, unit: str) -> Liaison | None:
        table = self.get()
        return table.of(canonical_unit(unit)) if table and unit else None


_cache: CachedLiaisons | None = None


def _cached() -> CachedLiaisons:
    global _cache
    if _cache is None:
        try:
            ttl = settings.current().duty_list_cache_seconds
        except settings.SettingsError:
            ttl = 60.0
        _cache = CachedLiaisons(ttl)
    return _cache


def liaison_for(unit: str) -> Liaison | None:
    """The unit's row of the table in force (its liaison may be missing: `has_liaison`), or
    None when the table names no such unit, nothing was imported or there is no table."""
    return _cached().liaison_for(unit)


def contact_of(unit: str) -> dict[str, Any]:
    """For an event: {"unit", "liaison": {"name", "title", "phone"} | None, "leader_in_charge": … | None}."""
    found = liaison_for(unit)
    return found.contact() if found else no_contact(unit)


def gaps(known_units: Iterable[str], table: LiaisonTable | None = None) -> list[str]:
    """The units of `known_units` (say, every unit the duty list in force names:
    `routing.jurisdiction.departments`) that have no liaison in the table in force (or `table`)."""
    table = table if table is not None else _cached().get()
    missing = set()
    for unit in known_units:
        entry = table.of(canonical_unit(unit)) if table else None
        if entry is None or not entry.has_liaison:
            missing.add(unit)
    return sorted(missing)
