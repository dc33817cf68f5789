"""The county calendar supplement (节假日补充), through the real staff handler and the CLI:
the centre stores a year the calendar package does not know yet, or a county day off in a
year it does; every staff member reads it; working days follow it; bad input and lost
races change nothing."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.dal import calendar as store
from minyi.entrypoints import cli
from minyi.models.calendar import CalendarDay
from minyi.timelimits import calendar
from minyi.timelimits.calendar import coverage, is_certain, is_working_day
from tests.helpers import CENTRE, CHENGGUAN, LEADER, call_api, staff_token, table_items

DUTY = "minyi-test-DutyListTable"
SPRING_2027 = [*({"date": f"2027-02-{d:02d}", "kind": "holiday", "name": "春节"} for d in range(6, 13)),
               {"date": "2027-02-20", "kind": "workday", "name": "调休上班"}]


def staff(method: str, path: str, who, body=None, **kwargs):
    headers = {**staff_token(*who), **kwargs.pop("headers", {})}
    return call_api("StaffApiFunction", method, path, body, headers=headers, **kwargs)


def calendar_items() -> list[dict]:
    return [item for item in table_items(DUTY) if item["pk"]["S"].startswith("CALENDAR")]


@pytest.fixture
def in_2026(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))


# ------------------------------------------------------------------ a year the package does not know
def test_given_2027_unpublished_when_the_centre_stores_its_arrangement_then_working_days_follow_it(aws, in_2026):
    # Given: nobody has stored 2027; the package stops at 2026
    status, body, _ = staff("GET", "/calendar/coverage", LEADER)
    assert status == 200
    assert body == {"years": {"2024": "package", "2025": "package", "2026": "package", "2027": "none",
                              "2028": "none"}}
    assert is_working_day(date(2027, 2, 8)) and not is_certain(date(2027, 2, 8))  # a Monday: a guess

    # When: the centre stores 2027's Spring Festival and the Saturday swapped in
    status, body, _ = staff("PUT", "/calendar/2027", CENTRE, {"days": SPRING_2027})

    # Then: the year is stored as version 1, by whom and when, and counted with at once
    assert status == 200, body
    assert body["year"] == 2027 and body["version"] == 1 and body["updated_by"] == "centre01"
    assert body["coverage"] == "supplement" and len(body["days"]) == 8
    effective = {d["date"]: (d["kind"], d["source"]) for d in body["effective"]}
    assert effective["2027-02-08"] == ("holiday", "supplement") and effective["2027-02-20"] == ("workday", "supplement")
    assert "2027-02-06" not in effective  # a Saturday off is what Monday to Friday says anyway
    assert not is_working_day(date(2027, 2, 8)) and is_working_day(date(2027, 2, 20))
    assert coverage(2027) == "supplement" and is_certain(date(2027, 2, 8))

    # and any staff member reads it, a department too
    status, read, _ = staff("GET", "/calendar/2027", CHENGGUAN)
    assert status == 200 and read["version"] == 1 and read["days"] == body["days"]
    status, body, _ = staff("GET", "/calendar/coverage", CHENGGUAN)
    assert body["years"]["2027"] == "supplement" and body["years"]["2026"] == "package"

    # and the version item is the audit: who, when, from what
    [version] = [i for i in calendar_items() if i["pk"]["S"] == "CALENDAR#2027"]
    assert version["sk"]["S"] == "V#000001" and version["created_by"]["S"] == "centre01"
    assert version["source"]["S"] == "application/json" and version["created_at"]["S"].startswith("2026-11-28")


def test_given_a_stored_year_when_the_centre_replaces_it_with_a_csv_then_a_new_version_and_the_old_one_kept(aws):
    staff("PUT", "/calendar/2027", CENTRE, {"days": SPRING_2027})
    csv_text = "\ufeff日期,类型,名称\r\n2027-02-08,放假,春节\r\n2027-02-09,放假,春节\r\n"
    status, body, _ = staff("PUT", "/calendar/2027", CENTRE, raw=csv_text.encode(),
                            headers={"Content-Type": "text/csv; charset=utf-8"})
    assert status == 200, body
    assert body["version"] == 2 and [d["date"] for d in body["days"]] == ["2027-02-08", "2027-02-09"]
    assert is_working_day(date(2027, 2, 20)) is False  # the swapped Saturday is gone with version 1
    assert [h["version"] for h in store.history(2027)] == [1, 2]
    assert [h["days"] for h in store.history(2027)] == [8, 2]


def test_given_an_empty_arrangement_then_the_year_is_withdrawn_and_uncovered_again(aws):
    staff("PUT", "/calendar/2027", CENTRE, {"days": SPRING_2027})
    status, body, _ = staff("PUT", "/calendar/2027", CENTRE, {"days": []})
    assert status == 200 and body["version"] == 2 and body["coverage"] == "none" and body["days"] == []
    assert is_working_day(date(2027, 2, 8))


# ------------------------------------------------------------------ a county day off in a package year
def test_given_a_county_day_off_in_2026_then_it_overrides_the_package_for_that_date(aws):
    assert is_working_day(date(2026, 3, 16))  # a Monday
    status, body, _ = staff("PUT", "/calendar/2026", CENTRE,
                            {"days": [{"date": "2026-03-16", "kind": "holiday", "name": "县庆"}]})
    assert status == 200 and body["coverage"] == "package"  # the package still covers 2026
    assert not is_working_day(date(2026, 3, 16))
    assert is_working_day(date(2026, 2, 14)) and not is_working_day(date(2026, 2, 16))  # the package's own days
    effective = {d["date"]: d for d in body["effective"]}
    assert effective["2026-03-16"]["source"] == "supplement" and effective["2026-02-16"]["source"] == "package"
    assert effective["2026-02-16"]["name"] == "春节"


def test_2025_as_published_without_any_supplement(aws):
    status, body, _ = staff("GET", "/calendar/2025", LEADER)
    assert status == 200 and body["version"] is None and body["days"] == [] and body["coverage"] == "package"
    effective = {d["date"]: d["kind"] for d in body["effective"]}
    assert effective["2025-01-26"] == "workday"  # a Sunday swapped in
    assert all(effective[f"2025-10-0{d}"] == "holiday" for d in (1, 2, 3, 6, 7, 8))  # 4 and 5 are a weekend
    assert is_working_day(date(2025, 1, 26)) and not is_working_day(date(2025, 10, 8))


# ------------------------------------------------------------------ who may
@pytest.mark.parametrize("who", [CHENGGUAN, LEADER])
def test_only_the_centre_stores_a_year(aws, who):
    status, body, _ = staff("PUT", "/calendar/2027", who, {"days": SPRING_2027})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert calendar_items() == []


# ------------------------------------------------------------------ bad input
def test_every_problem_of_a_year_is_listed_and_nothing_is_stored(aws):
    staff("PUT", "/calendar/2027", CENTRE, {"days": SPRING_2027})
    before = calendar_items()
    days = [{"date": "2028-01-01", "kind": "holiday", "name": "元旦"},        # another year
            {"date": "2027-02-06", "kind": "day off", "name": "春节"},        # a kind that is neither
            {"date": "2027-02-07", "kind": "holiday", "name": "春节"},
            {"date": "2027-02-07", "kind": "workday", "name": "调休"},        # the same date twice
            {"date": "2027-02-08", "kind": "holiday", "name": ""},            # no name
            {"date": "2027-02-30", "kind": "holiday", "name": "春节"},        # no such date
            "2027-02-09",                                                     # not an object
            {"date": "2027-02-10", "kind": "holiday", "name": "春节", "note": "x"}]  # a field we do not know
    status, body, _ = staff("PUT", "/calendar/2027", CENTRE, {"days": days})
    assert status == 400 and body["error"]["code"] == "validation_error"
    assert {p["field"] for p in body["error"]["details"]} == {
        "days.0.date", "days.1.kind", "days.3.date", "days.4.name", "days.5.date", "days.6", "days.7.note"}
    assert calendar_items() == before


BAD = [
    # (name, path, raw body, content type, status, the field a problem names)
    ("year 1", "/calendar/1", json.dumps({"days": []}), "application/json", 400, "year"),
    ("year 1999", "/calendar/1999", json.dumps({"days": []}), "application/json", 400, "year"),
    ("year 2101", "/calendar/2101", json.dumps({"days": []}), "application/json", 400, "year"),
    ("year letters", "/calendar/abcd", json.dumps({"days": []}), "application/json", 400, "year"),
    ("year with a sign", "/calendar/+202", json.dumps({"days": []}), "application/json", 400, "year"),
    ("malformed json", "/calendar/2027", '{"days": [', "application/json", 400, None),
    ("empty body", "/calendar/2027", "", "application/json", 400, None),
    ("a list, not an object", "/calendar/2027", "[]", "application/json", 400, "(body)"),
    ("no days", "/calendar/2027", "{}", "application/json", 400, "days"),
    ("days not a list", "/calendar/2027", json.dumps({"days": "春节"}), "application/json", 400, "days"),
    ("unknown top field", "/calendar/2027", json.dumps({"days": [], "year": 2027}), "application/json", 400, "year"),
    ("too many days", "/calendar/2027",
     json.dumps({"days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}] * 367}),
     "application/json", 400, "days"),
    ("a date as a number", "/calendar/2027", json.dumps({"days": [{"date": 20270206, "kind": "holiday",
                                                                     "name": "春节"}]}),
     "application/json", 400, "days.0.date"),
    ("csv of another year", "/calendar/2027", "date,kind,name\n2026-10-01,holiday,国庆节\n", "text/csv", 400, "date"),
    ("csv without its columns", "/calendar/2027", "日期\n2027-02-06\n", "text/csv", 400, "kind"),
    ("oversized", "/calendar/2027", json.dumps({"days": [], "pad": "x" * 300_000}), "application/json", 413, None),
    ("a type we do not take", "/calendar/2027", "春节", "text/plain", 415, None),
]


@pytest.mark.parametrize(("name", "path", "raw", "content_type", "expected", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_4xx_that_says_what_and_stores_nothing(aws, name, path, raw, content_type, expected, field):
    status, body, _ = staff("PUT", path, CENTRE, raw=raw, headers={"Content-Type": content_type})
    assert status == expected, body
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    if field:
        assert field in {p["field"] for p in body["error"]["details"]}
    assert calendar_items() == []


@pytest.mark.parametrize("year", ["1", "0000", "99999", "coverag"])
def test_reading_a_year_out_of_range_is_400(aws, year):
    status, body, _ = staff("GET", f"/calendar/{year}", LEADER)
    assert status == 400 and body["error"]["details"][0]["field"] == "year"


# ------------------------------------------------------------------ races
def test_given_two_changes_at_once_then_the_second_gets_409_and_the_first_stands(aws, monkeypatch):
    staff("PUT", "/calendar/2027", CENTRE, {"days": SPRING_2027})
    original = store.load_all
    raced = []

    def read_then_lose_the_race():
        stale = original()
        if not raced:  # another centre operator stores 2027 between this PUT's read and its write
            raced.append("centre02")
            store.save_years({2027: (CalendarDay(date="2027-02-08", kind="holiday", name="春节"),)},
                             actor="centre02", source="application/json")
        return stale

    monkeypatch.setattr(store, "load_all", read_then_lose_the_race)
    status, body, _ = staff("PUT", "/calendar/2027", CENTRE, {"days": []})
    assert status == 409 and body["error"]["code"] == "conflict"
    monkeypatch.setattr(store, "load_all", original)
    assert store.load_year(2027).version == 2 and store.load_year(2027).updated_by == "centre02"
    assert [h["version"] for h in store.history(2027)] == [1, 2]  # the loser wrote nothing


# ------------------------------------------------------------------ another warm container
def test_another_container_picks_up_a_new_version_after_its_ttl(aws):
    class Tick:
        now = 5000.0

        def __call__(self) -> float:
            return self.now

    tick = Tick()
    calendar.reset(ttl=60, monotonic=tick)  # this process as a container that read the supplement a while ago
    assert is_working_day(date(2027, 2, 8)) and coverage(2027) == "none"
    store.save_years({2027: tuple(CalendarDay.model_validate(d) for d in SPRING_2027)}, actor="centre01",
                     source="another container")
    tick.now += 30
    assert is_working_day(date(2027, 2, 8))  # within its TTL: what it read
    tick.now += 31
    assert not is_working_day(date(2027, 2, 8)) and coverage(2027) == "supplement"


# ------------------------------------------------------------------ the command line
def test_the_cli_imports_a_file_of_several_years_year_by_year(aws, tmp_path, capsys):
    path = tmp_path / "节假日.csv"
    path.write_text("日期,类型,名称\n2026-03-16,放假,县庆\n" +
                    "".join(f"2027-02-{d:02d},放假,春节\n" for d in range(6, 13)) + "2027-02-20,调休上班,调休\n",
                    encoding="utf-8-sig")
    assert cli.main(["calendar", "import", str(path), "--by", "张三"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(y["year"], y["version"], y["days"], y["coverage"]) for y in out["stored"]] == [
        (2026, 1, 1, "package"), (2027, 1, 8, "supplement")]
    assert store.load_year(2027).updated_by == "张三" and [h["source"] for h in store.history(2026)] == ["节假日.csv"]
    assert cli.main(["calendar", "show", "2027"]) == 0
    assert json.loads(capsys.readouterr().out)["coverage"] == "supplement"


def test_the_cli_rejects_a_file_with_any_problem_whole_and_prints_every_one(aws, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2026-03-16,holiday,县庆\n2027-02-06,holiday,春节\n2027-02-06,workday,春节\n"
                    "2027-02-07,leave,春节\n2027-13-01,holiday,春节\n", encoding="utf-8")
    assert cli.main(["calendar", "import", str(path)]) != 0
    err = capsys.readouterr().err
    assert "row 4, column date" in err and "row 5, column kind" in err and "row 6, column date" in err
    assert calendar_items() == []  # not even the good year 2026
    assert cli.main(["calendar", "import", str(path), "--year", "1"]) != 0
    assert cli.main(["calendar", "import", str(tmp_path / "missing.csv")]) != 0


def test_the_cli_with_a_year_stores_only_that_year(aws, tmp_path, capsys):
    path = tmp_path / "2027.csv"
    path.write_text("date,kind,name\n2028-01-01,holiday,元旦\n", encoding="utf-8")
    assert cli.main(["calendar", "import", str(path), "--year", "2027"]) != 0
    assert "row 2, column date" in capsys.readouterr().err and calendar_items() == []


# ------------------------------------------------------------------ generated bad input
KINDS = st.one_of(st.sampled_from(["holiday", "workday", "放假", ""]), st.text(max_size=5))
DAY = st.fixed_dictionaries({"date": st.one_of(st.dates().map(str), st.text(max_size=12), st.integers(), st.none()),
                             "kind": KINDS,
                             "name": st.one_of(st.text(max_size=25), st.integers())})
BODIES = st.one_of(
    st.fixed_dictionaries({"days": st.lists(st.one_of(DAY, st.integers(), st.text(max_size=5)), max_size=6)}),
    st.dictionaries(st.text(max_size=6), st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                                                      lambda inner: st.lists(inner, max_size=3), max_leaves=6),
                    max_size=3).map(lambda d: json.dumps(d)),
    st.binary(max_size=60))


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(year=st.one_of(st.just("2027"), st.text(alphabet="0123456789+-abc", min_size=1, max_size=6)), body=BODIES,
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/csv"]))
def test_generated_input_is_answered_4xx_or_stored_whole_never_5xx(aws, year, body, content_type):
    raw = json.dumps(body, ensure_ascii=False) if isinstance(body, dict) else body
    before = calendar_items()
    status, answer, _ = staff("PUT", f"/calendar/{year}", CENTRE, raw=raw, headers={"Content-Type": content_type})
    assert status == 200 or 400 <= status < 500, (status, answer)
    if status == 200:  # valid after all: the year is stored whole, as its next version
        assert answer["version"] >= 1 and len(answer["days"]) == len(body["days"])
    else:
        assert isinstance(answer["error"]["code"], str)
        assert calendar_items() == before
