"""The closed loop over the staff API with real ID tokens (in-process): a department signs
for an order, contacts the citizen, hears its co-handler, attaches a photo through a
presigned link, replies; the centre reviews the reply, follows up with the citizen,
reopens or closes; the joint meeting and the leaders decide what nobody else can."""

from datetime import timedelta

import pytest
import requests

from minyi.core import clock
from minyi.dal import orders
from minyi.sla.sweep import sweep
from tests.helpers import CENTRE, CHENGGUAN, LEADER, audit_trail, import_sample_duty_list, table_items
from tests.integration.test_staff_api import ORDERS, routed, staff

ZHUJIAN = ("zhujian01", "department", "区住建局")
REPLY = {"result": "resolved", "text": "已安排维修班组更换路灯灯具，现已恢复照明。",
         "internal_note": "维修单号 LD-2026-1188"}


@pytest.fixture
def order(aws):
    """A 12345 request about a street lamp in 梅林镇, dispatched to 区城管局 with 区住建局 and the
    township co-handling."""
    import_sample_duty_list()
    dispatched = routed(aws, "loop-1")
    assert (dispatched.status.value, dispatched.department, dispatched.co_departments) == (
        "dispatched", "区城管局", ["区住建局", "梅林镇人民政府"])
    return dispatched


def ok(status, body, expected=200):
    assert status == expected, body
    return body


def to_reply_review(order_id):
    ok(*staff("POST", f"/orders/{order_id}/sign", CHENGGUAN)[:2])
    ok(*staff("POST", f"/orders/{order_id}/reply", CHENGGUAN, REPLY)[:2])


def test_the_whole_loop_dissatisfied_reopened_then_satisfied_closed(order):
    oid = order.order_id
    # Given the lead department signs for it and contacts the citizen
    signed = ok(*staff("POST", f"/orders/{oid}/sign", CHENGGUAN)[:2])
    assert signed["status"] == "signed" and signed["signed_at"]
    first = ok(*staff("POST", f"/orders/{oid}/contact", CHENGGUAN,
                      {"method": "phone", "note": "已电话联系，约定明日上门"})[:2])
    ok(*staff("POST", f"/orders/{oid}/contact", CHENGGUAN, {"method": "visit", "note": "已上门查看"})[:2])
    assert orders.get_order(oid).first_contact_at.isoformat() == first["first_contact_at"]
    # and the lead sees which co-handlers have not answered, until the co-handler gives its opinion
    detail = ok(*staff("GET", f"/staff/orders/{oid}", CHENGGUAN)[:2])
    assert detail["opinions_missing"] == ["区住建局", "梅林镇人民政府"] and len(detail["contacts"]) == 2
    ok(*staff("POST", f"/orders/{oid}/opinions", ZHUJIAN, {"text": "该路段路灯产权属城管，住建无异议"})[:2], 201)
    # When it attaches a photo through the presigned link
    photo = b"\xff\xd8\xff\xe0" + b"0" * 2044
    attached = ok(*staff("POST", f"/orders/{oid}/attachments", CHENGGUAN,
                         {"filename": "现场照片.jpg", "content_type": "image/jpeg", "size": len(photo)})[:2], 201)
    assert clock.parse_iso(attached["expires_at"]) - clock.now() <= timedelta(minutes=15)
    put = requests.put(attached["upload_url"], data=photo, headers={"Content-Type": "image/jpeg"}, timeout=10)
    assert put.status_code == 200
    # and replies naming it
    replied = ok(*staff("POST", f"/orders/{oid}/reply", CHENGGUAN,
                        {**REPLY, "attachment_ids": [attached["attachment_id"]]})[:2])
    assert replied["status"] == "reply_review" and replied["reviewer"] == "区12345热线管理中心"
    detail = ok(*staff("GET", f"/staff/orders/{oid}", CHENGGUAN)[:2])
    assert detail["opinions_missing"] == ["梅林镇人民政府"] and detail["opinions"][0]["department"] == "区住建局"
    [listed] = detail["attachments"]
    assert listed["uploaded"] and requests.get(listed["download_url"], timeout=10).content == photo
    # Then the centre approves; the citizen's follow-up says dissatisfied; the centre reopens
    ok(*staff("GET", "/staff/queues/reply_review", CENTRE)[:2])
    assert ok(*staff("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"})[:2])["status"] == \
        "awaiting_evaluation"
    assert [o["order_id"] for o in ok(*staff("GET", "/staff/queues/follow_up", CENTRE)[:2])["orders"]] == [oid]
    evaluated = ok(*staff("POST", f"/orders/{oid}/evaluation", CENTRE,
                          {"satisfaction": "dissatisfied", "resolved": False, "method": "phone",
                           "comment": "灯修了两天又坏了"})[:2])
    assert evaluated["status"] == "dissatisfied"
    reopened = ok(*staff("POST", f"/orders/{oid}/reopen", CENTRE, {"reason": "诉求人反映路灯再次损坏", "days": 3})[:2])
    assert reopened["status"] == "signed" and reopened["reopen_count"] == 1
    # and after a second reply and approval, the follow-up says satisfied: closed
    ok(*staff("POST", f"/orders/{oid}/reply", CHENGGUAN, REPLY)[:2])
    ok(*staff("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"})[:2])
    closed = ok(*staff("POST", f"/orders/{oid}/evaluation", CENTRE,
                       {"satisfaction": "satisfied", "resolved": True, "method": "phone"})[:2])
    assert closed["status"] == "closed"
    done = orders.get_order(oid)
    assert done.closure.kind.value == "evaluated" and done.reopen_count == 1 and done.evaluation.satisfied
    assert [a["action"] for a in audit_trail(oid)] == [
        "received", "dispatched", "signed", "contacted", "contacted", "opinion_given", "attachment_added",
        "replied", "reply_approved", "evaluated", "reopened", "replied", "reply_approved", "evaluated"]
    assert len(ok(*staff("GET", f"/staff/orders/{oid}", CENTRE)[:2])["evaluations"]) == 2


