"""Hotspots (热点预警) in the KPI table, and the orders of one request key.

Hotspot items: pk `hotspot#<YYYY-MM of the day it was raised>`, sk `<raised day>#<kind>#<key>`: the
hotspots raised in a period are one Query per month. Detecting the day again puts the same key, a
failed conditional put, never a second item.
Open pointers: pk `hotspot#open`, sk `<kind>#<key>`: the latest episode of a group or request key
(its item's raised, first and last days), so the next day's detection extends it rather than
opening another, and a day detected again (or an older day detected later) finds it.

This module stores and reads; what a hotspot is belongs to `minyi.reports.hotspot_watch`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from minyi.core import clock
from minyi.dal.counters import client, table
from minyi.dal.order_records import OrderRecord
from minyi.models.hotspot import HotspotRecord, KeyKind

OPEN = "hotspot#open"
_FIELDS = ("kind", "key", "matter", "matter_code", "township", "raised", "first", "last", "count", "baseline",
           "strength", "p_value", "key_kind", "unit", "units", "order_ids", "detected_at", "announced_at")


def _pk(raised: date) -> str:
    return f"hotspot#{raised.strftime('%Y-%m')}"


def _sk(raised: date, kind: str, key: str) -> str:
    return f"{raised.isoformat()}#{kind}#{key}"


def _key(record: HotspotRecord) -> dict[str, Any]:
    return {"pk": {"S": _pk(record.raised)}, "sk": {"S": _sk(record.raised, record.kind, record.key)}}


def _item(record: HotspotRecord) -> dict[str, Any]:
    """The record as attributes: one JSON body (read back whole) beside the keys and the days."""
    body = record.model_dump(mode="json", exclude={"announced_at"})
    return {**_key(record), "id": {"S": record.id}, "kind": {"S": record.kind}, "last": {"S": record.last.isoformat()},
            "body": {"S": json.dumps(body, ensure_ascii=False, sort_keys=True)}}


def _record(item: dict[str, Any]) -> HotspotRecord:
    body = json.loads(item["body"]["S"])
    if "announced_at" in item:
        body["announced_at"] = item["announced_at"]["S"]
    return HotspotRecord.model_validate({name: body[name] for name in _FIELDS if name in body})


def get(kind: str, key: str, raised: date) -> HotspotRecord | None:
    item = client().get_item(TableName=table(), ConsistentRead=True, Key={
        "pk": {"S": _pk(raised)}, "sk": {"S": _sk(raised, kind, key)}}).get("Item")
    return _record(item) if item else None


def open_episode(kind: str, key: str) -> HotspotRecord | None:
    """The latest hotspot of a group or request key, as its pointer names it (None: never one)."""
    item = client().get_item(TableName=table(), ConsistentRead=True,
                              Key={"pk": {"S": OPEN}, "sk": {"S": f"{kind}#{key}"}}).get("Item")
    if item is None:
        return None
    return get(kind, key, date.fromisoformat(item["raised"]["S"]))


def _point(record: HotspotRecord) -> None:
    """Move the key's pointer to `record` unless it already names a later episode."""
    dynamodb = client()
    # failing: a later episode of the key was stored first (an older day detected afterwards)
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(
            TableName=table(),
            Item={"pk": {"S": OPEN}, "sk": {"S": f"{record.kind}#{record.key}"},
                  "raised": {"S": record.raised.isoformat()}, "first": {"S": record.first.isoformat()},
                  "last": {"S": record.last.isoformat()}},
            ConditionExpression="attribute_not_exists(pk) OR #last <= :last",
            ExpressionAttributeNames={"#last": "last"},
            ExpressionAttributeValues={":last": {"S": record.last.isoformat()}})


def insert(record: HotspotRecord) -> bool:
    """Store a new hotspot; False when it is stored already (the same day detected again)."""
    dynamodb = client()
    try:
        dynamodb.put_item(TableName=table(), Item=_item(record), ConditionExpression="attribute_not_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    _point(record)
    return True


def extend(before: HotspotRecord, after: HotspotRecord) -> bool:
    """Store `after` (the same hotspot, a later last day) over `before`, only if the stored one is
    still `before`'s last day; False when another detection extended it first."""
    dynamodb = client()
    item = _item(after)
    try:
        dynamodb.update_item(
            TableName=table(), Key=_key(after),
            UpdateExpression="SET #last = :last, body = :body",
            ConditionExpression="#last = :before",
            ExpressionAttributeNames={"#last": "last"},
            ExpressionAttributeValues={":last": item["last"], ":body": item["body"],
                                       ":before": {"S": before.last.isoformat()}})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    _point(after)
    return True


def claim_announcement(record: HotspotRecord, now: datetime) -> bool:
    """Mark the hotspot announced; False when it was already (by this run or a concurrent one)."""
    dynamodb = client()
    try:
        dynamodb.update_item(TableName=table(), Key=_key(record), UpdateExpression="SET announced_at = :at",
                           ConditionExpression="attribute_exists(pk) AND attribute_not_exists(announced_at)",
                           ExpressionAttributeValues={":at": {"S": clock.iso(now)}})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def release_announcement(record: HotspotRecord) -> None:
    """The announcement did not reach the bus: the next detection of its day announces it."""
    client().update_item(TableName=table(), Key=_key(record), UpdateExpression="REMOVE announced_at")


def between(start: date, end: date) -> Iterator[HotspotRecord]:
    """Every hotspot raised on a day of start..end (inclusive), by that day: one Query per month."""
    dynamodb = client()
    month = date(start.year, start.month, 1)
    while month <= end:
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": {"S": _pk(month)}, ":low": {"S": start.isoformat()},
                                          ":high": {"S": end.isoformat() + "#\uffff"}},
        }
        while True:
            page = dynamodb.query(**kwargs)
            for item in page.get("Items", []):
                yield _record(item)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def same_request(key_kind: KeyKind, key: str, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """(order id, received at) of every order under a `related_phone` / `related_address` key
    received in [start, end), oldest first: one Query of the index, never a Scan."""
    index = OrderRecord.related_phone if key_kind == "phone" else OrderRecord.related_address
    low, high = clock.iso(start), clock.iso(end)
    found = {item.order_id: item.received_at
             for item in index.query(key, OrderRecord.received_at.between(low, high)) if item.received_at < high}
    return sorted(((oid, clock.parse_iso(at)) for oid, at in found.items()), key=lambda pair: (pair[1], pair[0]))
