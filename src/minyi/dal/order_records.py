"""The orders table's items and indexes, and how a WorkOrder maps onto its item.

One table holds an order, its co-handler items and its audit records under the same
partition (pk = ORDER#<id>), so an order and the audit record of each change are
written in one transaction and read back with one query.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime

from pydantic import BaseModel, Field
from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from minyi.core import clock
from minyi.dal.tables import TableName
from minyi.models.clock import Deadline, Extension, ExtensionRequest, LeaderCase, LimitKind, Pause, PauseRequest
from minyi.models.lifecycle import STATUSES, status_of
from minyi.models.order import Citizen, Closure, Evaluation, Lapse, OrderReturn, Reply, WorkOrder

TIMER_SHARDS = 4
ORDER_SK = "ORDER"
CO_SK_PREFIX = "CO#"
AUDIT_SK_PREFIX = "AUDIT#"


def order_key(order_id: str) -> str:
    return f"ORDER#{order_id}"


def timer_shard(order_id: str) -> str:
    return f"T{zlib.crc32(order_id.encode()) % TIMER_SHARDS}"


class TimerIndex(GlobalSecondaryIndex["OrderRecord"]):
    """due: open clocks, keyed by when they fire next. Sparse: an order is in it only while
    something must happen at `timer_at` (the dispatch watchdog, a limit's warning, its
    deadline, a step of the escalation ladder, the end of a pause or of the evaluation
    window). It projects the whole order, so the sweep reads each fired order once, from
    the index page itself, and acts on it conditionally on the version it read."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    timer_shard = UnicodeAttribute(hash_key=True)
    timer_at = NumberAttribute(range_key=True)


class MonthIndex(GlobalSecondaryIndex["OrderRecord"]):
    """by_month: every order of a month by receipt time, for reports."""

    class Meta:
        index_name = "by_month"
        projection = IncludeProjection(["order_id", "status", "department", "channel", "overdue_at",
                                        "overdue_departments"])

    month = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class RelatedByPhoneIndex(GlobalSecondaryIndex["OrderRecord"]):
    """related_phone: orders of one matter from one (hashed) phone, by receipt time (并单)."""

    class Meta:
        index_name = "related_phone"
        projection = IncludeProjection(["order_id", "status"])

    rel_phone = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class RelatedByAddressIndex(GlobalSecondaryIndex["OrderRecord"]):
    """related_address: orders of one matter about one (hashed, normalised) address."""

    class Meta:
        index_name = "related_address"
        projection = IncludeProjection(["order_id", "status"])

    rel_address = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class QueueIndex(GlobalSecondaryIndex["OrderRecord"]):
    """queues: orders waiting for the centre (not yet dispatched, manual dispatch, return
    review, joint meeting, ...; and the clock's: unsigned, extension and pause requests,
    leader cases), oldest first. Sparse: `queue` is set only while an order waits."""

    class Meta:
        index_name = "queues"
        projection = IncludeProjection(["order_id", "status", "department", "title", "match_score", "channel",
                                        "case_leader"])

    queue = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class DepartmentIndex(GlobalSecondaryIndex["OrderRecord"]):
    """by_department: the orders a department or township leads or co-handles (through
    its CoHandlerRecord items), newest first (sparse: `department` is set once an order
    is dispatched)."""

    class Meta:
        index_name = "by_department"
        projection = IncludeProjection(["order_id", "status", "title", "due_at", "overdue_at", "urgent",
                                        "matter_code"])

    department = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class _OrdersTableModel(Model):
    class Meta:
        table_name = TableName("orders_table")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    item_type = UnicodeAttribute()


