"""moto, patched by infra.moto_patches, keeps the promises DynamoDB makes and the code
relies on: a cancelled transaction writes nothing and costs the items it names, not the
table; conditional writes racing from many threads let exactly one through; a stream
reader misses nothing after a cancelled transaction; issued shard iterators stay bounded.
Plain boto3 against a small table of its own, in-process (`mock_aws`)."""

from __future__ import annotations

import copy
import gc
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import ShardIterator, dynamodbstreams_backends

from infra import moto_patches

REGION = "us-east-1"
TABLE = "promises"


@pytest.fixture
def table():
    moto_patches.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"},
                                  {"AttributeName": "kind", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_kind", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                                                   {"AttributeName": "sk", "KeyType": "RANGE"}]}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        yield client


def _key(pk: str, sk: str = "A") -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _item(pk: str, sk: str = "A", **attrs: str) -> dict:
    return {**_key(pk, sk), **{name: {"S": value} for name, value in attrs.items()}}


def _get(client, pk: str, sk: str = "A") -> dict | None:
    return client.get_item(TableName=TABLE, Key=_key(pk, sk), ConsistentRead=True).get("Item")


class StreamReader:
    """Reads the table's stream as a Lambda event source mapping does: one iterator
    from TRIM_HORIZON, then each answer's NextShardIterator."""

    def __init__(self) -> None:
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.arn = boto3.client("dynamodb", region_name=REGION).describe_table(
            TableName=TABLE)["Table"]["LatestStreamArn"]
        self.shard = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard,
                                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def read(self) -> list[tuple[str, str, int]]:
        answer = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["SequenceNumber"]))
                for r in answer["Records"]]


def _cancellation_codes(error: ClientError) -> list[str]:
    return [reason["Code"] for reason in error.response["CancellationReasons"]]


def test_a_cancelled_transaction_writes_nothing_and_the_stream_goes_on_in_order(table):
    table.put_item(TableName=TABLE, Item=_item("a", state="open"))
    table.put_item(TableName=TABLE, Item=_item("b", state="open"))
    reader = StreamReader()
    assert [(e, pk) for e, pk, _ in reader.read()] == [("INSERT", "a"), ("INSERT", "b")]

    with pytest.raises(ClientError) as cancelled:
        table.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _item("c", state="new")}},
            {"Update": {"TableName": TABLE, "Key": _key("a"), "UpdateExpression": "SET #s = :closed",
                        "ConditionExpression": "#s = :open", "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":open": {"S": "open"}, ":closed": {"S": "closed"}}}},
            {"Put": {"TableName": TABLE, "Item": _item("b", state="overwritten"),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _cancellation_codes(cancelled.value) == ["None", "None", "ConditionalCheckFailed"]
    assert _get(table, "c") is None
    assert _get(table, "a")["state"] == {"S": "open"}
    assert _get(table, "b")["state"] == {"S": "open"}
    assert reader.read() == []

    table.put_item(TableName=TABLE, Item=_item("d"))
    table.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": _item("e")}},
        {"Delete": {"TableName": TABLE, "Key": _key("a")}},
    ])
    after = reader.read()
    assert [(e, pk) for e, pk, _ in after] == [("INSERT", "d"), ("INSERT", "e"), ("REMOVE", "a")]
    sequence = [n for _, _, n in after]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3


def test_a_transaction_failing_midway_puts_back_what_it_wrote(table):
    table.put_item(TableName=TABLE, Item=_item("a", state="open"))
    table.put_item(TableName=TABLE, Item=_item("n", count="not a number"))
    reader = StreamReader()
    reader.read()

    # passes every condition; adding to a string fails only while writing, after the Put and the Update of `a`
    with pytest.raises(ClientError) as failed:
        table.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _item("c", state="new")}},
            {"Update": {"TableName": TABLE, "Key": _key("a"), "UpdateExpression": "SET #s = :closed",
                        "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":closed": {"S": "closed"}}}},
            {"Update": {"TableName": TABLE, "Key": _key("n"), "UpdateExpression": "SET #c = #c + :one",
                        "ExpressionAttributeNames": {"#c": "count"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    assert failed.value.response["Error"]["Code"] == "ValidationException"
    assert _get(table, "c") is None
    assert _get(table, "a")["state"] == {"S": "open"}
    assert reader.read() == []
    table.put_item(TableName=TABLE, Item=_item("d"))
    assert [(e, pk) for e, pk, _ in reader.read()] == [("INSERT", "d")]


def test_a_transaction_copies_the_items_it_names_not_the_table(table, monkeypatch):
    for start in range(0, 5000, 25):
        table.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": _item(f"bulk-{n}", kind="bulk", payload="x" * 100)}}
            for n in range(start, start + 25)]})
    table.put_item(TableName=TABLE, Item=_item("a", state="open"))
    copied: list[Item] = []

    def counted_copy(self: Item, memo: dict) -> Item:
        copied.append(self)
        clone = Item.__new__(Item)
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return clone

    def no_table_copy(self: Table, memo: dict) -> Table:
        raise AssertionError("a transaction deep-copied a whole table")

    monkeypatch.setattr(Item, "__deepcopy__", counted_copy, raising=False)
    monkeypatch.setattr(Table, "__deepcopy__", no_table_copy, raising=False)

    with pytest.raises(ClientError) as cancelled:
        table.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _item("c")}},
            {"Put": {"TableName": TABLE, "Item": _item("a"), "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    assert _cancellation_codes(cancelled.value) == ["None", "ConditionalCheckFailed"]
    assert copied == []

    table.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": _item("c")}},
        {"Update": {"TableName": TABLE, "Key": _key("a"), "UpdateExpression": "SET #s = :closed",
                    "ExpressionAttributeNames": {"#s": "state"}, "ExpressionAttributeValues": {":closed": {"S": "x"}}}},
    ])
    # the undo copy of `a`, and UpdateItem's own copy of it for the stream's old image
    assert {item.hash_key.value for item in copied} == {"a"} and len(copied) <= 2


