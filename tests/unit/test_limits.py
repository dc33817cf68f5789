"""Time limits (办理时限), pure: counted time in working days, office hours and 7×24, warnings,
the ladder's instants, how a pause moves a limit, and the one timer: on real dates of the
Chinese calendar (2025-01-26 was a working Sunday; 2025-10-01..08 a holiday; 2026-02-14 a
working Saturday before the Spring Festival, 2/15–23)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from minyi.casework import timing
from minyi.core.clock import SHANGHAI
from minyi.models.clock import ClockRules, LadderStep, LimitKind, Measure
from minyi.models.lifecycle import OrderStatus
from minyi.models.roster import WorkingHours
from minyi.timelimits import limits
from tests.builders import an_order

HOURS = WorkingHours()  # 08:30–12:00, 14:30–18:00
RULES = ClockRules()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(("start", "hours", "due"), [
    ("2026-01-05T09:00", 2, "2026-01-05T11:00"),  # Monday morning
    ("2026-01-05T11:00", 2, "2026-01-05T15:30"),  # across the lunch break
    ("2026-01-09T17:00", 2, "2026-01-12T09:30"),  # Friday evening: the weekend does not count
    ("2026-01-10T10:00", 2, "2026-01-12T10:30"),  # dispatched on a Saturday
    ("2025-01-25T17:00", 2, "2025-01-26T10:30"),  # ... but 2025-01-26 was a working Sunday
    ("2026-02-13T17:00", 2, "2026-02-14T09:30"),  # and 2026-02-14 a working Saturday
    ("2026-02-14T17:00", 2, "2026-02-24T09:30"),  # then the Spring Festival, 2/15–2/23
    ("2025-09-30T17:30", 1, "2025-10-09T09:00"),  # the National Day holiday, 10/1–10/8
])
def test_office_hours_count_only_on_working_days(start, hours, due):
    assert limits.add(at(start), timedelta(hours=hours), Measure.WORKING_HOURS, HOURS) == at(due)
    assert limits.counted(at(start), at(due), Measure.WORKING_HOURS, HOURS) == timedelta(hours=hours)


def test_a_department_with_its_own_hours_counts_those():
    night_shift = WorkingHours(periods=((time(8, 0), time(20, 0)),))
    assert limits.add(at("2026-01-05T19:00"), timedelta(hours=2), Measure.WORKING_HOURS, night_shift) == \
        at("2026-01-06T09:00")


def test_working_days_count_whole_days_and_calendar_time_counts_everything():
    # Friday 12:00 to Tuesday 09:00: 12 h of Friday, Monday, 9 h of Tuesday
    assert limits.counted(at("2026-01-09T12:00"), at("2026-01-13T09:00"), Measure.WORKING_DAYS, HOURS) == \
        timedelta(hours=45)
    assert limits.counted(at("2026-01-09T12:00"), at("2026-01-13T09:00"), Measure.CALENDAR, HOURS) == \
        timedelta(hours=93)


def test_the_ladder_steps_fall_on_working_days_at_the_office_opening():
    # a limit missed on Monday 2025-01-27: the notice the next working day is after the Spring Festival
    assert limits.opening(at("2025-01-27T00:00"), 1, HOURS) == at("2025-02-05T08:30")
    # 5 working days after Wednesday 2025-02-05: 2/6, 2/7, 2/8 (a working Saturday), 2/10, 2/11
    assert limits.opening(at("2025-02-05T08:30"), 5, HOURS) == at("2025-02-11T08:30")
    assert limits.opening(at("2025-02-05T08:30"), 0, HOURS) == at("2025-02-05T08:30")


def test_a_dispatch_starts_sign_contact_opinion_and_completion_with_warnings_at_80_percent():
    planned = limits.plan_dispatch(at("2026-01-05T09:00"), at("2026-01-13T00:00"), False, 5, "区城管局",
                                   ["区住建局"], RULES, HOURS)
    assert set(planned) == {LimitKind.SIGN, LimitKind.CONTACT, LimitKind.OPINION, LimitKind.COMPLETE}
    sign = planned[LimitKind.SIGN]
    assert (sign.due, sign.warn_at) == (at("2026-01-05T11:00"), at("2026-01-05T10:36"))
    complete = planned[LimitKind.COMPLETE]
    # 15 h of Monday and five more working days (1/6–1/9, 1/12): 135 h; the warning after 108 of them
    assert complete.warn_at == at("2026-01-09T21:00")
    assert planned[LimitKind.OPINION].party == "区住建局"
    assert (complete.next_step, complete.next_step_at) == (LadderStep.REMIND, complete.due)


def test_an_urgent_dispatch_counts_calendar_time():
    planned = limits.plan_dispatch(at("2026-01-10T23:00"), at("2026-01-11T01:00"), True, None, "区城管局", [],
                                   RULES, HOURS)
    assert planned[LimitKind.SIGN].due == at("2026-01-10T23:30")
    assert planned[LimitKind.CONTACT].due == at("2026-01-11T00:00")
    assert planned[LimitKind.COMPLETE].measure is Measure.CALENDAR


def test_a_pause_moves_every_open_instant_by_the_counted_time_it_lasted():
    limit = limits.plan_dispatch(at("2026-01-05T09:00"), at("2026-01-13T00:00"), False, 5, "区城管局", [],
                                 RULES, HOURS)[LimitKind.COMPLETE]
    moved, shift = limits.moved(limit, at("2026-01-06T12:00"), at("2026-01-08T12:00"), HOURS)
    assert shift == timedelta(hours=48) and moved.due == at("2026-01-15T00:00")
    assert moved.warn_at == limits.add(limit.warn_at, shift, Measure.WORKING_DAYS, HOURS)
    met = limit.model_copy(update={"met_at": at("2026-01-06T10:00")})
    assert limits.moved(met, at("2026-01-06T12:00"), at("2026-01-08T12:00"), HOURS) == (met, timedelta(0))


def test_the_one_timer_is_the_next_instant_due_among_the_running_limits():
    order = an_order(OrderStatus.DISPATCHED)
    first = min(limit.warn_at for limit in order.deadlines.values())
    assert timing.next_due(order)[0] == first
    # a returned order's clock stands still; a closed one has none
    assert timing.next_due(an_order(OrderStatus.RETURNED)) is None
    assert timing.next_due(an_order(OrderStatus.CLOSED)) is None
    # a signed order no longer runs its sign-for limit
    signed = an_order(OrderStatus.SIGNED)
    assert all(kind is not LimitKind.SIGN for _, kind, _ in [timing.next_due(signed)])


def test_a_late_sweep_does_not_warn_about_a_limit_it_escalates():
    order = an_order(OrderStatus.SIGNED)
    contact = order.deadlines[LimitKind.CONTACT]
    kinds = [what for _, what in timing.instants(contact, now=contact.due + timedelta(hours=1))]
    assert kinds == ["miss"]


def test_a_ladder_setting_names_each_step_once():
    with pytest.raises(ValueError, match="once"):
        ClockRules(ladder="remind:0,remind:1")
    assert ClockRules(ladder="remind:0,supervise:3").ladder == ((LadderStep.REMIND, 0), (LadderStep.SUPERVISE, 3))