class OrderRecord(_OrdersTableModel):
    order_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    external_id = UnicodeAttribute()
    title = UnicodeAttribute()
    content = UnicodeAttribute()
    citizen_name = UnicodeAttribute()
    citizen_phone = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    month = UnicodeAttribute()
    status = UnicodeAttribute()
    department = UnicodeAttribute(null=True)
    co_departments = ListAttribute(of=UnicodeAttribute, null=True)
    matter = ListAttribute(of=UnicodeAttribute, null=True)
    matter_code = UnicodeAttribute(null=True)
    duty_list_version = NumberAttribute(null=True)
    match_score = NumberAttribute(null=True)
    dispatched_at = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    overdue_at = UnicodeAttribute(null=True)
    timer_shard = UnicodeAttribute(null=True)
    timer_at = NumberAttribute(null=True)
    urgent = BooleanAttribute(null=True)
    requested_matter = UnicodeAttribute(null=True)
    on_call = UnicodeAttribute(null=True)
    places = ListAttribute(of=UnicodeAttribute, null=True)
    queue = UnicodeAttribute(null=True)
    returns = UnicodeAttribute(null=True)  # the OrderReturns as JSON
    lapses = UnicodeAttribute(null=True)  # the Lapses as JSON
    overdue_departments = ListAttribute(of=UnicodeAttribute, null=True)  # out of `lapses`, for reports
    citizen_id_number = UnicodeAttribute(null=True)
    raw_payload = UnicodeAttribute(null=True)
    parent_order_id = UnicodeAttribute(null=True)
    related_orders = ListAttribute(of=UnicodeAttribute, null=True)
    rel_phone = UnicodeAttribute(null=True)
    rel_address = UnicodeAttribute(null=True)
    reply = UnicodeAttribute(null=True)  # the Reply as JSON
    reply_status = UnicodeAttribute(null=True)  # duplicated out of `reply` for the stream filter
    public_stage = UnicodeAttribute(null=True)  # the status's stage a channel is told of
    time_limit_days = NumberAttribute(null=True)
    designated = BooleanAttribute(null=True)
    signed_at = UnicodeAttribute(null=True)
    signed_by = UnicodeAttribute(null=True)
    first_contact_at = UnicodeAttribute(null=True)
    reply_rejections = NumberAttribute(null=True)
    evaluation = UnicodeAttribute(null=True)  # the latest Evaluation as JSON
    reopen_count = NumberAttribute(null=True)
    closure = UnicodeAttribute(null=True)  # the Closure as JSON
    updated_at = UnicodeAttribute(null=True)
    clock = UnicodeAttribute(null=True)  # the ClockState as JSON: limits, extensions, pauses, leader case
    case_leader = UnicodeAttribute(null=True)  # 领导包案: the leader, for the leader_cases queue
    calendar_uncertain = BooleanAttribute(null=True)
    version = VersionAttribute()

    timers = TimerIndex()
    by_month = MonthIndex()
    queues = QueueIndex()
    by_department = DepartmentIndex()
    related_phone = RelatedByPhoneIndex()
    related_address = RelatedByAddressIndex()


class CoHandlerRecord(_OrdersTableModel):
    """协办: one item per co-handling department of an order, beside the order (sk
    `CO#<department>`). It carries `department` and `received_at`, so the by_department
    index lists the orders a department co-handles next to those it leads."""

    order_id = UnicodeAttribute()
    department = UnicodeAttribute()
    received_at = UnicodeAttribute()
    title = UnicodeAttribute()


class HandlingItem(_OrdersTableModel):
    """办理记录: a contact, an opinion, an attachment or an evaluation, beside the order
    (sk `<KIND>#<key>`), its model as JSON."""

    at = UnicodeAttribute()
    body = UnicodeAttribute()


class AuditRecord(_OrdersTableModel):
    """审计记录: who changed what, when, from which state to which."""

    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UnicodeAttribute()
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)


# what a change may set or remove on an order (never its identity or the citizen's request)
MUTABLE_FIELDS = (
    "status", "department", "co_departments", "matter", "matter_code", "duty_list_version", "match_score",
    "dispatched_at", "due_at", "overdue_at", "parent_order_id", "related_orders", "rel_phone", "rel_address",
    "reply", "reply_status", "urgent", "on_call", "places", "queue", "returns", "lapses", "overdue_departments",
    "public_stage", "time_limit_days", "designated", "signed_at", "signed_by", "first_contact_at", "reply_rejections",
    "evaluation", "reopen_count", "closure", "updated_at", "clock", "case_leader", "calendar_uncertain",
)


class ClockState(BaseModel):
    """The order's clock as stored (one attribute: it is read and written with the order)."""

    deadlines: dict[LimitKind, Deadline] = Field(default_factory=dict)
    opinions_from: list[str] = Field(default_factory=list)
    extension_request: ExtensionRequest | None = None
    extensions: list[Extension] = Field(default_factory=list)
    extensions_granted: int = 0
    pause_request: PauseRequest | None = None
    pauses: list[Pause] = Field(default_factory=list)
    leader_case: LeaderCase | None = None
    leader_case_proposed_at: datetime | None = None


CLOCK_FIELDS = tuple(ClockState.model_fields)


def _clock_json(order: WorkOrder) -> str | None:
    state = ClockState.model_validate({name: getattr(order, name) for name in CLOCK_FIELDS})
    return state.model_dump_json(exclude_defaults=True) if state != ClockState() else None


def _time(value: datetime | None) -> str | None:
    return clock.iso(value) if value else None


