"""The liaison table (联络员名单, 附件2) through the staff API and the lookup the clock calls:
import and read, versions, a bad file changes nothing, only the centre imports, a warm
container's cache, and no phone of the table in a log line."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook

from minyi.core import settings
from minyi.core.errors import Conflict
from minyi.core.observability import logger
from minyi.dal import liaisons as store
from minyi.routing import liaisons
from tests.helpers import (
    CENTRE,
    CHENGGUAN,
    LEADER,
    SHICHANG,
    call_api,
    import_sample_duty_list,
    staff_token,
    table_items,
)

DUTY = "minyi-test-DutyListTable"
CSV = {"Content-Type": "text/csv"}
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SECOND = ("附件2,,,,,,,\n序号,单位,分管领导,职务,联系电话,联络员,职务,联系电话(24小时)\n"
          "1,区城管局,张三,副局长,13800000001,刘五,值班科长,13800000201\n"
          "2,区交通运输局,杨一,副局长,13800000009,马六,办公室主任,13800000209\n")


def api(method: str, who: tuple | None, body=None, **kwargs):
    headers = {**(staff_token(*who) if who else {}), **kwargs.pop("headers", {})}
    return call_api("StaffApiFunction", method, "/liaisons", body, headers=headers, **kwargs)


def upload(text: str, who: tuple = CENTRE, **kwargs):
    return api("POST", who, raw=text.encode("utf-8"), headers=CSV, **kwargs)


def test_the_centre_imports_the_form_and_every_staff_member_reads_it(aws):
    # Given the duty list in force
    import_sample_duty_list()
    # When the centre uploads the county's form
    status, body, _ = upload(liaisons.sample_csv(), query={"filename": ["附件2联络员名单.csv"]})
    # Then version 1 is in force, with who and from which file
    assert status == 201, body
    assert (body["version"], body["created_by"], body["source"]) == (1, "centre01", "附件2联络员名单.csv")
    # And the centre, a leader and a department read the same table, phones in full
    for who in (CENTRE, LEADER, CHENGGUAN):
        status, table, _ = api("GET", who)
        assert status == 200 and table["version"] == 1 and len(table["units"]) == 12
        assert table["units"][0] == {
            "unit": "区城管局",
            "liaison": {"name": "李四", "title": "办公室主任", "phone": "13800000101"},
            "leader_in_charge": {"name": "张三", "title": "副局长", "phone": "13800000001"}}
    # And the gaps: the sample's blank unit, and the units the duty list names but the table does not
    assert "区交通运输局" in table["gaps"] and "区水利局" in table["gaps"] and "大田乡人民政府" in table["gaps"]
    assert "区城管局" not in table["gaps"] and "田村镇人民政府" not in table["gaps"]
    # And the units the table names that no dispatch under the sample list can name (the clock
    # would never look them up: a misspelling shows here)
    assert table["not_in_duty_list"] == ["区自然资源局", "区教体局"]


def test_an_xlsx_upload_is_read_as_the_csv_is(aws):
    book = Workbook()
    for row in ("附件2", "赣县区12345政务服务便民热线工作联络员名单"), \
               ("序号", "单位", "分管领导", "职务", "联系电话", "联络员", "职务", "联系电话(24小时)"), \
               (1, "梅林镇", "朱一", "副镇长", 13800000010, "秦二", "党政办主任", "0797-4441210"):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    status, body, _ = api("POST", CENTRE, raw=out.getvalue(), headers=XLSX)
    assert status == 201 and body["source"] == "liaisons.xlsx"
    assert body["units"][0]["unit"] == "梅林镇人民政府"
    assert liaisons.liaison_for("梅林镇").liaison_phone == "0797-4441210"


def test_a_second_import_is_a_new_version_and_the_lookup_follows_it(aws):
    # Given version 1 in force and a warm lookup that has read it
    upload(liaisons.sample_csv())
    assert liaisons.liaison_for("区城管局").liaison_name == "李四"
    assert liaisons.liaison_for("区交通运输局").has_liaison is False
    # When the centre imports a corrected form
    status, body, _ = upload(SECOND)
    # Then version 2 is in force, and the lookup reads it (the test cache lives 0 s)
    assert status == 201 and body["version"] == 2 and body["gaps"] == []
    assert liaisons.liaison_for("区城管局").liaison_name == "刘五"
    assert liaisons.liaison_for("区交通运输局").liaison_phone == "13800000209"
    assert liaisons.liaison_for("区住建局") is None  # not named by version 2
    assert liaisons.contact_of("区住建局") == {"unit": "区住建局", "liaison": None, "leader_in_charge": None}
    # And version 1 is still stored as it was
    assert store.load(1).of("区住建局").liaison_name == "赵六"


def test_a_bad_file_is_400_with_every_problem_and_the_version_in_force_stays(aws):
    # Given version 1 in force
    upload(liaisons.sample_csv())
    before = table_items(DUTY)
    # When the centre uploads a form with a bad phone and a unit named twice
    broken = SECOND.replace("13800000201", "1380000020") + "3,区城管局,王五,副局长,13800000002,赵六,主任,13800000102\n"
    status, body, _ = upload(broken)
    # Then it is 400, naming each problem by row and column, and nothing was written
    assert status == 400 and body["error"]["code"] == "validation_error"
    assert [(p["row"], p["column"]) for p in body["error"]["details"]] == [(3, "联络员联系电话"), (5, "单位")]
    assert table_items(DUTY) == before
    status, table, _ = api("GET", CENTRE)
    assert table["version"] == 1 and liaisons.liaison_for("区城管局").liaison_name == "李四"
    # And an empty upload is a 400 too
    status, body, _ = api("POST", CENTRE, raw=b"", headers=CSV)
    assert status == 400 and body["error"]["details"] == [{"row": 1, "column": "", "problem": "the file is empty"}]


@pytest.mark.parametrize("who", [LEADER, CHENGGUAN, SHICHANG])
def test_only_the_centre_imports(aws, who):
    upload(liaisons.sample_csv())
    before = table_items(DUTY)
    status, body, _ = upload(SECOND, who)
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert table_items(DUTY) == before


def test_no_token_is_401_on_both_routes(aws):
    assert api("GET", None)[0] == 401
    assert api("POST", None, raw=SECOND, headers=CSV)[0] == 401


def test_before_any_import_the_table_is_empty_and_the_lookup_answers_none(aws):
    import_sample_duty_list()
    status, table, _ = api("GET", CHENGGUAN)
    assert status == 200 and table["version"] is None and table["units"] == []
    assert "区城管局" in table["gaps"]
    assert liaisons.liaison_for("区城管局") is None
    assert liaisons.contact_of("区城管局")["liaison"] is None


def test_an_unknown_unit_or_no_table_configured_is_none_not_an_error(aws, monkeypatch):
    upload(liaisons.sample_csv())
    assert liaisons.liaison_for("区不存在局") is None and liaisons.liaison_for("") is None
    # Given a process whose environment names no duty-list table
    monkeypatch.delenv("DUTY_LIST_TABLE")
    settings.reset()
    try:
        assert liaisons.CachedLiaisons(ttl=0).liaison_for("区城管局") is None
    finally:
        monkeypatch.undo()
        settings.reset()


def test_a_store_that_cannot_be_read_leaves_the_copy_in_hand(aws, monkeypatch):
    # Given a warm cache holding version 1
    upload(liaisons.sample_csv())
    cache = liaisons.CachedLiaisons(ttl=0)
    assert cache.liaison_for("区城管局").liaison_name == "李四"

    # When the store fails on the next check
    def broken():
        raise RuntimeError("throttled")

    monkeypatch.setattr(store, "pointer", broken)
    # Then the lookup answers from the copy it has instead of raising
    assert cache.liaison_for("区城管局").liaison_name == "李四"
    assert liaisons.CachedLiaisons(ttl=0).liaison_for("区城管局") is None


def test_the_cache_reads_only_the_pointer_until_a_new_version(aws, monkeypatch):
    upload(liaisons.sample_csv())
    cache = liaisons.CachedLiaisons(ttl=0)
    loads = []
    real_load = store.load
    monkeypatch.setattr(store, "load", lambda version=None: loads.append(version) or real_load(version))
    cache.get(), cache.get(), cache.get()
    assert loads == [1]
    upload(SECOND)
    assert cache.get().version == 2 and loads == [1, 2]
    # and within the TTL not even the pointer is read
    warm = liaisons.CachedLiaisons(ttl=3600)
    warm.get()
    monkeypatch.setattr(store, "pointer", lambda: pytest.fail("read the pointer within the TTL"))
    assert warm.get().version == 2


def test_two_imports_at_once_one_gets_409_and_the_pointer_names_the_winner(aws, monkeypatch):
    # Given version 1 in force
    upload(liaisons.sample_csv())
    units = liaisons.parse_csv(SECOND)
    # When an import read the pointer before another one moved it
    stale = store.pointer()
    assert store.save_new_version(units, "other", "b.csv").version == 2
    monkeypatch.setattr(store, "pointer", lambda: stale)
    # Then its own move fails: 409, and version 2 stays in force
    with pytest.raises(Conflict):
        store.save_new_version(units, "late", "c.csv")
    monkeypatch.undo()
    assert store.pointer()[0] == 2 and store.load().created_by == "other"
    # When an import claims a version number another has taken
    monkeypatch.setattr(store, "_latest_version", lambda: 1)
    with pytest.raises(Conflict):
        store.save_new_version(units, "later", "d.csv")
    # And over HTTP the answer is the 409 shape
    status, body, _ = upload(SECOND)
    assert status == 409 and body["error"]["code"] == "conflict"


def test_no_liaison_phone_reaches_the_log(aws, monkeypatch):
    # Given the logger writing into a buffer
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    upload(liaisons.sample_csv())
    # When staff read the table and a line names a contact as an escalation would
    api("GET", CENTRE)
    logger.warning("overdue, calling", extra={"contact": liaisons.contact_of("区城管局")})
    # Then the lines were written, and none of the table's phones is in them
    lines = stream.getvalue().splitlines()
    assert any(json.loads(line).get("message") == "liaison table imported" for line in lines)
    assert json.loads(lines[-1])["contact"]["liaison"]["phone"] == "138****0101"
    phones = [u.liaison_phone for u in store.load().units if u.liaison_phone] + \
             [u.leader_phone for u in store.load().units if u.leader_phone]
    assert phones and not [p for p in phones if p in stream.getvalue() or p[-7:] in stream.getvalue()]


def test_the_command_line_imports_shows_and_prints_each_problem_by_row_and_column(aws, tmp_path, capsys):
    from minyi.entrypoints import cli

    # Given the county's form saved as a file
    good = tmp_path / "附件2.csv"
    good.write_text("\ufeff" + liaisons.sample_csv(), encoding="utf-8")
    # When an operator imports it, naming who they are
    assert cli.main(["liaisons", "import", str(good), "--by", "王主任"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["version"], printed["units"], printed["created_by"]) == (1, 12, "王主任")
    assert "区交通运输局" in printed["gaps"]
    # Then `show` prints the table in force
    assert cli.main(["liaisons", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 1 and shown["units"][1]["liaison"]["phone"] == "0797-4441201"
    # When a broken file is imported, Then each problem is a line naming row and column, the exit is not 0
    bad = tmp_path / "bad.csv"
    bad.write_text(SECOND.replace("13800000201", "电话"), encoding="utf-8")
    assert cli.main(["liaisons", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 3, 联络员联系电话: not a phone number" in err
    assert store.pointer()[0] == 1
    # And the shipped sample imports as the local stack seeds it
    assert cli.main(["liaisons", "import", "--sample"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 2
