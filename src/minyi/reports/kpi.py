"""Assessment arithmetic (考核), pure: the facts one order contributes (`facts_of`, the full-scan
and backfill path's counting), the rates of a sum of counters, the county's score and the
ranking with its 红榜 and 黑榜. Definitions and every disputable choice: docs/kpi.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

from minyi.core.clock import SHANGHAI
from minyi.models.clock import Deadline, LadderStep, LimitKind
from minyi.models.kpi import WEIGHTED, Counters, Fact, Rates, ScoreWeights
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import ClosureKind, ReplyStatus, WorkOrder
from minyi.timelimits.calendar import is_working_day

S = OrderStatus
APPROVED_REPLY = (ReplyStatus.APPROVED, ReplyStatus.RETRYING, ReplyStatus.DELIVERED, ReplyStatus.DEAD_LETTERED)
AFTER_APPROVAL = (S.AWAITING_EVALUATION, S.DISSATISFIED, S.CLOSED)
PENDING_RETURN = (S.RETURNED, S.JOINT_MEETING, S.MAYOR_DAY)  # the centre (or the meeting) has not decided yet
STEP_FACTS = {LadderStep.REMIND: Fact.REMINDERS, LadderStep.NOTICE: Fact.NOTICES,
              LadderStep.SUPERVISE: Fact.SUPERVISIONS, LadderStep.PROPOSE_LEADER_CASE: Fact.LEADER_CASE_PROPOSALS}
DEPARTMENT_LIMITS = (LimitKind.SIGN, LimitKind.CONTACT, LimitKind.OPINION, LimitKind.COMPLETE)
RED_BLACK_SIZE = 5  # 红榜 top 5, 黑榜 bottom 5 per group (榆林)


class Tally(NamedTuple):
    """One fact of one order: what, the day (Asia/Shanghai) that places it in a period, whose, how many."""

    fact: Fact
    day: date
    department: str
    amount: int = 1


def day_of(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after `start`'s day up to and including `end`'s (0 when `end` is on `start`'s
    day or before it): how many working days late something is."""
    first, last = day_of(start), day_of(end)
    return sum(1 for n in range(1, (last - first).days + 1) if is_working_day(first + timedelta(days=n)))


def _judged(limit: Deadline, now: datetime) -> bool:
    """A limit counts once it is met or has fallen due (missed, even if the sweep has not said so yet)."""
    return limit.met_at is not None or limit.missed_at is not None or limit.due <= now


