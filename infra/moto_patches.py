"""Make moto's DynamoDB keep the promises DynamoDB makes (moto 5.2.5).

- One request at a time: moto's DynamoDB model has no locks, so under a threaded server
  two conditional writes on one item can both pass their check, a query can iterate a
  table another thread is changing, and a get can serialise an item mid-update. Every
  DynamoDB and DynamoDB Streams request runs its whole action, serialising its answer
  included, under one lock. Other services (an SQS long poll) never wait on it.
- Transactions without the table copy: moto deep-copies every table a transaction
  touches and swaps the copy back in when it cancels, which undoes every write other
  requests made meanwhile, re-issues stream sequence numbers a reader has already seen,
  and costs the whole table per transaction. Here every condition is checked before
  anything is written, and a failure while writing undoes only the items written.
- Shard iterators expire: moto keeps every iterator it ever issued (each pinning the
  shard, and after a cancelled transaction the table copy it belonged to). DynamoDB's
  expire after 15 minutes; here too, and at most ITERATOR_CAPACITY are kept.
- Nothing is kept for moto's dashboard: every moto model object is appended, on
  creation, to a class-wide list the dashboard reads (BaseModel.__new__), never dropped.
  For DynamoDB that is every Item ever made (each put's new item, each query result's
  deep copy, each update's before-image), every stream record and iterator, and every
  table copy a transaction made: the server's memory grew with requests, not with data.
  DynamoDB's and Streams' models are no longer tracked (S3 reads its own list; kept).
- Queries read what they need: moto's Table.query sorts the whole table (slow Python
  comparisons) before filtering it, on every call, and scans all of it for a partition
  key; at 10,000 items that is ~85 ms a query, which one-at-a-time makes everyone's wait.
  Here a table query reads its partition and an index query reads the items unsorted (it
  sorts what matches by the full index and table key anyway, so results are identical).

`apply()` is idempotent and works for the moto server and for in-process `mock_aws`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.models import DynamoDBStreamsBackend
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

# Re-entrant: moto may call back into DynamoDB from inside an action (a transaction run
# from a handler that already holds the lock).
LOCK = threading.RLock()
ITERATOR_LIFETIME_SECONDS = 15 * 60  # DynamoDB Streams' own
# About 3 KB each (its ARN alone is ~750 characters), so at most ~30 MB; the local stack's
# pollers issue ~10 a second, so the cap rarely evicts one before it expires.
ITERATOR_CAPACITY = 10_000
_MARK = "_minyi_patched"


def apply() -> None:
    """Patch moto's DynamoDB and DynamoDB Streams in this process (once)."""
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        if not getattr(handler.call_action, _MARK, False):
            handler.call_action = _serialised(handler.call_action)
    if not getattr(DynamoDBBackend.transact_write_items, _MARK, False):
        DynamoDBBackend.transact_write_items = transact_write_items
    if not isinstance(DynamoDBStreamsBackend.__dict__.get("shard_iterators"), property):
        DynamoDBStreamsBackend.shard_iterators = property(_get_iterators, _set_iterators)
    if not getattr(Table.query, _MARK, False):
        Table.query = _scoped_query(Table.query)
        Table.all_items = _scoped_all_items(Table.all_items)
    for model in _models(BaseModel):
        if model.__module__.startswith(("moto.dynamodb.", "moto.dynamodbstreams.")):
            model.__new__ = _UNTRACKED_NEW


def _models(base: type) -> Iterator[type]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


_UNTRACKED_NEW = staticmethod(_untracked_new)


def _serialised(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(call_action)
    def call(self: Any) -> Any:
        with LOCK:
            return call_action(self)

    setattr(call, _MARK, True)
    return call


# ------------------------------------------------------------------ transactions
def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems, all or nothing, at the cost of the items it names.

    Reasons and exceptions are moto's own: ConditionalCheckFailed (with the item on
    ALL_OLD) per failing item and "None" for the others; validation errors and two
    operations on one item fail the whole request."""
    with LOCK:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        planned = _check(self, transact_items)
        _write(self, planned)


def _check(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[str, dict, dict]]:
    """Every operation's shape and condition, before anything is written."""
    seen: set[tuple[str, str]] = set()
    reasons: list[tuple[Any, Any, Any]] = []
    planned = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        old_image = None
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            if op_type == "Put":
                table = backend.get_table(table_name)
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in seen:
                raise MultipleTransactionsException()
            seen.add(target)
            current = backend.get_item(table_name, key)
            if op.get("ConditionExpression") is not None:
                condition = get_filter_expression(op["ConditionExpression"], op.get("ExpressionAttributeNames"),
                                                  op.get("ExpressionAttributeValues"))
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old_image = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old_image)
            planned.append((op_type, op, key))
            reasons.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as error:
            reasons.append(("ConditionalCheckFailed", str(error.message), old_image))
        except Exception as error:
            reasons.append((type(error).__name__, str(error), old_image))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    return planned


