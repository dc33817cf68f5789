"""The assessment report written out: a month's document (tests/builders.py's `a_report_document`,
rates, scores and places made by `minyi.reports.kpi` as the assembler makes them) rendered to a
workbook, read back with openpyxl as Excel would open it; to CSV, parsed as Excel parses it; to
JSON, read back into the document."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart, PieChart

from minyi.models.kpi import RATE_LABELS, Counters, Rates
from minyi.models.report import ReportDocument, ViewRow
from minyi.reports.workbook import SHEETS, render_csv, render_json, render_xlsx
from tests.builders import a_report_document

DEPARTMENT_HEADERS = ["排名", "部门", "组别", "得分", "响应率", "先行联系率", "办结率", "按时办结率", "满意率",
                      "解决率", "回访率", "退单率", "重办率", "派单", "应签收", "按时签收", "应办结", "办结", "评价",
                      "满意", "退单", "维持", "改派", "重办", "延期", "催办", "督办", "超期件", "超期工作日", "红黑榜"]
RATE_FIELDS = {label: name for name, label in RATE_LABELS.items()}


@pytest.fixture(scope="module")
def doc() -> ReportDocument:
    return a_report_document()


@pytest.fixture(scope="module")
def book(doc):
    return load_workbook(io.BytesIO(render_xlsx(doc)))


def table(ws, first_header: str) -> tuple[int, list[str], list[dict]]:
    """(header row, headers, the rows under it as {header: cell}) of the table whose header
    starts with `first_header` in column A; rows end at the first row with column B empty."""
    header = next(row for row in range(1, ws.max_row + 1) if ws.cell(row, 1).value == first_header)
    headers = [cell.value for cell in ws[header] if cell.value is not None]
    rows = []
    for r in range(header + 1, ws.max_row + 1):
        cells = {name: ws.cell(r, c) for c, name in enumerate(headers, 1)}
        if cells[headers[1]].value is None and cells[headers[0]].value is None:
            break
        rows.append(cells)
    return header, headers, rows


def refs(chart) -> list[str]:
    """Every cell range the chart's series (and any chart combined with it) read."""
    found = []
    for part in chart._charts:
        for series in part.series:
            for ref in (series.val, series.cat):
                if ref is not None:
                    found.append((ref.numRef or ref.strRef).f)
    return found


def test_the_workbook_has_its_seven_sheets_in_chinese_in_order(doc, book):
    assert book.sheetnames == list(SHEETS) == ["总览", "趋势", "渠道", "事项", "乡镇", "热点", "明细"]
    assert render_xlsx(doc) == render_xlsx(doc)  # a rebuilt report is the same file
    assert book.properties.title == "民意速办考核报表（全县）2026年11月"


def test_the_overview_ranks_every_department_with_its_rates_as_percentages_and_the_county_total(doc, book):
    ws = book["总览"]
    # Given the title lines: the county, the period, the build time in Beijing time and the formula
    assert ws["A1"].value == "民意速办考核报表（全县）2026年11月"
    assert "2026-12-01 01:30（北京时间）" in ws["A2"].value
    assert ws["A3"].value == f"计分公式：{doc.formula}" and "1 × 督办次数" in ws["A3"].value
    header, headers, rows = table(ws, "排名")
    assert headers == DEPARTMENT_HEADERS
    # the header row is frozen (with the rank and the name beside the figures), and filtered
    assert ws.freeze_panes == f"C{header + 1}"
    assert ws.auto_filter.ref == f"A{header}:AD{header + len(doc.departments)}"
    # When the rows are read back: one per department in the document's order, then the total
    assert [row["部门"].value for row in rows] == [d.label for d in doc.departments] + ["合计"]
    for row, department in zip(rows, [*doc.departments, doc.total], strict=True):
        assert row["排名"].value == department.rank
        assert row["得分"].value == department.score
        assert row["派单"].value == department.counters.dispatched
        assert row["超期工作日"].value == department.counters.overdue_working_days
        for label, name in RATE_FIELDS.items():
            rate = getattr(department.rates, name)
            assert row[label].number_format == "0.0%"
            # the share itself (to the 15 digits a spreadsheet keeps); None stays empty
            assert row[label].value == (None if rate is None else pytest.approx(rate, rel=1e-14))
        assert row["红黑榜"].value == ("红榜" if department.red else "黑榜" if department.black else None)
    # Then a department with nothing due shows empty rates and no score or rank, never 0
    idle = next(row for row in rows if row["部门"].value == "区教育局")
    assert idle["响应率"].value is None and idle["满意率"].value is None and idle["得分"].value is None
    assert idle["排名"].value is None and idle["派单"].value == 0
    # and a rate that is really 0 % is 0, not empty
    assert next(row for row in rows if row["部门"].value == "区住建局")["先行联系率"].value == 0.0
    assert {row["红黑榜"].value for row in rows} == {"红榜", "黑榜", None}


