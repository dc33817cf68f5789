"""Assessment (考核): the facts scripted orders contribute, the rates and the score made of
them, computed by hand (docs/kpi.md), and the 红榜/黑榜 ranking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from minyi.models.clock import Extension, LadderRung, LadderStep, LimitKind
from minyi.models.kpi import Counters, Fact, Rates, ScoreWeights
from minyi.models.order import (
    Closure,
    ClosureKind,
    Evaluation,
    Lapse,
    OrderReturn,
    Reply,
    ReplyResult,
    ReplyStatus,
    ReturnReason,
    Satisfaction,
)
from minyi.reports.kpi import counters_of, facts_of, rank, rates, score, working_days_between
from tests.builders import CO, LEAD, WHEN, an_order

NOW = WHEN + timedelta(days=30)  # 2026-12-25: every limit of the scripted orders has fallen due
DUE = WHEN + timedelta(days=5)  # the builder's completion limit: Monday 2026-11-30 10:00


def reply(written_days: float) -> Reply:
    at = WHEN + timedelta(days=written_days)
    return Reply(text="已处理。", author=LEAD, written_by="staff-区城管局", written_at=at, result=ReplyResult.RESOLVED,
                 reviewer="区12345热线管理中心", status=ReplyStatus.DELIVERED, approved_by="zhongxin01", approved_at=at)


def unevaluated(counted_satisfied: bool, **overrides):
    return an_order("closed", evaluation=None, closure=Closure(
        kind=ClosureKind.UNEVALUATED, at=WHEN + timedelta(days=6), by="system", counted_satisfied=counted_satisfied),
        **overrides)


def scripted() -> dict[str, object]:
    """The county's month in seven orders, each told by its name."""
    return {
        "signed_late": an_order("signed", signed_at=WHEN + timedelta(hours=5)),  # sign limit: 12:00 the same day
        "reopened_then_satisfied": an_order("closed", reopen_count=1, first_contact_at=WHEN + timedelta(hours=2)),
        "extended_then_replied": an_order(
            "awaiting_evaluation", due_at=WHEN + timedelta(days=8), reply=reply(6),
            extensions=[Extension(days=3, reason="需第三方检测", requested_by="staff-区城管局",
                                  requested_at=WHEN + timedelta(days=1), approved=True, decided_by="zhongxin01",
                                  decided_at=WHEN + timedelta(days=1), due_before=DUE,
                                  due_after=WHEN + timedelta(days=8))]),
        "unevaluated_not_counted": unevaluated(False),
        "unevaluated_counted_and_late": unevaluated(True, reply=reply(6), lapses=[
            Lapse(department=LEAD, due_at=DUE, overdue_at=DUE)]),
        "redispatched_after_running_over": an_order(
            "signed", department=CO, co_departments=[], dispatched_at=WHEN + timedelta(days=8),
            due_at=WHEN + timedelta(days=13), signed_at=WHEN + timedelta(days=8, minutes=30),
            lapses=[Lapse(department=LEAD, due_at=DUE, overdue_at=DUE)],
            returns=[OrderReturn(department=LEAD, category=ReturnReason.NOT_OUR_DUTY, text="不归我们管",
                                 at=WHEN + timedelta(days=7))]),
        "returned_and_upheld": an_order(
            "dispatched", returns=[OrderReturn(department=LEAD, category=ReturnReason.NOT_OUR_DUTY, text="不归我们管",
                                               at=WHEN + timedelta(hours=1))]),
    }


def totals(orders, department: str) -> Counters:
    tallies = [t for order in orders for t in facts_of(order, NOW)]
    return sum(c for (_, who), c in counters_of(tallies).items() if who == department)


# ------------------------------------------------------------------ facts of one order
def test_given_an_order_signed_after_its_limit_then_its_sign_for_counts_late_on_the_limits_day():
    facts = facts_of(scripted()["signed_late"], NOW)
    sign = [t for t in facts if t.fact in (Fact.SIGN_DUE, Fact.SIGNED_IN_TIME, Fact.SIGNED_LATE)]
    assert sign == [(Fact.SIGN_DUE, date(2026, 11, 25), LEAD, 1), (Fact.SIGNED_LATE, date(2026, 11, 25), LEAD, 1)]


def test_given_an_extended_order_then_it_is_judged_on_its_extended_limit_and_the_extension_on_its_decision_day():
    by_day = counters_of(facts_of(scripted()["extended_then_replied"], NOW))
    assert by_day[(date(2026, 12, 3), LEAD)].complete_due == 1  # the extended limit, not 2026-11-30
    assert by_day[(date(2026, 12, 3), LEAD)].completed_in_time == 1  # replied 12-01, within the extension
    assert by_day[(date(2026, 11, 26), LEAD)] == Counters(extensions_requested=1, extensions=1, extension_days=3)