def facts_of(order: WorkOrder, now: datetime) -> list[Tally]:
    """The facts `order` contributes as it stands at `now`. The live counting must agree: the
    counters of a set of orders are the sum of their facts (docs/kpi.md, "Counting")."""
    lead = order.department or ""
    found: list[Tally] = []

    def tally(fact: Fact, when: datetime, department: str = lead, amount: int = 1) -> None:
        if department and amount:
            found.append(Tally(fact, day_of(when), department, amount))

    if order.dispatched_at is not None and order.status is not S.MERGED:
        tally(Fact.DISPATCHED, order.dispatched_at)
    limits = order.deadlines
    sign = limits.get(LimitKind.SIGN)
    if sign is not None and order.status not in PENDING_RETURN and _judged(sign, now):
        who = sign.party or lead
        tally(Fact.SIGN_DUE, sign.due, who)
        if sign.met_at is not None:
            tally(Fact.SIGNED_IN_TIME if sign.met_at <= sign.due else Fact.SIGNED_LATE, sign.due, who)
    contact = limits.get(LimitKind.CONTACT)
    if contact is not None and order.status not in PENDING_RETURN and _judged(contact, now):
        who = contact.party or lead
        tally(Fact.CONTACT_DUE, contact.due, who)
        if contact.met_at is not None and contact.met_at <= contact.due:
            tally(Fact.CONTACTED_IN_TIME, contact.due, who)
    complete = limits.get(LimitKind.COMPLETE)
    if complete is not None and order.status not in PENDING_RETURN and _judged(complete, now):
        who, when = complete.party or lead, complete.due
        tally(Fact.COMPLETE_DUE, when, who)
        approved = (order.status in AFTER_APPROVAL and order.reply is not None
                    and order.reply.status in APPROVED_REPLY and complete.met_at is not None)
        if approved:
            tally(Fact.COMPLETED, when, who)
            if complete.met_at <= complete.due:
                tally(Fact.COMPLETED_IN_TIME, when, who)
            evaluation = order.evaluation
            if order.status in (S.DISSATISFIED, S.CLOSED) and evaluation is not None:
                tally(Fact.EVALUATED, when, who)
                tally(Fact.SATISFIED if evaluation.satisfied else Fact.DISSATISFIED, when, who)
                if evaluation.resolved:
                    tally(Fact.RESOLVED, when, who)
            elif order.closure is not None and order.closure.kind is ClosureKind.UNEVALUATED:
                tally(Fact.UNEVALUATED_CLOSED, when, who)
                if order.closure.counted_satisfied:
                    tally(Fact.UNEVALUATED_COUNTED_SATISFIED, when, who)
        tally(Fact.REOPENED, when, who, order.reopen_count)
    for extension in order.extensions:  # only the lead department asks for them
        tally(Fact.EXTENSIONS_REQUESTED, extension.decided_at)
        if extension.approved:
            tally(Fact.EXTENSIONS, extension.decided_at)
            tally(Fact.EXTENSION_DAYS, extension.decided_at, lead, extension.days)
    for kind in DEPARTMENT_LIMITS:
        limit = limits.get(kind)
        for rung in limit.steps if limit is not None else ():
            for department in (limit.party or lead).split("、"):
                tally(STEP_FACTS[rung.step], rung.at, department)
    found.extend(_returns(order))
    found.extend(_lapses(order, now))
    return found


def _returns(order: WorkOrder) -> list[Tally]:
    """退单, and what the centre made of each: upheld (维持: the same dispatch went on) or
    redispatched (改派: a later dispatch, or the next return came from another department)."""
    found: list[Tally] = []
    for i, returned in enumerate(order.returns):
        day = day_of(returned.at)
        found.append(Tally(Fact.RETURNED, day, returned.department))
        following = order.returns[i + 1] if i + 1 < len(order.returns) else None
        # to the second: `dispatched_at` is stored to the second and a return's `at` is not, so a
        # review re-dispatching within the second of the return would otherwise look earlier (an
        # upheld return leaves the earlier dispatch's instant, seconds or more before the return)
        dispatched_after = (order.dispatched_at is not None
                            and order.dispatched_at >= returned.at.replace(microsecond=0)
                            and (following is None or order.dispatched_at < following.at))
        if dispatched_after or (following is not None and following.department != returned.department):
            found.append(Tally(Fact.RETURNS_REDISPATCHED, day, returned.department))
            # the dispatch it ended is no longer the order's own: a dispatch of the department
            # that returned it, placed on the day of the return (its own instant is not kept)
            found.append(Tally(Fact.DISPATCHED, day, returned.department))
        elif following is not None or order.status not in PENDING_RETURN:
            found.append(Tally(Fact.RETURNS_UPHELD, day, returned.department))
    return found


def _lapses(order: WorkOrder, now: datetime) -> list[Tally]:
    """超期: each completion limit a department let pass, on the day it fell due, with the working
    days from it to the reply that met it, the department's return of the order, or `now`."""
    found: list[Tally] = []
    complete = order.deadlines.get(LimitKind.COMPLETE)
    for lapse in order.lapses:
        end = now
        later_return = next((r for r in order.returns if r.department == lapse.department and r.at >= lapse.due_at),
                            None)
        if later_return is not None:
            end = later_return.at
        elif (complete is not None and complete.met_at is not None and lapse.department == order.department
              and complete.met_at >= lapse.due_at):
            end = complete.met_at
        day = day_of(lapse.due_at)
        found.append(Tally(Fact.OVERDUE, day, lapse.department))
        days = working_days_between(lapse.due_at, end)
        if days:
            found.append(Tally(Fact.OVERDUE_WORKING_DAYS, day, lapse.department, days))
    return found


