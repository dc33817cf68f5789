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
    MANUAL = "manual"  # 待人工分拨: no confident match, an operator dispatches it
    MERGED = "merged"  # 已并单: linked to an open order about the same matter, handled with it
    DISPATCHED = "dispatched"  # 派发待签收: sent to a lead department, not yet signed for
    SIGNED = "signed"  # 已签收·办理中: the lead department signed for it and works on it
    PAUSED = "paused"  # 已挂起: the centre approved a pause; the clock stands still
    RETURNED = "returned"  # 退单待审: the department says it is not theirs; the centre reviews
    JOINT_MEETING = "joint_meeting"  # 联席会议: disputed; every department involved meets on it
    MAYOR_DAY = "mayor_day"  # 区长热线日: what the joint meeting could not settle, for the leaders
    REPLY_REVIEW = "reply_review"  # 办结待审: the department replied; the channel's reviewer checks it
    AWAITING_EVALUATION = "awaiting_evaluation"  # 待回访/评价: the reply went back; the citizen rates it
    DISSATISFIED = "dissatisfied"  # 不满意待研判: the centre reopens or closes it
    CLOSED = "closed"  # 已办结


# Statuses stored by earlier versions, read as what they are now: `overdue` was a status
# until overdue became a fact about a deadline (`overdue_at`, `lapses`); such an order was
# dispatched and never signed for, since signing did not exist.
LEGACY_STATUSES: dict[str, OrderStatus] = {"overdue": OrderStatus.DISPATCHED}


def status_of(stored: str) -> OrderStatus:
    """The status an item holds, legacy values included."""
    return LEGACY_STATUSES.get(stored) or OrderStatus(stored)


def stored_forms(status: OrderStatus) -> tuple[str, ...]:
    """Every value an item in this status may hold (a conditional write accepts each)."""
    return (status.value, *(old for old, new in LEGACY_STATUSES.items() if new is status))


class TimerAction(StrEnum):
    """What the sweep does when an order's timer fires in a status."""

    DISPATCH = "dispatch"  # the dispatch watchdog: the stream never delivered the order
    CLOCK = "clock"  # the order's limits say what is due: a warning, a missed limit, a ladder step,
    # the end of the evaluation window (closed unevaluated) or of a pause (resumed)


@dataclass(frozen=True)
class Status:
    """One status as every reader of an order sees it."""

    label: str  # 中文名称, for staff and reports
    queue: str | None  # the queue an order waits in (the `queues` index), if any
    in_hand: bool  # a department holds it and works on it (may be returned, merged into)
    clock_runs: bool  # a department is on the completion clock (others: nobody is escalated for this time)
    on_timer: TimerAction | None  # what a fired timer means here (None: nothing, it is skipped)
    public_label: str  # what a citizen reads in the public status
    open311: str  # GeoReport v2 status: open or closed
    open311_note: str  # GeoReport v2 status_notes ({department} is filled in)
    public_stage: str  # the stage a channel is told of when it changes (status delivery)


STATUSES: dict[OrderStatus, Status] = {  # in the order report columns show them
    OrderStatus.RECEIVED: Status("待分拨", "undispatched", False, False, TimerAction.DISPATCH,
                                 "已受理", "open", "已受理", "received"),
    OrderStatus.MANUAL: Status("待人工分拨", "manual", False, False, None,
                               "分拨中", "open", "分拨中", "received"),
    OrderStatus.MERGED: Status("已并单", None, False, False, None,
                               "已并案办理", "open", "已与相同诉求并案办理", "merged"),
    OrderStatus.DISPATCHED: Status("派发待签收", None, True, True, TimerAction.CLOCK,
                                   "已派发", "open", "已派发至{department}办理", "dispatched"),
    OrderStatus.SIGNED: Status("已签收·办理中", None, True, True, TimerAction.CLOCK,
                               "办理中", "open", "{department}已签收，正在办理", "signed"),
    OrderStatus.PAUSED: Status("已挂起", "paused", False, False, TimerAction.CLOCK,
                               "暂停办理", "open", "{department}办理暂停（等待补充材料或第三方）", "signed"),
    OrderStatus.RETURNED: Status("退单待审", "review", False, False, None,
                                 "重新分拨中", "open", "重新分拨中", "received"),
    OrderStatus.JOINT_MEETING: Status("联席会议", "joint_meeting", False, False, None,
                                      "多部门会商中", "open", "多部门会商中", "coordinating"),
    OrderStatus.MAYOR_DAY: Status("区长热线日", "mayor_day", False, False, None,
                                  "领导协调办理中", "open", "提交区长热线日协调办理", "coordinating"),
    OrderStatus.REPLY_REVIEW: Status("办结待审", "reply_review", False, False, TimerAction.CLOCK,
                                     "办理中", "open", "{department}已答复，审核中", "signed"),
    OrderStatus.AWAITING_EVALUATION: Status("待回访评价", "follow_up", False, False, TimerAction.CLOCK,
                                            "已答复", "open", "已答复，待评价", "replied"),
    OrderStatus.DISSATISFIED: Status("不满意待研判", "dissatisfied", False, False, None,
                                     "不满意复核中", "open", "诉求人不满意，中心复核中", "replied"),
    OrderStatus.CLOSED: Status("已办结", None, False, False, None,
                               "已办结", "closed", "已办结", "closed"),
}
_missing = set(OrderStatus) - set(STATUSES)
if _missing:
    raise RuntimeError(f"statuses without a row in the lifecycle table: {sorted(_missing)}")