def test_a_reply_naming_an_attachment_never_uploaded_or_not_as_declared_is_400_and_changes_nothing(order):
    oid = order.order_id
    ok(*staff("POST", f"/orders/{oid}/sign", CHENGGUAN)[:2])
    missing = ok(*staff("POST", f"/orders/{oid}/attachments", CHENGGUAN,
                        {"filename": "a.pdf", "content_type": "application/pdf", "size": 100})[:2], 201)
    short = ok(*staff("POST", f"/orders/{oid}/attachments", CHENGGUAN,
                      {"filename": "b.png", "content_type": "image/png", "size": 100})[:2], 201)
    requests.put(short["upload_url"], data=b"x" * 10, headers={"Content-Type": "image/png"}, timeout=10)
    before = table_items(ORDERS)
    for named in ([missing["attachment_id"]], [short["attachment_id"]], ["A000000000000000000000000"]):
        status, body, _ = staff("POST", f"/orders/{oid}/reply", CHENGGUAN, {**REPLY, "attachment_ids": named})
        assert status == 400 and body["error"]["details"][0]["field"] == "attachment_ids", body
    assert table_items(ORDERS) == before


def test_the_reviewer_rejects_a_reply_with_its_reason_and_counts_it(order):
    to_reply_review(order.order_id)
    status, _, _ = staff("POST", f"/orders/{order.order_id}/reply-review", CENTRE, {"decision": "reject"})
    assert status == 400  # a rejection says why
    rejected = ok(*staff("POST", f"/orders/{order.order_id}/reply-review", CENTRE,
                         {"decision": "reject", "reason": "答复未说明修复时间"})[:2])
    assert rejected["status"] == "signed" and rejected["reply_rejections"] == 1
    stored = orders.get_order(order.order_id)
    assert stored.reply.status.value == "rejected" and stored.reply.rejected_reason == "答复未说明修复时间"


def test_an_overdue_order_can_still_be_signed_replied_and_closed_and_the_lapse_stays(aws, order):
    sweep(order.due_at + timedelta(minutes=1), lambda: None, 0.35)
    late = orders.get_order(order.order_id)
    assert late.status.value == "dispatched" and late.overdue_at and late.lapses[0].department == "区城管局"
    listed = ok(*staff("GET", "/staff/orders", CHENGGUAN, query={"overdue": ["true"]})[:2])
    assert [o["order_id"] for o in listed["orders"]] == [order.order_id]
    to_reply_review(order.order_id)
    ok(*staff("POST", f"/orders/{order.order_id}/reply-review", CENTRE, {"decision": "approve"})[:2])
    ok(*staff("POST", f"/orders/{order.order_id}/evaluation", CENTRE,
              {"satisfaction": "basically_satisfied", "resolved": True, "method": "sms"})[:2])
    closed = orders.get_order(order.order_id)
    assert closed.status.value == "closed" and [lapse.department for lapse in closed.lapses] == ["区城管局"]


def test_nobody_answers_in_the_evaluation_window_so_it_closes_unevaluated(aws, order):
    to_reply_review(order.order_id)
    ok(*staff("POST", f"/orders/{order.order_id}/reply-review", CENTRE, {"decision": "approve"})[:2])
    approved_at = orders.get_order(order.order_id).reply.approved_at
    assert sweep(approved_at + timedelta(hours=1), lambda: None, 0.35) == {}
    # a sweep that comes after the window skips its moot warning and closes the order
    assert sweep(approved_at + timedelta(days=10), lambda: None, 0.35) == {"closed_unevaluated": 1}
    closed = orders.get_order(order.order_id)
    assert closed.status.value == "closed" and closed.closure.kind.value == "unevaluated"
    assert closed.closure.counted_satisfied is False and closed.evaluation is None