def counters_of(tallies: Iterable[Tally]) -> dict[tuple[date, str], Counters]:
    """The tallies summed per (day, department)."""
    sums: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for t in tallies:
        sums[(t.day, t.department)][t.fact.value] += t.amount
    return {key: Counters(**values) for key, values in sums.items()}


# ------------------------------------------------------------------ rates and the score
def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def rates(c: Counters) -> Rates:
    """The rates of a sum of counters (docs/kpi.md); a rate whose denominator is 0 is None."""
    counted = c.evaluated + c.unevaluated_counted_satisfied  # unevaluated closures count only as the county says
    return Rates(
        response=_share(c.signed_in_time, c.sign_due),
        contact=_share(c.contacted_in_time, c.contact_due),
        completion=_share(c.completed, c.complete_due),
        on_time=_share(c.completed_in_time, c.complete_due),
        resolution=_share(c.resolved, c.evaluated),
        satisfaction=_share(c.satisfied + c.unevaluated_counted_satisfied, counted),
        follow_up=_share(c.evaluated, c.completed),
        return_rate=_share(c.returned, c.dispatched),
        reopen=_share(c.reopened, c.completed),
    )


def score(r: Rates, c: Counters, weights: ScoreWeights, blacklist_appearances: int = 0) -> float | None:
    """100 × Σ weight × rate over the weighted rates that have data (their weights scaled up to
    sum to 1), less the deductions, floored at 0 and rounded to 2 places. None when no weighted
    rate has data: nothing was due, so nothing to score (not 0, not 100)."""
    present = [(getattr(weights, name), getattr(r, name)) for name in WEIGHTED
               if getattr(weights, name) > 0 and getattr(r, name) is not None]
    total = sum(weight for weight, _ in present)
    if not present or total <= 0:
        return None
    base = 100 * sum(weight * rate for weight, rate in present) / total
    deducted = (weights.per_supervision * c.supervisions + weights.per_reminder * c.reminders
                + weights.per_overdue * c.overdue + weights.per_blacklist * blacklist_appearances)
    return round(max(0.0, base - deducted), 2)


class Ranked(NamedTuple):
    name: str
    group: str
    score: float | None
    rank: int | None  # 1 is best; equal scores share a rank (1, 2, 2, 4); None: no score
    red: bool  # 红榜
    black: bool  # 黑榜


def rank(rows: Sequence[tuple[str, str, float | None]]) -> list[Ranked]:
    """(name, group, score) rows ranked within each group (departments, townships, ...).

    Ties: equal scores share a rank (competition ranking), listed by name (Unicode order), so the
    result never depends on the input's order. A group of n scored rows has a 红榜 and a 黑榜 of
    k = min(5, n // 2) places each: 红榜 every row ranked ≤ k (a tie on the k-th place takes all
    its rows), 黑榜 every row ranked ≤ k counted from the bottom the same way, never one on the
    红榜. Rows without a score are listed last, unranked, on neither list."""
    out: list[Ranked] = []
    for group in sorted({row[1] for row in rows}):
        members = [row for row in rows if row[1] == group]
        scored = sorted((row for row in members if row[2] is not None), key=lambda row: (-row[2], row[0]))
        k = min(RED_BLACK_SIZE, len(scored) // 2)
        scores = [row[2] for row in scored]
        for name, _, value in scored:
            top = 1 + sum(1 for other in scores if other > value)
            bottom = 1 + sum(1 for other in scores if other < value)
            red = top <= k
            out.append(Ranked(name, group, value, top, red, not red and bottom <= k))
        out.extend(Ranked(name, group, None, None, False, False)
                   for name, _, _ in sorted((row for row in members if row[2] is None), key=lambda row: row[0]))
    return out
