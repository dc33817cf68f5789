"""Every time limit of an order (办理时限), computed in one place: when each starts and falls
due, when its warning falls, when each step of the escalation ladder (督办) is due, how a
pause moves them, and which limit's instant comes next (the order's one timer).

Pure: the calendar (`is_working_day`), the department's office hours and the county's
rules are passed in or read from `minyi.timelimits.calendar`; no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from minyi.core.clock import SHANGHAI, to_shanghai
from minyi.models.clock import (
    ClockRules,
    Deadline,
    LadderStep,
    LimitKind,
    Measure,
)
from minyi.models.roster import WorkingHours
from minyi.timelimits.calendar import is_certain, is_working_day
from minyi.timelimits.deadlines import working_days_deadline

DAY = timedelta(days=1)
MAX_DAYS = 3660  # no limit runs ten years: a loop past that is a bug or a probe


def _days(start: date) -> Iterator[date]:
    day = start
    for _ in range(MAX_DAYS):
        yield day
        day += DAY
    raise ValueError("a time limit ran past ten years")


def _spans(day: date, measure: Measure, hours: WorkingHours) -> list[tuple[datetime, datetime]]:
    """The counted stretches of one day."""
    midnight = datetime.combine(day, time.min, SHANGHAI)
    if measure is Measure.CALENDAR:
        return [(midnight, midnight + DAY)]
    if not is_working_day(day):
        return []
    if measure is Measure.WORKING_DAYS:
        return [(midnight, midnight + DAY)]
    return [(datetime.combine(day, start, SHANGHAI), datetime.combine(day, end, SHANGHAI))
            for start, end in hours.periods]


def counted(start: datetime, end: datetime, measure: Measure, hours: WorkingHours) -> timedelta:
    """The counted time between two instants (working days, office hours, or all of it)."""
    if end <= start:
        return timedelta(0)
    if measure is Measure.CALENDAR:
        return end - start
    total = timedelta(0)
    end_day = to_shanghai(end).date()
    for day in _days(to_shanghai(start).date()):
        if day > end_day:
            break
        for a, b in _spans(day, measure, hours):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
    return total


def add(start: datetime, amount: timedelta, measure: Measure, hours: WorkingHours) -> datetime:
    """The instant `amount` of counted time after `start`."""
    if measure is Measure.CALENDAR or amount <= timedelta(0):
        return to_shanghai(start) + max(amount, timedelta(0))
    left = amount
    start = to_shanghai(start)
    for day in _days(start.date()):
        for a, b in _spans(day, measure, hours):
            lo = max(a, start)
            if b <= lo:
                continue
            if b - lo >= left:
                return lo + left
            left -= b - lo
    raise AssertionError("unreachable")


def opening(after: datetime, working_days: int, hours: WorkingHours) -> datetime:
    """The office opening of the Nth working day after the day of `after` (0: `after` itself)."""
    if working_days <= 0:
        return after
    counted_days = 0
    for day in _days(to_shanghai(after).date() + DAY):
        if is_working_day(day):
            counted_days += 1
            if counted_days == working_days:
                return datetime.combine(day, hours.periods[0][0], SHANGHAI)
    raise AssertionError("unreachable")


def uncertain(start: datetime, due: datetime) -> bool:
    """True when the limit runs through a year no calendar covers (Mon–Fri was assumed)."""
    return any(not is_certain(date(year, 1, 1))
               for year in range(to_shanghai(start).year, to_shanghai(due).year + 1))


def _first_step(due: datetime, rules: ClockRules, hours: WorkingHours) -> tuple[LadderStep, datetime]:
    step, days = rules.ladder[0]
    return step, opening(due, days, hours)


def deadline(kind: LimitKind, start: datetime, due: datetime, measure: Measure, basis: str, party: str | None,
             rules: ClockRules, hours: WorkingHours) -> Deadline:
    warn_at = add(start, counted(start, due, measure, hours) * rules.warn_share, measure, hours)
    step, step_at = _first_step(due, rules, hours)
    return Deadline(kind=kind, measure=measure, basis=basis, start=start, due=due, warn_at=warn_at, party=party,
                    next_step=None if kind is LimitKind.EVALUATION else step,
                    next_step_at=None if kind is LimitKind.EVALUATION else step_at,
                    uncertain=uncertain(start, due))


def working_days(start: datetime, days: int) -> datetime:
    return working_days_deadline(start, days)


def plan_dispatch(start: datetime, complete_due: datetime, urgent: bool, time_limit_days: int | None,
                  lead: str | None, co_handlers: list[str], rules: ClockRules,
                  hours: WorkingHours) -> dict[LimitKind, Deadline]:
    """The limits a new dispatch starts: sign for, first contact, co-handlers' opinions and completion."""
    if urgent:
        sign = deadline(LimitKind.SIGN, start, start + timedelta(minutes=rules.urgent_sign_minutes),
                        Measure.CALENDAR, f"紧急件 {rules.urgent_sign_minutes} 分钟", lead, rules, hours)
        contact = deadline(LimitKind.CONTACT, start, start + timedelta(minutes=rules.urgent_contact_minutes),
                           Measure.CALENDAR, f"紧急件 {rules.urgent_contact_minutes} 分钟", lead, rules, hours)
        complete_measure, complete_basis = Measure.CALENDAR, "紧急件 2 小时"
    else:
        sign_due = add(start, timedelta(hours=rules.sign_hours), Measure.WORKING_HOURS, hours)
        sign = deadline(LimitKind.SIGN, start, sign_due, Measure.WORKING_HOURS,
                        f"{rules.sign_hours:g} 个工作小时", lead, rules, hours)
        contact = deadline(LimitKind.CONTACT, start, working_days(start, rules.contact_days), Measure.WORKING_DAYS,
                           f"{rules.contact_days} 个工作日", lead, rules, hours)
        complete_measure, complete_basis = Measure.WORKING_DAYS, f"{time_limit_days or '?'} 个工作日"
    limits = {LimitKind.SIGN: sign, LimitKind.CONTACT: contact,
              LimitKind.COMPLETE: deadline(LimitKind.COMPLETE, start, complete_due, complete_measure, complete_basis,
                                           lead, rules, hours)}
    if co_handlers:
        share = counted(start, complete_due, complete_measure, hours) * rules.opinion_share
        limits[LimitKind.OPINION] = deadline(
            LimitKind.OPINION, start, add(start, share, complete_measure, hours), complete_measure,
            f"办结时限的 {rules.opinion_share:.0%}", "、".join(co_handlers), rules, hours)
    return limits