def test_every_column_is_wide_enough_for_its_chinese_text(book):
    ws = book["总览"]
    name = ws.column_dimensions["B"].width
    assert name >= 2 * len("新华镇人民政府")  # CJK characters are two wide
    assert ws.column_dimensions["F"].width >= 2 * len("先行联系率")
    assert ws.column_dimensions["A"].width < name


def test_the_overview_charts_score_and_the_core_rates_per_department_natively(doc, book):
    ws = book["总览"]
    header = table(ws, "排名")[0]
    first, last = header + 1, header + len(doc.departments)
    [chart] = ws._charts
    assert isinstance(chart, BarChart) and chart.type == "col" and chart.grouping == "clustered"
    # Then its columns are 响应率、办结率、满意率 and its markers the score, on a second axis
    bars, scores = chart._charts
    assert len(bars.series) == 3 and isinstance(scores, LineChart) and len(scores.series) == 1
    assert refs(chart) == [
        f"总览!$E${first}:$E${last}", f"总览!$B${first}:$B${last}",  # 响应率 by department
        f"总览!$G${first}:$G${last}", f"总览!$B${first}:$B${last}",  # 办结率
        f"总览!$I${first}:$I${last}", f"总览!$B${first}:$B${last}",  # 满意率
        f"总览!$D${first}:$D${last}", f"总览!$B${first}:$B${last}"]  # 得分
    assert ws.cell(header, 5).value == "响应率" and ws.cell(header, 4).value == "得分"


def test_the_overview_lists_the_red_and_black_boards_of_each_group(doc, book):
    ws = book["总览"]
    lines = [[cell.value for cell in row[:4]] for row in ws.iter_rows()]
    for group in ("部门", "乡镇"):
        for board, flag in (("红榜", "red"), ("黑榜", "black")):
            at = lines.index([f"{board}（{group}）", None, None, None])
            assert lines[at + 1] == ["排名", "单位", "组别", "得分"]
            listed = [d for d in doc.departments if d.group == group and getattr(d, flag)]
            assert listed, "the sample has both boards in both groups"
            shown = lines[at + 2: at + 2 + len(listed)]
            assert sorted(shown, key=lambda line: line[1]) == sorted(
                ([d.rank, d.label, group, d.score] for d in listed), key=lambda line: line[1])


def test_the_trend_sheet_has_every_day_as_a_date_and_a_line_chart_of_received_and_completed(doc, book):
    ws = book["趋势"]
    header, headers, rows = table(ws, "日期")
    assert headers[:6] == ["日期", "星期", "受理", "派单", "应办结", "办结"] and "超期件" in headers
    assert ws.freeze_panes == f"B{header + 1}" and ws.auto_filter.ref.startswith(f"A{header}:")
    assert len(rows) == 30
    assert rows[0]["日期"].value == datetime(2026, 11, 1) and rows[0]["日期"].number_format == "yyyy-mm-dd"
    assert rows[0]["星期"].value == "周日"
    assert [row["受理"].value for row in rows] == [d.counters.received for d in doc.daily]
    assert rows[3]["满意率"].value == pytest.approx(doc.daily[3].rates.satisfaction, rel=1e-14)
    assert rows[3]["满意率"].number_format == "0.0%"
    [chart] = ws._charts
    assert isinstance(chart, LineChart)
    first, last = header + 1, header + 30
    assert refs(chart) == [f"趋势!$C${first}:$C${last}", f"趋势!$A${first}:$A${last}",
                           f"趋势!$F${first}:$F${last}", f"趋势!$A${first}:$A${last}"]