def test_given_an_order_redispatched_after_running_over_then_the_first_department_keeps_its_lapse_and_return():
    order = scripted()["redispatched_after_running_over"]
    assert totals([order], LEAD) == Counters(dispatched=1, returned=1, returns_redispatched=1, overdue=1,
                                             overdue_working_days=2)  # 11-30 due; returned Wed 12-02: 12-01, 12-02
    assert totals([order], CO) == Counters(dispatched=1, sign_due=1, signed_in_time=1, contact_due=1,
                                           complete_due=1)


def test_given_a_return_the_centre_has_not_decided_then_neither_upheld_nor_redispatched_and_no_limit_judged():
    order = an_order("returned")
    assert totals([order], LEAD) == Counters(dispatched=1, returned=1)


def test_given_an_order_not_yet_due_then_only_its_dispatch_counts():
    order = an_order("dispatched")
    assert [t.fact for t in facts_of(order, WHEN + timedelta(hours=1))] == [Fact.DISPATCHED]
    assert [t.fact for t in facts_of(order, WHEN + timedelta(hours=3))] == [Fact.DISPATCHED, Fact.SIGN_DUE]


# ------------------------------------------------------------------ the month's rates, by hand
def test_given_the_scripted_month_then_the_departments_counts_and_rates_are_the_hand_computed_ones():
    lead = totals(scripted().values(), LEAD)
    assert lead == Counters(
        dispatched=7,  # six current dispatches + the one that ended in a redispatch
        sign_due=6, signed_in_time=4, signed_late=1,  # the upheld one never signed: missed
        contact_due=6, contacted_in_time=1,
        complete_due=6, completed=4, completed_in_time=3,  # the unevaluated-counted one replied a day late
        evaluated=1, satisfied=1, resolved=1, unevaluated_closed=2, unevaluated_counted_satisfied=1,
        returned=2, returns_upheld=1, returns_redispatched=1, reopened=1,
        extensions_requested=1, extensions=1, extension_days=3,
        overdue=2, overdue_working_days=3)  # 2 (redispatched) + 1 (replied Tue 12-01)
    assert rates(lead) == Rates(response=4 / 6, contact=1 / 6, completion=4 / 6, on_time=3 / 6, resolution=1.0,
                                satisfaction=1.0, follow_up=1 / 4, return_rate=2 / 7, reopen=1 / 4)
    assert score(rates(lead), lead, ScoreWeights()) == pytest.approx(77.78)  # 100 × (4/6 + 4/6 + 1) / 3


@pytest.mark.parametrize(("counted", "expected"), [(False, (0, 1)), (True, (1, 2))])
def test_given_an_unevaluated_closure_then_it_counts_in_satisfaction_only_as_the_county_said(counted, expected):
    dissatisfied_then_closed = an_order("closed", evaluation=Evaluation(
        satisfaction=Satisfaction.DISSATISFIED, resolved=False, method="phone", source="centre", by="zhongxin01",
        at=WHEN + timedelta(days=2)), closure=Closure(kind=ClosureKind.BY_CENTRE, at=WHEN + timedelta(days=3),
                                                      by="zhongxin01"))
    counters = totals([dissatisfied_then_closed, unevaluated(counted)], LEAD)
    satisfied, evaluated = expected
    assert rates(counters).satisfaction == satisfied / evaluated
    assert rates(counters).resolution == 0.0  # unevaluated closures never count in 解决率
    assert rates(counters).follow_up == 1 / 2  # nor as evaluated


def test_given_nothing_due_then_every_rate_is_none_and_there_is_no_score():
    assert rates(Counters()) == Rates()
    assert score(Rates(), Counters(supervisions=3), ScoreWeights()) is None


def test_given_a_weighted_rate_without_data_then_its_weight_goes_to_the_others():
    only_signing = Counters(sign_due=4, signed_in_time=3)
    assert score(rates(only_signing), only_signing, ScoreWeights()) == 75.0


def test_given_supervisions_and_blacklist_appearances_then_deducted_and_never_below_zero():
    counters = Counters(sign_due=1, signed_in_time=1, complete_due=1, completed=1, supervisions=2)
    weights = ScoreWeights(per_supervision=1.5, per_blacklist=2)
    assert score(rates(counters), counters, weights, blacklist_appearances=1) == 100 - 3 - 2
    assert score(rates(counters), counters, ScoreWeights(per_supervision=100)) == 0.0


