"""The lifecycle table, status by command: what is allowed leads to the right status,
what is not is refused with the right error. The expectations are written out here by
hand, from the reform's rules, and checked against the code's table and steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from minyi.casework import followup, handling, steps, supervision
from minyi.casework.shell import attempt
from minyi.core.clock import SHANGHAI
from minyi.core.errors import Conflict, Forbidden
from minyi.models import lifecycle
from minyi.models.clock import ClockRules, ExtensionRequest, LeaderCase, PauseReason, PauseRequest
from minyi.models.duty import DutyList
from minyi.models.handling import Attachment, ContactMethod
from minyi.models.lifecycle import STATUSES, AuditAction, Command, OrderStatus, Party
from minyi.models.order import CloseReason, Evaluation, OrderReturn, ReplyResult, ReturnReason, Satisfaction
from minyi.routing import duty_list
from minyi.routing.matcher import Matcher
from tests.builders import CO, LEAD, an_order

S = OrderStatus
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
MATCHER = Matcher(DutyList(version=3, matters=duty_list.parse_csv(duty_list.sample_csv())))

EVALUATION = Evaluation(satisfaction=Satisfaction.DISSATISFIED, resolved=False, method="phone", source="centre",
                        by="zhongxin01", at=NOW)
ATTACHMENT = Attachment(attachment_id="A0123456789ab", filename="现场.jpg", content_type="image/jpeg", size=10,
                        key="attachments/x/A0123456789ab", department=LEAD, by="u", at=NOW)
# command -> (the party that takes it, the step)
STEPS = {
    Command.DISPATCH: (Party.CENTRE, lambda: steps.manual_dispatch(MATCHER, "CX-02-04", None, NOW)),
    Command.SIGN: (Party.LEAD, lambda: handling.sign_for(LEAD, "u", NOW)),
    Command.CONTACT: (Party.LEAD, lambda: handling.contact(LEAD, ContactMethod.PHONE, "已电话联系", "u", NOW)),
    Command.OPINION: (Party.CO_HANDLER, lambda: handling.opinion(CO, "同意", "u", NOW)),
    Command.ATTACH: (Party.LEAD, lambda: handling.attach(ATTACHMENT)),
    Command.RETURN: (Party.LEAD, lambda: steps.return_order(LEAD, ReturnReason.NOT_OUR_DUTY, "不是我们的", NOW)),
    Command.UPHOLD: (Party.CENTRE, steps.uphold),
    Command.REDISPATCH: (Party.CENTRE, lambda: steps.redispatch(MATCHER, "CX-02-04", "区住建局", NOW)),
    Command.DISPUTE: (Party.CENTRE, lambda: steps.dispute("城管与住建对权属有争议")),
    Command.DECIDE: (Party.CENTRE, lambda: steps.decide(MATCHER, "区住建局", None, "CX-02-04", "会议决定", NOW)),
    Command.ESCALATE: (Party.SYSTEM, lambda: supervision.clock_step(NOW + timedelta(days=30), ClockRules())),
    Command.REPLY: (Party.LEAD, lambda: handling.reply(LEAD, "u", ReplyResult.RESOLVED, "已修复", None, [],
                                                       "区12345热线管理中心", NOW)),
    Command.APPROVE_REPLY: (Party.REVIEWER, lambda: handling.approve("zhongxin01", NOW)),
    Command.REJECT_REPLY: (Party.REVIEWER, lambda: handling.reject("zhongxin01", "答复不完整", NOW)),
    Command.EVALUATE: (Party.CENTRE, lambda: followup.evaluate(EVALUATION)),
    Command.CLOSE_UNEVALUATED: (Party.SYSTEM, lambda: followup.close_unevaluated(NOW + timedelta(days=30), 3, False)),
    Command.REOPEN: (Party.CENTRE, lambda: followup.reopen("诉求人不满意", None, 5, 3, NOW)),
    Command.CLOSE: (Party.CENTRE, lambda: followup.close(CloseReason.UNREASONABLE_DEMAND, "诉求不合理", "u", NOW)),
    Command.EXTEND: (Party.LEAD, lambda: supervision.request_extension(2, "需现场勘验", "u", NOW, ClockRules())),
    Command.REVIEW_EXTENSION: (Party.CENTRE, lambda: supervision.review_extension(True, None, None, 0, "u", NOW)),
    Command.PAUSE: (Party.LEAD, lambda: supervision.request_pause(PauseReason.THIRD_PARTY, "等待检测", None, "u", NOW)),
    Command.REVIEW_PAUSE: (Party.CENTRE, lambda: supervision.review_pause(True, None, "u", NOW)),
    Command.RESUME: (Party.LEAD, lambda: supervision.resume("u", NOW)),
    Command.LEADER_CASE: (Party.CENTRE, lambda: supervision.assign_leader_case("lingdao01", NOW + timedelta(days=9),
                                                                              None, "u", NOW)),
    Command.INSTRUCT: (Party.CASE_LEADER, lambda: supervision.instruct("请加快办理", None, "lingdao01", NOW)),
}
# what an order holds before some commands make sense (a request waiting, a leader's case)
PREPARED = {
    Command.REVIEW_EXTENSION: {"extension_request": ExtensionRequest(days=2, reason="需现场勘验", by="u", at=NOW)},
    Command.REVIEW_PAUSE: {"pause_request": PauseRequest(reason=PauseReason.THIRD_PARTY, by="u", at=NOW)},
    Command.INSTRUCT: {"leader_case": LeaderCase(leader="lingdao01", due=NOW + timedelta(days=9), assigned_by="u",
                                                 assigned_at=NOW)},
}
# (status, command) -> the status it leads to; every pair not listed is refused with 409
ALLOWED = {
    (S.MANUAL, Command.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, Command.SIGN): S.SIGNED,
    (S.SIGNED, Command.CONTACT): S.SIGNED,
    (S.DISPATCHED, Command.OPINION): S.DISPATCHED,
    (S.SIGNED, Command.OPINION): S.SIGNED,
    (S.DISPATCHED, Command.ATTACH): S.DISPATCHED,
    (S.SIGNED, Command.ATTACH): S.SIGNED,
    (S.DISPATCHED, Command.RETURN): S.RETURNED,
    (S.SIGNED, Command.RETURN): S.RETURNED,
    (S.RETURNED, Command.UPHOLD): S.DISPATCHED,
    (S.RETURNED, Command.REDISPATCH): S.DISPATCHED,
    (S.DISPATCHED, Command.DISPUTE): S.JOINT_MEETING,
    (S.SIGNED, Command.DISPUTE): S.JOINT_MEETING,
    (S.RETURNED, Command.DISPUTE): S.JOINT_MEETING,
    (S.MANUAL, Command.DISPUTE): S.JOINT_MEETING,
    (S.DISSATISFIED, Command.DISPUTE): S.JOINT_MEETING,
    (S.JOINT_MEETING, Command.DECIDE): S.DISPATCHED,
    (S.MAYOR_DAY, Command.DECIDE): S.DISPATCHED,
    (S.DISPATCHED, Command.ESCALATE): S.DISPATCHED,
    (S.SIGNED, Command.ESCALATE): S.SIGNED,
    (S.REPLY_REVIEW, Command.ESCALATE): S.REPLY_REVIEW,
    (S.AWAITING_EVALUATION, Command.ESCALATE): S.AWAITING_EVALUATION,
    (S.DISPATCHED, Command.EXTEND): S.DISPATCHED,
    (S.SIGNED, Command.EXTEND): S.SIGNED,
    (S.DISPATCHED, Command.REVIEW_EXTENSION): S.DISPATCHED,
    (S.SIGNED, Command.REVIEW_EXTENSION): S.SIGNED,
    (S.SIGNED, Command.PAUSE): S.SIGNED,
    (S.SIGNED, Command.REVIEW_PAUSE): S.PAUSED,
    (S.PAUSED, Command.RESUME): S.SIGNED,
    (S.PAUSED, Command.ATTACH): S.PAUSED,
    (S.PAUSED, Command.CONTACT): S.PAUSED,
    **{(status, Command.LEADER_CASE): status for status in (S.DISPATCHED, S.SIGNED, S.PAUSED, S.REPLY_REVIEW)},
    **{(status, Command.INSTRUCT): status for status in (S.DISPATCHED, S.SIGNED, S.PAUSED, S.REPLY_REVIEW)},
    (S.SIGNED, Command.REPLY): S.REPLY_REVIEW,
    (S.REPLY_REVIEW, Command.APPROVE_REPLY): S.AWAITING_EVALUATION,
    (S.REPLY_REVIEW, Command.REJECT_REPLY): S.SIGNED,
    (S.AWAITING_EVALUATION, Command.EVALUATE): S.DISSATISFIED,
    (S.AWAITING_EVALUATION, Command.CLOSE_UNEVALUATED): S.CLOSED,
    (S.DISSATISFIED, Command.REOPEN): S.SIGNED,
    (S.DISSATISFIED, Command.CLOSE): S.CLOSED,
}
# the party each allowed pair needs, where it is not the command's usual one
PARTY = {(S.MAYOR_DAY, Command.DECIDE): Party.LEADER}
PAIRS = [(status, command) for status in OrderStatus for command in STEPS]


@pytest.mark.parametrize(("status", "command"), PAIRS, ids=[f"{s.value}-{c.value}" for s, c in PAIRS])
def test_every_status_and_command(status, command):
    # Given an order in this status, and the party that takes this command
    party, step = STEPS[command]
    party = PARTY.get((status, command), party)
    order = an_order(status, **PREPARED.get(command, {}))
    if (status, command) in ALLOWED:
        # When it is taken, Then the order is in the status the rules say, through the table
        outcome = attempt(order, command, frozenset({party}), step())
        assert outcome.order.status is ALLOWED[status, command]
        # and every party the row does not name is refused with 403
        allowed = {p for row in lifecycle.transitions(status, command) for p in row.who}
        for other in set(Party) - allowed:
            with pytest.raises(Forbidden):
                attempt(order, command, frozenset({other}), step())
    else:
        # When it is taken in a status that does not allow it, Then 409, and the step never runs
        with pytest.raises(Conflict):
            attempt(order, command, frozenset({party}), lambda _: pytest.fail("the step ran"))


# moves a step takes besides the one ALLOWED lists for the pair, by what the order holds
ALSO = {(S.DISPATCHED, Command.RETURN, S.JOINT_MEETING), (S.SIGNED, Command.RETURN, S.JOINT_MEETING),
        (S.JOINT_MEETING, Command.DECIDE, S.MAYOR_DAY), (S.SIGNED, Command.REPLY, S.AWAITING_EVALUATION),
        (S.AWAITING_EVALUATION, Command.EVALUATE, S.CLOSED), (S.DISSATISFIED, Command.REOPEN, S.JOINT_MEETING),
        (S.SIGNED, Command.REVIEW_PAUSE, S.SIGNED)}


def test_the_code_table_allows_exactly_the_staff_and_sweep_moves_written_here():
    in_table = {(row.source, row.command, row.target) for row in lifecycle.TRANSITIONS if row.command in STEPS}
    assert in_table == {(s, c, t) for (s, c), t in ALLOWED.items()} | ALSO


@pytest.mark.parametrize("status", [S.DISPATCHED, S.SIGNED])
def test_a_second_return_goes_to_the_joint_meeting(status):
    order = an_order(status, returns=[OrderReturn(department="区住建局", category=ReturnReason.WRONG_PLACE,
                                                  text="属地错误", at=NOW)])
    party, step = STEPS[Command.RETURN]
    outcome = attempt(order, Command.RETURN, frozenset({party}), step())
    assert outcome.order.status is S.JOINT_MEETING and len(outcome.order.returns) == 2
    assert lifecycle.audit_action(status, Command.RETURN, S.JOINT_MEETING) is AuditAction.RETURNED_TO_JOINT_MEETING


def test_a_step_that_leads_outside_the_table_is_a_bug_not_a_transition():
    def rogue(order):
        from minyi.casework.shell import Outcome

        return Outcome(order.model_copy(update={"status": S.RECEIVED}))

    with pytest.raises(RuntimeError, match="lifecycle table"):
        attempt(an_order(S.MANUAL), Command.DISPUTE, frozenset({Party.CENTRE}), rogue)


@pytest.mark.parametrize("status", [S.DISPATCHED, S.SIGNED])
def test_overdue_is_a_fact_the_lapse_stays_with_the_department_and_the_status_stays(status):
    # Given an order whose completion limit has passed, with its other limits already dealt with
    order = an_order(status)
    done = {kind: limit.model_copy(update={"met_at": NOW}) for kind, limit in order.deadlines.items()
            if kind.value != "complete"}
    order = order.model_copy(update={"deadlines": {**order.deadlines, **done}})
    complete = order.deadlines[next(k for k in order.deadlines if k.value == "complete")]
    # When the clock's step runs before the limit's instant, Then only the warning is due
    warned = attempt(order, Command.ESCALATE, frozenset({Party.SYSTEM}),
                     supervision.clock_step(complete.due - timedelta(seconds=1), ClockRules()))
    assert warned.order.overdue_at is None and warned.audit is AuditAction.DEADLINE_APPROACHING
    # When it runs after the limit, Then overdue is recorded with the department, and the status stays
    late = attempt(warned.order, Command.ESCALATE, frozenset({Party.SYSTEM}),
                   supervision.clock_step(complete.due + timedelta(1), ClockRules()))
    assert late.order.status is status and late.order.overdue_at is not None
    assert late.audit is AuditAction.ESCALATED_OVERDUE
    assert [(lapse.department, lapse.due_at) for lapse in late.order.lapses] == [(LEAD, order.due_at)]
    # and the next firing is the ladder's first step (催办), never a second lapse
    again = attempt(late.order, Command.ESCALATE, frozenset({Party.SYSTEM}),
                    supervision.clock_step(complete.due + timedelta(2), ClockRules()))
    assert again.audit is AuditAction.REMINDED and len(again.order.lapses) == 1


def test_a_legacy_overdue_order_reads_as_dispatched_and_its_writes_accept_the_old_value():
    assert lifecycle.status_of("overdue") is S.DISPATCHED
    assert "overdue" in lifecycle.stored_forms(S.DISPATCHED)


def test_roles_that_can_never_take_a_command_are_refused_before_the_order_is_read():
    lifecycle.check_role(frozenset({"centre"}), Command.DISPATCH)
    lifecycle.check_role(frozenset({"department"}), Command.RETURN)
    lifecycle.check_role(frozenset({"leader"}), Command.DECIDE)
    lifecycle.check_role(frozenset({"department"}), Command.APPROVE_REPLY)  # a forwarded channel's reviewer
    for roles, command in [({"department"}, Command.DISPATCH), ({"leader"}, Command.RETURN),
                           ({"leader"}, Command.DISPUTE), (set(), Command.UPHOLD), ({"centre"}, Command.RETURN),
                           ({"leader"}, Command.SIGN), ({"leader"}, Command.REOPEN), ({"department"}, Command.REOPEN),
                           ({"centre"}, Command.SIGN), ({"department"}, Command.EVALUATE)]:
        with pytest.raises(Forbidden):
            lifecycle.check_role(frozenset(roles), command)


def test_every_status_has_a_chinese_label_and_the_queues_are_derived():
    assert all(row.label and row.public_label and row.open311 in ("open", "closed") for row in STATUSES.values())
    assert lifecycle.QUEUES == {"undispatched": S.RECEIVED, "manual": S.MANUAL, "review": S.RETURNED,
                                "joint_meeting": S.JOINT_MEETING, "mayor_day": S.MAYOR_DAY,
                                "reply_review": S.REPLY_REVIEW, "follow_up": S.AWAITING_EVALUATION,
                                "dissatisfied": S.DISSATISFIED, "paused": S.PAUSED}
    assert lifecycle.IN_HAND == (S.DISPATCHED, S.SIGNED)
    assert [s for s, row in STATUSES.items() if row.open311 == "closed"] == [S.CLOSED]


def test_docs_lifecycle_md_holds_the_table():
    """docs/lifecycle.md lists every status and every transition of the code's table."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    for status, row in STATUSES.items():
        assert f"| `{status.value}` | {row.label} |" in text, status
    for row in lifecycle.TRANSITIONS:
        if row.command is Command.DELIVER_REPLY:
            # a delivery lands in whatever status the order is in by then: one row each
            assert f"| delivery statuses | `{row.command.value}` | unchanged | system | `{row.audit.value}` |" in text
            continue
        source = f"`{row.source.value}`" if row.source else "—"
        who = ", ".join(sorted(party.value for party in row.who))
        queue = f"`{STATUSES[row.target].queue}`" if STATUSES[row.target].queue else "—"
        line = f"| {source} | `{row.command.value}` | `{row.target.value}` | {who} | `{row.audit.value}` | {queue} |"
        assert line in text, row