def test_the_third_reopen_goes_to_the_joint_meeting_which_designates_a_department_that_may_not_return_it(order):
    oid = order.order_id
    ok(*staff("POST", f"/orders/{oid}/sign", CHENGGUAN)[:2])
    for n in range(1, 4):
        ok(*staff("POST", f"/orders/{oid}/reply", CHENGGUAN, REPLY)[:2])
        ok(*staff("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"})[:2])
        ok(*staff("POST", f"/orders/{oid}/evaluation", CENTRE,
                  {"satisfaction": "dissatisfied", "resolved": False, "method": "phone"})[:2])
        reopened = ok(*staff("POST", f"/orders/{oid}/reopen", CENTRE, {"reason": f"第{n}次不满意"})[:2])
        assert reopened["reopen_count"] == n
    assert reopened["status"] == "joint_meeting"
    status, _, _ = staff("POST", f"/orders/{oid}/joint-meeting-decision", LEADER,
                         {"department": "区住建局", "note": "会议决定"})
    assert status == 403  # leaders decide only 区长热线日 orders
    decided = ok(*staff("POST", f"/orders/{oid}/joint-meeting-decision", CENTRE,
                        {"department": "区住建局", "note": "联席会议决定由住建局牵头"})[:2])
    assert decided["status"] == "dispatched" and decided["department"] == "区住建局"
    status, body, _ = staff("POST", f"/orders/{oid}/return", ZHUJIAN, {"category": "not_our_duty", "text": "不归我们"})
    assert status == 409 and "designated" in body["error"]["message"]


def test_the_joint_meeting_escalates_to_the_mayors_hotline_day_and_a_leader_decides(order):
    oid = order.order_id
    ok(*staff("POST", f"/orders/{oid}/dispute", CENTRE, {"reason": "城管与住建对权属有争议"})[:2])
    escalated = ok(*staff("POST", f"/orders/{oid}/joint-meeting-decision", CENTRE,
                          {"escalate": True, "note": "会议未能达成一致"})[:2])
    assert escalated["status"] == "mayor_day"
    assert [o["order_id"] for o in ok(*staff("GET", "/staff/queues/mayor_day", LEADER)[:2])["orders"]] == [oid]
    decided = ok(*staff("POST", f"/orders/{oid}/joint-meeting-decision", LEADER,
                        {"department": "区城管局", "note": "区长热线日：城管局牵头"})[:2])
    assert decided["status"] == "dispatched" and orders.get_order(oid).designated


def test_the_centre_closes_a_dissatisfied_order_with_its_reason_and_the_evaluation_stays(order):
    oid = order.order_id
    to_reply_review(oid)
    ok(*staff("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"})[:2])
    ok(*staff("POST", f"/orders/{oid}/evaluation", CENTRE,
              {"satisfaction": "dissatisfied", "resolved": False, "method": "phone"})[:2])
    ok(*staff("POST", f"/orders/{oid}/close", CENTRE,
              {"reason": "unreasonable_demand", "text": "诉求人要求拆除合法设施，不予支持"})[:2])
    closed = orders.get_order(oid)
    assert closed.closure.reason.value == "unreasonable_demand"
    assert closed.evaluation.satisfaction.value == "dissatisfied"


def test_a_department_inbox_filters_by_status_role_due_date_and_urgency(aws, order):
    other = routed(aws, "loop-2", content="梅林镇华丰社区路灯坏了三天",
                   citizen={"name": "李四", "phone": "13900000001"})
    ok(*staff("POST", f"/orders/{order.order_id}/sign", CHENGGUAN)[:2])

    def ids(who, **query):
        body = ok(*staff("GET", "/staff/orders", who, query={k: [v] for k, v in query.items()})[:2])
        return {o["order_id"] for o in body["orders"]}

    assert ids(CHENGGUAN, status="signed") == {order.order_id}
    assert ids(CHENGGUAN, status="dispatched,signed") == {order.order_id, other.order_id}
    assert ids(CHENGGUAN, role="co") == set()
    assert ids(ZHUJIAN, role="co") == {order.order_id, other.order_id}
    assert ids(CHENGGUAN, urgent="true") == set()
    assert ids(CHENGGUAN, due_before=clock.iso(order.due_at + timedelta(seconds=1))) >= {order.order_id}
    assert ids(CHENGGUAN, due_before="2000-01-02") == set()
    status, body, _ = staff("GET", "/staff/orders", CHENGGUAN, query={"status": ["nope"]})
    assert status == 400 and body["error"]["details"][0]["field"] == "status"


