"""Hotspot warnings (热点预警): the rising rule and the repeated rule of `minyi.reports.hotspots`, and
`minyi hotspots --replay` over a small CSV written here (no ../shared needed)."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import pytest

from minyi.core import clock
from minyi.entrypoints import cli
from minyi.reports.hotspots import HotspotRules, Message, detect, poisson_tail

START = datetime(2024, 3, 1, 9, 0, tzinfo=clock.SHANGHAI)


def day(n: int, hour: int = 9) -> datetime:
    return START + timedelta(days=n, hours=hour - 9)


def daily(counts: list[int], matter: str = "城乡建设", township: str | None = None) -> list[Message]:
    """counts[n] messages of the matter on day n, spread over the working day, no one asking twice."""
    return [Message(at=day(n, 8 + i % 10), matter=matter, township=township)
            for n, count in enumerate(counts) for i in range(count)]


def background(days: int) -> list[Message]:
    """One message a day about something else: the input covers every window."""
    return daily([1] * days, matter="背景事项")


def rising(hotspots):
    return [h for h in hotspots if h.kind == "rising"]


def asked(phone: str, days: list[int], matter: str = "劳动和社会保障", place: str | None = None) -> list[Message]:
    return [Message(at=day(n), matter=matter, phone=phone, place=place) for n in days]


def test_poisson_tail_matches_the_textbook_values():
    # P(X ≥ 0) = 1; P(X ≥ 1 | 2) = 1 − e^-2; P(X ≥ 11 | 4) ≈ 0.00284 (the CDF table's complement)
    assert poisson_tail(0, 2.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - 0.1353352832, rel=1e-9)
    assert poisson_tail(11, 4.0) == pytest.approx(0.0028397, rel=1e-4)
    assert poisson_tail(60, 1.0) > 0  # far tails do not underflow to nothing


def test_a_flat_series_flags_nothing():
    # Given ninety days of a matter at 2 to 7 a day around a mean of 4.25, in a township
    pattern = [2, 4, 6, 3, 5, 4, 7, 3]
    messages = daily([pattern[n % len(pattern)] for n in range(90)], township="梅林镇")
    # When the detector runs
    found = detect(messages)
    # Then nothing rises: 7 against 4.25 is ordinary (tail ≈ 0.13)
    assert rising(found) == []


def test_a_spike_above_the_rule_flags_exactly_that_day_in_the_township_and_county_wide():
    # Given 4 a day for sixty days in 梅林镇, and 16 on day 45
    counts = [4] * 60
    counts[45] = 16
    # When the detector runs
    found = rising(detect(daily(counts, township="梅林镇")))
    # Then day 45 and only day 45 is flagged, once for the township and once for the county
    assert [(h.township, h.first, h.last, h.count) for h in sorted(found, key=lambda h: h.township or "")] == [
        (None, day(45).date(), day(45).date(), 16), ("梅林镇", day(45).date(), day(45).date(), 16)]
    assert found[0].baseline == pytest.approx(4.0)
    assert found[0].strength >= 3  # −log10 of a tail at or below p = 0.001


def test_a_spike_just_under_the_poisson_quantile_is_not_flagged():
    # Given 4 a day, and 11 on day 45 (P(X ≥ 11 | 4) ≈ 0.0028 > 0.001)
    counts = [4] * 60
    counts[45] = 11
    # Then nothing rises, though 11 is well above min_count
    assert rising(detect(daily(counts))) == []


def test_a_jump_below_min_count_never_flags_however_unlikely():
    # Given a matter seen once in two months, then 4 on one day, while the input covers every window
    counts = [0] * 60
    counts[10], counts[50] = 1, 4
    messages = daily(counts, matter="环境保护") + background(60)
    # When the detector runs with the default min_count of 5
    found = rising(detect(messages))
    # Then 4 (tail ≈ 1e-6 against a baseline of 1/28) is not a hotspot
    assert found == []
    # and with min_count 4 it is: it was min_count that held it back
    assert [h.first for h in rising(detect(messages, HotspotRules(min_count=4)))] == [day(50).date()]


def test_consecutive_flagged_days_are_one_hotspot():
    counts = [3] * 60
    counts[40], counts[41] = 15, 14
    found = [h for h in rising(detect(daily(counts))) if h.township is None]
    assert [(h.first, h.last, h.count) for h in found] == [(day(40).date(), day(41).date(), 29)]


def test_days_whose_window_the_input_does_not_cover_are_not_judged():
    # Given one stray message a year earlier, then a busy first day of data
    messages = [Message(at=day(-365), matter="城乡建设"), *daily([20, 3, 3], matter="城乡建设")]
    # Then the first day is not a hotspot: its baseline is unknown, not zero
    assert rising(detect(messages)) == []


def test_three_repeats_from_one_phone_flag_once():
    # Given one caller asking about the same matter on days 0, 5 and 12
    found = detect(asked("h-1", [0, 5, 12]))
    # Then one repeated hotspot, for the leaders, keyed by the phone
    assert [(h.kind, h.key_kind, h.key, h.count, h.first, h.last) for h in found] == [
        ("repeated", "phone", "h-1", 3, day(0).date(), day(12).date())]


def test_later_repeats_within_the_window_join_the_same_hotspot():
    found = detect(asked("h-1", [0, 5, 12, 30, 80, 85, 88]))
    assert [(h.count, h.first, h.last) for h in found] == [
        (4, day(0).date(), day(30).date()), (3, day(80).date(), day(88).date())]


def test_two_repeats_do_not_flag():
    assert detect(asked("h-1", [0, 5])) == []


def test_repeats_outside_the_window_do_not_flag():
    # Given three asks, each 20 days apart: no three of them within 30 days
    assert detect(asked("h-1", [0, 20, 40])) == []


def test_repeats_about_different_matters_or_from_different_phones_do_not_flag():
    messages = asked("h-1", [0, 1]) + asked("h-2", [2]) + asked("h-1", [3], matter="城乡建设")
    assert detect(messages) == []


def test_repeats_at_one_place_flag_by_place():
    messages = [Message(at=day(n), matter="城乡建设", township="梅林镇", phone=f"h-{n}", place="梅林镇长洛村")
                for n in (1, 2, 9)]
    found = detect(messages)
    assert [(h.key_kind, h.key, h.township, h.count) for h in found] == [("place", "梅林镇长洛村", "梅林镇", 3)]


def test_the_detector_is_deterministic_whatever_the_input_order():
    counts = [4] * 60
    counts[45] = 16
    messages = daily(counts, township="梅林镇") + asked("h-1", [0, 5, 12])
    assert detect(messages) == detect(list(reversed(messages)))


def write_messages(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "user_id", "subject", "time", "detail", "oppose_count", "like_count"])
        writer.writerows(rows)


def test_the_replay_cli_routes_a_csv_and_prints_its_hotspots(tmp_path, capsys):
    # Given forty days of one 路灯 message a day, 12 on day 35, and one user writing about unpaid wages 3 times
    rows, number = [], 0
    for n in range(40):
        for _ in range(12 if n == 35 else 1):
            number += 1
            rows.append([number, f"U{number}", "小区路灯不亮", day(n).strftime("%Y/%m/%d %H:%M:%S"),
                         "梅林镇长洛村小区路灯坏了很久", 0, 0])
    for n in (3, 9, 20):
        number += 1
        at = day(n).strftime("%Y/%m/%d %H:%M:%S")
        rows.append([number, "U-same", "公司拖欠工资", at, "老板拖欠工资三个月", 0, 0])
    source = tmp_path / "messages.csv"
    write_messages(source, rows)

    # When the replay runs
    assert cli.main(["hotspots", "--replay", str(source), "--top", "5"]) == 0
    out = capsys.readouterr().out

    # Then it says what it read and flags the spike and the repeated caller, in 2024
    assert f"{len(rows)} messages, {len(rows)} routed" in out
    assert "2024: " in out
    assert f"城乡建设 | 梅林镇 | {day(35).date()}..{day(35).date()} | 12 |" in out
    assert f"劳动和社会保障 | - | {day(3).date()}..{day(20).date()} | 3 | phone " in out
    assert "U-same" not in out  # the asker is hashed

    # And --json gives the same hotspots as data
    assert cli.main(["hotspots", "--replay", str(source), "--json", "--level", "3"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["rows"] == len(rows)
    assert sum(answer["per_year"]["2024"].values()) >= 2
    assert [h["count"] for h in answer["top"]["repeated"] if h["key_kind"] == "phone"] == [3]
    assert any(h["first"] == str(day(35).date()) for h in answer["top"]["rising"])


def test_the_replay_cli_says_what_is_wrong_with_a_csv_without_times(tmp_path, capsys):
    source = tmp_path / "bad.csv"
    source.write_text("标题,内容\n路灯,不亮\n", encoding="utf-8")
    assert cli.main(["hotspots", "--replay", str(source)]) == 2
    assert "time column" in capsys.readouterr().err


def test_rules_are_validated():
    with pytest.raises(ValueError):
        HotspotRules(p_value=0)
    assert HotspotRules().model_dump()["baseline_days"] == 28
