"""The public views of the closed loop: the public status (GET /orders/{id}) and Open311's
service request show, at each stage, the stage and label of the lifecycle table, the
expected completion, the last change, and once the reply has been delivered its result
and text; never the citizen's name or phone, the reply's internal note or attachments."""

import json

import pytest
import requests

from minyi.core import clock
from minyi.dal import orders
from minyi.models.lifecycle import STATUSES
from tests.helpers import CENTRE, StreamReader, call_api, import_sample_duty_list
from tests.integration.test_open311 import form, get, post
from tests.integration.test_staff_api import staff
from tests.integration.test_status_delivery import ChannelSystem

REPLY = {"result": "resolved", "text": "井盖已于今日补装完毕，现场已恢复通行。",
         "internal_note": "内部：施工队负责人手机13711112222"}
NEVER = ("13576612037", "钟", "伟明", "zhongweiming", "内部", "13711112222", "现场照片", "attachment")


@pytest.fixture
def open311_order(aws):
    """An Open311 request about a missing manhole cover, dispatched by the stream."""
    import_sample_duty_list()
    routes = StreamReader(aws, "RouteFunction")
    status, created, _ = post(form())
    assert status == 201
    routes.deliver()
    return orders.get_order(created[0]["service_request_id"])


def views(order_id: str) -> tuple[dict, dict]:
    status, public, _ = call_api("IntakeFunction", "GET", f"/orders/{order_id}")
    assert status == 200
    status, found, _ = get(f"/open311/v2/requests/{order_id}.json")
    assert status == 200
    [request] = found
    for view in (public, request):
        shown = json.dumps(view, ensure_ascii=False)
        assert not [word for word in NEVER if word in shown], shown
    return public, request


def test_both_views_follow_the_order_through_the_closed_loop(aws, open311_order):
    order = open311_order
    oid, lead = order.order_id, ("lead01", "department", order.department)
    channel = ChannelSystem("open311")
    replies = StreamReader(aws, "ReplyFunction")

    def expect(stage_status: str, stage: str, label: str, open311: str, notes: str) -> tuple[dict, dict]:
        stored = orders.get_order(oid)
        public, request = views(oid)
        row = STATUSES[stored.status]
        assert stored.status.value == stage_status
        assert (public["status"], public["stage"], public["status_label"]) == (stage_status, stage, label)
        assert (row.public_stage, row.public_label) == (stage, label)  # the lifecycle table's
        assert public["due_at"] == request["expected_datetime"] == clock.iso(stored.due_at)
        assert public["updated_at"] == request["updated_datetime"] == clock.iso(stored.updated_at)
        assert request["status"] == open311 == row.open311
        assert request["status_notes"].startswith(notes)
        return public, request

    # dispatched: the department, the deadline
    public, request = expect("dispatched", "dispatched", "已派发", "open", f"已派发至{order.department}办理")
    assert public["department"] == request["agency_responsible"] == order.department
    assert public["reply"] is None and public["reopen_count"] == 0
    # signed
    assert staff("POST", f"/orders/{oid}/sign", lead)[0] == 200
    expect("signed", "signed", "办理中", "open", f"{order.department}已签收，正在办理")
    # the reply, naming an uploaded photo, waits for the centre's review: still 办理中, nothing of it shown
    photo = b"\xff\xd8\xff\xe0" + b"0" * 1020
    status, attached, _ = staff("POST", f"/orders/{oid}/attachments", lead,
                                {"filename": "现场照片.jpg", "content_type": "image/jpeg", "size": len(photo)})
    assert status == 201
    assert requests.put(attached["upload_url"], data=photo, headers={"Content-Type": "image/jpeg"},
                        timeout=10).status_code == 200
    status, body, _ = staff("POST", f"/orders/{oid}/reply", lead,
                            {**REPLY, "attachment_ids": [attached["attachment_id"]]})
    assert status == 200, body
    public, request = expect("reply_review", "signed", "办理中", "open", f"{order.department}已答复，审核中")
    assert public["reply"] is None and "井盖已于" not in request["status_notes"]
    # approved: 已答复, but the text is shown only once it has reached the citizen
    assert staff("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"})[0] == 200
    public, request = expect("awaiting_evaluation", "replied", "已答复", "open", "已答复，待评价")
    assert public["reply"] is None and public["reply_status"] == "approved"
    # delivered through the channel
    assert replies.deliver() == [] and len(channel.replies) == 1
    public, request = expect("awaiting_evaluation", "replied", "已答复", "open", "已答复，待评价")
    assert public["reply_status"] == "delivered"
    assert (public["reply"], public["reply_result"], public["reply_result_label"]) == (
        REPLY["text"], "resolved", "已解决")
    assert request["status_notes"] == f"已答复，待评价。办理结果：已解决。答复：{REPLY['text']}"
    # evaluated satisfied: closed, in both views
    status, body, _ = staff("POST", f"/orders/{oid}/evaluation", CENTRE,
                            {"satisfaction": "satisfied", "resolved": True, "method": "phone"})
    assert status == 200, body
    public, request = expect("closed", "closed", "已办结", "closed", "已办结")
    assert public["reply"] == REPLY["text"] and REPLY["text"] in request["status_notes"]
    status, listed, _ = get("/open311/v2/requests.json", {"status": "closed"})
    assert [r["service_request_id"] for r in listed] == [oid]
    assert get("/open311/v2/requests.json", {"status": "open"})[1] == []
    channel.close()


def test_a_reopened_order_shows_its_new_round_not_the_old_answer(aws, open311_order):
    order = open311_order
    oid, lead = order.order_id, ("lead01", "department", order.department)
    channel = ChannelSystem("open311")
    replies = StreamReader(aws, "ReplyFunction")
    assert staff("POST", f"/orders/{oid}/sign", lead)[0] == 200
    assert staff("POST", f"/orders/{oid}/reply", lead, REPLY)[0] == 200
    assert staff("POST", f"/orders/{oid}/reply-review", CENTRE, {"decision": "approve"})[0] == 200
    replies.deliver()
    assert staff("POST", f"/orders/{oid}/evaluation", CENTRE,
                 {"satisfaction": "dissatisfied", "resolved": False, "method": "phone"})[0] == 200
    public, request = views(oid)
    assert (public["stage"], public["status_label"]) == ("replied", "不满意复核中") and public["reply"]
    assert staff("POST", f"/orders/{oid}/reopen", CENTRE, {"reason": "诉求人反映井盖仍未补装", "days": 3})[0] == 200
    public, request = views(oid)
    stored = orders.get_order(oid)
    assert (public["stage"], public["status_label"], public["reopen_count"]) == ("signed", "办理中", 1)
    assert public["reply"] is None and "井盖已于" not in request["status_notes"]
    assert public["due_at"] == request["expected_datetime"] == clock.iso(stored.due_at) != clock.iso(order.due_at)
    channel.close()
