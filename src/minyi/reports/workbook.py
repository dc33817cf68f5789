"""The assessment report (`ReportDocument`) written out, pure: one document in, the bytes of a file out.

- `render_xlsx`: the workbook staff open in Excel or WPS: seven sheets (总览, 趋势, 渠道, 事项, 乡镇, 热点,
  明细), Chinese headers, frozen header rows, autofilters, rates as real numbers formatted '0.0%', dates
  and times as Excel datetimes (Asia/Shanghai wall time), and native charts over the sheets' own cells.
- `render_csv`: the same numbers for any spreadsheet: UTF-8 with a byte-order mark (Excel reads UTF-8
  only with one), CRLF, the formula first, then one section per view, each with its own header line.
- `render_json`: the document itself plus the rates' labels; `ReportDocument.model_validate_json`
  reads it back unchanged.

A rate without data (its denominator 0) is None: an empty cell, never 0 (docs/kpi.md). No order's
citizen, phone, ID, address or text is in the document (`DetailRow`), so none is in any file.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import xlsxwriter

from minyi.core.clock import SHANGHAI
from minyi.models.kpi import RATE_LABELS
from minyi.models.report import ReportDocument, ViewRow

SHEETS = ("总览", "趋势", "渠道", "事项", "乡镇", "热点", "明细")
HOTSPOT_KINDS = {"rising": "激增", "repeated": "重复诉求"}
WEEKDAYS = "一二三四五六日"
TOP_MATTERS_CHARTED = 10
CHART_PAGE_BREAK = 12  # a chart under a table longer than this starts a printed page of its own
NO_DATA = "比率空白 = 无数据（分母为 0），不是 0%"

# the rates in the order the sheets print them: the three core rates (响应率、办结率、满意率) among them
RATE_ORDER = ("response", "contact", "completion", "on_time", "satisfaction", "resolution", "follow_up",
              "return_rate", "reopen")
CORE_RATES = ("response", "completion", "satisfaction")
# the counts printed beside a department's rates (Counters fields)
DEPARTMENT_COUNTS = (("派单", "dispatched"), ("应签收", "sign_due"), ("按时签收", "signed_in_time"),
                     ("应办结", "complete_due"), ("办结", "completed"), ("评价", "evaluated"),
                     ("满意", "satisfied"), ("退单", "returned"), ("维持", "returns_upheld"),
                     ("改派", "returns_redispatched"), ("重办", "reopened"), ("延期", "extensions"),
                     ("催办", "reminders"), ("督办", "supervisions"), ("超期件", "overdue"),
                     ("超期工作日", "overdue_working_days"))


# ------------------------------------------------------------------ columns, shared by the xlsx and the CSV
@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]
    kind: str = "text"  # text, int, rate (a share 0..1), score, date, datetime


def _rate(name: str) -> Column:
    return Column(RATE_LABELS[name], lambda row: getattr(row.rates, name), "rate")


def _count(header: str, field: str) -> Column:
    return Column(header, lambda row: getattr(row.counters, field), "int")


def _share(header: str, rows: Sequence[ViewRow]) -> Column:
    """A row's share of the view's received volume (None when the view received nothing)."""
    whole = sum(row.counters.received for row in rows)
    return Column(header, lambda row: row.counters.received / whole if whole else None, "rate")


def _marker(row: ViewRow) -> str:
    return "红榜" if row.red else "黑榜" if row.black else ""


def department_columns() -> list[Column]:
    return [Column("排名", lambda r: r.rank, "place"), Column("部门", lambda r: r.label),
            Column("组别", lambda r: r.group), Column("得分", lambda r: r.score, "score"),
            *[_rate(name) for name in RATE_ORDER],
            *[_count(header, field) for header, field in DEPARTMENT_COUNTS],
            Column("红黑榜", _marker)]


def daily_columns() -> list[Column]:
    return [Column("日期", lambda r: _day(r.name), "date"),
            Column("星期", lambda r: _weekday(r.name)),
            _count("受理", "received"), _count("派单", "dispatched"), _count("应办结", "complete_due"),
            _count("办结", "completed"), _count("按时办结", "completed_in_time"), _count("评价", "evaluated"),
            _count("退单", "returned"), _count("督办", "supervisions"), _count("超期件", "overdue"),
            *[_rate(name) for name in CORE_RATES]]


def channel_columns(rows: Sequence[ViewRow]) -> list[Column]:
    return [Column("渠道", lambda r: r.label), _count("受理量", "received"), _share("占比", rows),
            _count("派单", "dispatched"), _count("办结", "completed"), _count("超期件", "overdue"),
            *[_rate(name) for name in ("response", "completion", "on_time", "satisfaction", "resolution")]]


def matter_columns(rows: Sequence[ViewRow]) -> list[Column]:
    return [Column("序号", lambda r: _position(rows, r), "int"), Column("事项", lambda r: r.label),
            _count("受理量", "received"), _share("占比", rows), _count("派单", "dispatched"),
            _count("办结", "completed"), _count("超期件", "overdue"),
            *[_rate(name) for name in ("completion", "on_time", "satisfaction", "resolution", "reopen")]]


def township_columns(rows: Sequence[ViewRow]) -> list[Column]:
    ranked = any(row.rank is not None for row in rows)
    return [*([Column("排名", lambda r: r.rank, "place")] if ranked else []),
            Column("乡镇", lambda r: r.label), _count("受理量", "received"), _share("占比", rows),
            Column("得分", lambda r: r.score, "score"),
            _count("派单", "dispatched"), _count("办结", "completed"), _count("超期件", "overdue"),
            *[_rate(name) for name in ("response", "completion", "on_time", "satisfaction", "resolution")],
            *([Column("红黑榜", _marker)] if ranked else [])]


LIST_COLUMNS = [Column("排名", lambda r: r.rank, "place"), Column("单位", lambda r: r.label),
                Column("组别", lambda r: r.group), Column("得分", lambda r: r.score, "score")]

HOTSPOT_COLUMNS = [Column("类型", lambda h: HOTSPOT_KINDS.get(h.kind, h.kind)), Column("事项", lambda h: h.matter),
                   Column("地点", lambda h: h.place), Column("开始日期", lambda h: h.first_day, "date"),
                   Column("结束日期", lambda h: h.last_day, "date"), Column("件数", lambda h: h.count, "int"),
                   Column("基线（日均）", lambda h: h.baseline, "number"), Column("说明", lambda h: h.note)]

DETAIL_COLUMNS = [Column("工单编号", lambda d: d.order_id), Column("受理时间", lambda d: d.received_at, "datetime"),
                  Column("渠道", lambda d: d.channel), Column("事项", lambda d: d.matter),
                  Column("乡镇", lambda d: d.township), Column("承办单位", lambda d: d.department),
                  Column("状态", lambda d: d.status), Column("办结时限", lambda d: d.due_at, "datetime"),
                  Column("答复时间", lambda d: d.replied_at, "datetime"),
                  Column("是否超期", lambda d: "是" if d.overdue else "否"),
                  Column("评价", lambda d: d.satisfaction)]


def _day(name: str) -> date | str:
    try:
        return date.fromisoformat(name)
    except ValueError:
        return name


def _weekday(name: str) -> str:
    day = _day(name)
    return f"周{WEEKDAYS[day.weekday()]}" if isinstance(day, date) else ""


def _position(rows: Sequence[ViewRow], row: ViewRow) -> int:
    return next(i for i, other in enumerate(rows, 1) if other is row)


def _local(moment: datetime) -> datetime:
    """Asia/Shanghai wall time, naive (a spreadsheet has no time zones)."""
    return moment.astimezone(SHANGHAI).replace(tzinfo=None) if moment.tzinfo else moment


def scope_name(doc: ReportDocument) -> str:
    return doc.scope or "全县"


def title(doc: ReportDocument) -> str:
    return f"民意速办考核报表（{scope_name(doc)}）{doc.period_label}"


def subtitle(doc: ReportDocument) -> str:
    return (f"统计周期 {doc.start.isoformat()} 至 {doc.end.isoformat()}　"
            f"生成时间 {_local(doc.built_at):%Y-%m-%d %H:%M}（北京时间）　报表编号 {doc.report_id}")


# ------------------------------------------------------------------ text: the CSV and column widths
def text_of(value: Any, kind: str) -> str:
    """A value as the CSV prints it (and as wide as the sheet shows it)."""
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "score":
        return f"{value:.2f}"
    if kind == "number":
        return f"{value:.1f}"
    if kind == "datetime":
        return f"{_local(value):%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def display_width(text: str) -> int:
    """Columns a text takes: CJK (wide and full-width) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ------------------------------------------------------------------ the workbook