def test_the_channel_sheet_shares_the_volume_and_pies_it(doc, book):
    ws = book["渠道"]
    header, headers, rows = table(ws, "渠道")
    assert headers[:3] == ["渠道", "受理量", "占比"] and "满意率" in headers
    assert [row["渠道"].value for row in rows] == [c.label for c in doc.channels]
    whole = sum(c.counters.received for c in doc.channels)
    assert [row["占比"].value for row in rows] == pytest.approx([c.counters.received / whole for c in doc.channels])
    assert sum(row["占比"].value for row in rows) == pytest.approx(1.0)
    assert all(row["占比"].number_format == "0.0%" for row in rows)
    [chart] = ws._charts
    assert isinstance(chart, PieChart)
    assert refs(chart) == [f"渠道!$B${header + 1}:$B${header + 3}", f"渠道!$A${header + 1}:$A${header + 3}"]


def test_the_matter_sheet_charts_only_the_ten_largest():
    # Given a month with twelve matters
    base = a_report_document()
    matters = [ViewRow(name=f"事项{n:02d}", label=f"事项{n:02d}", counters=Counters(received=100 - n))
               for n in range(12)]
    ws = load_workbook(io.BytesIO(render_xlsx(base.model_copy(update={"matters": matters}))))["事项"]
    header, headers, rows = table(ws, "序号")
    assert headers[:4] == ["序号", "事项", "受理量", "占比"] and "办结率" in headers and "满意率" in headers
    assert [row["事项"].value for row in rows] == [m.label for m in matters]
    assert rows[0]["办结率"].value is None  # nothing was due
    [chart] = ws._charts
    assert isinstance(chart, BarChart) and chart.type == "bar"
    assert refs(chart) == [f"事项!$C${header + 1}:$C${header + 10}", f"事项!$B${header + 1}:$B${header + 10}"]


def test_the_township_sheet_lists_each_township_and_its_rank_when_it_has_one(doc, book):
    header, headers, rows = table(book["乡镇"], "乡镇")
    assert "排名" not in headers and headers[:3] == ["乡镇", "受理量", "占比"]  # the assembler ranks none
    assert [row["乡镇"].value for row in rows] == [t.label for t in doc.townships]
    assert [row["办结率"].value for row in rows] == pytest.approx([t.rates.completion for t in doc.townships])
    ranked = doc.model_copy(update={"townships": [t.model_copy(update={"rank": n, "red": n == 1})
                                                  for n, t in enumerate(doc.townships, 1)]})
    ws = load_workbook(io.BytesIO(render_xlsx(ranked)))["乡镇"]
    header, headers, rows = table(ws, "排名")
    assert headers[:2] == ["排名", "乡镇"] and headers[-1] == "红黑榜"
    assert [row["排名"].value for row in rows] == [1, 2, 3, 4] and rows[0]["红黑榜"].value == "红榜"
    assert ws.freeze_panes == f"C{header + 1}"


def test_the_hotspot_sheet_names_each_kind_in_chinese_and_says_so_when_there_is_none(doc, book):
    _, headers, rows = table(book["热点"], "类型")
    assert headers == ["类型", "事项", "地点", "开始日期", "结束日期", "件数", "基线（日均）", "说明"]
    assert [(row["类型"].value, row["事项"].value, row["地点"].value, row["件数"].value) for row in rows] == [
        ("激增", "城乡建设", "城关镇", 23), ("重复诉求", "市场监管", "同一来电人", 6)]
    assert rows[0]["开始日期"].value == datetime(2026, 11, 17) and rows[0]["基线（日均）"].value == 4.6
    assert rows[1]["基线（日均）"].value is None
    quiet = load_workbook(io.BytesIO(render_xlsx(doc.model_copy(update={"hotspots": []}))))["热点"]
    assert "本期无热点预警" in [cell.value for cell in quiet["A"]]


