"""The liaison table (联络员名单, 附件2) as the county fills it in: the Chinese form with its title
rows, a plain English CSV, an Excel workbook; every problem named by row and column."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import Workbook

from minyi.core.errors import ValidationFailed
from minyi.models.liaison import Liaison, LiaisonTable
from minyi.routing import liaisons

TITLE = "附件2,,,,,,,\n赣县区12345政务服务便民热线工作联络员名单,,,,,,,\n"
HEADER = "序号,单位,分管领导,职务,联系电话,联络员,职务,联系电话(24小时)\n"


def form(*rows: str) -> str:
    return TITLE + HEADER + "".join(row + "\n" for row in rows)


def problems_of(text: str) -> set[tuple[int, str]]:
    with pytest.raises(ValidationFailed) as caught:
        liaisons.parse_csv(text)
    return {(p["row"], p["column"]) for p in caught.value.details}


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_county_form_with_its_title_rows_is_read_by_position():
    # Given the form as the county sends it: two title rows, then 职务 and 联系电话 twice
    text = form("1,区城管局,张三,副局长,13800000001,李四,办公室主任,0797-4441234")
    # When it is parsed
    (unit,) = liaisons.parse_csv("\ufeff" + text)
    # Then the first 职务/联系电话 are the leader's and the second the liaison's
    assert unit == Liaison(unit="区城管局", leader_name="张三", leader_title="副局长", leader_phone="13800000001",
                           liaison_name="李四", liaison_title="办公室主任", liaison_phone="0797-4441234")
    assert unit.contact() == {
        "unit": "区城管局",
        "liaison": {"name": "李四", "title": "办公室主任", "phone": "0797-4441234"},
        "leader_in_charge": {"name": "张三", "title": "副局长", "phone": "13800000001"}}


def test_the_shipped_sample_has_twelve_units_and_one_gap():
    units = liaisons.parse_csv(liaisons.sample_csv())
    table = LiaisonTable(version=1, units=units, created_at="2026-01-01T00:00:00+08:00", created_by="t", source="s")
    assert len(units) == 12 and table.gaps() == ["区交通运输局"]
    assert table.of("区交通运输局").leader_name == "杨一"


def test_the_english_csv_is_read_too():
    text = ("unit,leader,leader_title,leader_phone,liaison,liaison_title,liaison_phone\n"
            "区住建局,王五,副局长,13800000002,赵六,办公室副主任,+86 13800000102\n")
    (unit,) = liaisons.parse_csv(text)
    assert (unit.unit, unit.leader_name, unit.liaison_phone) == ("区住建局", "王五", "+8613800000102")


def test_excel_headers_with_line_breaks_and_full_width_brackets_are_recognised():
    # Given a workbook whose header cells wrap and use full-width brackets, and numeric phone cells
    data = xlsx([["附件2"], ["赣县区12345政务服务便民热线工作联络员名单"],
                 ["序号", "单位", "分管领导", "职务", "联系\n电话", "联络员", "职务", "联系电话\n（24小时）"],
                 [1, "区市场监管局", "孙七", "副局长", 13800000003, "周八", "综合股股长", 13800000103],
                 [2, "田村镇", "尤一", "副镇长", "13800000011", "许二", "党政办主任", "0797-4441211"],
                 [None], ["注：联络员如有变动，请及时报区12345热线中心。"]])
    # When the workbook is parsed
    units = liaisons.parse_file("附件2.xlsx", data)
    # Then the numbers are phones, the township is named as dispatch names it, the note below is no unit
    assert [(u.unit, u.leader_phone, u.liaison_phone) for u in units] == [
        ("区市场监管局", "13800000003", "13800000103"), ("田村镇人民政府", "13800000011", "0797-4441211")]


def test_every_problem_is_reported_by_row_and_column():
    # Given a form with a bad phone, a phone with no name, a name with no phone, an overlong
    # title, a row with no unit and a unit listed twice
    text = form("1,区城管局,张三,副局长,12345,李四,办公室主任,13800000101",           # row 4: leader phone
                "2,区住建局,王五,副局长,13800000002,,办公室主任,13800000102",        # row 5: liaison name
                "3,区人社局,吴九,副局长,,郑十,办公室主任,13800000104",               # row 6: leader phone empty
                "4,区公安分局,钱一," + "很" * 31 + ",13800000005,冯二,主任,0797-444",  # row 7: title, liaison phone
                "5,,陈一,副局长,13800000006,褚二,主任,13800000106",                  # row 8: no unit
                "6,区城管局,卫一,副局长,13800000007,蒋二,主任,13800000107")           # row 9: duplicate
    # When it is parsed, Then every problem is named, none is left for later
    assert problems_of(text) == {
        (4, "分管领导联系电话"), (5, "联络员"), (6, "分管领导联系电话"), (7, "分管领导职务"), (7, "联络员联系电话"),
        (8, "单位"), (9, "单位")}


def test_the_problem_says_what_is_wrong():
    with pytest.raises(ValidationFailed) as caught:
        liaisons.parse_csv(form("1,区城管局,张三,副局长,13800000001,李四,主任,4441234",
                                "2,区城管局,王五,副局长,13800000002,赵六,主任,13800000102"))
    assert caught.value.details == [
        {"row": 4, "column": "联络员联系电话",
         "problem": "not a phone number: a mobile (13800000001) or a landline with its area code (0797-4441234)"},
        {"row": 5, "column": "单位", "problem": "duplicate unit, first on row 4"}]


def test_a_landline_typed_into_a_number_cell_says_why_it_failed():
    data = xlsx([["单位", "分管领导", "职务", "联系电话", "联络员", "职务", "联系电话(24小时)"],
                 ["区教体局", "卫一", "副局长", "13800000007", "蒋二", "主任", 7974441207]])
    with pytest.raises(ValidationFailed) as caught:
        liaisons.parse_file("t.xlsx", data)
    (problem,) = caught.value.details
    assert (problem["row"], problem["column"]) == (2, "联络员联系电话") and "format it as text" in problem["problem"]


def test_the_same_township_named_two_ways_is_a_duplicate():
    assert problems_of(form("1,田村镇,尤一,副镇长,13800000011,许二,主任,13800000111",
                            "2,田村镇人民政府,尤一,副镇长,13800000011,许二,主任,13800000111")) == {(5, "单位")}


def test_a_unit_without_a_liaison_is_kept_as_a_gap_not_an_error():
    units = liaisons.parse_csv(form("1,区交通运输局,杨一,副局长,13800000009,,,",
                                    "2,区城管局,张三,副局长,13800000001,李四,主任,13800000101"))
    assert [u.has_liaison for u in units] == [False, True]
    assert units[0].contact()["liaison"] is None
    assert liaisons.gaps(["区交通运输局", "区城管局", "区水利局"], LiaisonTable(
        version=1, units=units, created_at="x", created_by="t", source="s")) == ["区交通运输局", "区水利局"]


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n", ",,,\n,,,\n"])
def test_an_empty_file_is_a_problem(text):
    with pytest.raises(ValidationFailed) as caught:
        liaisons.parse_file("empty.csv", text.encode())
    assert caught.value.details == [{"row": 1, "column": "", "problem": "the file is empty"}]


def test_a_form_with_a_header_and_no_units_is_a_problem():
    assert problems_of(TITLE + HEADER + "1,,,,,,,\n") == {(4, "单位")}


def test_a_missing_column_and_a_missing_header_are_named():
    assert problems_of("单位,分管领导,职务,联系电话,联络员,职务\n区城管局,张三,副局长,13800000001,李四,主任\n") == {
        (1, "联络员联系电话")}
    assert problems_of("名单\n区城管局,张三\n") == {(1, "")}


def test_an_xlsx_that_is_not_a_workbook_is_a_problem_not_a_crash():
    with pytest.raises(ValidationFailed):
        liaisons.parse_file("t.xlsx", b"PK\x03\x04 not really")


def test_a_csv_that_is_not_utf8_is_named():
    with pytest.raises(ValidationFailed) as caught:
        liaisons.parse_file("t.csv", HEADER.encode("gb18030"))
    assert "not UTF-8" in caught.value.details[0]["problem"]


def test_the_model_refuses_half_a_person():
    with pytest.raises(ValueError, match="a name and a phone"):
        Liaison(unit="区城管局", liaison_name="李四")


def test_a_log_line_naming_a_liaisons_phone_is_masked(monkeypatch):
    # Given the shared logger writing into a buffer
    from minyi.core.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    (unit,) = liaisons.parse_csv(form("1,区城管局,张三,副局长,13800000001,李四,主任,0797-4441234"))
    # When a line carries the unit's whole contact (as an escalation might)
    logger.info("escalated to 13800000001", extra={"contact": unit.contact()})
    # Then neither phone is in it, masked as the citizens' are
    line = stream.getvalue().splitlines()[-1]
    assert "13800000001" not in line and "4441234" not in line
    assert json.loads(line)["contact"]["liaison"]["phone"] == "0797-****1234"
    assert json.loads(line)["message"] == "escalated to 138****0001"


def test_csv_quoting_and_row_numbers_follow_the_spreadsheet():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["单位", "分管领导", "职务", "联系电话", "联络员", "职务", "联系电话(24小时)"])
    writer.writerow(["区城管局", "张三", "副局长,分管城管", "13800000001", "李四", "主任", "13800000101"])
    writer.writerow(["区住建局", "王五", "副局长", "bad", "赵六", "主任", "13800000102"])
    with pytest.raises(ValidationFailed) as caught:
        liaisons.parse_csv(out.getvalue())
    assert [(p["row"], p["column"]) for p in caught.value.details] == [(3, "分管领导联系电话")]


def test_the_english_csv_names_its_own_columns_in_problems():
    text = ("unit,leader,leader_title,leader_phone,liaison,liaison_title\n"
            "区住建局,王五,副局长,13800000002,赵六,办公室副主任\n")
    assert problems_of(text) == {(1, "liaison_phone")}
    text = ("unit,leader,leader_title,leader_phone,liaison,liaison_title,liaison_phone\n"
            "区住建局,,副局长,13800000002,赵六,办公室副主任,13800000102\n")
    assert problems_of(text) == {(2, "leader")}
