"""Random lives of orders (hypothesis stateful): every action by every role, in any order,
through the real domain layer on moto. After every step: the status is one of the table's;
a successful action wrote exactly one audit record and a refused one changed nothing; the
order sits in the queue its status names; the counters (returns, rejected replies,
reopens) equal their audit records; and no action the table forbids to that role
succeeded."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import boto3
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from minyi.casework import access, followup, loop, shell, staff, timing
from minyi.core import clock
from minyi.core.errors import DomainError
from minyi.dal import orders
from minyi.models import lifecycle
from minyi.models.lifecycle import CLOCK_QUEUES, QUEUES, STATUSES, Command, Party
from minyi.models.order import Evaluation, Satisfaction
from minyi.models.staff import (
    AttachmentRequest,
    CloseRequest,
    ContactRequest,
    DecisionRequest,
    DisputeRequest,
    EvaluationRequest,
    ManualDispatch,
    OpinionRequest,
    ReopenRequest,
    ReplyRequest,
    ReplyReviewRequest,
    ReturnRequest,
    ReviewDecision,
)
from minyi.routing.cache import CachedDutyList
from minyi.sla import sweep
from tests.builders import CENTRE, LEADER, department
from tests.conftest import REGION, provisioned_account
from tests.helpers import import_sample_duty_list, post_channel, request_body, sample

SEQUENCES = 200
ORDERS_TABLE = "minyi-test-OrdersTable"
ROLES = ("centre", "leader", "lead", "co", "other", "reviewer")


def roles(natural: str):
    """Every role may try every action; the one that usually takes it comes first, so that
    random lives get far enough to reach the loop's later steps."""
    return st.sampled_from((natural, *(r for r in ROLES if r != natural)))
_serial = itertools.count()
START = ("dispatched", "signed", "returned", "joint_meeting", "mayor_day", "reply_review", "awaiting_evaluation",
         "dissatisfied")
SUCCEEDED: Counter = Counter()  # command -> how many times it succeeded over all sequences


