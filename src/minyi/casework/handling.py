"""The department's work on an order and the reviewer's check (办理与办结审核): sign for
(签收), first contact (先行联系), co-handlers' opinions (协办意见), attachments (附件), the
reply (办结申请) and its review (办结审核). Each step is a pure function of the order as
read; `casework.shell` loads, checks who may act and commits."""

from __future__ import annotations

import secrets
from datetime import datetime

from minyi.casework.shell import Outcome, Step
from minyi.core import clock
from minyi.core.errors import ValidationFailed
from minyi.models.handling import Attachment, Contact, ContactMethod, Opinion, Record
from minyi.models.lifecycle import AuditAction, OrderStatus
from minyi.models.order import Reply, ReplyResult, ReplyStatus, WorkOrder


def _key(now: datetime) -> str:
    """A handling record's sort key: when, then a random tail (two in the same microsecond)."""
    return f"{clock.iso(now)}#{secrets.token_hex(3)}"


def sign_for(department: str, by: str, now: datetime) -> Step:
    """签收: the lead department takes the order on; its completion clock runs on."""
    def step(order: WorkOrder) -> Outcome:
        after = order.model_copy(update={"status": OrderStatus.SIGNED, "signed_at": now, "signed_by": by})
        late = order.dispatched_at is not None and order.due_at is not None and now > order.due_at
        return Outcome(after, {"department": department, "signed_by": by, **({"after_deadline": True} if late else {})})
    return step


def contact(department: str, method: ContactMethod, note: str, by: str, now: datetime) -> Step:
    """先行联系: recorded each time; the first sets `first_contact_at`."""
    def step(order: WorkOrder) -> Outcome:
        record = Contact(method=method, note=note, department=department, by=by, at=now)
        first = order.first_contact_at is None
        after = order.model_copy(update={"first_contact_at": now}) if first else order
        return Outcome(after, {"method": method.value, "first": first},
                       records=((Record.CONTACT, _key(now), record),))
    return step


def opinion(department: str, text: str, by: str, now: datetime) -> Step:
    """协办意见 of a co-handling department, for the lead department to read."""
    def step(order: WorkOrder) -> Outcome:
        record = Opinion(department=department, text=text, by=by, at=now)
        given = order.opinions_from if department in order.opinions_from else [*order.opinions_from, department]
        return Outcome(order.model_copy(update={"opinions_from": given}), {"department": department},
                       records=((Record.OPINION, f"{department}#{_key(now)}", record),))
    return step


def attach(attachment: Attachment) -> Step:
    """附件: an attachment registered for upload (it counts once its object is there)."""
    def step(order: WorkOrder) -> Outcome:
        return Outcome(order, {"attachment_id": attachment.attachment_id, "filename": attachment.filename,
                               "content_type": attachment.content_type, "size": attachment.size},
                       records=((Record.ATTACHMENT, attachment.attachment_id, attachment),))
    return step


def reply(department: str, by: str, result: ReplyResult, text: str, internal_note: str | None,
          attachment_ids: list[str], reviewer: str | None, now: datetime) -> Step:
    """办结申请: the lead department's reply. With a reviewer it waits for review (办结待审);
    an interconnected platform reviews on its side, so it goes straight back and the
    evaluation window opens (`casework.timing`)."""
    def step(order: WorkOrder) -> Outcome:
        answer = Reply(text=text, author=department, written_by=by, written_at=now, result=result,
                       internal_note=internal_note, attachment_ids=attachment_ids, reviewer=reviewer,
                       status=ReplyStatus.PENDING_REVIEW if reviewer else ReplyStatus.APPROVED,
                       approved_by=None if reviewer else PLATFORM_REVIEW, approved_at=None if reviewer else now)
        detail = {"result": result.value, "reviewer": reviewer, "attachments": len(attachment_ids),
                  **({"after_deadline": True} if order.due_at and now > order.due_at else {})}
        # a reply ends what the department was still asking for: an extension or a pause is moot now
        moot = {"extension_request": None, "pause_request": None}
        if order.extension_request or order.pause_request:
            detail["withdrawn"] = [name for name in moot if getattr(order, name)]
        if reviewer:
            return Outcome(order.model_copy(update={"status": OrderStatus.REPLY_REVIEW, "reply": answer, **moot}),
                           detail,
                           audit=AuditAction.REPLIED)
        after = order.model_copy(update={"status": OrderStatus.AWAITING_EVALUATION, "reply": answer, **moot})
        return Outcome(after, detail, audit=AuditAction.REPLIED_TO_PLATFORM)
    return step


PLATFORM_REVIEW = "原平台审核"


def approve(reviewer: str, now: datetime) -> Step:
    """办结审核 通过: the reply goes back through its channel; the evaluation window opens."""
    def step(order: WorkOrder) -> Outcome:
        answer = order.reply.model_copy(update={"status": ReplyStatus.APPROVED, "approved_by": reviewer,
                                                "approved_at": now})
        after = order.model_copy(update={"status": OrderStatus.AWAITING_EVALUATION, "reply": answer})
        return Outcome(after, {"reviewer": reviewer})
    return step


def reject(reviewer: str, reason: str, now: datetime) -> Step:
    """办结审核 退回: back to the department with the reason; counted. Its completion
    clock runs on from the deadline it had."""
    def step(order: WorkOrder) -> Outcome:
        answer = order.reply.model_copy(update={"status": ReplyStatus.REJECTED, "rejected_reason": reason})
        after = order.model_copy(update={"status": OrderStatus.SIGNED, "reply": answer,
                                         "reply_rejections": order.reply_rejections + 1})
        return Outcome(after, {"reviewer": reviewer, "reason": reason, "rejections": after.reply_rejections,
                               "text": order.reply.text})
    return step


def check_attachments(named: list[str], found: dict[str, Attachment | None], stored: dict[str, tuple[int, str] | None]
                      ) -> None:
    """A reply names only attachments whose object exists with the declared size and type."""
    problems = []
    for attachment_id in named:
        attachment = found.get(attachment_id)
        if attachment is None:
            problems.append({"field": "attachment_ids", "problem": f"no attachment {attachment_id} on this order"})
            continue
        head = stored.get(attachment_id)
        if head is None:
            problems.append({"field": "attachment_ids", "problem": f"{attachment_id} was never uploaded"})
        elif head != (attachment.size, attachment.content_type):
            problems.append({"field": "attachment_ids", "problem": (
                f"{attachment_id} is {head[0]} bytes of {head[1]}, not the declared "
                f"{attachment.size} bytes of {attachment.content_type}")})
    if problems:
        raise ValidationFailed("a reply names only attachments that are uploaded as declared", problems)