def test_the_detail_sheet_lists_orders_in_beijing_time_without_anything_personal(doc, book):
    ws = book["明细"]
    header, headers, rows = table(ws, "工单编号")
    assert headers == ["工单编号", "受理时间", "渠道", "事项", "乡镇", "承办单位", "状态", "办结时限", "答复时间",
                       "是否超期", "评价"]
    assert not any(re.search("电话|手机|身份证|证件|姓名|地址|内容", h) for h in headers)
    assert len(rows) == 20 and ws.freeze_panes == f"B{header + 1}"
    first = doc.details[0]
    # Then times are Excel datetimes of the Asia/Shanghai wall clock (a spreadsheet has no zones)
    assert rows[0]["受理时间"].value == first.received_at.replace(tzinfo=None) == datetime(2026, 11, 1, 9, 0)
    assert rows[0]["受理时间"].number_format == "yyyy-mm-dd hh:mm"
    assert rows[1]["答复时间"].value is None  # not replied yet
    assert [row["是否超期"].value for row in rows] == ["是" if d.overdue else "否" for d in doc.details]
    # and a UTC instant is written as Beijing time
    utc = doc.details[0].model_copy(update={"received_at": datetime.fromisoformat("2026-11-30T17:30:00+00:00")})
    ws = load_workbook(io.BytesIO(render_xlsx(doc.model_copy(update={"details": [utc]}))))["明细"]
    assert table(ws, "工单编号")[2][0]["受理时间"].value == datetime(2026, 12, 1, 1, 30)


def test_a_truncated_detail_list_says_how_many_it_shows(doc):
    ws = load_workbook(io.BytesIO(render_xlsx(doc.model_copy(update={"details_truncated": True}))))["明细"]
    assert "本期工单较多，仅列出前 20 件（按受理时间）。" in [cell.value for cell in ws["A"]]


def test_every_sheet_freezes_its_header_and_filters_its_table(book):
    for ws in book.worksheets:
        assert ws.freeze_panes is not None, ws.title
        row = int(re.sub("[A-Z]", "", ws.freeze_panes))
        assert ws.auto_filter.ref.startswith("A") and ws.auto_filter.ref.split(":")[0] == f"A{row - 1}", ws.title


def test_an_empty_month_renders_every_sheet_without_a_chart():
    # Given a month with nothing in it: no departments, no days, no channels, no orders
    full = a_report_document()
    empty = full.model_copy(update={"total": ViewRow(name="合计", label="合计"), "departments": [], "townships": [],
                                    "channels": [], "matters": [], "daily": [], "hotspots": [], "details": []})
    book = load_workbook(io.BytesIO(render_xlsx(empty)))
    assert book.sheetnames == list(SHEETS)
    assert all(ws._charts == [] for ws in book.worksheets)
    [total] = table(book["总览"], "排名")[2]
    assert total["部门"].value == "合计" and total["响应率"].value is None and total["派单"].value == 0
    assert "本期无参与考核的单位" in [cell.value for cell in book["总览"]["A"]]
    assert "本期无热点预警" in [cell.value for cell in book["热点"]["A"]]
    # and channels that took nothing are listed without a pie (a pie of zeros is no chart)
    idle = empty.model_copy(update={"channels": [ViewRow(name="web", label="政府网站")]})
    ws = load_workbook(io.BytesIO(render_xlsx(idle)))["渠道"]
    assert ws._charts == [] and table(ws, "渠道")[2][0]["占比"].value is None


def test_a_departments_own_report_shows_its_row_and_place_only():
    own = a_report_document(scope="区城管局")
    ws = load_workbook(io.BytesIO(render_xlsx(own)))["总览"]
    assert ws["A1"].value == "民意速办考核报表（区城管局）2026年11月"
    _, _, rows = table(ws, "排名")
    assert [row["部门"].value for row in rows] == ["区城管局", "区城管局"]  # its row, and its total
    lines = [cell.value for cell in ws["A"] if cell.value]
    assert "区城管局在部门组中第 5 名，列入黑榜。" in lines
    assert not any(str(line).startswith("红榜") for line in lines)
    assert not any("区住建局" in str(cell.value) for row in ws.iter_rows() for cell in row if cell.value)