def test_racing_conditional_writes_let_exactly_one_through(table):
    threads = 12

    def race(pk: str, write) -> list[str]:
        barrier = threading.Barrier(threads)
        client = boto3.client("dynamodb", region_name=REGION)

        def attempt(n: int) -> str:
            barrier.wait()
            try:
                write(client, pk, n)
            except ClientError as error:
                return error.response["Error"]["Code"]
            return "ok"

        with ThreadPoolExecutor(threads) as pool:
            return sorted(pool.map(attempt, range(threads)))

    def put(client, pk, n):
        client.put_item(TableName=TABLE, Item=_item(pk, writer=str(n)), ConditionExpression="attribute_not_exists(pk)")

    def transact(client, pk, n):
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _item(pk, writer=str(n)),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": TABLE, "Item": _item(pk, f"AUDIT#{n}")}}])

    def claim(client, pk, n):  # an optimistic status change: the dispatches that raced in production
        client.update_item(TableName=TABLE, Key=_key(pk), UpdateExpression="SET #s = :mine",
                           ConditionExpression="#s = :free", ExpressionAttributeNames={"#s": "state"},
                           ExpressionAttributeValues={":free": {"S": "free"}, ":mine": {"S": f"taken-{n}"}})

    for round_ in range(5):
        assert race(f"put-{round_}", put) == ["ConditionalCheckFailedException"] * (threads - 1) + ["ok"]
        codes = race(f"tx-{round_}", transact)
        assert codes == ["TransactionCanceledException"] * (threads - 1) + ["ok"]
        audits = table.query(TableName=TABLE, KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
                             ExpressionAttributeValues={":pk": {"S": f"tx-{round_}"}, ":a": {"S": "AUDIT#"}},
                             ConsistentRead=True)["Items"]
        assert [a["sk"]["S"] for a in audits] == [f"AUDIT#{_get(table, f'tx-{round_}')['writer']['S']}"]
        table.put_item(TableName=TABLE, Item=_item(f"claim-{round_}", state="free"))
        assert race(f"claim-{round_}", claim) == ["ConditionalCheckFailedException"] * (threads - 1) + ["ok"]


