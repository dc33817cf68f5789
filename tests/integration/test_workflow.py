"""Manual queue, returns (退单) with review (改派/维持), second return and disputes to
the joint meeting (联席会议); every hop audited and wrong hands refused."""

from datetime import timedelta

import pytest

from minyi.casework import staff
from minyi.core import clock
from minyi.core.errors import Conflict, Forbidden, NotFound
from minyi.dal import duty_list as duty_store
from minyi.dal import orders
from minyi.models.staff import DisputeRequest, ManualDispatch, ReturnRequest, ReviewDecision
from minyi.reports.kpi import counters_of, facts_of
from minyi.routing import duty_list
from minyi.routing.matcher import Matcher
from minyi.sla.sweep import sweep
from tests.builders import CENTRE, department
from tests.helpers import StreamReader, post_channel, request_body, table_items


@pytest.fixture
def matcher(aws):
    duty_list.import_csv(duty_list.county_csv(), actor="test")
    return Matcher(duty_store.load())


def routed(aws, external_id, **overrides):
    routes = StreamReader(aws, "RouteFunction")
    _, ack, _ = post_channel("12345", request_body(external_id, **overrides))
    routes.deliver()
    return orders.get_order(ack["order_id"])


def returned(order_id, by, text="不归我们管", category="not_our_duty"):
    staff.return_order(department(by), order_id, ReturnRequest(category=category, text=text), clock.now())
    return orders.get_order(order_id)


def redispatched(order_id, matcher, **target):
    staff.review(CENTRE, order_id, ReviewDecision(decision="redispatch", **target), lambda: matcher, clock.now())
    return orders.get_order(order_id)


def trail(order_id):
    return [entry["action"] for entry in staff.order_detail(CENTRE, order_id)["audit"]]


def queued(name):
    return [entry["order_id"] for entry in staff.queue(CENTRE, name)["orders"]]


def test_manual_queue_lists_and_an_operator_dispatches(aws, matcher):
    order = routed(aws, "m-1", title="咨询", content="请问办事大厅周六开门吗")
    assert order.status.value == "manual"
    assert queued("manual") == [order.order_id]
    staff.dispatch(CENTRE, order.order_id, ManualDispatch(matter_code="CX-02-04"), lambda: matcher, clock.now())
    done = orders.get_order(order.order_id)
    assert done.status.value == "dispatched" and done.department == "区城管局" and done.due_at
    assert queued("manual") == []
    assert trail(order.order_id)[-1] == "dispatched_manually"
    with pytest.raises(Conflict):
        staff.dispatch(CENTRE, order.order_id, ManualDispatch(matter_code="CX-02-04"), lambda: matcher, clock.now())


def test_return_review_redispatch_then_second_return_goes_to_the_joint_meeting(aws, matcher):
    order = routed(aws, "r-1")
    assert order.department == "区城管局"
    before = table_items("minyi-test-OrdersTable")
    assert "区住建局" in order.co_departments
    with pytest.raises(Forbidden):  # a co-handler sees the order but may not return it
        returned(order.order_id, "区住建局")
    with pytest.raises(NotFound):  # a department the order is not with does not even see it
        returned(order.order_id, "区市场监管局")
    assert table_items("minyi-test-OrdersTable") == before

    assert returned(order.order_id, "区城管局", "小区内路灯属物业管理").status.value == "returned"
    assert queued("review") == [order.order_id]
    again = redispatched(order.order_id, matcher, matter_code="CX-10-03")
    assert again.department == "区住建局" and again.matter[2] == "物业服务"

    twice = returned(order.order_id, "区住建局", "应由城管负责")
    assert twice.status.value == "joint_meeting"
    assert queued("joint_meeting") == [order.order_id]
    assert set(staff.order_detail(CENTRE, order.order_id)["departments_involved"]) >= {"区城管局", "区住建局"}
    assert [r.department for r in twice.returns] == ["区城管局", "区住建局"]
    assert trail(order.order_id)[-3:] == ["returned", "redispatched", "returned_to_joint_meeting"]


def test_upholding_a_return_keeps_the_department_and_its_deadline(aws, matcher):
    order = routed(aws, "u-1")
    returned(order.order_id, "区城管局", "不在城区", "wrong_place")
    staff.review(CENTRE, order.order_id, ReviewDecision(decision="uphold"), lambda: matcher, clock.now())
    upheld = orders.get_order(order.order_id)
    assert upheld.status.value == "dispatched" and upheld.department == "区城管局"
    assert upheld.due_at == order.due_at


def test_an_operators_dispute_sends_it_to_the_joint_meeting(aws, matcher):
    order = routed(aws, "d-1")
    staff.dispute(CENTRE, order.order_id, DisputeRequest(reason="城管与住建对路灯权属有争议"), clock.now())
    assert orders.get_order(order.order_id).status.value == "joint_meeting"
    assert trail(order.order_id)[-1] == "disputed"


def test_a_redispatch_keeps_the_lapse_with_the_department_that_let_it_run_over(aws, matcher):
    """Defect: a re-dispatch set overdue_at to nothing and reports counted by the current
    department, so the department that let an order run over dropped out of the count."""
    order = routed(aws, "late-1")
    sweep(order.due_at + timedelta(minutes=1), lambda: matcher, 0.35)
    late = orders.get_order(order.order_id)
    assert late.status.value == "dispatched" and late.overdue_at
    assert [lapse.department for lapse in late.lapses] == ["区城管局"]
    returned(order.order_id, "区城管局")
    again = redispatched(order.order_id, matcher, matter_code="CX-10-03")
    assert again.department == "区住建局" and again.overdue_at is None
    assert [(lapse.department, lapse.due_at) for lapse in again.lapses] == [("区城管局", order.due_at)]
    overdue = {department: c.overdue for (_, department), c in counters_of(facts_of(again, again.updated_at)).items()}
    assert overdue.get("区城管局") == 1 and not overdue.get("区住建局")


def test_a_redispatch_teaches_the_matcher_and_the_lesson_survives_a_new_version(aws, matcher):
    title, content = "小区路灯不亮", "小区里的路灯坏了很久，物业说不归他们管"
    assert matcher.match(title, content).matter.code == "CX-02-04"
    for n in range(3):
        order = routed(aws, f"learn-{n}", title=title, content=content,
                       citizen={"name": "张三", "phone": f"1380000{n:04d}"},
                       address=f"梅林镇华丰社区{n}号楼")
        if order.status.value == "merged":
            continue
        returned(order.order_id, order.department, "属物业")
        redispatched(order.order_id, matcher, matter_code="CX-10-03")
    taught = duty_store.learned(duty_store.current_version())
    assert taught and all("CX-10-03" in weights for weights in taught.values())
    relearned = Matcher(duty_store.load(), taught)
    assert relearned.match(title, content).matter.code == "CX-10-03"
    duty_list.import_csv(duty_list.county_csv(), actor="test")  # a new version keeps what was taught
    assert duty_store.learned(duty_store.current_version()) == taught
