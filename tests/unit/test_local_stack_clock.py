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