class _Sheet:
    """One worksheet being written: its formats, the widths its cells need, the next free row."""

    def __init__(self, book: _Book, name: str) -> None:
        self.book = book
        self.name = name
        self.ws = book.wb.add_worksheet(name)
        self.widths: dict[int, int] = {}
        self.row = 0
        self.ws.set_landscape()
        self.ws.set_paper(9)  # A4
        self.ws.fit_to_pages(1, 0)  # as wide as one page, as long as it takes
        self.ws.center_horizontally()
        self.ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        self.ws.set_footer("&C第 &P 页，共 &N 页")

    def line(self, text: str, style: str = "note") -> int:
        """A line of text over the table (it overflows into the empty cells to its right)."""
        at = self.row
        self.ws.write_string(at, 0, text, self.book.formats[style])
        if style == "title":
            self.ws.set_row(at, 24)
        self.row += 1
        return at

    def fit(self, column: int, text: str) -> None:
        self.widths[column] = max(self.widths.get(column, 0), display_width(text))

    def table(self, columns: Sequence[Column], rows: Sequence[Any], freeze_columns: int = 0,
              total: Any = None, repeat: bool = True) -> tuple[int, int, int]:
        """The header at the next row, then a row per item, then `total` (bold, outside the filter).
        Freezes the panes under the header, filters the table, and (`repeat`) prints the header atop
        every page; (header row, first row, last row): last < first when there are no rows."""
        ws, formats = self.ws, self.book.formats
        header = self.row
        for c, column in enumerate(columns):
            ws.write_string(header, c, column.header, formats["header"])
            self.fit(c, column.header)
        ws.set_row(header, 20)
        for r, item in enumerate(rows, header + 1):
            self.cells(r, columns, item, "")
        last = header + len(rows)
        ws.autofilter(header, 0, max(last, header), len(columns) - 1)
        ws.freeze_panes(header + 1, freeze_columns)
        if repeat:
            ws.repeat_rows(header)
        self.row = last + 1
        if total is not None:
            self.cells(self.row, columns, total, "total_")
            self.row += 1
        return header, header + 1, last

    def cells(self, r: int, columns: Sequence[Column], item: Any, prefix: str) -> None:
        ws, formats = self.ws, self.book.formats
        for c, column in enumerate(columns):
            value = column.value(item)
            style = formats[prefix + column.kind]
            self.fit(c, text_of(value, column.kind))
            if value is None or value == "":
                ws.write_blank(r, c, None, style)  # no data: an empty cell, never 0
            elif column.kind in ("int", "place", "rate", "score", "number"):
                ws.write_number(r, c, value, style)
            elif column.kind == "date" and isinstance(value, date):
                ws.write_datetime(r, c, value, style)
            elif column.kind == "datetime":
                ws.write_datetime(r, c, _local(value), style)
            else:
                ws.write_string(r, c, str(value), formats[prefix + "text"])
        if columns[-1].header == "红黑榜" and isinstance(item, ViewRow) and (item.red or item.black):
            ws.write_string(r, len(columns) - 1, _marker(item), formats["red" if item.red else "black"])

    def chart_at(self, row: int, column: int, chart: Any, table_rows: int) -> None:
        """A chart under a table; under a long one it starts a printed page of its own."""
        if table_rows > CHART_PAGE_BREAK:
            self.ws.set_h_pagebreaks([row])
        self.ws.insert_chart(row, column, chart, {"object_position": 1})

    def close(self) -> None:
        for column, width in self.widths.items():
            self.ws.set_column(column, column, min(max(width + 2, 6), 48))

    def ref(self, first_row: int, column: int, last_row: int) -> list:
        """A range of one column of this sheet, as a chart's series takes it (the name quoted)."""
        return [self.name, first_row, column, last_row, column]


