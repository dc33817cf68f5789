"""统一督办 as staff take it: a department asks for an extension (延期) or a pause (挂起),
the centre decides; the centre names a leader for a case (领导包案), and that leader gives
instructions (批示) and sets the case's deadline. Who may act, and from which status, is the
lifecycle table; each step goes through `casework.shell`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minyi.casework import shell, supervision, timing
from minyi.core import clock
from minyi.models.clock import LIMIT_LABELS, STEP_LABELS, Deadline
from minyi.models.identity import StaffIdentity
from minyi.models.lifecycle import Command
from minyi.models.order import WorkOrder
from minyi.models.staff import (
    ExtensionRequestBody,
    ExtensionReviewRequest,
    InstructionRequest,
    LeaderCaseRequest,
    PauseRequestBody,
    PauseReviewRequest,
)


def _act(identity: StaffIdentity, order_id: str, command: Command, step, now: datetime) -> WorkOrder:
    return shell.act(order_id, command, step, actor=identity.actor, now=now, identity=identity)


def _time(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment else None


def deadline_view(limit: Deadline) -> dict[str, Any]:
    """One limit as staff read it under `deadlines`."""
    return {"label": LIMIT_LABELS[limit.kind], "basis": limit.basis, "measure": limit.measure.value,
            "start": _time(limit.start), "due": _time(limit.due), "warn_at": _time(limit.warn_at),
            "party": limit.party, "warned_at": _time(limit.warned_at), "met_at": _time(limit.met_at),
            "missed_at": _time(limit.missed_at),
            "steps": [{"step": rung.step.value, "label": STEP_LABELS[rung.step], "at": _time(rung.at)}
                      for rung in limit.steps],
            "next_step": ({"step": limit.next_step.value, "label": STEP_LABELS[limit.next_step],
                           "at": _time(limit.next_step_at)} if limit.next_step and limit.missed_at else None),
            "calendar_uncertain": limit.uncertain}


def clock_view(order: WorkOrder) -> dict[str, Any]:
    """The order's clock for `GET /staff/orders/{id}`: every limit, what is next, and the
    extensions, pauses and leader case."""
    upcoming = timing.next_due(order)
    return {
        "deadlines": {kind.value: deadline_view(limit) for kind, limit in order.deadlines.items()},
        "next_due": ({"at": _time(upcoming[0]), "limit": upcoming[1].value if upcoming[1] else None,
                      "what": upcoming[2]} if upcoming else None),
        "calendar_uncertain": order.calendar_uncertain,
        "extension_request": order.extension_request.model_dump(mode="json") if order.extension_request else None,
        "extensions": [e.model_dump(mode="json") for e in order.extensions],
        "pause_request": order.pause_request.model_dump(mode="json") if order.pause_request else None,
        "pauses": [p.model_dump(mode="json") for p in order.pauses],
        "leader_case": order.leader_case.model_dump(mode="json") if order.leader_case else None,
        "leader_case_proposed_at": _time(order.leader_case_proposed_at),
    }


def _answer(order: WorkOrder) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value, "department": order.department,
            "version": order.version, "due_at": _time(order.due_at), **clock_view(order)}


def request_extension(identity: StaffIdentity, order_id: str, body: ExtensionRequestBody,
                      now: datetime) -> dict[str, Any]:
    step = supervision.request_extension(body.days, body.reason, identity.actor, now, timing.rules())
    return _answer(_act(identity, order_id, Command.EXTEND, step, now))


def review_extension(identity: StaffIdentity, order_id: str, body: ExtensionReviewRequest,
                     now: datetime) -> dict[str, Any]:
    step = supervision.review_extension(body.decision == "approve", body.days, body.note, body.grant_more,
                                        identity.actor, now)
    return _answer(_act(identity, order_id, Command.REVIEW_EXTENSION, step, now))


def request_pause(identity: StaffIdentity, order_id: str, body: PauseRequestBody, now: datetime) -> dict[str, Any]:
    step = supervision.request_pause(body.reason, body.text, body.until, identity.actor, now)
    return _answer(_act(identity, order_id, Command.PAUSE, step, now))


def review_pause(identity: StaffIdentity, order_id: str, body: PauseReviewRequest, now: datetime) -> dict[str, Any]:
    step = supervision.review_pause(body.decision == "approve", body.note, identity.actor, now)
    return _answer(_act(identity, order_id, Command.REVIEW_PAUSE, step, now))


def resume(identity: StaffIdentity, order_id: str, now: datetime) -> dict[str, Any]:
    return _answer(_act(identity, order_id, Command.RESUME, supervision.resume(identity.actor, now), now))


def assign_leader_case(identity: StaffIdentity, order_id: str, body: LeaderCaseRequest,
                       now: datetime) -> dict[str, Any]:
    step = supervision.assign_leader_case(body.leader, body.due, body.note, identity.actor, now)
    return _answer(_act(identity, order_id, Command.LEADER_CASE, step, now))


def instruct(identity: StaffIdentity, order_id: str, body: InstructionRequest, now: datetime) -> dict[str, Any]:
    step = supervision.instruct(body.text, body.due, identity.username, now)
    return _answer(_act(identity, order_id, Command.INSTRUCT, step, now))