def test_index_queries_during_concurrent_writes_see_whole_items(table):
    writers, per_writer = 4, 60
    errors: list[Exception] = []
    done = threading.Event()

    def write(w: int) -> None:
        client = boto3.client("dynamodb", region_name=REGION)
        if w == 0:  # one writer in batches
            for start in range(0, per_writer, 20):
                client.batch_write_item(RequestItems={TABLE: [
                    {"PutRequest": {"Item": _item(f"w{w}-{n}", kind="order", state="new")}}
                    for n in range(start, start + 20)]})
            return
        for n in range(per_writer):
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _item(f"w{w}-{n}", kind="order", state="new")}},
                {"Put": {"TableName": TABLE, "Item": _item(f"w{w}-{n}", "AUDIT", kind="audit")}}])

    def query() -> None:
        client = boto3.client("dynamodb", region_name=REGION)
        while not done.is_set():
            try:
                for item in client.query(TableName=TABLE, IndexName="by_kind", KeyConditionExpression="kind = :k",
                                         ExpressionAttributeValues={":k": {"S": "order"}})["Items"]:
                    assert item["state"] == {"S": "new"}
            except Exception as error:  # any failure of a read under writes is the finding
                errors.append(error)
                return

    readers = [threading.Thread(target=query) for _ in range(2)]
    for reader in readers:
        reader.start()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    done.set()
    for reader in readers:
        reader.join()
    assert errors == []
    found = table.query(TableName=TABLE, IndexName="by_kind", KeyConditionExpression="kind = :k",
                        ExpressionAttributeValues={":k": {"S": "order"}}, Select="COUNT")["Count"]
    assert found == writers * per_writer


def test_shard_iterators_are_not_kept_forever(table):
    table.put_item(TableName=TABLE, Item=_item("a"))
    reader = StreamReader()
    store = dynamodbstreams_backends[DEFAULT_ACCOUNT_ID][REGION].shard_iterators
    store.capacity = 500  # ITERATOR_CAPACITY's role, small enough to reach here
    first = reader.iterator
    issued = [reader.streams.get_shard_iterator(StreamArn=reader.arn, ShardId=reader.shard,
                                                ShardIteratorType="LATEST")["ShardIterator"] for _ in range(2000)]
    assert len(store) == 500
    with pytest.raises(ClientError) as expired:
        reader.streams.get_records(ShardIterator=first)
    assert expired.value.response["Error"]["Code"] == "ExpiredIteratorException"
    table.put_item(TableName=TABLE, Item=_item("b"))
    assert [r["eventName"] for r in reader.streams.get_records(ShardIterator=issued[-1])["Records"]] == ["INSERT"]
    assert len(store) == 500
    gc.collect()
    assert _alive(ShardIterator) <= 500  # dropped means freed: nothing else holds them


def _alive(model: type) -> int:
    return sum(isinstance(o, model) for o in gc.get_objects())


def test_requests_leave_nothing_behind_but_data(table):
    """moto keeps every model object it ever made for its dashboard: every query result's
    copy, every update's before-image, every put's replaced item. Not here."""
    for n in range(10):
        table.put_item(TableName=TABLE, Item=_item(f"p{n}", kind="order", state="0", payload="x" * 500))
    gc.collect()
    before = _alive(Item)
    for n in range(100):
        table.query(TableName=TABLE, IndexName="by_kind", KeyConditionExpression="kind = :k",
                    ExpressionAttributeValues={":k": {"S": "order"}})
        table.scan(TableName=TABLE)
        table.update_item(TableName=TABLE, Key=_key("p1"), UpdateExpression="SET #s = :n",
                          ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues={":n": {"S": str(n)}})
        table.put_item(TableName=TABLE, Item=_item("p2", kind="order", state=str(n)))
        with pytest.raises(ClientError):
            table.transact_write_items(TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _item("p3"), "ConditionExpression": "attribute_not_exists(pk)"}}])
    gc.collect()
    assert _alive(Item) - before <= 2  # unpatched: 3,300