class _Book:
    def __init__(self) -> None:
        self.out = io.BytesIO()
        # names and matters are text, never formulas or links, whatever they begin with
        self.wb = xlsxwriter.Workbook(self.out, {"in_memory": True, "strings_to_formulas": False,
                                                 "strings_to_urls": False, "strings_to_numbers": False})
        font = {"font_name": "等线", "font_size": 10.5}
        cell = {**font, "border": 1, "border_color": "#BFBFBF", "valign": "vcenter"}
        kinds = {"text": {}, "int": {"num_format": "0"}, "place": {"num_format": "0", "align": "center"},
                 "rate": {"num_format": "0.0%"},
                 "score": {"num_format": "0.00"}, "number": {"num_format": "0.0"},
                 "date": {"num_format": "yyyy-mm-dd"}, "datetime": {"num_format": "yyyy-mm-dd hh:mm"}}
        self.formats = {kind: self.wb.add_format({**cell, **spec}) for kind, spec in kinds.items()}
        self.formats.update({f"total_{kind}": self.wb.add_format({**cell, **spec, "bold": True, "top": 2,
                                                                   "bg_color": "#F2F2F2"})
                             for kind, spec in kinds.items()})
        self.formats.update({
            "title": self.wb.add_format({**font, "bold": True, "font_size": 16}),
            "subtitle": self.wb.add_format({**font, "bold": True, "font_size": 12}),
            "note": self.wb.add_format({**font, "font_color": "#595959"}),
            "warn": self.wb.add_format({**font, "bold": True, "font_color": "#C00000"}),
            "overdue": self.wb.add_format({"bold": True, "font_color": "#C00000"}),  # a conditional format's
            "header": self.wb.add_format({**cell, "bold": True, "bg_color": "#DDEBF7", "align": "center",
                                          "text_wrap": True}),
            "red": self.wb.add_format({**cell, "bold": True, "font_color": "#FFFFFF", "bg_color": "#C00000",
                                       "align": "center"}),
            "black": self.wb.add_format({**cell, "bold": True, "font_color": "#FFFFFF", "bg_color": "#404040",
                                         "align": "center"}),
        })
        self.sheets: list[_Sheet] = []

    def sheet(self, name: str) -> _Sheet:
        made = _Sheet(self, name)
        self.sheets.append(made)
        return made

    def chart(self, options: dict) -> Any:
        chart = self.wb.add_chart(options)
        chart.set_title({"name_font": {"name": "等线", "size": 12, "bold": True}})
        return chart

    def close(self) -> bytes:
        for sheet in self.sheets:
            sheet.close()
        self.wb.close()
        return self.out.getvalue()


