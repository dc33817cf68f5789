"""What leaves the hotline about an order without a staff token (the public status and a
channel's status notice), and which stream records are public changes: rules, no AWS."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from minyi.intake import replies, status_updates
from minyi.models.events import ReplyDelivery, StreamRecord
from minyi.models.lifecycle import STATUSES, OrderStatus
from minyi.models.order import Citizen, ReplyStatus
from minyi.models.public import OrderStatusView, StatusNotice
from tests.builders import WHEN, an_order

PERSONAL = Citizen(name="钟伟明", phone="13576612037", id_number="11010519491231002X")


def with_secrets(status: OrderStatus, **overrides):
    order = an_order(status, citizen=PERSONAL, content="我家住在幸福小区，电话13576612037", **overrides)
    if order.reply:
        order = order.model_copy(update={"reply": order.reply.model_copy(update={
            "internal_note": "内部：维修单号 LD-1", "attachment_ids": ["A0123456789abcdef"],
            "text": "已修复，回电13576612037"})})
    return order


@pytest.mark.parametrize("status", list(OrderStatus))
def test_the_public_views_of_every_status_are_the_tables_and_carry_nothing_personal(status):
    order = with_secrets(status)
    for view in (OrderStatusView.of(order), StatusNotice.of(order)):
        shown = view.model_dump_json()
        for secret in ("钟伟明", "13576612037", "11010519491231002X", "幸福小区", "内部", "LD-1", "A0123456789abcdef"):
            assert secret not in shown, (type(view).__name__, secret)
        assert (view.stage, view.status_label) == (STATUSES[status].public_stage, STATUSES[status].public_label)
        assert view.updated_at == WHEN  # never changed: its receipt


def test_the_reply_is_shown_masked_once_it_reached_the_citizen_in_the_answered_stages():
    delivered = with_secrets(OrderStatus.AWAITING_EVALUATION)
    assert OrderStatusView.of(delivered).reply == "已修复，回电135****2037"
    assert OrderStatusView.of(delivered).reply_result_label == "已解决"
    approved = delivered.model_copy(update={"reply": delivered.reply.model_copy(
        update={"status": ReplyStatus.APPROVED})})
    assert OrderStatusView.of(approved).reply is None  # the citizen does not have it yet
    assert StatusNotice.of(approved).reply == "已修复，回电135****2037"  # sent with the reply to the channel
    reopened = delivered.model_copy(update={"status": OrderStatus.SIGNED, "reopen_count": 1})
    assert OrderStatusView.of(reopened).reply is None and StatusNotice.of(reopened).reply is None
    in_review = with_secrets(OrderStatus.REPLY_REVIEW)
    assert OrderStatusView.of(in_review).reply is None and StatusNotice.of(in_review).reply is None


def test_a_notice_names_its_version_and_the_expected_completion():
    order = an_order(OrderStatus.DISPATCHED, version=7, updated_at=WHEN)
    notice = StatusNotice.of(order)
    assert notice.delivery_id == f"{order.order_id}-status-7"
    assert notice.expected_completion == order.due_at and notice.department == order.department
    assert set(json.loads(notice.model_dump_json())) == {
        "order_id", "channel", "external_id", "version", "stage", "status_label", "department",
        "expected_completion", "updated_at", "reopen_count", "reply", "reply_result", "reply_result_label"}


def record(old: dict | None, new: dict, event: str = "MODIFY") -> StreamRecord:
    def image(values: dict) -> dict:
        return {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in values.items()}

    change = {"SequenceNumber": "1", "Keys": {}, "NewImage": image({"item_type": "order", **new})}
    if old is not None:
        change["OldImage"] = image({"item_type": "order", **old})
    return StreamRecord.model_validate({"eventID": "e", "eventName": event, "eventSourceARN": "arn",
                                        "dynamodb": change})


@pytest.mark.parametrize(("old", "new", "public"), [
    ({"public_stage": "dispatched"}, {"public_stage": "signed"}, True),
    ({"public_stage": "signed"}, {"public_stage": "signed"}, False),  # a contact, a reply waiting for review
    ({"public_stage": "replied"}, {"public_stage": "replied", "reply_status": "delivered"}, False),
    ({"public_stage": "replied", "reopen_count": 1}, {"public_stage": "replied", "reopen_count": 2}, True),
    ({"public_stage": "replied"}, {"public_stage": "signed", "reopen_count": 1}, True),
    ({}, {"public_stage": "signed"}, True),  # stored before the stage was
])
def test_a_public_change_is_a_new_stage_or_a_reopen(old, new, public):
    assert status_updates.public_change(record(old, new)) is public
    assert not status_updates.public_change(record(None, new, "INSERT"))


def test_the_replys_first_try_is_its_transition_into_approved():
    assert replies.approved_now(record({"reply_status": "pending_review"}, {"reply_status": "approved"}))
    assert replies.approved_now(record({}, {"reply_status": "approved"}))
    assert not replies.approved_now(record({"reply_status": "approved"}, {"reply_status": "approved"}))
    assert not replies.approved_now(record({"reply_status": "approved"}, {"reply_status": "retrying"}))


def test_a_status_retry_message_carries_the_notice_of_its_version():
    notice = StatusNotice.of(an_order(OrderStatus.SIGNED, version=4))
    message = ReplyDelivery(order_id=notice.order_id, attempt=2, kind="status", version=4, notice=notice)
    assert ReplyDelivery.model_validate_json(message.model_dump_json()).notice == notice
    assert ReplyDelivery.model_validate({"order_id": notice.order_id, "attempt": 3}).kind == "reply"
    for wrong in ({"kind": "status"}, {"kind": "status", "version": 5, "notice": notice},
                  {"version": 4}, {"notice": notice}):
        with pytest.raises(ValidationError):
            ReplyDelivery.model_validate({"order_id": notice.order_id, "attempt": 2, **wrong})