def _write(backend: DynamoDBBackend, planned: list[tuple[str, dict, dict]]) -> None:
    """Apply checked operations; if one fails, put back every item written and drop
    their stream records (no reader can have seen them: they were written under LOCK)."""
    before: list[tuple[Table, DynamoType, DynamoType | None, Item | None]] = []
    stream_marks: dict[int, tuple[Table, int]] = {}
    reasons: list[tuple[Any, Any, Any]] = []
    failure: Exception | None = None
    for op_type, op, key in planned:
        if op_type == "ConditionCheck":
            reasons.append((None, None, None))
            continue
        table_name = op["TableName"]
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        try:
            table = backend.get_table(table_name)
            hash_key, range_key = backend.get_keys_value(table, key)
            if table.stream_shard is not None:
                stream_marks.setdefault(id(table), (table, len(table.stream_shard.items)))
            # a copy: UpdateItem changes the stored Item in place
            before.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            if op_type == "Put":
                backend.put_item(table_name, op["Item"], condition_expression=op.get("ConditionExpression"),
                                 expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                backend.delete_item(table_name, key, condition_expression=op.get("ConditionExpression"),
                                    expression_attribute_names=names, expression_attribute_values=values)
            else:
                backend.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                    condition_expression=op.get("ConditionExpression"),
                                    expression_attribute_names=names, expression_attribute_values=values)
            reasons.append((None, None, None))
        except MockValidationException as error:
            failure = failure or error
            break
        except Exception as error:
            failure = failure or error
            reasons.append((type(error).__name__, str(error), None))
    if failure is None:
        return
    for table, hash_key, range_key, item in reversed(before):
        _restore(table, hash_key, range_key, item)
    for table, mark in stream_marks.values():
        del table.stream_shard.items[mark:]
    if isinstance(failure, MockValidationException):
        raise failure
    raise TransactionCanceledException(reasons)


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None) -> None:
    if table.range_key_attr is not None:
        if item is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item


# ------------------------------------------------------------------ queries
_EVERY_ITEM = object()
_SCOPE = "_minyi_query_scope"


def _scoped_query(query: Callable[..., Any]) -> Callable[..., Any]:
    """Table.query, telling all_items() what it is reading for (see _scoped_all_items)."""
    signature = inspect.signature(query)

    @functools.wraps(query)
    def scoped(self: Table, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs)
        hash_key, index_name = call.arguments.get("hash_key"), call.arguments.get("index_name")
        if index_name is None and hash_key is None:
            return query(self, *args, **kwargs)
        self.__dict__[_SCOPE] = _EVERY_ITEM if index_name else hash_key
        try:
            return query(self, *args, **kwargs)
        finally:
            self.__dict__.pop(_SCOPE, None)

    setattr(scoped, _MARK, True)
    return scoped


def _scoped_all_items(all_items: Callable[[Table], list[Item]]) -> Callable[[Table], list[Item]]:
    """Every item sorted by key, as moto has it, except inside a query: there a table
    query gets its partition (it keeps the items whose hash key matches, then sorts them
    by range key) and an index query every item unsorted (it sorts the matches by index
    and table key, a total order, so the order it was given never shows)."""

    @functools.wraps(all_items)
    def scoped(self: Table) -> list[Item]:
        scope = self.__dict__.get(_SCOPE)
        if scope is None:
            return all_items(self)
        if scope is _EVERY_ITEM:
            if self.range_key_attr is None:
                return list(self.items.values())
            return [item for partition in self.items.values() for item in partition.values()]
        partition = self.items.get(scope)  # not items[...]: a defaultdict would grow an empty partition
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr is not None else [partition]

    setattr(scoped, _MARK, True)
    return scoped


# ------------------------------------------------------------------ shard iterators
class ExpiredIteratorException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("ExpiredIteratorException",
                         "Iterator expired. The iterator was created more than 15 minutes ago, or is unknown.")


class ShardIterators(MutableMapping):
    """Where the streams backend keeps the iterators it issued: oldest first, each
    dropped once ITERATOR_LIFETIME_SECONDS old or when ITERATOR_CAPACITY newer ones
    were issued after it. Reading a dropped one is ExpiredIteratorException."""

    def __init__(self, lifetime: float | None = None, capacity: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = ITERATOR_LIFETIME_SECONDS if lifetime is None else lifetime
        self.capacity = ITERATOR_CAPACITY if capacity is None else capacity
        self.clock = clock
        self._issued: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def _prune(self, now: float) -> None:
        while self._issued:
            oldest = next(iter(self._issued.values()))
            if now - oldest[0] <= self.lifetime and len(self._issued) <= self.capacity:
                return
            self._issued.popitem(last=False)

    def __setitem__(self, arn: str, iterator: Any) -> None:
        now = self.clock()
        self._issued[arn] = (now, iterator)
        self._issued.move_to_end(arn)
        self._prune(now)

    def __getitem__(self, arn: str) -> Any:
        self._prune(self.clock())
        try:
            return self._issued[arn][1]
        except KeyError:
            raise ExpiredIteratorException() from None

    def __delitem__(self, arn: str) -> None:
        del self._issued[arn]

    def __iter__(self) -> Iterator[str]:
        return iter(self._issued)

    def __len__(self) -> int:
        return len(self._issued)


def _get_iterators(backend: DynamoDBStreamsBackend) -> ShardIterators:
    store = backend.__dict__.get("shard_iterators")
    if not isinstance(store, ShardIterators):  # a backend made before apply(): adopt what it holds
        fresh = ShardIterators()
        for arn, iterator in (store or {}).items():
            fresh[arn] = iterator
        backend.__dict__["shard_iterators"] = store = fresh
    return store


def _set_iterators(backend: DynamoDBStreamsBackend, value: Any) -> None:
    store = ShardIterators()
    for arn, iterator in dict(value).items():
        store[arn] = iterator
    backend.__dict__["shard_iterators"] = store