def test_names_are_text_never_formulas(doc):
    odd = doc.model_copy(update={"matters": [ViewRow(name="=1+1", label="=1+1", counters=Counters(received=1))]})
    ws = load_workbook(io.BytesIO(render_xlsx(odd)))["事项"]
    assert table(ws, "序号")[2][0]["事项"].value == "=1+1" and table(ws, "序号")[2][0]["事项"].data_type == "s"
    rows = list(csv.reader(io.StringIO(render_csv(odd).decode("utf-8-sig"))))
    assert next(row for row in rows if row[:1] == ["1"] and "1+1" in row[1])[:2] == ["1", "'=1+1"]


# ------------------------------------------------------------------ CSV
def sections(text: str) -> dict[str, list[list[str]]]:
    """The CSV's sections: 【name】 then its header line and rows, up to a blank line."""
    found, current = {}, None
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row:
            current = None
        elif re.fullmatch("【.+】", row[0]) and len(row) == 1:
            current = found.setdefault(row[0][1:-1], [])
        elif current is not None:
            current.append(row)
    return found


def test_the_csv_opens_in_excel_with_the_overviews_numbers(doc):
    data = render_csv(doc)
    # Given Excel's needs: the byte-order mark, UTF-8, CRLF
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    first = next(csv.reader(io.StringIO(text)))
    assert first == [f"计分公式：{doc.formula}"]
    found = sections(text)
    assert list(found) == ["部门考核", "渠道", "事项", "乡镇", "每日趋势"]
    header, *rows = found["部门考核"]
    assert header == DEPARTMENT_HEADERS
    assert [row[1] for row in rows] == [d.label for d in doc.departments] + ["合计"]
    for row, department in zip(rows, [*doc.departments, doc.total], strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["排名"] == ("" if department.rank is None else str(department.rank))
        assert cells["得分"] == ("" if department.score is None else f"{department.score:.2f}")
        assert int(cells["派单"]) == department.counters.dispatched
        for label, name in RATE_FIELDS.items():
            rate = getattr(department.rates, name)
            assert cells[label] == ("" if rate is None else f"{rate * 100:.1f}%")
    idle = dict(zip(header, next(row for row in rows if row[1] == "区教育局"), strict=True))
    assert idle["响应率"] == "" and idle["得分"] == "" and idle["派单"] == "0"
    assert found["渠道"][0][:3] == ["渠道", "受理量", "占比"] and len(found["渠道"]) == 1 + len(doc.channels)
    assert found["事项"][1][1] == doc.matters[0].label and len(found["事项"]) == 1 + len(doc.matters)
    assert [row[0] for row in found["乡镇"][1:]] == [t.label for t in doc.townships]
    assert [row[0] for row in found["每日趋势"][1:]] == [d.name for d in doc.daily]
    assert found["每日趋势"][1][1] == "周日"


def test_a_rate_of_87_5_percent_prints_as_87_5_percent():
    doc = a_report_document()
    row = doc.departments[0].model_copy(update={"rates": Rates(response=0.875, completion=1.0, satisfaction=0.0)})
    header, *rows = sections(render_csv(doc.model_copy(update={"departments": [row]})).decode("utf-8-sig"))["部门考核"]
    cells = dict(zip(header, rows[0], strict=True))
    assert (cells["响应率"], cells["办结率"], cells["满意率"], cells["解决率"]) == ("87.5%", "100.0%", "0.0%", "")


# ------------------------------------------------------------------ JSON
def test_the_json_is_the_document_with_its_labels_and_reads_back_unchanged(doc):
    data = render_json(doc)
    body = json.loads(data)
    assert "区城管局" in data.decode("utf-8")  # not \\u escapes
    assert body["rate_labels"] == RATE_LABELS and body["formula"] == doc.formula
    assert body["departments"][0]["rates"]["response"] == doc.departments[0].rates.response  # a share, 0..1
    idle = next(d for d in body["departments"] if d["name"] == "区教育局")
    assert idle["rates"]["response"] is None and idle["score"] is None
    assert body["start"] == "2026-11-01" and body["hotspots"][0]["first_day"] == "2026-11-17"
    back = ReportDocument.model_validate_json(data)
    assert back == doc
    assert back.built_at == doc.built_at and back.details[0].received_at == doc.details[0].received_at
    assert back.start == date(2026, 11, 1)
