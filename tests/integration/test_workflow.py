"""Manual queue, returns (退单) with review (改派/维持), second return and disputes to
the joint meeting (联席会议); every hop audited and wrong hands refused."""

import pytest

from minyi.casework import workflow
from minyi.core import clock
from minyi.core.errors import Conflict, Forbidden
from minyi.dal import duty_list as duty_store
from minyi.dal import orders
from minyi.models.order import ReturnReason
from minyi.routing import duty_list
from minyi.routing.matcher import Matcher
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


def test_manual_queue_lists_and_an_operator_dispatches(aws, matcher):
    order = routed(aws, "m-1", title="咨询", content="请问办事大厅周六开门吗")
    assert order.status.value == "manual"
    assert [q["order_id"] for q in orders.queue("manual")] == [order.order_id]
    done = workflow.manual_dispatch(order.order_id, matcher, "CX-02-04", "centre:王", clock.now())
    assert done.status.value == "dispatched" and done.department == "区城管局" and done.due_at
    assert orders.queue("manual") == []
    assert orders.audit_trail(order.order_id)[-1]["action"] == "dispatched_manually"
    with pytest.raises(Conflict):
        workflow.manual_dispatch(order.order_id, matcher, "CX-02-04", "centre:王", clock.now())


def test_return_review_redispatch_then_second_return_goes_to_the_joint_meeting(aws, matcher):
    order = routed(aws, "r-1")
    assert order.department == "区城管局"
    before = table_items("minyi-test-OrdersTable")
    with pytest.raises(Forbidden):
        workflow.return_order(order.order_id, "区住建局", ReturnReason.NOT_OUR_DUTY, "不是我们的", clock.now())
    assert table_items("minyi-test-OrdersTable") == before

    returned = workflow.return_order(order.order_id, "区城管局", ReturnReason.NOT_OUR_DUTY,
                                     "小区内路灯属物业管理", clock.now())
    assert returned.status.value == "returned"
    assert [q["order_id"] for q in orders.queue("review")] == [order.order_id]
    redispatched = workflow.review_return(order.order_id, matcher, "centre:王", clock.now(), uphold=False,
                                          matter_code="CX-10-03")
    assert redispatched.department == "区住建局" and redispatched.matter[2] == "物业服务"

    again = workflow.return_order(order.order_id, "区住建局", ReturnReason.NOT_OUR_DUTY, "应由城管负责", clock.now())
    assert again.status.value == "joint_meeting"
    assert [q["order_id"] for q in orders.queue("joint_meeting")] == [order.order_id]
    assert set(workflow.departments_involved(again)) >= {"区城管局", "区住建局"}
    assert workflow.returns_by_department(again) == {"区城管局": 1, "区住建局": 1}
    actions = [a["action"] for a in orders.audit_trail(order.order_id)]
    assert actions[-3:] == ["returned", "redispatched", "returned_to_joint_meeting"]


def test_upholding_a_return_keeps_the_department_and_its_deadline(aws, matcher):
    order = routed(aws, "u-1")
    workflow.return_order(order.order_id, "区城管局", ReturnReason.WRONG_PLACE, "不在城区", clock.now())
    upheld = workflow.review_return(order.order_id, matcher, "centre:王", clock.now(), uphold=True)
    assert upheld.status.value == "dispatched" and upheld.department == "区城管局"
    assert upheld.due_at == order.due_at


def test_an_operators_dispute_sends_it_to_the_joint_meeting(aws, matcher):
    order = routed(aws, "d-1")
    disputed = workflow.dispute(order.order_id, "centre:王", "城管与住建对路灯权属有争议", clock.now())
    assert disputed.status.value == "joint_meeting"
    assert orders.audit_trail(order.order_id)[-1]["action"] == "disputed"


def test_a_redispatch_teaches_the_matcher_and_the_lesson_survives_a_new_version(aws, matcher):
    title, content = "小区路灯不亮", "小区里的路灯坏了很久，物业说不归他们管"
    assert matcher.match(title, content).matter.code == "CX-02-04"
    for n in range(3):
        order = routed(aws, f"learn-{n}", title=title, content=content,
                       citizen={"name": "张三", "phone": f"1380000{n:04d}"},
                       address=f"梅林镇华丰社区{n}号楼")
        if order.status.value == "merged":
            continue
        workflow.return_order(order.order_id, order.department, ReturnReason.NOT_OUR_DUTY, "属物业", clock.now())
        workflow.review_return(order.order_id, matcher, "centre:王", clock.now(), uphold=False,
                               matter_code="CX-10-03")
    taught = duty_store.learned(duty_store.current_version())
    assert taught and all("CX-10-03" in weights for weights in taught.values())
    relearned = Matcher(duty_store.load(), taught)
    assert relearned.match(title, content).matter.code == "CX-10-03"
    duty_list.import_csv(duty_list.county_csv(), actor="test")  # a new version keeps what was taught
    assert duty_store.learned(duty_store.current_version()) == taught