def retimed(limit: Deadline, due: datetime, now: datetime, rules: ClockRules, hours: WorkingHours,
            basis: str | None = None, start: datetime | None = None) -> Deadline:
    """The limit with a new due instant (an extension, a leader's deadline, a reopen): its
    warning and ladder start over when the new instant is still ahead."""
    fresh = deadline(limit.kind, start or limit.start, due, limit.measure, basis or limit.basis, limit.party,
                     rules, hours)
    if due <= now:  # moved to an instant already past: it stays missed where it was
        return limit.model_copy(update={"due": due, "basis": basis or limit.basis})
    return fresh.model_copy(update={"warned_at": limit.warned_at if fresh.warn_at <= now else None,
                                    "met_at": limit.met_at})


def moved(limit: Deadline, paused: datetime, resumed: datetime, hours: WorkingHours) -> tuple[Deadline, timedelta]:
    """The limit after a pause: every instant still ahead of the pause moves by the counted
    time the pause lasted."""
    shift = counted(paused, resumed, limit.measure, hours)
    if not limit.open or shift <= timedelta(0):
        return limit, timedelta(0)

    def later(moment: datetime | None) -> datetime | None:
        if moment is None or moment < paused:
            return moment
        return add(moment, shift, limit.measure, hours) if limit.measure is not Measure.CALENDAR else moment + shift

    update = {"due": later(limit.due), "warn_at": later(limit.warn_at), "next_step_at": later(limit.next_step_at)}
    return limit.model_copy(update=update), shift


def next_rung(limit: Deadline, taken_at: datetime, rules: ClockRules,
              hours: WorkingHours) -> tuple[LadderStep | None, datetime | None]:
    """The ladder's step after `limit.next_step`, timed from when that one was due."""
    steps = [step for step, _ in rules.ladder]
    try:
        index = steps.index(limit.next_step)
    except ValueError:
        return None, None
    if index + 1 >= len(steps):
        return None, None
    step, days = rules.ladder[index + 1]
    return step, opening(taken_at, days, hours)
