"""The lifecycle table, status by command: what is allowed leads to the right status,
what is not is refused with the right error. The expectations are written out here by
hand, from the reform's rules, and checked against the code's table and steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from minyi.casework import steps
from minyi.casework.shell import attempt
from minyi.core.clock import SHANGHAI
from minyi.core.errors import Conflict, Forbidden
from minyi.models import lifecycle
from minyi.models.duty import DutyList
from minyi.models.lifecycle import STATUSES, AuditAction, Command, OrderStatus, Party
from minyi.models.order import OrderReturn, ReturnReason
from minyi.routing import duty_list
from minyi.routing.matcher import Matcher
from tests.builders import LEAD, an_order

S = OrderStatus
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
MATCHER = Matcher(DutyList(version=3, matters=duty_list.parse_csv(duty_list.sample_csv())))

# command -> (the party that takes it, the step)
STEPS = {
    Command.DISPATCH: (Party.CENTRE, lambda: steps.manual_dispatch(MATCHER, "CX-02-04", None, NOW)),
    Command.RETURN: (Party.LEAD, lambda: steps.return_order(LEAD, ReturnReason.NOT_OUR_DUTY, "不是我们的", NOW)),
    Command.UPHOLD: (Party.CENTRE, steps.uphold),
    Command.REDISPATCH: (Party.CENTRE, lambda: steps.redispatch(MATCHER, "CX-02-04", "区住建局", NOW)),
    Command.DISPUTE: (Party.CENTRE, lambda: steps.dispute("城管与住建对权属有争议")),
    Command.ESCALATE: (Party.SYSTEM, lambda: steps.escalate(NOW + timedelta(days=30))),
}
# (status, command) -> the status it leads to; every pair not listed is refused with 409
ALLOWED = {
    (S.MANUAL, Command.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, Command.RETURN): S.RETURNED,
    (S.OVERDUE, Command.RETURN): S.RETURNED,
    (S.RETURNED, Command.UPHOLD): S.DISPATCHED,
    (S.RETURNED, Command.REDISPATCH): S.DISPATCHED,
    (S.DISPATCHED, Command.DISPUTE): S.JOINT_MEETING,
    (S.OVERDUE, Command.DISPUTE): S.JOINT_MEETING,
    (S.RETURNED, Command.DISPUTE): S.JOINT_MEETING,
    (S.MANUAL, Command.DISPUTE): S.JOINT_MEETING,
    (S.DISPATCHED, Command.ESCALATE): S.OVERDUE,
}
PAIRS = [(status, command) for status in OrderStatus for command in STEPS]


@pytest.mark.parametrize(("status", "command"), PAIRS, ids=[f"{s.value}-{c.value}" for s, c in PAIRS])
def test_every_status_and_command(status, command):
    # Given an order in this status, and the party that takes this command
    party, step = STEPS[command]
    order = an_order(status)
    if (status, command) in ALLOWED:
        # When it is taken, Then the order is in the status the rules say, through the table
        outcome = attempt(order, command, frozenset({party}), step())
        assert outcome.order.status is ALLOWED[status, command]
        # and every other party is refused with 403
        for other in set(Party) - lifecycle.who_may(command):
            with pytest.raises(Forbidden):
                attempt(order, command, frozenset({other}), step())
    else:
        # When it is taken in a status that does not allow it, Then 409, and the step never runs
        with pytest.raises(Conflict):
            attempt(order, command, frozenset({party}), lambda _: pytest.fail("the step ran"))


def test_the_code_table_allows_exactly_the_staff_and_sweep_moves_written_here():
    in_table = {(row.source, row.command): row.target for row in lifecycle.TRANSITIONS
                if (row.command in STEPS and row.target is not S.JOINT_MEETING) or row.command is Command.DISPUTE}
    assert in_table == ALLOWED


@pytest.mark.parametrize("status", [S.DISPATCHED, S.OVERDUE])
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


def test_escalation_keeps_the_lapse_with_the_department_and_skips_a_deadline_not_yet_passed():
    order = an_order(S.DISPATCHED)
    early = order.due_at - timedelta(seconds=1)
    assert attempt(order, Command.ESCALATE, frozenset({Party.SYSTEM}), steps.escalate(early)) is None
    late = attempt(order, Command.ESCALATE, frozenset({Party.SYSTEM}), steps.escalate(order.due_at + timedelta(1)))
    assert [(lapse.department, lapse.due_at) for lapse in late.order.lapses] == [(LEAD, order.due_at)]


def test_roles_that_can_never_take_a_command_are_refused_before_the_order_is_read():
    lifecycle.check_role(frozenset({"centre"}), Command.DISPATCH)
    lifecycle.check_role(frozenset({"department"}), Command.RETURN)
    for roles, command in [({"department"}, Command.DISPATCH), ({"leader"}, Command.RETURN),
                           ({"leader"}, Command.DISPUTE), (set(), Command.UPHOLD), ({"centre"}, Command.RETURN)]:
        with pytest.raises(Forbidden):
            lifecycle.check_role(frozenset(roles), command)


def test_every_status_has_a_chinese_label_and_the_queues_are_derived():
    assert all(row.label and row.public_label and row.open311 in ("open", "closed") for row in STATUSES.values())
    assert lifecycle.QUEUES == {"undispatched": S.RECEIVED, "manual": S.MANUAL, "review": S.RETURNED,
                                "joint_meeting": S.JOINT_MEETING}
    assert lifecycle.IN_HAND == (S.DISPATCHED, S.OVERDUE)


def test_docs_lifecycle_md_holds_the_table():
    """docs/lifecycle.md lists every status and every transition of the code's table."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    for status, row in STATUSES.items():
        assert f"| `{status.value}` | {row.label} |" in text, status
    for row in lifecycle.TRANSITIONS:
        if row.source is not None and row.source is row.target and row.audit.value.startswith("reply_"):
            # the reply's steps are taken in any status and leave it unchanged: one row each
            assert f"| any | `{row.command.value}` | unchanged | system | `{row.audit.value}` |" in text, row
            continue
        source = f"`{row.source.value}`" if row.source else "—"
        who = ", ".join(sorted(party.value for party in row.who))
        assert f"| {source} | `{row.command.value}` | `{row.target.value}` | {who} | `{row.audit.value}` |" in text, row
