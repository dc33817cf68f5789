"""The lifecycle of a work order (工单流转): every status and every allowed transition, in
one table. Queues, labels, the public and Open311 answers, the "in hand" set, the sweep's
branches, report columns and docs/lifecycle.md are derived from it, so a status cannot be
half-added: a new member of `OrderStatus` without its row here fails at import.

Pure data and lookups; the steps that move an order live in `minyi.casework`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from minyi.core.errors import Conflict, Forbidden


class OrderStatus(StrEnum):
    RECEIVED = "received"  # 已受理, waiting for dispatch
    DISPATCHED = "dispatched"  # 已派发 to a lead department
    MANUAL = "manual"  # 待人工分拨: no confident match, an operator dispatches it
    OVERDUE = "overdue"  # 已超期: the deadline passed before completion
    MERGED = "merged"  # 已并单: linked to an open order about the same matter, handled with it
    RETURNED = "returned"  # 退单待审核: the department says it is not theirs; the centre reviews
    JOINT_MEETING = "joint_meeting"  # 联席会议: disputed; every department involved meets on it


class TimerAction(StrEnum):
    """What the sweep does when an order's timer fires in a status."""

    DISPATCH = "dispatch"  # the dispatch watchdog: the stream never delivered the order
    ESCALATE = "escalate"  # the completion deadline passed: 超期督办


@dataclass(frozen=True)
class Status:
    """One status as every reader of an order sees it."""

    label: str  # 中文名称, for staff and reports
    queue: str | None  # the centre's queue an order waits in (the `queues` index), if any
    in_hand: bool  # a department holds it and works on it (may be returned, merged into)
    clock_runs: bool  # a department is on the completion clock (others: nobody is escalated for this time)
    on_timer: TimerAction | None  # what a fired timer means here (None: nothing, it is skipped)
    public_label: str  # what a citizen reads in the public status
    open311: str  # GeoReport v2 status: open or closed
    open311_note: str  # GeoReport v2 status_notes ({department} is filled in)


STATUSES: dict[OrderStatus, Status] = {  # in the order report columns show them
    OrderStatus.RECEIVED: Status("待分拨", "undispatched", False, False, TimerAction.DISPATCH,
                                 "已受理", "open", "已受理"),
    OrderStatus.DISPATCHED: Status("办理中", None, True, True, TimerAction.ESCALATE,
                                   "办理中", "open", "已派发至{department}办理"),
    OrderStatus.MANUAL: Status("待人工分拨", "manual", False, False, None,
                               "分拨中", "open", "分拨中"),
    OrderStatus.OVERDUE: Status("已超期", None, True, True, None,
                                "办理中（已督办）", "open", "办理超期，已督办"),
    OrderStatus.MERGED: Status("已并单", None, False, False, None,
                               "已并案办理", "open", "已与相同诉求并案办理"),
    OrderStatus.RETURNED: Status("退单待审", "review", False, False, None,
                                 "重新分拨中", "open", "重新分拨中"),
    OrderStatus.JOINT_MEETING: Status("联席会议", "joint_meeting", False, False, None,
                                      "多部门会商中", "open", "多部门会商中"),
}
_missing = set(OrderStatus) - set(STATUSES)
if _missing:
    raise RuntimeError(f"statuses without a row in the lifecycle table: {sorted(_missing)}")


class Party(StrEnum):
    """Who takes a step, relative to the order."""

    SYSTEM = "system"  # intake, routing, the sweep, reply delivery, operators' command line
    CENTRE = "centre"  # 12345 中心
    LEAD = "lead"  # the department or township leading the order (主办单位)
    CO_HANDLER = "co_handler"  # a co-handling department (协办单位)
    LEADER = "leader"  # county leaders: read everything, act on nothing


class Command(StrEnum):
    """What someone does to an order."""

    RECEIVE = "receive"  # 受理
    ROUTE = "route"  # 自动分拨 (or the manual queue)
    MERGE = "merge"  # 并单 into an open order about the same matter
    LINK_RELATED = "link_related"  # the open order takes a merged one in
    DISPATCH = "dispatch"  # 人工分拨
    RETURN = "return"  # 退单
    UPHOLD = "uphold"  # 维持 the dispatch a department returned
    REDISPATCH = "redispatch"  # 改派
    DISPUTE = "dispute"  # 争议 → 联席会议
    ESCALATE = "escalate"  # 超期
    REPLY = "reply"  # a department's reply is ready (统一回复)
    APPROVE_REPLY = "approve_reply"  # the channel's reviewer approves it
    DELIVER_REPLY = "deliver_reply"  # a delivery attempt's outcome


class AuditAction(StrEnum):
    """The `action` of an audit record (审计记录)."""

    RECEIVED = "received"
    DISPATCHED = "dispatched"
    QUEUED_MANUAL = "queued_manual"
    MERGED_INTO = "merged_into"
    RELATED_REQUEST_LINKED = "related_request_linked"
    DISPATCHED_MANUALLY = "dispatched_manually"
    RETURNED = "returned"
    RETURNED_TO_JOINT_MEETING = "returned_to_joint_meeting"
    RETURN_REJECTED = "return_rejected"
    REDISPATCHED = "redispatched"
    DISPUTED = "disputed"
    ESCALATED_OVERDUE = "escalated_overdue"
    REPLY_READY = "reply_ready"
    REPLY_APPROVED = "reply_approved"
    REPLY_DELIVERED = "reply_delivered"
    REPLY_RETRY_SCHEDULED = "reply_retry_scheduled"
    REPLY_DEAD_LETTERED = "reply_dead_lettered"


