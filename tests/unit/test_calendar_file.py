"""The calendar supplement as the centre keeps it: CSV (with or without BOM, English or
Chinese headers) or xlsx; validated whole, every problem by row and column."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from minyi.core.errors import ValidationFailed
from minyi.timelimits.calendar_file import parse_csv, parse_file, parse_xlsx

SPRING_2027 = "date,kind,name\n" + "".join(f"2027-02-{d:02d},holiday,春节\n" for d in range(6, 13)) + \
    "2027-02-20,workday,调休上班\n"


def problems(caught) -> set[tuple]:
    return {(p.get("row"), p["field"]) for p in caught.value.details}


def test_given_an_english_csv_when_parsed_then_the_year_and_its_days_sorted():
    years = parse_csv(SPRING_2027)
    assert list(years) == [2027]
    assert [d.date for d in years[2027]][:2] == [date(2027, 2, 6), date(2027, 2, 7)]
    assert years[2027][-1].kind == "workday" and years[2027][-1].name == "调休上班"


def test_given_excels_csv_with_bom_and_chinese_headers_and_kinds_then_they_read_alike():
    text = "\ufeff日期,类型,名称\r\n2027/2/6,放假,春节\r\n2027-02-07,休息,春节\r\n2027-02-20,调休上班,调休\r\n" \
           "2027-02-21,上班,补班\r\n,,\r\n"
    days = parse_file("节假日.csv", text.encode("utf-8"))[2027]
    assert [(d.date.isoformat(), d.kind) for d in days] == [
        ("2027-02-06", "holiday"), ("2027-02-07", "holiday"), ("2027-02-20", "workday"), ("2027-02-21", "workday")]


def test_given_a_file_over_several_years_then_each_year_apart():
    text = "date,kind,name\n2026-03-16,holiday,县庆\n2027-02-06,holiday,春节\n2028-01-01,holiday,元旦\n"
    assert {year: len(days) for year, days in parse_csv(text).items()} == {2026: 1, 2027: 1, 2028: 1}


def test_given_every_kind_of_mistake_then_each_is_listed_by_row_and_column_and_none_is_stored():
    text = ("日期,类型,名称\n"
            "2027-02-06,放假,春节\n"          # row 2 fine
            "2027-02-30,放假,春节\n"          # row 3 no such date
            "2027-02-07,请假,春节\n"          # row 4 bad kind
            "2027-02-08,放假,\n"              # row 5 no name
            "2027-02-06,上班,春节\n"          # row 6 duplicate date
            "1999-05-01,放假,劳动节\n"        # row 7 a year out of range
            "2027-02-09,放假," + "长" * 21 + "\n"  # row 8 name too long
            "tomorrow,放假,春节\n")           # row 9 not a date
    with pytest.raises(ValidationFailed) as caught:
        parse_csv(text)
    assert problems(caught) == {(3, "日期"), (4, "类型"), (5, "名称"), (6, "日期"), (7, "日期"), (8, "名称"),
                                (9, "日期")}
    duplicate = next(p for p in caught.value.details if p["row"] == 6)
    assert "row 2" in duplicate["problem"]


def test_given_a_year_then_a_date_of_another_year_is_a_problem():
    with pytest.raises(ValidationFailed) as caught:
        parse_csv("date,kind,name\n2027-02-06,holiday,春节\n2028-01-01,holiday,元旦\n", year=2027)
    assert problems(caught) == {(3, "date")}
    assert parse_csv("date,kind,name\n", year=2027) == {2027: ()}


def test_given_missing_columns_then_each_is_named():
    with pytest.raises(ValidationFailed) as caught:
        parse_csv("日期,备注\n2027-02-06,春节\n")
    assert problems(caught) == {(1, "kind"), (1, "name")}


def test_given_a_csv_that_is_not_utf8_or_empty_then_rejected():
    with pytest.raises(ValidationFailed, match="rejected"):
        parse_file("gbk.csv", "日期,类型,名称\n".encode("gbk"))
    with pytest.raises(ValidationFailed):
        parse_csv("")


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_given_an_xlsx_with_date_cells_then_read_as_the_csv_is():
    data = xlsx([["日期", "类型", "名称"], [datetime(2027, 2, 6), "放假", "春节"], ["2027-02-20", "调休上班", "调休"],
                 [None, None, None]])
    days = parse_file("2027.xlsx", data)[2027]
    assert [(d.date, d.kind) for d in days] == [(date(2027, 2, 6), "holiday"), (date(2027, 2, 20), "workday")]


def test_given_a_broken_xlsx_then_rejected_with_its_row_and_column_problems():
    with pytest.raises(ValidationFailed):
        parse_xlsx(b"PK\x03\x04 not really")
    with pytest.raises(ValidationFailed) as caught:
        parse_xlsx(xlsx([["date", "kind", "name"], [20270206, "holiday", "春节"], ["2027-02-07", "holiday", 7]]))
    assert problems(caught) == {(2, "date")}  # a number is not a date; a name of 7 is the name "7"