def test_an_order_stored_as_overdue_by_an_earlier_version_reads_as_dispatched_and_moves_on(aws, order):
    """Overdue was a status until it became a fact: such orders need no migration run."""
    import boto3

    from tests.conftest import REGION

    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=ORDERS, Key={"pk": {"S": f"ORDER#{order.order_id}"}, "sk": {"S": "ORDER"}},
        UpdateExpression="SET #s = :overdue, overdue_at = :at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":overdue": {"S": "overdue"}, ":at": {"S": clock.iso(order.due_at)}})
    legacy = orders.get_order(order.order_id)
    assert legacy.status.value == "dispatched" and legacy.overdue_at
    listed = ok(*staff("GET", "/staff/orders", CHENGGUAN)[:2])
    assert [o["status"] for o in listed["orders"]] == ["dispatched"]
    ok(*staff("POST", f"/orders/{order.order_id}/sign", CHENGGUAN)[:2])
    stored = [item for item in table_items(ORDERS) if item["pk"]["S"] == f"ORDER#{order.order_id}"
              and item["sk"]["S"] == "ORDER"]
    assert stored[0]["status"]["S"] == "signed"


def test_a_merged_request_closes_with_the_order_it_was_handled_with(aws, order):
    # Given the same citizen calls again about the same lamp: merged into the open order (并单)
    again = routed(aws, "loop-again")
    assert again.status.value == "merged" and again.parent_order_id == order.order_id
    # When the order it joined is replied and approved, the merged request's citizen hears back too
    from tests.helpers import StreamReader
    from tests.integration.test_related_and_replies import Receiver

    receiver, replies = Receiver("12345"), StreamReader(aws, "ReplyFunction")
    to_reply_review(order.order_id)
    ok(*staff("POST", f"/orders/{order.order_id}/reply-review", CENTRE, {"decision": "approve"})[:2])
    shared = orders.get_order(again.order_id)
    assert shared.status.value == "merged" and shared.reply.text == REPLY["text"]
    assert replies.deliver() == []
    assert sorted(r["external_id"] for r in receiver.received) == ["loop-1", "loop-again"]
    assert all(r["department"] == "区城管局" and r["reply"] == REPLY["text"] for r in receiver.received)
    receiver.close()
    # and when the order is rated satisfied
    ok(*staff("POST", f"/orders/{order.order_id}/evaluation", CENTRE,
              {"satisfaction": "satisfied", "resolved": True, "method": "phone"})[:2])
    # Then the merged request closes in the same step, recorded as closed with its parent
    child = orders.get_order(again.order_id)
    assert child.status.value == "closed" and child.closure.kind.value == "with_parent"
    assert audit_trail(again.order_id)[-1]["action"] == "closed_with_parent"


@pytest.mark.parametrize(("factory", "path", "body", "first", "first_body", "action"), [
    ("approve", "reply-review", {"decision": "approve"}, "reply-review",
     {"decision": "reject", "reason": "答复不完整"}, "reply_rejected"),
    ("contact", "contact", {"method": "phone", "note": "甲联系"}, "contact",
     {"method": "sms", "note": "乙联系"}, "contacted"),
])
def test_two_people_acting_at_once_one_succeeds_the_other_gets_409_and_changes_nothing(
        order, monkeypatch, factory, path, body, first, first_body, action):
    from minyi.casework import handling

    oid = order.order_id
    to_reply_review(oid) if factory == "approve" else ok(*staff("POST", f"/orders/{oid}/sign", CHENGGUAN)[:2])
    who = CENTRE if factory == "approve" else CHENGGUAN
    real = getattr(handling, factory)

    def slow(*args, **kwargs):
        step = real(*args, **kwargs)

        def while_the_other_commits(current):
            monkeypatch.setattr(handling, factory, real)
            assert staff("POST", f"/orders/{oid}/{first}", who, first_body)[0] == 200  # the other person, first
            return step(current)

        return while_the_other_commits

    monkeypatch.setattr(handling, factory, slow)
    before_actions = [a["action"] for a in audit_trail(oid)]
    status, answer, _ = staff("POST", f"/orders/{oid}/{path}", who, body)
    assert status == 409 and answer["error"]["code"] == "conflict"
    assert [a["action"] for a in audit_trail(oid)] == [*before_actions, action]  # the first one's record only
    if factory == "contact":
        contacts = ok(*staff("GET", f"/staff/orders/{oid}", CHENGGUAN)[:2])["contacts"]
        assert [c["note"] for c in contacts] == ["乙联系"]