class Party(StrEnum):
    """Who takes a step, relative to the order."""

    SYSTEM = "system"  # intake, routing, the sweep, reply delivery, a channel's own evaluation
    CENTRE = "centre"  # 12345 中心
    LEAD = "lead"  # the department or township leading the order (主办单位)
    CO_HANDLER = "co_handler"  # a co-handling department (协办单位)
    REVIEWER = "reviewer"  # whoever the channel's registry entry names to review replies (办结审核)
    LEADER = "leader"  # county leaders: read everything, decide 区长热线日 orders, act on nothing else
    CASE_LEADER = "case_leader"  # the leader an order's 领导包案 names: instructions and its deadline


class Command(StrEnum):
    """What someone does to an order."""

    RECEIVE = "receive"  # 受理
    ROUTE = "route"  # 自动分拨 (or the manual queue)
    MERGE = "merge"  # 并单 into an open order about the same matter
    LINK_RELATED = "link_related"  # the open order takes a merged one in
    DISPATCH = "dispatch"  # 人工分拨
    SIGN = "sign"  # 签收
    CONTACT = "contact"  # 先行联系
    OPINION = "opinion"  # 协办意见
    ATTACH = "attach"  # 附件: an attachment registered for upload
    RETURN = "return"  # 退单
    UPHOLD = "uphold"  # 维持 the dispatch a department returned
    REDISPATCH = "redispatch"  # 改派
    DISPUTE = "dispute"  # 争议 → 联席会议
    DECIDE = "decide"  # 联席会议 / 区长热线日 decision: designate a department, or escalate
    ESCALATE = "escalate"  # 超期: the completion deadline passed (a fact, not a status)
    REPLY = "reply"  # 办结申请: the lead department's reply (统一回复)
    APPROVE_REPLY = "approve_reply"  # 办结审核 通过
    REJECT_REPLY = "reject_reply"  # 办结审核 退回
    DELIVER_REPLY = "deliver_reply"  # a delivery attempt's outcome
    EVALUATE = "evaluate"  # 回访/评价: the centre's follow-up or the channel's own evaluation
    CLOSE_UNEVALUATED = "close_unevaluated"  # the evaluation window passed with no answer
    REOPEN = "reopen"  # 重办
    CLOSE = "close"  # the centre closes a dissatisfied order without reopening
    CLOSE_WITH_PARENT = "close_with_parent"  # a merged request closes with the order it was handled with
    SHARE_REPLY = "share_reply"  # a merged request gets the approved reply of the order it was handled with
    EXTEND = "extend"  # 延期申请 by the lead department, before the completion limit
    REVIEW_EXTENSION = "review_extension"  # the centre approves or refuses it
    PAUSE = "pause"  # 挂起申请
    REVIEW_PAUSE = "review_pause"  # the centre approves (the clock stops) or refuses it
    RESUME = "resume"  # 恢复办理: by request, by the centre, or at the pause's date
    LEADER_CASE = "leader_case"  # 领导包案: the centre names a leader and the leader's deadline
    INSTRUCT = "instruct"  # 领导批示 (and the leader's new deadline)