def test_given_counters_then_they_sum_field_by_field():
    assert Counters(sign_due=1, overdue_working_days=2) + Counters(sign_due=2, reminders=1) == Counters(
        sign_due=3, overdue_working_days=2, reminders=1)
    assert sum([Counters(returned=1), Counters(returned=2)]) == Counters(returned=3)


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("bad", [
    {"response": 0.5, "completion": 0.5, "satisfaction": 0.5},  # sums to 1.5
    {"response": -0.1, "completion": 0.6, "satisfaction": 0.5},
    {"per_supervision": -1},
    {"bonus": 1},
])
def test_given_bad_weights_then_rejected(bad):
    with pytest.raises(ValidationError):
        ScoreWeights(**bad)


def test_given_weights_then_the_formula_printed_names_each_weight_and_deduction():
    weights = ScoreWeights(response=0.3, completion=0.35, satisfaction=0.35, per_supervision=2)
    assert weights.formula().startswith("得分 = 100 × (0.3 × 响应率 + 0.35 × 办结率 + 0.35 × 满意率) − 2 × 督办次数")


# ------------------------------------------------------------------ 红榜 / 黑榜
def test_given_twelve_departments_then_top_five_red_bottom_five_black_and_ties_share_a_place():
    rows = [(f"单位{n:02d}", "departments", float(100 - n)) for n in range(12)]
    rows[5] = ("单位05", "departments", 96.0)  # ties 单位04 on the 5th place: both on the 红榜
    rows.append(("无数据单位", "departments", None))
    ranked = rank(list(reversed(rows)))  # input order does not matter
    assert [(r.name, r.rank) for r in ranked[:7]] == [("单位00", 1), ("单位01", 2), ("单位02", 3), ("单位03", 4),
                                                      ("单位04", 5), ("单位05", 5), ("单位06", 7)]
    assert [r.name for r in ranked if r.red] == ["单位00", "单位01", "单位02", "单位03", "单位04", "单位05"]
    assert [r.name for r in ranked if r.black] == ["单位07", "单位08", "单位09", "单位10", "单位11"]
    assert ranked[-1] == ("无数据单位", "departments", None, None, False, False)


def test_given_groups_then_ranked_within_each_and_a_small_group_splits_its_lists():
    rows = [("田村镇", "townships", 90.0), ("梅林镇", "townships", 80.0), ("长洛乡", "townships", 70.0),
            ("区城管局", "departments", 50.0)]
    ranked = {r.name: r for r in rank(rows)}
    assert (ranked["田村镇"].red, ranked["梅林镇"].red, ranked["梅林镇"].black, ranked["长洛乡"].black) == (
        True, False, False, True)  # three: one place on each list
    assert (ranked["区城管局"].rank, ranked["区城管局"].red, ranked["区城管局"].black) == (1, False, False)


def test_given_a_limit_the_order_never_had_then_nothing_is_judged_for_it():
    order = an_order("dispatched", deadlines={})
    assert [t.fact for t in facts_of(order, NOW)] == [Fact.DISPATCHED]
    assert LimitKind.SIGN not in order.deadlines


def test_working_days_between_counts_the_days_after_the_due_day():
    assert working_days_between(DUE, DUE + timedelta(hours=3)) == 0  # late the same day: 0 whole days
    assert working_days_between(WHEN + timedelta(days=2), WHEN + timedelta(days=5)) == 1  # Fri → Mon


def test_given_ladder_steps_on_a_missed_limit_then_each_counts_for_its_party_on_its_day():
    order = an_order("dispatched")
    opinion = order.deadlines[LimitKind.OPINION]
    sign = order.deadlines[LimitKind.SIGN]
    rungs = [LadderRung(step=LadderStep.REMIND, at=sign.due), LadderRung(step=LadderStep.SUPERVISE,
                                                                          at=WHEN + timedelta(days=8))]
    order = order.model_copy(update={"deadlines": {
        **order.deadlines, LimitKind.SIGN: sign.model_copy(update={"missed_at": sign.due, "steps": rungs}),
        LimitKind.OPINION: opinion.model_copy(update={"steps": [LadderRung(step=LadderStep.REMIND, at=opinion.due)]})}})
    by_day = counters_of(facts_of(order, NOW))
    assert by_day[(date(2026, 12, 3), LEAD)] == Counters(supervisions=1)
    assert by_day[(date(2026, 11, 25), LEAD)].reminders == 1
    assert by_day[(date(2026, 11, 26), CO)] == Counters(reminders=1)  # the co-handler's opinion limit


def test_given_an_order_still_overdue_then_its_working_days_run_to_now():
    order = an_order("signed", lapses=[Lapse(department=LEAD, due_at=DUE, overdue_at=DUE)])
    week_later = DUE + timedelta(days=7)  # Mon 11-30 → Mon 12-07: five working days
    assert totals([order], LEAD).overdue == 1
    overdue = [t for t in facts_of(order, week_later) if t.fact is Fact.OVERDUE_WORKING_DAYS]
    assert overdue == [(Fact.OVERDUE_WORKING_DAYS, date(2026, 11, 30), LEAD, 5)]
