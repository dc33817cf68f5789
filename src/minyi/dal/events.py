"""Events on the EventBridge bus: emergency alerts to every linked department."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from minyi.core import clock, settings
from minyi.models.order import WorkOrder

SOURCE = "minyi.dispatch"


@cache
def _events() -> Any:
    import boto3  # only when there is an emergency to announce

    return boto3.client("events")


def off_hours(order: WorkOrder) -> None:
    """An order dispatched outside office hours, for the on-call handler's phone."""
    _put([{
        "Source": SOURCE, "DetailType": "OffHoursDispatch", "EventBusName": settings.require("event_bus_name"),
        "Detail": json.dumps({"order_id": order.order_id, "version": order.version, "on_call": order.on_call,
                              "department": order.department,
                              "urgent": order.urgent, "title": order.title,
                              "due_at": clock.iso(order.due_at) if order.due_at else None}, ensure_ascii=False),
    }])


def _put(entries: list[dict]) -> None:
    for start in range(0, len(entries), 10):  # PutEvents takes at most 10 entries
        answer = _events().put_events(Entries=entries[start:start + 10])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"{answer['FailedEntryCount']} events were not accepted")


def emergency(order: WorkOrder, departments: list[str | None]) -> None:
    """One `Emergency` event per linked department (应急快速处置). Consumers (SMS, duty
    phones, dashboards) take the order id and department as the deduplication key."""
    entries = []
    for department in dict.fromkeys(d for d in departments if d):
        entries.append({
            "Source": SOURCE,
            "DetailType": "Emergency",
            "EventBusName": settings.require("event_bus_name"),
            "Detail": json.dumps({
                "order_id": order.order_id, "version": order.version, "department": department,
                "matter": order.matter,
                "title": order.title, "address": order.address, "channel": order.channel,
                "received_at": clock.iso(order.received_at),
                "due_at": clock.iso(order.due_at) if order.due_at else None,
            }, ensure_ascii=False),
        })
    _put(entries)


CLOCK_SOURCE = "minyi.clock"


def clock_event(detail_type: str, detail: dict[str, Any]) -> None:
    """统一督办 on the bus: `DeadlineApproaching` (a limit's warning) and `DeadlineEscalated`
    (a step of the ladder), each naming the order, the limit, the department and its
    contacts. Consumers take (order_id, limit, step) as the deduplication key."""
    _put([{"Source": CLOCK_SOURCE, "DetailType": detail_type, "EventBusName": settings.require("event_bus_name"),
           "Detail": json.dumps(detail, ensure_ascii=False)}])


HOTSPOT_SOURCE = "minyi.hotspots"


def hotspot_event(detail_type: str, detail: dict[str, Any]) -> None:
    """热点预警 on the bus: `HotspotRising` (a matter well above its own baseline) and
    `HotspotRepeated` (the same request three or more times, for the unit's leaders). Consumers
    take the detail's `hotspot_id` as the deduplication key."""
    _put([{"Source": HOTSPOT_SOURCE, "DetailType": detail_type, "EventBusName": settings.require("event_bus_name"),
           "Detail": json.dumps(detail, ensure_ascii=False)}])
