"""Kinesis Data Streams for DynamoDB, locally: the template's `Type: Kinesis` event resolved to
the table that feeds the stream, the stream provisioned on moto, the orders table's changes
wrapped as Lambda gets them from Kinesis (base64 JSON `data`), filtered on `data`, and
delivered by the local stack's event source mapping with its partial failures, bisection,
retries and on-failure queue; and the test helper that sends a batch twice."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from datetime import UTC, datetime

import boto3
import pytest

from infra import events
from infra import template as cfn
from infra.local_stack import StreamMapping
from infra.provision import provision
from tests import helpers
from tests.conftest import FUNCTIONS, PREFIX, REGION
from tests.helpers import StreamReader, import_sample_duty_list, post_channel, request_body

ORDERS = f"{PREFIX}-OrdersTable"
ORDER_PATTERN = FUNCTIONS["AssessFunction"].streams[0].filters[0]


def decoded(record: dict) -> dict:
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


def stream_record(seq: str, event_name: str = "INSERT", pk: str = "ORDER#MY1", item_type: str = "order",
                  at: datetime = datetime(2026, 12, 1, 1, 2, 3, 456000, tzinfo=UTC), old: bool = False) -> dict:
    """A record as dynamodbstreams.get_records returns it (boto3 parses the creation time)."""
    image = {"pk": {"S": pk}, "sk": {"S": "ORDER"}, "item_type": {"S": item_type}, "status": {"S": "received"}}
    change = {"ApproximateCreationDateTime": at, "Keys": {"pk": {"S": pk}, "sk": {"S": "ORDER"}},
              "NewImage": image, "SequenceNumber": seq, "SizeBytes": 120, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if old:
        change["OldImage"] = {**image, "status": {"S": "new"}}
    return {"eventID": uuid.uuid4().hex, "eventName": event_name, "eventVersion": "1.0", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": change}


# ----------------------------------------------------------------- the template


def test_the_assess_function_reads_the_orders_tables_kinesis_change_stream():
    source = FUNCTIONS["AssessFunction"].streams[0]
    assert source.kind == "kinesis" and source.kinesis_stream == "OrdersChangeStream"
    assert source.table == "OrdersTable"  # the table whose KinesisStreamSpecification names the stream
    assert source.creation_time_precision == "MICROSECOND"
    assert (source.batch_size, source.max_retries, source.bisect, source.report_item_failures) == (100, 5, True, True)
    assert source.on_failure_queue == "AssessDeadLetterQueue"
    assert ORDER_PATTERN == {"data": {"eventName": ["INSERT", "MODIFY"],
                                      "dynamodb": {"NewImage": {"item_type": {"S": ["order"]}}}}}
    # the DynamoDB sources are what they were, now with their bisection read too
    route = FUNCTIONS["RouteFunction"].streams[0]
    assert route.kind == "dynamodb" and route.kinesis_stream is None and route.bisect is True


def synthetic(kinesis_event: dict, feed: bool = True, view: str | None = "NEW_AND_OLD_IMAGES") -> dict:
    table: dict = {"Type": "AWS::DynamoDB::Table", "Properties": {
        "BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}
    if view:
        table["Properties"]["StreamSpecification"] = {"StreamViewType": view}
    if feed:
        table["Properties"]["KinesisStreamSpecification"] = {"StreamArn": {"Fn::GetAtt": ["Changes", "Arn"]}}
    return {"Resources": {
        "Things": table,
        "Changes": {"Type": "AWS::Kinesis::Stream", "Properties": {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}},
        "Counter": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "tests/", "Handler": "handler.lambda_handler",
            "Events": {"Changed": {"Type": "Kinesis", "Properties": kinesis_event}}}},
    }}


def test_a_kinesis_event_on_a_stream_no_table_feeds_is_refused_clearly():
    event = {"Stream": {"Fn::GetAtt": ["Changes", "Arn"]}, "StartingPosition": "TRIM_HORIZON"}
    with pytest.raises(ValueError, match="no table's KinesisStreamSpecification feeds Changes"):
        cfn.functions(synthetic(event, feed=False))
    with pytest.raises(ValueError, match=r"not !GetAtt <Stream>\.Arn"):
        cfn.functions(synthetic({**event, "Stream": "arn:aws:kinesis:us-east-1:1:stream/x"}))
    with pytest.raises(ValueError, match="filters on the data key only"):
        cfn.functions(synthetic({**event, "FilterCriteria": {"Filters": [{"Pattern": '{"partitionKey": ["a"]}'}]}}))
    # defaults as Lambda's: batches of 100, retried until the records expire, no bisection
    source = cfn.functions(synthetic(event))[0].streams[0]
    assert (source.table, source.batch_size, source.max_retries, source.bisect, source.filters) == \
        ("Things", 100, -1, False, [])
    assert source.creation_time_precision == "MILLISECOND"


# ----------------------------------------------------------------- the record


def test_a_change_is_wrapped_as_lambda_gets_it_from_kinesis_data_streams_for_dynamodb():
    arn = f"arn:aws:kinesis:{REGION}:123456789012:stream/{PREFIX}-OrdersChangeStream"
    first, second = stream_record("1100000000017454423009"), stream_record("1100000000017454423010", "MODIFY",
                                                                             old=True)
    event = events.kinesis_event([first, second], arn, "ap-east-1", ORDERS, precision="MILLISECOND")
    one, two = event["Records"]
    assert set(one) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn",
                        "awsRegion", "eventSourceARN"}
    assert (one["eventSource"], one["eventName"], one["eventVersion"]) == ("aws:kinesis", "aws:kinesis:record", "1.0")
    assert one["eventSourceARN"] == arn and one["awsRegion"] == "ap-east-1"
    assert one["invokeIdentityArn"].startswith("arn:aws:iam::123456789012:role/")
    kinesis = one["kinesis"]
    assert kinesis["kinesisSchemaVersion"] == "1.0"
    assert re.fullmatch(r"\d{56}", kinesis["sequenceNumber"])
    assert int(two["kinesis"]["sequenceNumber"]) > int(kinesis["sequenceNumber"])
    assert one["eventID"] == f"shardId-000000000000:{kinesis['sequenceNumber']}"
    assert re.fullmatch(r"[0-9A-F]{32}", kinesis["partitionKey"])  # the item's key hash: one item, one shard
    assert two["kinesis"]["partitionKey"] == kinesis["partitionKey"]
    assert kinesis["approximateArrivalTimestamp"] == pytest.approx(first["dynamodb"][
        "ApproximateCreationDateTime"].timestamp())
    data = decoded(one)
    assert list(data) == ["awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName",
                          "dynamodb", "eventSource"]
    assert data["awsRegion"] == "ap-east-1" and data["eventName"] == "INSERT" and data["userIdentity"] is None
    assert data["recordFormat"] == "application/json" and data["tableName"] == ORDERS
    assert data["eventSource"] == "aws:dynamodb"
    assert str(uuid.UUID(data["eventID"])) == data["eventID"]
    change = data["dynamodb"]
    # DynamoDB JSON, no SequenceNumber nor StreamViewType (they are the DynamoDB stream's own)
    assert set(change) == {"ApproximateCreationDateTime", "Keys", "NewImage", "SizeBytes"}
    assert change["Keys"] == {"pk": {"S": "ORDER#MY1"}, "sk": {"S": "ORDER"}}
    assert change["NewImage"]["item_type"] == {"S": "order"} and change["SizeBytes"] == 120
    assert change["ApproximateCreationDateTime"] == 1796086923456  # epoch milliseconds (2026-12-01T01:02:03.456Z)
    assert decoded(two)["dynamodb"]["OldImage"]["status"] == {"S": "new"}
    # with the MICROSECOND precision (the orders table's), epoch microseconds
    micro = events.kinesis_event([first], arn, REGION, ORDERS, precision="MICROSECOND")["Records"][0]
    assert decoded(micro)["dynamodb"]["ApproximateCreationDateTime"] == 1796086923456000
    # the same change wrapped again is the same record (what a redelivery carries)
    assert events.kinesis_event([first], arn, "ap-east-1", ORDERS)["Records"][0] == one
    # another item, another partition key
    other = events.kinesis_record(stream_record("1100000000017454423011", pk="ORDER#MY2"), arn, REGION, ORDERS)
    assert other["kinesis"]["partitionKey"] != kinesis["partitionKey"]


def test_the_filter_applies_to_the_decoded_data():
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"

    def wrapped(**kwargs) -> dict:
        return events.kinesis_record(stream_record("1100000000017454423009", **kwargs), arn, REGION, ORDERS)

    assert events.matches_kinesis_filter(ORDER_PATTERN, wrapped())
    assert events.matches_kinesis_filter(ORDER_PATTERN, wrapped(event_name="MODIFY"))
    assert not events.matches_kinesis_filter(ORDER_PATTERN, wrapped(event_name="REMOVE"))
    assert not events.matches_kinesis_filter(ORDER_PATTERN, wrapped(item_type="audit"))
    # the pattern names `data`: the same pattern on the undecoded record, or one without `data`, matches nothing
    assert not events.matches_filter(ORDER_PATTERN, wrapped())
    assert not events.matches_kinesis_filter({"eventName": ["INSERT"]}, wrapped())
    # data that is not JSON matches no pattern on data
    plain = {**wrapped(), "kinesis": {**wrapped()["kinesis"], "data": base64.b64encode(b"not json").decode()}}
    assert not events.matches_kinesis_filter(ORDER_PATTERN, plain)
    assert events.matches_kinesis_filter({"data": {"tableName": [{"prefix": PREFIX}]}}, wrapped())


# ----------------------------------------------------------------- provisioning


def test_provisioning_makes_the_kinesis_stream_and_the_tables_change_stream(aws):
    arn = aws.attributes[("OrdersChangeStream", "Arn")]
    summary = boto3.client("kinesis", region_name=REGION).describe_stream_summary(
        StreamName=aws.refs["OrdersChangeStream"])["StreamDescriptionSummary"]
    assert summary["StreamARN"] == arn and summary["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    assert summary["RetentionPeriodHours"] == 168 and summary["EncryptionType"] == "KMS"
    table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=ORDERS)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_a_table_that_declares_only_kinesis_still_gets_the_stream_the_emulation_reads():
    from moto import mock_aws

    event = {"Stream": {"Fn::GetAtt": ["Changes", "Arn"]}, "StartingPosition": "TRIM_HORIZON"}
    with mock_aws():
        provisioned = provision(synthetic(event, view=None), "k", REGION)
        assert ("Things", "StreamArn") in provisioned.attributes
        assert provisioned.attributes[("Changes", "Arn")].endswith(":stream/k-Changes")
    with mock_aws(), pytest.raises(ValueError, match="KEYS_ONLY DynamoDB stream is not emulated locally"):
        provision(synthetic(event, view="KEYS_ONLY"), "k", REGION)


# ----------------------------------------------------------------- delivery


class Recorder:
    """Stands in for the function behind the mapping: keeps each event it gets and answers
    what `answer` says (a handler's result, or an exception for a function error)."""

    def __init__(self, answer=None) -> None:
        self.events: list[dict] = []
        self.answer = answer or (lambda event: {"batchItemFailures": []})

    def __call__(self, event: dict) -> tuple[str, object]:
        self.events.append(json.loads(json.dumps(event)))  # what crosses the wire to the function
        try:
            return "ok", self.answer(event)
        except Exception as error:  # the function failed: Lambda sees an error, not a result
            return "error", {"errorType": type(error).__name__, "errorMessage": str(error)}

    def sequence_numbers(self) -> list[list[str]]:
        return [[r["kinesis"]["sequenceNumber"] for r in event["Records"]] for event in self.events]


def mapping(aws, recorder: Recorder, **changes) -> StreamMapping:
    source = FUNCTIONS["AssessFunction"].streams[0]
    if changes:
        from dataclasses import replace

        source = replace(source, **changes)
    return StreamMapping("AssessFunction", source, aws, REGION, recorder, threading.Event(), backoff=lambda n: 0)


def dead_letters(aws) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    answer = sqs.receive_message(QueueUrl=aws.refs["AssessDeadLetterQueue"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def put_orders(*order_ids: str) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    for order_id in order_ids:
        client.put_item(TableName=ORDERS, Item={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"},
                                                "item_type": {"S": "order"}, "order_id": {"S": order_id}})


def test_an_order_taken_in_reaches_the_function_as_a_kinesis_record(aws):
    # Given the local stack's event source mapping of the assess function
    recorder = Recorder()
    assess = mapping(aws, recorder)
    # When a channel's request becomes an order (an order item and its audit record, in one transaction)
    import_sample_duty_list()
    status, body, _ = post_channel("12345", request_body("k-1"))
    assert status == 201
    assert assess.poll() == 1
    # Then the function got one Kinesis record: the order's insert, not the audit record
    (event,) = recorder.events
    (record,) = event["Records"]
    assert record["eventSourceARN"] == aws.attributes[("OrdersChangeStream", "Arn")]
    data = decoded(record)
    assert data["tableName"] == ORDERS and data["eventName"] == "INSERT"
    assert data["dynamodb"]["NewImage"]["order_id"] == {"S": body["order_id"]}
    assert data["dynamodb"]["ApproximateCreationDateTime"] > 10**15  # microseconds, the table's precision
    # and nothing comes twice from the mapping itself
    assert assess.poll() == 0 and len(recorder.events) == 1


def test_reported_failures_are_retried_from_the_first_failed_sequence_number(aws):
    put_orders("A", "B", "C")
    calls = []

    def answer(event):
        calls.append(event)
        if len(calls) == 1:  # B failed (and so C is retried too, as Lambda does)
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]}
        return {"batchItemFailures": []}

    recorder = Recorder(answer)
    mapping(aws, recorder).poll()
    first, retry = recorder.sequence_numbers()
    assert len(first) == 3 and retry == first[1:]
    assert dead_letters(aws) == []


def test_a_record_that_always_fails_is_bisected_out_and_its_metadata_goes_to_the_on_failure_queue(aws):
    put_orders("A", "B", "C", "D")

    def answer(event):
        if any(decoded(r)["dynamodb"]["NewImage"]["order_id"]["S"] == "C" for r in event["Records"]):
            raise RuntimeError("poison")
        return {"batchItemFailures": []}

    recorder = Recorder(answer)
    mapping(aws, recorder).poll()
    seen = recorder.sequence_numbers()
    a, b, c, d = seen[0]
    # the batch of four fails, then [A, B] passes, [C, D] fails, [C] fails 1 + 5 times, [D] passes
    assert seen == [[a, b, c, d], [a, b], [c, d], [c], [c], [c], [c], [c], [c], [d]]
    (message,) = dead_letters(aws)
    info = message["KinesisBatchInfo"]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 6
    assert info["streamArn"] == aws.attributes[("OrdersChangeStream", "Arn")]
    assert (info["shardId"], info["batchSize"], info["startSequenceNumber"], info["endSequenceNumber"]) == \
        ("shardId-000000000000", 1, c, c)
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert "DDBStreamBatchInfo" not in message


def test_without_bisection_a_failing_batch_is_retried_whole_then_dead_lettered(aws):
    put_orders("A", "B")

    def answer(event):
        raise RuntimeError("down")

    recorder = Recorder(answer)
    mapping(aws, recorder, bisect=False, max_retries=2).poll()
    assert [len(batch) for batch in recorder.sequence_numbers()] == [2, 2, 2]
    (message,) = dead_letters(aws)
    assert message["KinesisBatchInfo"]["batchSize"] == 2


def test_batches_hold_at_most_the_batch_size(aws):
    put_orders(*"ABCDE")
    recorder = Recorder()
    mapping(aws, recorder, batch_size=2).poll()
    assert [len(batch) for batch in recorder.sequence_numbers()] == [2, 2, 1]


# ----------------------------------------------------------------- the test helper


def test_the_stream_reader_delivers_kinesis_records_and_can_send_a_batch_twice(aws, monkeypatch):
    got: list[dict] = []

    def assess(event, context):
        got.append(event)
        return {"batchItemFailures": []}

    monkeypatch.setattr(helpers, "handler", lambda logical_id: assess)
    reader = StreamReader(aws, "AssessFunction")
    put_orders("A")
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=ORDERS, Item={
        "pk": {"S": "ORDER#A"}, "sk": {"S": "AUDIT#1"}, "item_type": {"S": "audit"}})
    assert reader.deliver() == []
    assert reader.redeliver() == []
    assert reader.deliver() == []  # nothing new
    first, again = got
    assert first == again and len(first["Records"]) == 1  # the audit item did not pass the filter
    assert first["Records"][0]["eventSourceARN"] == aws.attributes[("OrdersChangeStream", "Arn")]
    assert decoded(first["Records"][0])["dynamodb"]["Keys"]["pk"] == {"S": "ORDER#A"}



def test_a_dynamodb_source_still_gets_dynamodb_records_and_dead_letters_their_stream_batch_info(aws):
    put_orders("A")
    seen: list[dict] = []

    def route(event):
        seen.append(event)
        raise RuntimeError("down")

    source = FUNCTIONS["RouteFunction"].streams[0]
    from dataclasses import replace

    StreamMapping("RouteFunction", replace(source, max_retries=0), aws, REGION, Recorder(route), threading.Event(),
                  backoff=lambda n: 0).poll()
    (event,) = seen
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == aws.attributes[("OrdersTable", "StreamArn")]
    sqs = boto3.client("sqs", region_name=REGION)
    (message,) = sqs.receive_message(QueueUrl=aws.refs["RouteDeadLetterQueue"])["Messages"]
    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == record["dynamodb"]["SequenceNumber"] and info["batchSize"] == 1