def partition(order_id: str) -> list[dict]:
    client = boto3.client("dynamodb", region_name=REGION)
    items, start = [], None
    while True:
        page = client.query(TableName=ORDERS_TABLE, KeyConditionExpression="pk = :pk", ConsistentRead=True,
                            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
                            **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def order_in(items: list[dict]):
    from minyi.dal.order_records import OrderRecord, order_of

    [item] = [i for i in items if i["sk"]["S"] == "ORDER"]
    return order_of(OrderRecord.from_raw_data(item))


def audit_actions(items: list[dict]) -> Counter:
    return Counter(item["action"]["S"] for item in items if item["sk"]["S"].startswith("AUDIT#"))


class OrderLives(RuleBasedStateMachine):
    matcher: Callable = staticmethod(lambda: None)

    @initialize(channel=st.sampled_from(["12345", "wz-jx", "12315"]), start=st.sampled_from(START))
    def a_request_comes_in(self, channel, start):
        n = next(_serial)
        phone = f"139{n:08d}"
        if channel == "12345":
            body = request_body(f"life-{n}", citizen={"name": "测试", "phone": phone})
        elif channel == "wz-jx":
            body = {**sample("wz-jx"), "留言编号": f"WZJX-LIFE-{n}", "留言人": {"姓名": "测试", "手机号": phone}}
        else:
            body = {**sample("12315"), "工单编号": f"12315-LIFE-{n}",
                    "消费者": {**sample("12315")["消费者"], "联系电话": phone}}
        status, ack, _ = post_channel(channel, body)
        assert status == 201, ack
        from minyi.casework.autodispatch import dispatch_received

        dispatch_received(ack["order_id"], self.matcher(), clock.now(), "route", 0.35)
        self.order_id = ack["order_id"]
        self.later = timedelta(0)
        self.items = partition(self.order_id)
        self.order = order_in(self.items)
        # each life starts somewhere along the loop, reached by the usual steps (each checked
        # like any other), so that random steps from there reach every part of the table
        if self.order.status.value == "manual":
            self.dispatch("centre")
        reviewer = "centre" if channel != "wz-jx" else "reviewer"
        # (the clock's steps and attachments are taken on the way too: which random steps are refused
        # depends on how the order's real-time limits fall, so their coverage must not hang on it)
        way = {
            "dispatched": [lambda: self.time_passes_and_the_sweep_runs(10)],
            "signed": [lambda: self.sign("lead"), lambda: self.attach("lead")],
            "returned": [lambda: self.return_it("lead")],
            "joint_meeting": [lambda: self.dispute("centre")],
            "mayor_day": [lambda: self.dispute("centre"), lambda: self.decide("centre", True)],
            "reply_review": [lambda: self.sign("lead"), lambda: self.reply("lead")],
            "awaiting_evaluation": [lambda: self.sign("lead"), lambda: self.reply("lead"),
                                    lambda: self.review_the_reply(reviewer, True)],
            "dissatisfied": [lambda: self.sign("lead"), lambda: self.reply("lead"),
                             lambda: self.review_the_reply(reviewer, True),
                             lambda: self.follow_up("centre", Satisfaction.DISSATISFIED)],
        }[start]
        for step in way:
            step()

    # ---------------------------------------------------------------- who
    def identity(self, role: str):
        order = self.order
        if role == "centre":
            return CENTRE
        if role == "leader":
            return LEADER
        if role == "lead":
            return department(order.department or "区城管局")
        if role == "co":
            return department(order.co_departments[0] if order.co_departments else "区住建局")
        if role == "reviewer":
            return department("区行政审批局")  # reviews the forwarded 问政江西 channel's replies
        return department("区教育局")

    def act(self, command: Command, identity, call: Callable[[], object]) -> None:
        before, items = self.order, self.items
        try:
            call()
            done = True
        except DomainError:
            done = False
        after_items = partition(self.order_id)
        self.items, self.order = after_items, order_in(after_items)
        audits_before, audits_after = audit_actions(items), audit_actions(after_items)
        unchanged = sorted(map(repr, after_items)) == sorted(map(repr, items))
        if not done or unchanged:  # refused, or nothing to do (a timer whose deadline moved)
            assert unchanged, f"refused {command} changed items"
            return
        assert sum(audits_after.values()) == sum(audits_before.values()) + 1, f"{command}: not one audit record"
        SUCCEEDED[command] += 1
        parties = frozenset({Party.SYSTEM}) if identity is None else access.parties(identity, before)
        rows = lifecycle.transitions(before.status, command)
        assert any(row.who & parties for row in rows), f"{command} by {parties} on {before.status} succeeded"

    # ---------------------------------------------------------------- the actions
    @rule(role=roles("centre"))
    def dispatch(self, role):
        who = self.identity(role)
        self.act(Command.DISPATCH, who, lambda: staff.dispatch(
            who, self.order_id, ManualDispatch(matter_code="CX-02-04"), self.matcher, clock.now()))

    @rule(role=roles("lead"))
    def sign(self, role):
        who = self.identity(role)
        self.act(Command.SIGN, who, lambda: loop.sign(who, self.order_id, clock.now()))

    @rule(role=roles("lead"))
    def contact(self, role):
        who = self.identity(role)
        self.act(Command.CONTACT, who, lambda: loop.contact(
            who, self.order_id, ContactRequest(method="phone", note="已电话联系"), clock.now()))

    @rule(role=roles("co"))
    def opinion(self, role):
        who = self.identity(role)
        self.act(Command.OPINION, who, lambda: loop.opinion(
            who, self.order_id, OpinionRequest(text="同意主办意见"), clock.now()))

    @rule(role=roles("lead"))
    def attach(self, role):
        who = self.identity(role)
        self.act(Command.ATTACH, who, lambda: loop.attach(
            who, self.order_id, AttachmentRequest(filename="现场.jpg", content_type="image/jpeg", size=1024),
            clock.now()))

    @rule(role=roles("lead"))
    def return_it(self, role):
        who = self.identity(role)
        self.act(Command.RETURN, who, lambda: staff.return_order(
            who, self.order_id, ReturnRequest(category="not_our_duty", text="非本单位职责"), clock.now()))

    @rule(role=roles("centre"), redispatch=st.booleans())
    def review_the_return(self, role, redispatch):
        who = self.identity(role)
        decision = ReviewDecision(decision="redispatch", matter_code="CX-10-03") if redispatch \
            else ReviewDecision(decision="uphold")
        self.act(Command.REDISPATCH if redispatch else Command.UPHOLD, who,
                 lambda: staff.review(who, self.order_id, decision, self.matcher, clock.now()))

    @rule(role=roles("centre"))
    def dispute(self, role):
        who = self.identity(role)
        self.act(Command.DISPUTE, who, lambda: staff.dispute(
            who, self.order_id, DisputeRequest(reason="权属有争议"), clock.now()))

    @rule(role=roles("centre"), escalate=st.booleans())
    def decide(self, role, escalate):
        who = self.identity(role)
        request = DecisionRequest(escalate=True, note="会议未决") if escalate \
            else DecisionRequest(department="区住建局", note="会议决定由住建局牵头")
        self.act(Command.DECIDE, who, lambda: loop.decide(who, self.order_id, request, self.matcher, clock.now()))

    @rule(role=roles("lead"))
    def reply(self, role):
        who = self.identity(role)
        self.act(Command.REPLY, who, lambda: loop.reply(
            who, self.order_id, ReplyRequest(result="resolved", text="已办结"), clock.now()))

    @rule(role=roles("centre"), approve=st.booleans())
    def review_the_reply(self, role, approve):
        who = self.identity(role)
        request = ReplyReviewRequest(decision="approve") if approve \
            else ReplyReviewRequest(decision="reject", reason="答复不完整")
        self.act(Command.APPROVE_REPLY if approve else Command.REJECT_REPLY, who,
                 lambda: loop.review_reply(who, self.order_id, request, clock.now()))

    @rule(role=roles("centre"), satisfaction=st.sampled_from(list(Satisfaction)))
    def follow_up(self, role, satisfaction):
        who = self.identity(role)
        request = EvaluationRequest(satisfaction=satisfaction, resolved=satisfaction != "dissatisfied",
                                    method="phone")
        self.act(Command.EVALUATE, who, lambda: loop.evaluate(who, self.order_id, request, clock.now()))

    @rule(satisfaction=st.sampled_from(list(Satisfaction)))
    def the_channel_evaluates(self, satisfaction):
        evaluation = Evaluation(satisfaction=satisfaction, resolved=True, method="online", source="channel",
                                evaluation_id=f"EV-{next(_serial)}", by="channel:test", at=clock.now())
        self.act(Command.EVALUATE, None, lambda: shell.act(
            self.order_id, Command.EVALUATE, followup.evaluate(evaluation), actor="channel:test", now=clock.now()))

    @rule(role=roles("centre"))
    def reopen(self, role):
        who = self.identity(role)
        self.act(Command.REOPEN, who, lambda: loop.reopen(
            who, self.order_id, ReopenRequest(reason="诉求人不满意"), clock.now()))

    @rule(role=roles("centre"))
    def close(self, role):
        who = self.identity(role)
        self.act(Command.CLOSE, who, lambda: loop.close(
            who, self.order_id, CloseRequest(reason="policy_limit", text="受政策限制无法解决"), clock.now()))

    @rule(days=st.integers(min_value=1, max_value=30))
    def time_passes_and_the_sweep_runs(self, days):
        """What the sweep does to this order when its timer fires later: overdue, or the
        evaluation window closing it."""
        self.later += timedelta(days=days)
        later = clock.now() + self.later
        due = timing.next_due(self.order, later)
        if due is not None and due[0] <= later and STATUSES[self.order.status].on_timer is lifecycle.TimerAction.CLOCK:
            # the first thing due, as the sweep takes it: a warning, a missed limit, a ladder step,
            # the evaluation window's end or a pause's
            command, step = sweep.step_for(self.order, due, later, "sla_check")
            self.act(command, None, lambda: shell.act(self.order_id, command, step, actor="sla_check", now=later))

    # ---------------------------------------------------------------- the loop moving on
    def next_step(self, variant: int) -> None:
        """What the loop usually does next in this status, by the party that usually does it
        (random lives otherwise spend most steps being refused and rarely reach a reply)."""
        status = self.order.status.value
        reviewer = "centre" if self.order.channel != "wz-jx" else "reviewer"
        moves = {
            "manual": lambda: self.dispatch("centre"),
            "dispatched": lambda: self.sign("lead") if variant % 4 else self.return_it("lead"),
            "signed": lambda: (self.contact("lead"), self.opinion("co"), self.reply("lead"))[variant % 3],
            "returned": lambda: self.review_the_return("centre", bool(variant % 2)),
            "joint_meeting": lambda: self.decide("centre", variant % 3 == 0),
            "mayor_day": lambda: self.decide("leader", False),
            "reply_review": lambda: self.review_the_reply(reviewer, variant % 3 != 0),
            "awaiting_evaluation": lambda: (self.follow_up("centre", list(Satisfaction)[variant % 3])
                                            if variant % 5 else self.time_passes_and_the_sweep_runs(10)),
            "dissatisfied": lambda: self.reopen("centre") if variant % 2 else self.close("centre"),
        }
        if status in moves:
            moves[status]()

    @rule(variant=st.integers(min_value=0, max_value=59))
    def the_loop_moves_on(self, variant):
        self.next_step(variant)

    @rule(variant=st.integers(min_value=0, max_value=59))
    def the_loop_moves_on_again(self, variant):
        self.next_step(variant + 1)

    @rule(variant=st.integers(min_value=0, max_value=59))
    def and_again(self, variant):
        self.next_step(variant + 2)

    @rule(variant=st.integers(min_value=0, max_value=59))
    def and_on(self, variant):
        self.next_step(variant + 3)

    @rule(variant=st.integers(min_value=0, max_value=59))
    def and_on_again(self, variant):
        self.next_step(variant + 4)

    # ---------------------------------------------------------------- after every step
    @invariant()
    def the_order_is_where_the_table_says(self):
        items = self.items  # as read after the last step
        [item] = [i for i in items if i["sk"]["S"] == "ORDER"]
        status = lifecycle.status_of(item["status"]["S"])
        assert status in STATUSES
        # the `queues` index is keyed on this attribute: the order is in exactly this queue
        assert item.get("queue", {}).get("S") == self.order.queue  # the status's, else the clock's
        order = self.order
        actions = audit_actions(items)
        assert len(order.returns) == actions["returned"] + actions["returned_to_joint_meeting"]
        assert order.reply_rejections == actions["reply_rejected"]
        assert order.reopen_count == actions["reopened"] + actions["reopened_to_joint_meeting"]

    def teardown(self):
        # and the index itself lists it in that queue and no other
        order = orders.get_order(self.order_id)
        from minyi.dal.order_records import OrderRecord

        for name in (*QUEUES, *CLOCK_QUEUES):
            listed = any(item.order_id == self.order_id for item in OrderRecord.queues.query(name))
            assert listed == (order.queue == name), (name, order.status)


def test_random_lives_of_orders_keep_the_tables_promises():
    with provisioned_account():
        import_sample_duty_list()
        cached = CachedDutyList(ttl=3600)
        OrderLives.matcher = staticmethod(cached.matcher)
        run_state_machine_as_test(OrderLives, settings=settings(
            max_examples=SEQUENCES, stateful_step_count=12, deadline=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    # the random lives reached every step of the loop, not just the first few
    tried = {Command.DISPATCH, Command.SIGN, Command.CONTACT, Command.OPINION, Command.ATTACH, Command.RETURN,
             Command.UPHOLD, Command.REDISPATCH, Command.DISPUTE, Command.DECIDE, Command.REPLY,
             Command.APPROVE_REPLY, Command.REJECT_REPLY, Command.EVALUATE, Command.REOPEN, Command.CLOSE,
             Command.ESCALATE, Command.CLOSE_UNEVALUATED}
    assert tried <= set(SUCCEEDED), (sorted(tried - set(SUCCEEDED)), SUCCEEDED)
    print("successful steps over all sequences:", dict(SUCCEEDED))
