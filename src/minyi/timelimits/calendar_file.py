"""The calendar supplement as the centre keeps it: a CSV (UTF-8, with or without BOM) or an
xlsx workbook's first sheet, one day a row, columns date,kind,name or 日期,类型,名称.

Kinds: holiday, 放假, 休息, 假日 → a holiday; workday, 上班, 调休上班, 补班 → a working day.
A file may span several years; each is validated whole, and any problem anywhere rejects
the file, every problem listed by row and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from minyi.core.errors import ValidationFailed
from minyi.models.calendar import CalendarDay, Entry, validate_days

HEADERS = {"date": "date", "日期": "date", "kind": "kind", "类型": "kind", "name": "name", "名称": "name"}
KINDS = {"holiday": "holiday", "放假": "holiday", "休息": "holiday", "假日": "holiday",
         "workday": "workday", "上班": "workday", "调休上班": "workday", "补班": "workday"}
MAX_ROWS = 2000  # a file of several years' arrangements has a few hundred rows at most


def _rejected(problems: list[dict[str, Any]]) -> ValidationFailed:
    return ValidationFailed("calendar rejected; nothing was changed", problems)


def entries(header: Sequence[str], rows: Sequence[tuple[int, Sequence[Any]]]) -> list[Entry]:
    """Rows (row number, cells) under a header as entries; a missing column is the one problem."""
    names = ["" if cell is None else str(cell).strip().lower() for cell in header]
    index = {HEADERS[name]: i for i, name in reversed(list(enumerate(names))) if name in HEADERS}
    missing = [field for field in ("date", "kind", "name") if field not in index]
    if missing:
        raise _rejected([{"row": 1, "field": field, "problem": "missing column (date,kind,name or 日期,类型,名称)"}
                         for field in missing])
    if len(rows) > MAX_ROWS:
        raise _rejected([{"row": MAX_ROWS + 2, "field": "", "problem": f"at most {MAX_ROWS} rows"}])
    columns = {field: str(header[i]).strip() for field, i in index.items()}
    found = []
    for number, cells in rows:
        values = {field: cells[i] if i < len(cells) else None for field, i in index.items()}
        values = {field: "" if value is None else value for field, value in values.items()}
        kind = str(values["kind"]).strip()
        values["kind"] = KINDS.get(kind.lower(), kind)
        if isinstance(values["name"], str | int | float):
            values["name"] = str(values["name"])
        found.append(Entry(values=values, row=number, columns=columns))
    return found


def parse_csv(text: str, year: int | None = None) -> dict[int, tuple[CalendarDay, ...]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        lines = [(reader.line_num, row) for row in reader]
    except csv.Error as error:  # e.g. a field over the csv module's size limit
        raise _rejected([{"row": reader.line_num, "field": "", "problem": str(error)[:200]}]) from None
    if not lines:
        raise _rejected([{"row": 1, "field": "", "problem": "the file is empty"}])
    rows = [(number, row) for number, row in lines[1:] if any(cell.strip() for cell in row)]
    return validate_days(entries(lines[0][1], rows), year)


def parse_xlsx(data: bytes, year: int | None = None) -> dict[int, tuple[CalendarDay, ...]]:
    """The first sheet of a workbook; a date cell Excel stores as a date is read as one."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))  # read lazily: a damaged sheet fails here
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise _rejected([{"row": 0, "field": "", "problem": f"not a readable xlsx workbook: {str(error)[:160]}"}]) \
            from None
    if not rows:
        raise _rejected([{"row": 1, "field": "", "problem": "the sheet is empty"}])
    body = [(number, row) for number, row in enumerate(rows[1:], start=2)
            if any(cell not in (None, "") for cell in row)]
    return validate_days(entries(rows[0], body), year)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _rejected([{"row": 0, "field": "", "problem": f"a CSV is UTF-8 (Excel: 另存为 CSV UTF-8); "
                                                              f"not UTF-8 at byte {error.start}"}]) from None


def parse_file(name: str, data: bytes, year: int | None = None) -> dict[int, tuple[CalendarDay, ...]]:
    """A .xlsx by its name, anything else as CSV."""
    if name.lower().endswith(".xlsx"):
        return parse_xlsx(data, year)
    return parse_csv(decode(data), year)
