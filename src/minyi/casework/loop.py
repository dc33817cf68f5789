"""The closed loop as staff take it (办理闭环): sign for, first contact, co-handlers'
opinions, attachments, the reply and its review, the centre's follow-up, reopening and
closing, and the joint meeting's (or the leaders') decision. Who may act, and from which
status, is the lifecycle table; each step goes through `casework.shell`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from minyi.casework import access, followup, handling, shell, steps
from minyi.core import clock, settings
from minyi.core.errors import Conflict, ValidationFailed
from minyi.dal import attachments as files
from minyi.dal import handling as records
from minyi.models.handling import Attachment, Record
from minyi.models.identity import StaffIdentity
from minyi.models.lifecycle import Command
from minyi.models.order import Evaluation, WorkOrder
from minyi.models.staff import (
    AttachmentRequest,
    CloseRequest,
    ContactRequest,
    DecisionRequest,
    EvaluationRequest,
    OpinionRequest,
    ReopenRequest,
    ReplyRequest,
    ReplyReviewRequest,
)
from minyi.routing import jurisdiction
from minyi.routing.matcher import Matcher


def summary(order: WorkOrder) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "department": order.department,
            "version": order.version}


def _act(identity: StaffIdentity, order_id: str, command: Command, step, now: datetime) -> WorkOrder:
    return shell.act(order_id, command, step, actor=identity.actor, now=now, identity=identity)


def sign(identity: StaffIdentity, order_id: str, now: datetime) -> dict[str, Any]:
    done = _act(identity, order_id, Command.SIGN, handling.sign_for(identity.own_department(), identity.actor, now),
                now)
    return {**summary(done), "signed_at": clock.iso(done.signed_at)}


def contact(identity: StaffIdentity, order_id: str, request: ContactRequest, now: datetime) -> dict[str, Any]:
    step = handling.contact(identity.own_department(), request.method, request.note, identity.actor, now)
    done = _act(identity, order_id, Command.CONTACT, step, now)
    return {**summary(done), "first_contact_at": clock.iso(done.first_contact_at)}


def opinion(identity: StaffIdentity, order_id: str, request: OpinionRequest, now: datetime) -> dict[str, Any]:
    step = handling.opinion(identity.own_department(), request.text, identity.actor, now)
    return summary(_act(identity, order_id, Command.OPINION, step, now))


def attach(identity: StaffIdentity, order_id: str, request: AttachmentRequest, now: datetime) -> dict[str, Any]:
    """Register an attachment and hand out its presigned upload link (≤ 15 minutes)."""
    config = settings.current()
    if request.size > config.attachment_max_bytes:
        raise ValidationFailed(f"an attachment is at most {config.attachment_max_bytes} bytes",
                               [{"field": "size", "problem": f"at most {config.attachment_max_bytes}"}])
    attachment_id = "A" + secrets.token_hex(12)
    attachment = Attachment(attachment_id=attachment_id, filename=request.filename,
                            content_type=request.content_type, size=request.size,
                            key=f"attachments/{order_id}/{attachment_id}", department=identity.own_department(),
                            by=identity.actor, at=now)
    done = _act(identity, order_id, Command.ATTACH, handling.attach(attachment), now)
    seconds = config.attachment_url_seconds
    return {**summary(done), "attachment_id": attachment_id,
            "upload_url": files.upload_url(attachment.key, attachment.content_type, seconds),
            "upload_headers": {"Content-Type": attachment.content_type},
            "expires_at": clock.iso(now + timedelta(seconds=seconds))}


def reply(identity: StaffIdentity, order_id: str, request: ReplyRequest, now: datetime) -> dict[str, Any]:
    found = {attachment_id: records.attachment(order_id, attachment_id) for attachment_id in request.attachment_ids}
    stored = {attachment_id: files.stored(attachment.key) for attachment_id, attachment in found.items()
              if attachment is not None}

    def step(order: WorkOrder):
        handling.check_attachments(request.attachment_ids, found, stored)
        return handling.reply(identity.own_department(), identity.actor, request.result, request.text,
                              request.internal_note, request.attachment_ids, access.reviewer_of(order),
                              now)(order)

    done = _act(identity, order_id, Command.REPLY, step, now)
    return {**summary(done), "reviewer": done.reply.reviewer}


def review_reply(identity: StaffIdentity, order_id: str, request: ReplyReviewRequest,
                 now: datetime) -> dict[str, Any]:
    if request.decision == "approve":
        step = handling.approve(identity.actor, now)
        return summary(_act(identity, order_id, Command.APPROVE_REPLY, step, now))
    done = _act(identity, order_id, Command.REJECT_REPLY, handling.reject(identity.actor, request.reason, now), now)
    return {**summary(done), "reply_rejections": done.reply_rejections}


def evaluate(identity: StaffIdentity, order_id: str, request: EvaluationRequest, now: datetime) -> dict[str, Any]:
    evaluation = Evaluation(satisfaction=request.satisfaction, resolved=request.resolved, method=request.method,
                            comment=request.comment, source="centre", by=identity.actor, at=now)
    return summary(_act(identity, order_id, Command.EVALUATE, followup.evaluate(evaluation), now))


def reopen(identity: StaffIdentity, order_id: str, request: ReopenRequest, now: datetime) -> dict[str, Any]:
    config = settings.current()
    step = followup.reopen(request.reason, request.days, config.default_reopen_days,
                           config.reopens_to_joint_meeting, now)
    done = _act(identity, order_id, Command.REOPEN, step, now)
    return {**summary(done), "reopen_count": done.reopen_count,
            "due_at": clock.iso(done.due_at) if done.due_at else None}


def close(identity: StaffIdentity, order_id: str, request: CloseRequest, now: datetime) -> dict[str, Any]:
    step = followup.close(request.reason, request.text, identity.actor, now)
    return summary(_act(identity, order_id, Command.CLOSE, step, now))


def decide(identity: StaffIdentity, order_id: str, request: DecisionRequest,
           matcher: Callable[[], Matcher | None], now: datetime) -> dict[str, Any]:
    """联席会议 decision (the centre), or 区长热线日 decision (a leader)."""
    if request.escalate:
        return summary(_act(identity, order_id, Command.DECIDE, steps.escalate_to_mayor_day(request.note), now))

    def step(order: WorkOrder):
        ready = matcher()
        if ready is None:
            raise Conflict("no duty list is in force; import one first")
        known = jurisdiction.departments(ready.duty_list)
        unknown = [d for d in [request.department, *(request.co_departments or [])] if d not in known]
        if unknown:
            raise ValidationFailed("no such department in the duty list in force",
                                   [{"field": "department", "problem": f"unknown department {d}"} for d in unknown])
        return steps.decide(ready, request.department, request.co_departments, request.matter_code, request.note,
                            now)(order)

    return summary(_act(identity, order_id, Command.DECIDE, step, now))


def handling_records(identity: StaffIdentity, order: WorkOrder) -> dict[str, Any]:
    """What `GET /staff/orders/{id}` adds: contacts, opinions (with the co-handlers that have
    not answered), attachments with download links, evaluations."""
    opinions = records.records(order.order_id, Record.OPINION)
    answered = {o.department for o in opinions}
    seconds = settings.current().attachment_url_seconds
    listed = []
    for attachment in records.records(order.order_id, Record.ATTACHMENT):
        stored = files.stored(attachment.key)
        listed.append({**attachment.model_dump(mode="json", exclude={"key"}),
                       "uploaded": stored == (attachment.size, attachment.content_type),
                       "download_url": files.download_url(attachment.key, attachment.filename, seconds)
                       if stored else None})
    return {
        "contacts": [c.model_dump(mode="json") for c in records.records(order.order_id, Record.CONTACT)],
        "opinions": [o.model_dump(mode="json") for o in opinions],
        "opinions_missing": [d for d in order.co_departments if d not in answered],
        "attachments": listed,
        "evaluations": [e.model_dump(mode="json") for e in records.records(order.order_id, Record.EVALUATION)],
    }