class AuditAction(StrEnum):
    """The `action` of an audit record (审计记录)."""

    RECEIVED = "received"
    DISPATCHED = "dispatched"
    QUEUED_MANUAL = "queued_manual"
    MERGED_INTO = "merged_into"
    RELATED_REQUEST_LINKED = "related_request_linked"
    DISPATCHED_MANUALLY = "dispatched_manually"
    SIGNED = "signed"
    CONTACTED = "contacted"
    OPINION_GIVEN = "opinion_given"
    ATTACHMENT_ADDED = "attachment_added"
    RETURNED = "returned"
    RETURNED_TO_JOINT_MEETING = "returned_to_joint_meeting"
    RETURN_REJECTED = "return_rejected"
    REDISPATCHED = "redispatched"
    DISPUTED = "disputed"
    JOINT_MEETING_DESIGNATED = "joint_meeting_designated"
    ESCALATED_TO_MAYOR_DAY = "escalated_to_mayor_day"
    MAYOR_DAY_DESIGNATED = "mayor_day_designated"
    ESCALATED_OVERDUE = "escalated_overdue"
    REPLIED = "replied"
    REPLIED_TO_PLATFORM = "replied_to_platform"
    REPLY_APPROVED = "reply_approved"
    REPLY_REJECTED = "reply_rejected"
    REPLY_DELIVERED = "reply_delivered"
    REPLY_RETRY_SCHEDULED = "reply_retry_scheduled"
    REPLY_DEAD_LETTERED = "reply_dead_lettered"
    EVALUATED = "evaluated"
    CLOSED_UNEVALUATED = "closed_unevaluated"
    REOPENED = "reopened"
    REOPENED_TO_JOINT_MEETING = "reopened_to_joint_meeting"
    CLOSED_BY_CENTRE = "closed_by_centre"
    CLOSED_WITH_PARENT = "closed_with_parent"
    REPLY_SHARED = "reply_shared"
    DEADLINE_APPROACHING = "deadline_approaching"  # a limit's warning (预警)
    DEADLINE_MISSED = "deadline_missed"  # a limit passed unmet (the completion limit: escalated_overdue)
    REMINDED = "reminded"  # 催办
    NOTICE_SENT = "notice_sent"  # 催办通知书
    SUPERVISED = "supervised"  # 督办
    LEADER_CASE_PROPOSED = "leader_case_proposed"  # 建议领导包案
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    PAUSE_REQUESTED = "pause_requested"
    PAUSE_APPROVED = "pause_approved"
    PAUSE_REFUSED = "pause_refused"
    RESUMED = "resumed"
    LEADER_CASE_ASSIGNED = "leader_case_assigned"
    INSTRUCTED = "instructed"


@dataclass(frozen=True)
class Transition:
    source: OrderStatus | None  # None: the order does not exist yet
    command: Command
    target: OrderStatus
    who: frozenset[Party]
    audit: AuditAction


S = OrderStatus
_SYSTEM, _CENTRE, _LEAD = frozenset({Party.SYSTEM}), frozenset({Party.CENTRE}), frozenset({Party.LEAD})
_CO, _REVIEWER, _LEADER = frozenset({Party.CO_HANDLER}), frozenset({Party.REVIEWER}), frozenset({Party.LEADER})
_CASE_LEADER = frozenset({Party.CASE_LEADER})
IN_HAND = tuple(status for status, row in STATUSES.items() if row.in_hand)
# a delivery attempt of an approved reply lands whatever the order's status is by then
# (the citizen may have been called and the order closed before a retry got through); a merged
# request's copy of its parent's reply is delivered while it is merged
DELIVERY_STATUSES = (S.MERGED, S.AWAITING_EVALUATION, S.DISSATISFIED, S.CLOSED, S.SIGNED, S.REPLY_REVIEW,
                     S.JOINT_MEETING, S.DISPATCHED, S.RETURNED, S.MAYOR_DAY, S.PAUSED)
# where the clock's sweep acts (warnings, missed limits, ladder steps) without moving the order
CLOCK_STATUSES = (S.DISPATCHED, S.SIGNED, S.REPLY_REVIEW, S.AWAITING_EVALUATION)
# the clock's audit actions, each a self-transition taken by the sweep
CLOCK_AUDITS = ("deadline_approaching", "deadline_missed", "escalated_overdue", "reminded", "notice_sent",
                "supervised", "leader_case_proposed")
# where a leader case may start and its leader give instructions
LEADER_CASE_STATUSES = (S.DISPATCHED, S.SIGNED, S.PAUSED, S.REPLY_REVIEW)