def _heading(sheet: _Sheet, doc: ReportDocument, what: str) -> None:
    sheet.line(f"{title(doc)} · {what}", "title")
    sheet.line(subtitle(doc))


def _axis_font(rotation: int = 0) -> dict:
    return {"name": "等线", "size": 9, "rotation": rotation}


def render_xlsx(doc: ReportDocument) -> bytes:
    book = _Book()
    book.wb.set_properties({"title": title(doc), "subject": doc.formula, "author": "民意速办",
                            "company": "12345 政务服务便民热线",
                            # written as UTC ("Z"); the same document makes the same bytes
                            "created": doc.built_at.astimezone(UTC).replace(tzinfo=None)})
    _overview(book, doc)
    _trend(book, doc)
    _channels(book, doc)
    _matters(book, doc)
    _townships(book, doc)
    _hotspots(book, doc)
    _details(book, doc)
    return book.close()


def _overview(book: _Book, doc: ReportDocument) -> None:
    sheet = book.sheet("总览")
    sheet.line(title(doc), "title")
    sheet.line(subtitle(doc))
    sheet.line(f"计分公式：{doc.formula}", "subtitle")
    sheet.line(f"{NO_DATA}；红榜、黑榜按组别（部门、乡镇）分别排名。")
    sheet.row += 1
    columns = department_columns()
    _, first, last = sheet.table(columns, doc.departments, freeze_columns=2, total=doc.total, repeat=False)
    sheet.row += 1
    if last >= first:
        chart = book.chart({"type": "column"})
        names = sheet.ref(first, 1, last)
        for name in CORE_RATES:
            c = next(i for i, col in enumerate(columns) if col.header == RATE_LABELS[name])
            chart.add_series({"name": [sheet.name, first - 1, c], "categories": names,
                              "values": sheet.ref(first, c, last), "gap": 80})
        scores = book.chart({"type": "line"})
        scores.add_series({"name": [sheet.name, first - 1, 3], "categories": names,
                           "values": sheet.ref(first, 3, last), "y2_axis": True,
                           "line": {"none": True},
                           "marker": {"type": "diamond", "size": 8, "fill": {"color": "#C00000"},
                                      "border": {"color": "#C00000"}}})
        chart.combine(scores)
        chart.set_title({"name": f"各单位得分与核心比率（{doc.period_label}）",
                         "name_font": {"name": "等线", "size": 12, "bold": True}})
        chart.set_x_axis({"num_font": _axis_font(-45 if len(doc.departments) > 6 else 0)})
        chart.set_y_axis({"name": "比率", "min": 0, "max": 1, "num_format": "0%", "num_font": _axis_font(),
                          "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        scores.set_y2_axis({"name": "得分", "min": 0, "max": 100, "num_font": _axis_font()})
        chart.set_legend({"position": "top", "font": _axis_font()})
        chart.show_blanks_as("gap")
        chart.set_size({"width": min(1600, max(760, 56 * len(doc.departments))), "height": 380})
        sheet.chart_at(sheet.row, 1, chart, len(doc.departments))
        sheet.row += 21
    if doc.scope is not None:  # a department's own report: its place, not the others'
        for row in doc.departments:
            place = f"第 {row.rank} 名" if row.rank is not None else "本期无得分，未参与排名"
            listed = "，列入红榜" if row.red else "，列入黑榜" if row.black else ""
            sheet.line(f"{row.label}在{row.group or '本'}组中{place}{listed}。", "subtitle")
    elif doc.departments:
        _lists(sheet, doc.departments)
    else:
        sheet.line("本期无参与考核的单位")


def _lists(sheet: _Sheet, rows: Sequence[ViewRow]) -> None:
    """红榜 and 黑榜 of each group, in the table's first four columns (排名, 部门, 组别, 得分)."""
    formats = sheet.book.formats
    for group in dict.fromkeys(row.group for row in rows):  # in the table's order
        for flag, name in (("red", "红榜"), ("black", "黑榜")):
            sheet.line(f"{name}（{group or '全部'}）", "subtitle")
            listed = sorted((row for row in rows if row.group == group and getattr(row, flag)),
                            key=lambda row: (row.rank or 0, row.name), reverse=(flag == "black"))
            for c, column in enumerate(LIST_COLUMNS):
                sheet.ws.write_string(sheet.row, c, column.header, formats["header"])
            sheet.row += 1
            if not listed:
                sheet.ws.write_string(sheet.row, 1, "（无）", formats["note"])
                sheet.row += 1
            for row in listed:
                sheet.cells(sheet.row, LIST_COLUMNS, row, "")
                sheet.ws.write_string(sheet.row, 1, row.label, formats[flag])
                sheet.row += 1
            sheet.row += 1


def _trend(book: _Book, doc: ReportDocument) -> None:
    sheet = book.sheet("趋势")
    _heading(sheet, doc, "每日趋势")
    sheet.line(NO_DATA)
    columns = daily_columns()
    _, first, last = sheet.table(columns, doc.daily, freeze_columns=1, repeat=False)
    if last < first:
        sheet.line("本期无每日数据")
        return
    chart = book.chart({"type": "line"})
    for header, color in (("受理", "#2F5597"), ("办结", "#70AD47")):
        c = next(i for i, col in enumerate(columns) if col.header == header)
        chart.add_series({"name": [sheet.name, first - 1, c], "categories": sheet.ref(first, 0, last),
                          "values": sheet.ref(first, c, last), "line": {"color": color, "width": 2},
                          "marker": {"type": "circle", "size": 4, "fill": {"color": color},
                                     "border": {"color": color}}})
    chart.set_title({"name": f"每日受理量与办结量（{doc.period_label}）",
                     "name_font": {"name": "等线", "size": 12, "bold": True}})
    chart.set_x_axis({"num_format": "m-d", "num_font": _axis_font(-45)})
    chart.set_y_axis({"name": "件数", "min": 0, "num_font": _axis_font(),
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    chart.set_legend({"position": "top", "font": _axis_font()})
    chart.set_size({"width": 900, "height": 360})
    sheet.chart_at(sheet.row + 1, 0, chart, len(doc.daily))


def _channels(book: _Book, doc: ReportDocument) -> None:
    sheet = book.sheet("渠道")
    _heading(sheet, doc, "渠道分析")
    sheet.line(f"占比 = 本渠道受理量 / 各渠道受理量之和。{NO_DATA}")
    _, first, last = sheet.table(channel_columns(doc.channels), doc.channels, freeze_columns=1, repeat=False)
    if last < first or not any(row.counters.received for row in doc.channels):
        sheet.line("本期无渠道受理数据" if last < first else "本期各渠道受理量均为 0，不绘制占比图")
        return
    chart = book.chart({"type": "pie"})
    chart.add_series({"name": "受理量", "categories": sheet.ref(first, 0, last), "values": sheet.ref(first, 1, last),
                      "data_labels": {"category": True, "percentage": True, "leader_lines": True,
                                      "position": "best_fit", "font": _axis_font()}})
    chart.set_title({"name": f"各渠道受理量占比（{doc.period_label}）",
                     "name_font": {"name": "等线", "size": 12, "bold": True}})
    chart.set_legend({"position": "right", "font": _axis_font()})
    chart.set_size({"width": 640, "height": 380})
    sheet.chart_at(sheet.row + 1, 0, chart, len(doc.channels))


def _matters(book: _Book, doc: ReportDocument) -> None:
    sheet = book.sheet("事项")
    _heading(sheet, doc, "诉求事项")
    sheet.line(f"按受理量从多到少排列；占比 = 本事项受理量 / 各事项受理量之和。{NO_DATA}")
    _, first, last = sheet.table(matter_columns(doc.matters), doc.matters, freeze_columns=2, repeat=False)
    if last < first:
        sheet.line("本期无事项数据")
        return
    top = min(last, first + TOP_MATTERS_CHARTED - 1)
    chart = book.chart({"type": "bar"})
    chart.add_series({"name": "受理量", "categories": sheet.ref(first, 1, top), "values": sheet.ref(first, 2, top),
                      "fill": {"color": "#2F5597"}, "gap": 60,
                      "data_labels": {"value": True, "font": _axis_font()}})
    chart.set_title({"name": f"受理量前 {top - first + 1} 位事项（{doc.period_label}）",
                     "name_font": {"name": "等线", "size": 12, "bold": True}})
    # a bar chart's y axis is its categories: the largest on top, the values' axis still at the bottom
    chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": _axis_font()})
    chart.set_x_axis({"min": 0, "num_font": _axis_font(),
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 760, "height": max(260, 34 * (top - first + 1) + 90)})
    sheet.chart_at(sheet.row + 1, 1, chart, len(doc.matters))


def _townships(book: _Book, doc: ReportDocument) -> None:
    sheet = book.sheet("乡镇")
    _heading(sheet, doc, "乡镇（属地）")
    sheet.line(f"按工单发生地（属地）统计，按受理量从多到少排列。{NO_DATA}")
    columns = township_columns(doc.townships)
    sheet.table(columns, doc.townships, freeze_columns=2 if columns[0].header == "排名" else 1)
    if not doc.townships:
        sheet.line("本期无乡镇数据")


def _hotspots(book: _Book, doc: ReportDocument) -> None:
    sheet = book.sheet("热点")
    _heading(sheet, doc, "热点预警")
    sheet.line("激增：单日件数显著高于前期日均（基线）；重复诉求：同一地点或同一来电人反复反映同一事项。")
    sheet.table(HOTSPOT_COLUMNS, doc.hotspots, freeze_columns=1)
    if not doc.hotspots:
        sheet.line("本期无热点预警", "warn")


def _details(book: _Book, doc: ReportDocument) -> None:
    sheet = book.sheet("明细")
    _heading(sheet, doc, "工单明细")
    if doc.details_truncated:
        sheet.line(f"本期工单较多，仅列出前 {len(doc.details)} 件（按受理时间）。", "warn")
    else:
        sheet.line(f"本期工单共 {len(doc.details)} 件；不含来电人姓名、电话、证件号、地址及诉求内容。")
    _, first, last = sheet.table(DETAIL_COLUMNS, doc.details, freeze_columns=1)
    if last >= first:
        overdue = next(i for i, column in enumerate(DETAIL_COLUMNS) if column.header == "是否超期")
        sheet.ws.conditional_format(first, overdue, last, overdue, {"type": "cell", "criteria": "==",
                                                                    "value": '"是"',
                                                                    "format": sheet.book.formats["overdue"]})
    if not doc.details:
        sheet.line("本期无工单")


# ------------------------------------------------------------------ CSV
def _safe(text: str) -> str:
    """A text cell Excel will not read as a formula (=, +, -, @ first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(columns: Sequence[Column], item: Any) -> list[str]:
    return [_safe(text_of(value, column.kind)) if column.kind == "text" else text_of(value, column.kind)
            for column in columns for value in [column.value(item)]]


def render_csv(doc: ReportDocument) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"计分公式：{doc.formula}"])
    writer.writerow([title(doc)])
    writer.writerow([subtitle(doc)])
    writer.writerow([NO_DATA])

    def section(name: str, columns: Sequence[Column], rows: Sequence[Any], total: Any = None) -> None:
        writer.writerow([])
        writer.writerow([f"【{name}】"])
        writer.writerow([column.header for column in columns])
        for item in rows:
            writer.writerow(_csv_row(columns, item))
        if total is not None:
            writer.writerow(_csv_row(columns, total))

    section("部门考核", department_columns(), doc.departments, doc.total)
    section("渠道", channel_columns(doc.channels), doc.channels)
    section("事项", matter_columns(doc.matters), doc.matters)
    section("乡镇", township_columns(doc.townships), doc.townships)
    section("每日趋势", daily_columns(), doc.daily)
    # Excel opens UTF-8 CSV correctly only with a byte-order mark
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


# ------------------------------------------------------------------ JSON
def render_json(doc: ReportDocument) -> bytes:
    """The document (rates as shares 0..1, None as null) with the rates' Chinese labels; the added
    keys are not fields, so `ReportDocument.model_validate_json` reads it back as it was."""
    body = doc.model_dump(mode="json")
    body["rate_labels"] = dict(RATE_LABELS)
    body["formula"] = doc.formula
    return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")


