"""Table names and transactions, shared by the table modules.

A table's name comes from the process's validated settings (`ORDERS_TABLE` …), looked
up when a table is first used: a process without it fails loudly, never on a table
called "orders" by default."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from minyi.core import settings


class TableName:
    """`Meta.table_name` of a pynamodb model, read from the settings on every use."""

    def __init__(self, setting: str) -> None:
        self.setting = setting

    def __get__(self, instance: Any, owner: Any) -> str:
        return settings.require(self.setting)


def _reasons(error: TransactWriteError) -> list[str]:
    return [reason.code for reason in (error.cancellation_reasons or []) if reason is not None]


def transact(connection: Connection, build: Callable[[TransactWrite], None], attempts: int = 5) -> bool:
    """Run the transaction `build(tx)` describes. True if written, False if a condition
    failed. A TransactionConflict (another transaction writing the same item at that
    instant: DynamoDB cancels rather than waits) is tried again with jittered backoff."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=connection) as tx:
                build(tx)
        except TransactWriteError as error:
            reasons = _reasons(error)
            if "ConditionalCheckFailed" in reasons:
                return False
            if "TransactionConflict" in reasons and attempt < attempts - 1:
                time.sleep(0.02 * 2 ** attempt * (1 + secrets.randbelow(100) / 100))
                continue
            raise
        return True
    return False