def _rows() -> list[Transition]:
    rows = [
        Transition(None, Command.RECEIVE, S.RECEIVED, _SYSTEM, AuditAction.RECEIVED),
        Transition(S.RECEIVED, Command.ROUTE, S.DISPATCHED, _SYSTEM, AuditAction.DISPATCHED),
        Transition(S.RECEIVED, Command.ROUTE, S.MANUAL, _SYSTEM, AuditAction.QUEUED_MANUAL),
        Transition(S.RECEIVED, Command.MERGE, S.MERGED, _SYSTEM, AuditAction.MERGED_INTO),
        Transition(S.MANUAL, Command.DISPATCH, S.DISPATCHED, _CENTRE, AuditAction.DISPATCHED_MANUALLY),
        Transition(S.DISPATCHED, Command.SIGN, S.SIGNED, _LEAD, AuditAction.SIGNED),
        Transition(S.SIGNED, Command.CONTACT, S.SIGNED, _LEAD, AuditAction.CONTACTED),
        Transition(S.RETURNED, Command.UPHOLD, S.DISPATCHED, _CENTRE, AuditAction.RETURN_REJECTED),
        Transition(S.RETURNED, Command.REDISPATCH, S.DISPATCHED, _CENTRE, AuditAction.REDISPATCHED),
        Transition(S.JOINT_MEETING, Command.DECIDE, S.DISPATCHED, _CENTRE, AuditAction.JOINT_MEETING_DESIGNATED),
        Transition(S.JOINT_MEETING, Command.DECIDE, S.MAYOR_DAY, _CENTRE, AuditAction.ESCALATED_TO_MAYOR_DAY),
        Transition(S.MAYOR_DAY, Command.DECIDE, S.DISPATCHED, _LEADER, AuditAction.MAYOR_DAY_DESIGNATED),
        # with a reviewer the reply waits for approval; an interconnected platform reviews on its side
        Transition(S.SIGNED, Command.REPLY, S.REPLY_REVIEW, _LEAD, AuditAction.REPLIED),
        Transition(S.SIGNED, Command.REPLY, S.AWAITING_EVALUATION, _LEAD, AuditAction.REPLIED_TO_PLATFORM),
        Transition(S.REPLY_REVIEW, Command.APPROVE_REPLY, S.AWAITING_EVALUATION, _REVIEWER,
                   AuditAction.REPLY_APPROVED),
        Transition(S.REPLY_REVIEW, Command.REJECT_REPLY, S.SIGNED, _REVIEWER, AuditAction.REPLY_REJECTED),
        Transition(S.AWAITING_EVALUATION, Command.EVALUATE, S.CLOSED, _CENTRE | _SYSTEM, AuditAction.EVALUATED),
        Transition(S.AWAITING_EVALUATION, Command.EVALUATE, S.DISSATISFIED, _CENTRE | _SYSTEM,
                   AuditAction.EVALUATED),
        Transition(S.AWAITING_EVALUATION, Command.CLOSE_UNEVALUATED, S.CLOSED, _SYSTEM,
                   AuditAction.CLOSED_UNEVALUATED),
        Transition(S.DISSATISFIED, Command.REOPEN, S.SIGNED, _CENTRE, AuditAction.REOPENED),
        # the third reopen of the same order goes to the joint meeting instead
        Transition(S.DISSATISFIED, Command.REOPEN, S.JOINT_MEETING, _CENTRE, AuditAction.REOPENED_TO_JOINT_MEETING),
        Transition(S.DISSATISFIED, Command.CLOSE, S.CLOSED, _CENTRE, AuditAction.CLOSED_BY_CENTRE),
        Transition(S.MERGED, Command.CLOSE_WITH_PARENT, S.CLOSED, _SYSTEM, AuditAction.CLOSED_WITH_PARENT),
        Transition(S.MERGED, Command.SHARE_REPLY, S.MERGED, _SYSTEM, AuditAction.REPLY_SHARED),
    ]
    for source in IN_HAND:
        rows += [
            Transition(source, Command.LINK_RELATED, source, _SYSTEM, AuditAction.RELATED_REQUEST_LINKED),
            Transition(source, Command.RETURN, S.RETURNED, _LEAD, AuditAction.RETURNED),
            # a second return of the same order goes to the joint meeting, not back to review
            Transition(source, Command.RETURN, S.JOINT_MEETING, _LEAD, AuditAction.RETURNED_TO_JOINT_MEETING),
            Transition(source, Command.OPINION, source, _CO, AuditAction.OPINION_GIVEN),
            Transition(source, Command.ATTACH, source, _LEAD | _CO, AuditAction.ATTACHMENT_ADDED),
            Transition(source, Command.EXTEND, source, _LEAD, AuditAction.EXTENSION_REQUESTED),
            Transition(source, Command.REVIEW_EXTENSION, source, _CENTRE, AuditAction.EXTENSION_APPROVED),
            Transition(source, Command.REVIEW_EXTENSION, source, _CENTRE, AuditAction.EXTENSION_REFUSED),
        ]
    for source in CLOCK_STATUSES:
        # a warning, a missed limit (overdue is a fact recorded on the order) or a ladder step:
        # the order's status stays
        rows += [Transition(source, Command.ESCALATE, source, _SYSTEM, AuditAction(audit)) for audit in CLOCK_AUDITS]
    rows += [
        Transition(S.SIGNED, Command.PAUSE, S.SIGNED, _LEAD, AuditAction.PAUSE_REQUESTED),
        Transition(S.SIGNED, Command.REVIEW_PAUSE, S.PAUSED, _CENTRE, AuditAction.PAUSE_APPROVED),
        Transition(S.SIGNED, Command.REVIEW_PAUSE, S.SIGNED, _CENTRE, AuditAction.PAUSE_REFUSED),
        Transition(S.PAUSED, Command.RESUME, S.SIGNED, _LEAD | _CENTRE | _SYSTEM, AuditAction.RESUMED),
        Transition(S.PAUSED, Command.ATTACH, S.PAUSED, _LEAD | _CO, AuditAction.ATTACHMENT_ADDED),
        Transition(S.PAUSED, Command.CONTACT, S.PAUSED, _LEAD, AuditAction.CONTACTED),
    ]
    for source in LEADER_CASE_STATUSES:
        rows += [Transition(source, Command.LEADER_CASE, source, _CENTRE, AuditAction.LEADER_CASE_ASSIGNED),
                 Transition(source, Command.INSTRUCT, source, _CASE_LEADER, AuditAction.INSTRUCTED)]
    for source in (*IN_HAND, S.RETURNED, S.MANUAL, S.DISSATISFIED):
        rows.append(Transition(source, Command.DISPUTE, S.JOINT_MEETING, _CENTRE, AuditAction.DISPUTED))
    for source in DELIVERY_STATUSES:
        rows += [Transition(source, Command.DELIVER_REPLY, source, _SYSTEM, audit)
                 for audit in (AuditAction.REPLY_DELIVERED, AuditAction.REPLY_RETRY_SCHEDULED,
                               AuditAction.REPLY_DEAD_LETTERED)]
    return rows


