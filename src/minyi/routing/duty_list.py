"""The duty list (职责清单) as county staff keep it: a CSV with Chinese headers,
validated whole before a new version is stored."""

from __future__ import annotations

import csv
import io
from importlib import resources

from pydantic import ValidationError

from minyi.core.errors import NotFound, ValidationFailed
from minyi.dal import duty_list as store
from minyi.models.duty import LOCAL_LEAD, Matter

COLUMNS = {
    "事项编码": "code",
    "一级分类": "level1",
    "二级分类": "level2",
    "三级分类": "level3",
    "主办部门": "lead",
    "协办部门": "co",
    "办理类型": "handling_type",
    "办理时限(工作日)": "time_limit_days",
    "关键词": "keywords",
}
OPTIONAL_COLUMNS = {"属地办理": "local"}


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.replace("、", "|").split("|") if part.strip())


def parse_csv(text: str) -> tuple[Matter, ...]:
    """Every problem in the file, by row and column, or the matters if there is none."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        rows = list(reader)
    except csv.Error as error:  # e.g. a field over the csv module's size limit
        raise ValidationFailed("duty list rejected; nothing was changed",
                               [{"row": reader.line_num, "column": "", "problem": str(error)[:200]}]) from None
    return parse_rows(reader.fieldnames or [], rows)


def parse_xlsx(data: bytes) -> tuple[Matter, ...]:
    """The first sheet of a workbook, as county staff keep the list in Excel."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationFailed("not a readable xlsx workbook",
                               [{"row": 0, "column": "", "problem": str(error)[:200]}]) from None
    try:  # openpyxl reads rows lazily: a damaged sheet fails here, not at load
        rows = list(sheet.iter_rows(values_only=True))
    except Exception as error:
        raise ValidationFailed("the workbook's first sheet cannot be read",
                               [{"row": 0, "column": "", "problem": str(error)[:200]}]) from None
    header = [str(cell).strip() if cell is not None else "" for cell in (rows[0] if rows else ())]
    records = ({name: "" if cell is None else str(cell) for name, cell in zip(header, row, strict=False)}
               for row in rows[1:] if any(cell not in (None, "") for cell in row))
    return parse_rows(header, records)


def parse_rows(header: list[str], rows) -> tuple[Matter, ...]:
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ValidationFailed("duty list is missing columns",
                               [{"row": 1, "column": name, "problem": "missing column"} for name in missing])
    problems: list[dict] = []
    matters: list[Matter] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(rows, start=2):
        values = {key: (row.get(header) or "").strip() for header, key in {**COLUMNS, **OPTIONAL_COLUMNS}.items()}
        if values["local"] not in ("", "是", "否"):
            problems.append({"row": row_number, "column": "属地办理", "problem": "属地办理 is 是 or 否"})
            continue
        local = values["local"] == "是"
        if local != (values["lead"] == LOCAL_LEAD):
            problems.append({"row": row_number, "column": "主办部门",
                             "problem": f"a 属地 matter's lead is {LOCAL_LEAD}, and only a 属地 matter's"})
            continue
        try:
            matter = Matter(
                code=values["code"],
                path=(values["level1"], values["level2"], values["level3"]),
                lead=values["lead"],
                co=_split(values["co"]),
                handling_type=values["handling_type"],
                time_limit_days=values["time_limit_days"],
                keywords=_split(values["keywords"]),
                local=local,
            )
        except ValidationError as error:
            headers = {v: k for k, v in COLUMNS.items()}
            for err in error.errors(include_url=False, include_input=False):
                field = str(err["loc"][0]) if err["loc"] else "code"
                column = headers.get(field) or (
                    ("一级分类", "二级分类", "三级分类")[int(err["loc"][1])] if field == "path" else field)
                problems.append({"row": row_number, "column": column, "problem": err["msg"]})
            continue
        if matter.code in seen:
            problems.append({"row": row_number, "column": "事项编码",
                             "problem": f"duplicate code, first on row {seen[matter.code]}"})
            continue
        seen[matter.code] = row_number
        matters.append(matter)
    if not matters and not problems:
        problems.append({"row": 2, "column": "事项编码", "problem": "the duty list has no matters"})
    if problems:
        raise ValidationFailed("duty list rejected; nothing was changed", problems)
    return tuple(matters)


def county_csv() -> str:
    """The complete duty list of a Ganxian-like county: every matter of the taxonomy."""
    return resources.files("minyi.data").joinpath("duty_list.ganxian.csv").read_text(encoding="utf-8")


def sample_csv() -> str:
    return resources.files("minyi.data").joinpath("duty_list.sample.csv").read_text(encoding="utf-8")


def import_csv(text: str, actor: str, source: str = "csv") -> int:
    """Validate the whole file, then store it as the next version. Returns the version."""
    return store.save_new_version(parse_csv(text), actor, source)


def import_file(name: str, data: bytes, actor: str) -> int:
    if name.lower().endswith(".xlsx"):
        matters = parse_xlsx(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationFailed("a duty-list CSV is UTF-8 (Excel: 另存为 CSV UTF-8)",
                                   [{"row": 0, "column": "", "problem": f"not UTF-8 at byte {error.start}"}]) from None
        matters = parse_csv(text)
    return store.save_new_version(matters, actor, name)


def export_csv(version: int | None = None) -> str:
    """A version as the CSV it can be imported from again (UTF-8 with BOM, for Excel)."""
    current = store.load(version)
    if current is None:
        raise NotFound(f"no duty list version {version}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *OPTIONAL_COLUMNS])
    for m in sorted(current.matters, key=lambda m: m.code):
        writer.writerow([m.code, *m.path, m.lead, "|".join(m.co), m.handling_type, m.time_limit_days,
                         "|".join(m.keywords), "是" if m.local else "否"])
    return "\ufeff" + out.getvalue()


def rollback(to_version: int, actor: str) -> int:
    """Put an earlier version back in force (the versions themselves never change)."""
    return store.set_current(to_version, actor)
