"""The 明细 sheet: the orders received in a period, without personal data (no name, phone, ID,
address or text), capped at REPORT_DETAIL_ROWS. The one part of a report that reads orders: the
month's ids from the `by_month` index (projected, no personal data), then the orders in
batches of 100, only as many as the sheet lists."""

from __future__ import annotations

from datetime import datetime

from minyi.channels.registry import registry
from minyi.dal.orders import get_orders
from minyi.dal.periods import orders_received_between
from minyi.models.lifecycle import STATUSES
from minyi.models.order import Satisfaction, WorkOrder
from minyi.models.report import DetailRow
from minyi.reports.counting import UNASSIGNED, matter_of, township_of

SATISFACTION_LABELS = {Satisfaction.SATISFIED: "满意", Satisfaction.BASICALLY_SATISFIED: "基本满意",
                       Satisfaction.DISSATISFIED: "不满意"}


def detail_of(order: WorkOrder, channel_names: dict[str, str]) -> DetailRow:
    return DetailRow(
        order_id=order.order_id, received_at=order.received_at,
        channel=channel_names.get(order.channel, order.channel), matter=matter_of(order),
        township=township_of(order), department=order.department or UNASSIGNED,
        status=STATUSES[order.status].label, due_at=order.due_at,
        replied_at=order.reply.written_at if order.reply else None,
        overdue=bool(order.lapses) or order.overdue_at is not None,
        satisfaction=SATISFACTION_LABELS[order.evaluation.satisfaction] if order.evaluation else None)


def details(start: datetime, end: datetime, scope: str | None, limit: int) -> tuple[list[DetailRow], bool]:
    """(rows, truncated): the period's orders (a department's: those it holds now) by receipt time."""
    ids: list[str] = []
    truncated = False
    for entry in orders_received_between(start, end):
        if scope is not None and entry.department != scope:
            continue
        if len(ids) == limit:
            truncated = True
            break
        ids.append(entry.order_id)
    names = {cid: channel.name for cid, channel in registry().items()}
    rows: list[DetailRow] = []
    for first in range(0, len(ids), 100):
        found = get_orders(ids[first:first + 100])
        rows.extend(detail_of(found[oid][0], names) for oid in ids[first:first + 100] if oid in found)
    return rows, truncated
