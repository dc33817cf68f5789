"""The local stack's virtual clock (what its scheduled events carry) and the instants
POST /_local/schedules/<Function>/fire accepts."""

from datetime import UTC, datetime, timedelta

import pytest

from infra.local_stack import StackClock, parse_instant


class FakeMonotonic:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_virtual_time_runs_compression_times_as_fast_from_the_start():
    # Given a stack started at 09:00 UTC with compression 30
    tick = FakeMonotonic()
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    clock = StackClock(30, virtual=True, monotonic=tick, start=start)
    assert clock.now() == start
    # When 48 real minutes pass, Then a whole day has passed for the schedules
    tick.seconds += 48 * 60
    assert clock.now() == start + timedelta(days=1)
    # and 10 real seconds (one sweep interval at 30x) is 5 minutes
    tick.seconds += 10
    assert clock.now() == start + timedelta(days=1, minutes=5)
    assert clock.describe()["virtual"] is True and clock.describe()["compression"] == 30


def test_without_the_virtual_clock_the_schedules_carry_the_real_time():
    tick = FakeMonotonic()
    clock = StackClock(30, virtual=False, monotonic=tick, start=datetime(2000, 1, 1, tzinfo=UTC))
    tick.seconds += 86400
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_an_instant_needs_its_zone():
    assert parse_instant("2026-12-01T09:00:00+08:00") == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert parse_instant("2026-12-01T01:00:00Z") == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    for bad in ("2026-12-01T09:00:00", "2026-12-01", "tomorrow", "2026-13-01T00:00:00Z"):
        with pytest.raises(ValueError):
            parse_instant(bad)


def test_a_schedule_with_input_delivers_that_json_and_the_stack_adds_its_time():
    from types import SimpleNamespace

    from infra import events
    from infra.local_stack import LocalStack
    from infra.template import ScheduleSource

    at = datetime(2026, 11, 8, 17, 0, tzinfo=UTC)
    weekly = ScheduleSource("cron(0 17 ? * SUN *)", "Weekly", '{"period_kind": "week"}')
    # EventBridge: with Input the target gets exactly that JSON, no time
    assert events.schedule_target_event("rule", "ap-east-1", at, weekly.input, stamp_time=False) == {
        "period_kind": "week"}
    # the local stack adds the time its schedules carry, so its virtual clock reaches the handler
    assert events.schedule_target_event("rule", "ap-east-1", at, weekly.input) == {
        "period_kind": "week", "time": "2026-11-08T17:00:00Z"}
    # without Input, the Scheduled Event
    plain = events.schedule_target_event("rule", "ap-east-1", at, None)
    assert plain["detail-type"] == "Scheduled Event" and plain["time"] == "2026-11-08T17:00:00Z"

    fn = SimpleNamespace(logical_id="ReportBuildFunction")
    virtual = SimpleNamespace(clock=StackClock(30, virtual=True), region="ap-east-1")
    real = SimpleNamespace(clock=StackClock(30, virtual=False), region="ap-east-1")
    assert LocalStack._schedule_event(virtual, fn, weekly, at)["time"] == "2026-11-08T17:00:00Z"
    assert "time" not in LocalStack._schedule_event(real, fn, weekly, at)  # the handler reads its clock
    assert LocalStack._schedule_event(real, fn, weekly, at, chosen=True)["time"] == "2026-11-08T17:00:00Z"


def test_weekly_and_monthly_crons_fire_every_seven_and_thirty_local_days():
    from infra.local_stack import cron_period

    assert cron_period("cron(0 17 * * ? *)") == 86400
    assert cron_period("cron(0 17 ? * SUN *)") == 7 * 86400
    assert cron_period("cron(0 17 L * ? *)") == 30 * 86400