def test_an_iterator_expires_after_fifteen_minutes():
    now = [0.0]
    store = moto_patches.ShardIterators(clock=lambda: now[0])
    store["old"] = "iterator"
    now[0] = 15 * 60
    store["new"] = "iterator"
    assert store["old"] == "iterator"
    now[0] += 1
    with pytest.raises(moto_patches.ExpiredIteratorException):
        store["old"]
    assert list(store) == ["new"] and store["new"] == "iterator"


def test_only_dynamodb_requests_wait_for_one_another(table):
    """An SQS long poll or any other service never queues behind DynamoDB's lock."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="beside")["QueueUrl"]
    finished = {"sqs": threading.Event(), "dynamodb": threading.Event()}

    def receive() -> None:
        sqs.send_message(QueueUrl=queue, MessageBody="x")
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
        finished["sqs"].set()

    def read() -> None:
        _get(table, "a")
        finished["dynamodb"].set()

    with moto_patches.LOCK:  # what a long DynamoDB request holds
        threads = [threading.Thread(target=read), threading.Thread(target=receive)]
        for thread in threads:
            thread.start()
        assert finished["sqs"].wait(30)
        # a get takes milliseconds; still waiting two seconds on means it waits for the lock
        assert not finished["dynamodb"].wait(2)
    assert finished["dynamodb"].wait(30)
    for thread in threads:
        thread.join()


def test_queries_answer_exactly_as_moto_does_while_reading_only_what_they_need(table, monkeypatch):
    table.create_table(
        TableName="events", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "kind", "when")],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_when", "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
             "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                           {"AttributeName": "when", "KeyType": "RANGE"}]},
            {"IndexName": "by_kind", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}]}])
    rng = random.Random(5)
    for n in range(300):  # `when` repeats across items: index order must fall back to the table's keys
        item = {"pk": {"S": f"p{rng.randrange(12)}"}, "sk": {"S": f"s{rng.randrange(50):02d}"}, "note": {"S": str(n)}}
        if n % 7:
            item["kind"] = {"S": rng.choice("abc")}
            item["when"] = {"S": f"2026-11-{rng.randrange(1, 6):02d}"}
        table.put_item(TableName="events", Item=item)

    def values(**named: str) -> dict:
        return {f":{name}": {"S": value} for name, value in named.items()}

    queries = [
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": values(p="p3")},
        {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
         "ExpressionAttributeValues": values(p="p4", s="s1"), "ScanIndexForward": False},
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": values(p="p5"), "Limit": 3},
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": values(p="nobody")},
        {"IndexName": "by_when", "KeyConditionExpression": "kind = :k", "ExpressionAttributeValues": values(k="a")},
        {"IndexName": "by_when", "KeyConditionExpression": "kind = :k AND #w >= :w", "ExpressionAttributeNames": {
            "#w": "when"}, "ExpressionAttributeValues": values(k="b", w="2026-11-03"), "ScanIndexForward": False,
         "Limit": 7},
        {"IndexName": "by_when", "KeyConditionExpression": "kind = :k", "FilterExpression": "pk = :p",
         "ExpressionAttributeValues": values(k="c", p="p1"), "Limit": 5},
        {"IndexName": "by_kind", "KeyConditionExpression": "kind = :k", "ExpressionAttributeValues": values(k="a"),
         "Limit": 10},
    ]

    def every_page(query: dict) -> list:
        pages, start = [], {}
        while True:
            answer = table.query(TableName="events", **query, **start)
            pages.append((answer["Items"], answer.get("LastEvaluatedKey")))
            if "LastEvaluatedKey" not in answer:
                return pages
            start = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}

    assert hasattr(Table.query, "__wrapped__")  # the patched query answers first
    answered = [every_page(query) for query in queries]
    with monkeypatch.context() as unpatched:
        unpatched.setattr(Table, "query", Table.query.__wrapped__)
        assert [every_page(query) for query in queries] == answered
    assert sum(len(items) for pages in answered for items, _ in pages) > 100