def _json_list(items: list) -> str | None:
    return json.dumps([item.model_dump(mode="json") for item in items], ensure_ascii=False) if items else None


def record_of(order: WorkOrder) -> OrderRecord:
    rel_phone, rel_address = order.related_keys()
    return OrderRecord(
        pk=order_key(order.order_id),
        sk=ORDER_SK,
        item_type="order",
        order_id=order.order_id,
        channel=order.channel,
        external_id=order.external_id,
        title=order.title,
        content=order.content,
        citizen_name=order.citizen.name,
        citizen_phone=order.citizen.phone,
        address=order.address,
        received_at=clock.iso(order.received_at),
        month=clock.month_of(order.received_at),
        status=order.status.value,
        department=order.department,
        co_departments=order.co_departments or None,
        matter=order.matter or None,
        matter_code=order.matter_code,
        duty_list_version=order.duty_list_version,
        match_score=order.match_score,
        dispatched_at=_time(order.dispatched_at),
        due_at=_time(order.due_at),
        overdue_at=_time(order.overdue_at),
        urgent=order.urgent,
        requested_matter=order.requested_matter,
        on_call=order.on_call,
        places=order.places or None,
        queue=order.queue,
        returns=_json_list(order.returns),
        lapses=_json_list(order.lapses),
        overdue_departments=list(dict.fromkeys(lapse.department for lapse in order.lapses)) or None,
        citizen_id_number=order.citizen.id_number,
        parent_order_id=order.parent_order_id,
        related_orders=order.related_orders or None,
        rel_phone=rel_phone,
        rel_address=rel_address,
        reply=order.reply.model_dump_json() if order.reply else None,
        reply_status=order.reply.status.value if order.reply else None,
        public_stage=STATUSES[order.status].public_stage,
        time_limit_days=order.time_limit_days,
        designated=order.designated or None,
        signed_at=_time(order.signed_at),
        signed_by=order.signed_by,
        first_contact_at=_time(order.first_contact_at),
        reply_rejections=order.reply_rejections or None,
        evaluation=order.evaluation.model_dump_json() if order.evaluation else None,
        reopen_count=order.reopen_count or None,
        closure=order.closure.model_dump_json() if order.closure else None,
        updated_at=_time(order.updated_at),
        clock=_clock_json(order),
        case_leader=order.leader_case.leader if order.leader_case else None,
        calendar_uncertain=order.calendar_uncertain or None,
    )


def order_of(record: OrderRecord) -> WorkOrder:
    def when(text: str | None) -> datetime | None:
        return clock.parse_iso(text) if text else None

    return WorkOrder(
        order_id=record.order_id,
        channel=record.channel,
        external_id=record.external_id,
        title=record.title,
        content=record.content,
        citizen=Citizen(name=record.citizen_name, phone=record.citizen_phone, id_number=record.citizen_id_number),
        address=record.address,
        received_at=clock.parse_iso(record.received_at),
        status=status_of(record.status),
        department=record.department,
        co_departments=list(record.co_departments or []),
        matter=list(record.matter or []),
        matter_code=record.matter_code,
        duty_list_version=int(record.duty_list_version) if record.duty_list_version is not None else None,
        match_score=float(record.match_score) if record.match_score is not None else None,
        dispatched_at=when(record.dispatched_at),
        due_at=when(record.due_at),
        overdue_at=when(record.overdue_at),
        urgent=bool(record.urgent),
        requested_matter=record.requested_matter,
        on_call=record.on_call,
        places=list(record.places or []),
        returns=[OrderReturn.model_validate(r) for r in json.loads(record.returns)] if record.returns else [],
        lapses=[Lapse.model_validate(r) for r in json.loads(record.lapses)] if record.lapses else [],
        parent_order_id=record.parent_order_id,
        related_orders=list(record.related_orders or []),
        reply=Reply.model_validate_json(record.reply) if record.reply else None,
        time_limit_days=int(record.time_limit_days) if record.time_limit_days is not None else None,
        designated=bool(record.designated),
        signed_at=when(record.signed_at),
        signed_by=record.signed_by,
        first_contact_at=when(record.first_contact_at),
        reply_rejections=int(record.reply_rejections or 0),
        evaluation=Evaluation.model_validate_json(record.evaluation) if record.evaluation else None,
        reopen_count=int(record.reopen_count or 0),
        closure=Closure.model_validate_json(record.closure) if record.closure else None,
        updated_at=when(record.updated_at),
        calendar_uncertain=bool(record.calendar_uncertain),
        **(ClockState.model_validate_json(record.clock).model_dump() if record.clock else {}),
        version=int(record.version or 1),
    )
