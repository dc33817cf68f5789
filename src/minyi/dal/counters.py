"""The KPI table (考核计数): counter items and each order's ledger of counted facts.

Counter items: pk `<view>#<scope>#<YYYY-MM>`, sk `<YYYY-MM-DD>#<value>`, one number attribute per
`Counters` field (absent = 0). A view of a month is one Query of one partition; a period is one
Query per month it touches. Ledger items: pk `ledger#<order_id>`, sk `-`: the order version
counted, a sequence number (the condition every write holds) and the facts counted, per cell.

This module stores and reads; what to count is `minyi.reports.counting`'s.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from minyi.core import settings

LEDGER_SK = "-"
MAX_ACTIONS = 100  # DynamoDB's limit of actions in one transaction


class LostRace(Exception):
    """The ledger changed since it was read (another delivery counted the order first)."""


@dataclass(frozen=True)
class CounterKey:
    """One counter item: a view (dept, channel, …), its scope ("*" county-wide, or a department),
    a day and the value counted (a department's name, a channel's id, …)."""

    view: str
    scope: str
    day: date
    value: str

    @property
    def pk(self) -> str:
        return f"{self.view}#{self.scope}#{self.day.strftime('%Y-%m')}"

    @property
    def sk(self) -> str:
        return f"{self.day.isoformat()}#{self.value}"


@dataclass
class Ledger:
    """What has been counted for one order: `cells` maps a cell key to {fact: amount}."""

    order_id: str
    version: int = 0
    seq: int = 0
    cells: dict[str, dict[str, int]] = field(default_factory=dict)
    stored: bool = False


@cache
def client() -> Any:
    """The KPI table's client (counters, ledgers, and the hotspots `dal.hotspots` keeps there)."""
    import boto3

    return boto3.client("dynamodb")


def table() -> str:
    return settings.require("kpi_table")


def ledger(order_id: str) -> Ledger:
    item = client().get_item(TableName=table(), Key={"pk": {"S": f"ledger#{order_id}"}, "sk": {"S": LEDGER_SK}},
                              ConsistentRead=True).get("Item")
    if item is None:
        return Ledger(order_id)
    return Ledger(order_id, int(item["version"]["N"]), int(item["seq"]["N"]), json.loads(item["cells"]["S"]), True)


def _ledger_put(entry: Ledger, expected_seq: int | None) -> dict[str, Any]:
    put: dict[str, Any] = {
        "TableName": table(),
        "Item": {"pk": {"S": f"ledger#{entry.order_id}"}, "sk": {"S": LEDGER_SK},
                 "version": {"N": str(entry.version)}, "seq": {"N": str(entry.seq)},
                 "cells": {"S": json.dumps(entry.cells, ensure_ascii=False, sort_keys=True, separators=(",", ":"))}},
    }
    if expected_seq is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "seq = :seq"
        put["ExpressionAttributeValues"] = {":seq": {"N": str(expected_seq)}}
    return put


def _counter_update(key: CounterKey, deltas: dict[str, int]) -> dict[str, Any]:
    names = {"#view": "view", "#scope": "scope", "#day": "day", "#value": "value"}
    values: dict[str, Any] = {":view": {"S": key.view}, ":scope": {"S": key.scope}, ":day": {"S": key.day.isoformat()},
                              ":value": {"S": key.value}}
    adds = []
    for i, (name, amount) in enumerate(sorted(deltas.items())):
        names[f"#f{i}"] = name
        values[f":f{i}"] = {"N": str(amount)}
        adds.append(f"#f{i} :f{i}")
    return {
        "TableName": table(),
        "Key": {"pk": {"S": key.pk}, "sk": {"S": key.sk}},
        "UpdateExpression": "SET #view = :view, #scope = :scope, #day = :day, #value = :value ADD " + ", ".join(adds),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def apply(entry: Ledger, expected_seq: int | None, deltas: dict[CounterKey, dict[str, int]]) -> None:
    """Add `deltas` to their counter items and store the ledger `entry`, in one transaction that
    holds only if the ledger is still at `expected_seq` (None: not stored yet). Raises LostRace
    when it is not; a transaction conflict is tried again."""
    if len(deltas) + 1 > MAX_ACTIONS:
        raise ValueError(f"{len(deltas)} counter items do not fit one transaction")
    items = [{"Update": _counter_update(key, facts)} for key, facts in deltas.items() if facts]
    items.append({"Put": _ledger_put(entry, expected_seq)})
    dynamodb = client()
    for attempt in range(6):
        try:
            dynamodb.transact_write_items(TransactItems=items)
            return
        except dynamodb.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in codes:
                raise LostRace(entry.order_id) from error
            if "TransactionConflict" not in codes or attempt == 5:
                raise
        time.sleep(0.02 * 2 ** attempt * (1 + secrets.randbelow(100) / 100))


def put_ledger(entry: Ledger, expected_seq: int | None) -> None:
    """Store a ledger on its own (a backfill's); LostRace when it moved since it was read."""
    dynamodb = client()
    try:
        dynamodb.put_item(**_ledger_put(entry, expected_seq))
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        raise LostRace(entry.order_id) from error


def read(view: str, scope: str, start: date, end: date) -> Iterator[tuple[date, str, dict[str, int]]]:
    """(day, value, counts) of every counter item of a view and scope on the days start..end
    (inclusive): one Query per month touched, paged."""
    dynamodb = client()
    month = date(start.year, start.month, 1)
    while month <= end:
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": {"S": f"{view}#{scope}#{month.strftime('%Y-%m')}"},
                                          ":low": {"S": start.isoformat()},
                                          ":high": {"S": end.isoformat() + "#\uffff"}},
        }
        while True:
            page = dynamodb.query(**kwargs)
            for item in page.get("Items", []):
                day = date.fromisoformat(item["day"]["S"])
                counts = {name: int(value["N"]) for name, value in item.items() if "N" in value}
                yield day, item["value"]["S"], counts
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_items(view: str, scope: str, month: str) -> Iterator[CounterKey]:
    """The keys of every counter item of a view and scope in a month YYYY-MM."""
    dynamodb = client()
    kwargs: dict[str, Any] = {"TableName": table(), "KeyConditionExpression": "pk = :pk",
                              "ExpressionAttributeValues": {":pk": {"S": f"{view}#{scope}#{month}"}},
                              "ProjectionExpression": "#day, #value",
                              "ExpressionAttributeNames": {"#day": "day", "#value": "value"}}
    while True:
        page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            yield CounterKey(view, scope, date.fromisoformat(item["day"]["S"]), item["value"]["S"])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def replace(key: CounterKey, counts: dict[str, int]) -> None:
    """Overwrite one counter item with `counts` (a backfill's); an item of no counts is deleted."""
    dynamodb = client()
    if not any(counts.values()):
        dynamodb.delete_item(TableName=table(), Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}})
        return
    item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "view": {"S": key.view}, "scope": {"S": key.scope},
            "day": {"S": key.day.isoformat()}, "value": {"S": key.value}}
    item.update({name: {"N": str(amount)} for name, amount in counts.items() if amount})
    dynamodb.put_item(TableName=table(), Item=item)