@dataclass(frozen=True)
class Transition:
    source: OrderStatus | None  # None: the order does not exist yet
    command: Command
    target: OrderStatus
    who: frozenset[Party]
    audit: AuditAction


S = OrderStatus
_SYSTEM, _CENTRE, _LEAD = frozenset({Party.SYSTEM}), frozenset({Party.CENTRE}), frozenset({Party.LEAD})
IN_HAND = tuple(status for status, row in STATUSES.items() if row.in_hand)


def _rows() -> list[Transition]:
    rows = [
        Transition(None, Command.RECEIVE, S.RECEIVED, _SYSTEM, AuditAction.RECEIVED),
        Transition(S.RECEIVED, Command.ROUTE, S.DISPATCHED, _SYSTEM, AuditAction.DISPATCHED),
        Transition(S.RECEIVED, Command.ROUTE, S.MANUAL, _SYSTEM, AuditAction.QUEUED_MANUAL),
        Transition(S.RECEIVED, Command.MERGE, S.MERGED, _SYSTEM, AuditAction.MERGED_INTO),
        Transition(S.MANUAL, Command.DISPATCH, S.DISPATCHED, _CENTRE, AuditAction.DISPATCHED_MANUALLY),
        Transition(S.RETURNED, Command.UPHOLD, S.DISPATCHED, _CENTRE, AuditAction.RETURN_REJECTED),
        Transition(S.RETURNED, Command.REDISPATCH, S.DISPATCHED, _CENTRE, AuditAction.REDISPATCHED),
        Transition(S.DISPATCHED, Command.ESCALATE, S.OVERDUE, _SYSTEM, AuditAction.ESCALATED_OVERDUE),
    ]
    for source in IN_HAND:
        rows += [
            Transition(source, Command.LINK_RELATED, source, _SYSTEM, AuditAction.RELATED_REQUEST_LINKED),
            Transition(source, Command.RETURN, S.RETURNED, _LEAD, AuditAction.RETURNED),
            # a second return of the same order goes to the joint meeting, not back to review
            Transition(source, Command.RETURN, S.JOINT_MEETING, _LEAD, AuditAction.RETURNED_TO_JOINT_MEETING),
        ]
    for source in (*IN_HAND, S.RETURNED, S.MANUAL):
        rows.append(Transition(source, Command.DISPUTE, S.JOINT_MEETING, _CENTRE, AuditAction.DISPUTED))
    # The reply is a sub-state of the order for now (its own status field), recorded in any
    # status: the operator's command line marks it ready, the channel's reviewer approves it,
    # delivery records each attempt. It leaves the order's status as it is.
    for source in OrderStatus:
        rows += [
            Transition(source, Command.REPLY, source, _SYSTEM, AuditAction.REPLY_READY),
            Transition(source, Command.APPROVE_REPLY, source, _SYSTEM, AuditAction.REPLY_APPROVED),
        ]
        rows += [Transition(source, Command.DELIVER_REPLY, source, _SYSTEM, audit)
                 for audit in (AuditAction.REPLY_DELIVERED, AuditAction.REPLY_RETRY_SCHEDULED,
                               AuditAction.REPLY_DEAD_LETTERED)]
    return rows


TRANSITIONS: tuple[Transition, ...] = tuple(_rows())
QUEUES: dict[str, OrderStatus] = {row.queue: status for status, row in STATUSES.items() if row.queue}

# which role may ever be which party (the first, role-only check of a staff request)
_PARTIES_OF_ROLE = {"centre": {Party.CENTRE}, "leader": {Party.LEADER},
                    "department": {Party.LEAD, Party.CO_HANDLER}}


def queue_of(status: OrderStatus) -> str | None:
    return STATUSES[status].queue


def transitions(source: OrderStatus | None, command: Command) -> tuple[Transition, ...]:
    return tuple(row for row in TRANSITIONS if row.source == source and row.command == command)


def who_may(command: Command) -> frozenset[Party]:
    return frozenset(party for row in TRANSITIONS if row.command == command for party in row.who)


def sources(command: Command) -> tuple[OrderStatus, ...]:
    return tuple(dict.fromkeys(row.source for row in TRANSITIONS if row.command == command and row.source))


def _wanted(parties: frozenset[Party]) -> str:
    return "、".join(sorted(party.value for party in parties))


def check_role(roles: frozenset[str], command: Command) -> None:
    """403 unless one of these roles may ever take this command (before the order is read)."""
    possible = {party for role in roles for party in _PARTIES_OF_ROLE.get(role, ())}
    if not possible & who_may(command):
        raise Forbidden(f"{command.value} needs the {_wanted(who_may(command))} party")


def check(source: OrderStatus, command: Command, parties: frozenset[Party]) -> tuple[Transition, ...]:
    """The transitions this caller may take: 409 when the order's status does not allow the
    command, 403 when it does but not for this caller's part in the order."""
    rows = transitions(source, command)
    if not rows:
        allowed = "、".join(status.value for status in sources(command))
        raise Conflict(f"the order is {source.value}; {command.value} is only for orders that are {allowed}")
    mine = tuple(row for row in rows if row.who & parties)
    if not mine:
        raise Forbidden(f"{command.value} of an order that is {source.value} is for the "
                        f"{_wanted(frozenset().union(*(row.who for row in rows)))} party")
    return mine


def audit_action(source: OrderStatus | None, command: Command, target: OrderStatus,
                 audit: AuditAction | None = None) -> AuditAction:
    """The audit action of a step the table allows; a step leading anywhere else is a bug."""
    rows = [row for row in transitions(source, command) if row.target is target
            and (audit is None or row.audit is audit)]
    if not rows:
        raise RuntimeError(f"no transition {source} --{command.value}--> {target.value} in the lifecycle table")
    return rows[0].audit