TRANSITIONS: tuple[Transition, ...] = tuple(_rows())
QUEUES: dict[str, OrderStatus] = {row.queue: status for status, row in STATUSES.items() if row.queue}

# which role may ever be which party (the first, role-only check of a staff request)
_PARTIES_OF_ROLE = {"centre": {Party.CENTRE, Party.REVIEWER}, "leader": {Party.LEADER, Party.CASE_LEADER},
                    "department": {Party.LEAD, Party.CO_HANDLER, Party.REVIEWER}}


def queue_of(status: OrderStatus) -> str | None:
    return STATUSES[status].queue


# queues the clock adds for orders whose status has none: what the centre must look at now
UNSIGNED_QUEUE = "unsigned"  # 超时未签收: a dispatched order's sign-for limit passed
LEADER_CASES_QUEUE = "leader_cases"  # 领导包案: each leader reads their own
LEADER_CASE_PROPOSALS_QUEUE = "leader_case_proposals"  # the ladder proposed 领导包案
EXTENSION_REVIEW_QUEUE = "extension_review"  # 延期待审
PAUSE_REVIEW_QUEUE = "pause_review"  # 挂起待审
CLOCK_QUEUES = (UNSIGNED_QUEUE, LEADER_CASES_QUEUE, LEADER_CASE_PROPOSALS_QUEUE, EXTENSION_REVIEW_QUEUE,
                PAUSE_REVIEW_QUEUE)


def queue_for(status: OrderStatus, *, unsigned: bool = False, leader_case: bool = False,
              leader_case_proposed: bool = False, extension_pending: bool = False,
              pause_pending: bool = False) -> str | None:
    """The one queue an order waits in: its status's, else the first of the clock's that
    applies (an item sits in one queue: a leader's case before everything else)."""
    if STATUSES[status].queue:
        return STATUSES[status].queue
    if leader_case:
        return LEADER_CASES_QUEUE
    for applies, queue in ((unsigned, UNSIGNED_QUEUE), (extension_pending, EXTENSION_REVIEW_QUEUE),
                           (pause_pending, PAUSE_REVIEW_QUEUE), (leader_case_proposed, LEADER_CASE_PROPOSALS_QUEUE)):
        if applies and status is not OrderStatus.CLOSED:
            return queue
    return None


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
