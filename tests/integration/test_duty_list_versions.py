"""Duty-list versions: import (CSV and xlsx), invalid files change nothing, export,
rollback, and each order records the version it was dispatched with."""

import csv
import io

import pytest
from openpyxl import Workbook

from minyi.core.errors import NotFound, ValidationFailed
from minyi.dal import duty_list as store
from minyi.dal import orders
from minyi.routing import duty_list
from minyi.routing.cache import CachedDutyList
from tests.helpers import StreamReader, post_channel, request_body, table_items

DUTY = "minyi-test-DutyListTable"


def xlsx(text: str) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO(text)):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_versions_export_and_rollback(aws):
    assert duty_list.import_csv(duty_list.county_csv(), actor="centre", source="county") == 1
    assert duty_list.import_file("sample.xlsx", xlsx(duty_list.sample_csv()), actor="centre") == 2
    assert store.current_version() == 2 and len(store.load().matters) == 13
    listed = store.versions()
    assert [(v.version, v.matters, v.source) for v in listed] == [(1, 517, "county"), (2, 13, "sample.xlsx")]

    exported = duty_list.export_csv(1)
    assert exported.startswith("\ufeff事项编码,")
    assert duty_list.parse_csv(exported) == tuple(sorted(duty_list.parse_csv(duty_list.county_csv()),
                                                         key=lambda m: m.code))
    assert duty_list.rollback(1, actor="centre") == 1
    assert store.current_version() == 1 and len(store.load().matters) == 517
    assert duty_list.import_csv(duty_list.sample_csv(), actor="centre") == 3  # numbering never reuses
    with pytest.raises(NotFound):
        duty_list.rollback(99, actor="centre")


@pytest.mark.parametrize("broken", ["csv", "xlsx", "not-a-workbook"])
def test_an_invalid_file_is_rejected_whole_and_changes_nothing(aws, broken):
    duty_list.import_csv(duty_list.sample_csv(), actor="centre")
    before = table_items(DUTY)
    lines = duty_list.sample_csv().splitlines()
    cells = lines[3].split(",")
    cells[6] = "抱怨"  # row 4: a handling type that does not exist
    lines[3] = ",".join(cells)
    lines[5] = ",".join(["", *lines[5].split(",")[1:]])  # row 6: no code
    text = "\n".join(lines)
    with pytest.raises(ValidationFailed) as caught:
        if broken == "csv":
            duty_list.import_file("list.csv", text.encode(), actor="centre")
        elif broken == "xlsx":
            duty_list.import_file("list.xlsx", xlsx(text), actor="centre")
        else:
            duty_list.import_file("list.xlsx", b"PK\x03\x04 not really", actor="centre")
    if broken != "not-a-workbook":
        assert {(p["row"], p["column"]) for p in caught.value.details} == {(4, "办理类型"), (6, "事项编码")}
    assert table_items(DUTY) == before


def test_each_order_records_the_version_it_was_dispatched_with(aws):
    duty_list.import_csv(duty_list.county_csv(), actor="centre")
    routes = StreamReader(aws, "RouteFunction")
    _, ack, _ = post_channel("12345", request_body("v-1"))
    routes.deliver()
    duty_list.import_csv(duty_list.sample_csv(), actor="centre")
    _, ack2, _ = post_channel("12345", request_body("v-2", citizen={"name": "李四", "phone": "13900001111"}))
    routes.deliver()
    assert orders.get_order(ack["order_id"]).duty_list_version == 1
    assert orders.get_order(ack2["order_id"]).duty_list_version == 2


def test_warm_cache_reads_only_the_pointer_until_the_version_or_learning_changes(aws, monkeypatch):
    # Given a warm container's cache over the county list
    duty_list.import_csv(duty_list.county_csv(), actor="centre")
    cache = CachedDutyList(ttl=0)
    loads = []
    real_load = store.load
    monkeypatch.setattr(store, "load", lambda version=None: loads.append(version) or real_load(version))
    first = cache.matcher()
    # When it is checked again with nothing changed
    again = cache.matcher()
    # Then the matters were read once and the matcher is the same object
    assert loads == [1] and again is first
    # When an operator's correction teaches a term
    store.add_learned(1, {"井盖": {"CX-02-04": 1.0}})
    taught = cache.matcher()
    # Then the matcher is rebuilt with it, without re-reading the matters
    assert loads == [1] and taught is not first and taught.learned == {"井盖": {"CX-02-04": 1.0}}
    # When a new version is published
    duty_list.import_csv(duty_list.sample_csv(), actor="centre")
    # Then the next check reads it
    assert cache.get().version == 2 and loads == [1, 2] and len(cache.get().matters) == 13
