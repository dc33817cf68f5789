"""Real-shaped Lambda events, as API Gateway (REST proxy), DynamoDB Streams, Kinesis
Data Streams for DynamoDB, SQS and EventBridge deliver them. The local stack and the tests
build events only here."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from infra.template import ACCOUNT


def path_pattern(template_path: str) -> re.Pattern:
    """/orders/{order_id} -> ^/orders/(?P<order_id>[^/]+)$ (API Gateway path parameters)."""
    parts = re.split(r"(\{[^}]+\})", template_path)
    regex = "".join(f"(?P<{p[1:-1].rstrip('+')}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


def api_event(method: str, template_path: str, path: str, *, headers: dict[str, str] | None = None,
              query: dict[str, list[str]] | None = None, body: bytes | str | None = None,
              stage: str = "dev", source_ip: str = "127.0.0.1",
              authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    match = path_pattern(template_path).match(path)
    if match is None:
        raise ValueError(f"{path} does not match {template_path}")
    path_params = {k: unquote(v) for k, v in match.groupdict().items()} or None
    headers = dict(headers or {})
    raw = body.encode() if isinstance(body, str) else body
    is_b64 = False
    text: str | None = None
    if raw is not None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(raw).decode(), True
    request_context: dict[str, Any] = {
        "resourceId": "local",
        "resourcePath": template_path,
        "httpMethod": method.upper(),
        "path": f"/{stage}{path}",
        "stage": stage,
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "accountId": ACCOUNT,
        "apiId": "local",
        "protocol": "HTTP/1.1",
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
    }
    if authorizer is not None:
        request_context["authorizer"] = authorizer
    return {
        "resource": template_path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": is_b64,
    }


def stream_event(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    """Records as dynamodbstreams.get_records returns them, wrapped as Lambda gets them."""
    wrapped = []
    for record in records:
        item = {k: v for k, v in record.items() if k in ("eventID", "eventName", "eventVersion", "dynamodb")}
        dynamodb = dict(item["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        item.update(dynamodb=dynamodb, eventSource="aws:dynamodb", awsRegion=region, eventSourceARN=stream_arn,
                    eventVersion=record.get("eventVersion", "1.1"))
        wrapped.append(item)
    return {"Records": wrapped}


KINESIS_SHARD = "shardId-000000000000"  # the one shard the local emulation has


def kinesis_sequence_number(dynamodb_sequence_number: str) -> str:
    """A Kinesis sequence number (56 digits) for a DynamoDB stream record: increasing with the
    record's own, and the same every time that record is delivered (a redelivery on AWS keeps it)."""
    return "49" + dynamodb_sequence_number.zfill(54)


def kinesis_record(record: dict[str, Any], kinesis_arn: str, region: str, table_name: str, *,
                   precision: str = "MILLISECOND", invoke_identity_arn: str | None = None) -> dict[str, Any]:
    """One record as dynamodbstreams.get_records returns it, as Lambda gets it from a Kinesis
    stream that Kinesis Data Streams for DynamoDB feeds: the change is the base64 JSON `data`
    (Keys and images in DynamoDB JSON, no SequenceNumber nor StreamViewType, the creation time in
    epoch milliseconds, or microseconds with the MICROSECOND precision)."""
    change = record["dynamodb"]
    created = change.get("ApproximateCreationDateTime")
    seconds = created.timestamp() if isinstance(created, datetime) else float(created or time.time())
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": (round(seconds * 1_000_000) if precision == "MICROSECOND"
                                        else round(seconds * 1000)),
        "Keys": change["Keys"],
    }
    for image in ("NewImage", "OldImage"):
        if image in change:
            dynamodb[image] = change[image]
    dynamodb["SizeBytes"] = change.get("SizeBytes", 0)
    event_id = record["eventID"]
    if re.fullmatch(r"[0-9a-f]{32}", event_id):  # AWS gives this stream's records a UUID
        event_id = str(uuid.UUID(event_id))
    data = {
        "awsRegion": region,
        "eventID": event_id,
        "eventName": record["eventName"],
        "userIdentity": record.get("userIdentity"),  # a TTL deletion's {"type": "Service", ...}; else null
        "recordFormat": "application/json",
        "tableName": table_name,
        "dynamodb": dynamodb,
        "eventSource": "aws:dynamodb",
    }
    sequence = kinesis_sequence_number(change["SequenceNumber"])
    # the item's keys, hashed (uppercase MD5 hex, as AWS's partition keys look): every change of
    # one item goes to one shard, so per item the records keep their order
    partition_key = hashlib.md5(json.dumps(change["Keys"], sort_keys=True).encode(),
                                usedforsecurity=False).hexdigest().upper()
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": base64.b64encode(json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                                     .encode("utf-8")).decode("ascii"),
            "approximateArrivalTimestamp": round(seconds, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{KINESIS_SHARD}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn or f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
        "awsRegion": region,
        "eventSourceARN": kinesis_arn,
    }


def kinesis_event(records: list[dict[str, Any]], kinesis_arn: str, region: str, table_name: str, *,
                  precision: str = "MILLISECOND", invoke_identity_arn: str | None = None) -> dict[str, Any]:
    """DynamoDB stream records (as dynamodbstreams.get_records returns them) wrapped as Lambda
    gets them from a Kinesis stream fed by Kinesis Data Streams for DynamoDB (kinesis_record)."""
    return {"Records": [kinesis_record(r, kinesis_arn, region, table_name, precision=precision,
                                       invoke_identity_arn=invoke_identity_arn) for r in records]}


def kinesis_data(record: dict[str, Any]) -> Any:
    """A Kinesis record's decoded `data`: the JSON value, or _MISSING when it is not JSON."""
    try:
        return json.loads(base64.b64decode(record["kinesis"]["data"]))
    except (ValueError, UnicodeDecodeError):
        return _MISSING


def matches_kinesis_filter(pattern: dict, record: dict[str, Any]) -> bool:
    """A Kinesis event source's filter, as Lambda applies it: on the `data` key only, against the
    decoded JSON payload (data that is not JSON matches no pattern on it)."""
    data = kinesis_data(record)
    view = {} if data is _MISSING else {"data": data}
    return matches_filter(pattern, view)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Messages as sqs.receive_message returns them, wrapped as Lambda gets them."""
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for m in messages]}


def scheduled_event(rule_name: str, region: str, at: datetime | None = None) -> dict[str, Any]:
    at = at or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


def schedule_target_event(rule_name: str, region: str, at: datetime | None, input_json: str | None,
                          stamp_time: bool = True) -> dict[str, Any]:
    """What a Schedule event's target gets. Without `Input`, the Scheduled Event (its `time` is
    `at`). With `Input`, EventBridge delivers exactly that JSON and nothing else, so the target
    has no time of the event; the local stack adds `"time"` (`at`, ISO 8601 UTC) when
    `stamp_time`, so its virtual clock and `fire?at=` still reach a handler that reads it
    (`minyi.models.report.ScheduledRun`). Input that is not a JSON object stays as it is."""
    if input_json is None:
        return scheduled_event(rule_name, region, at)
    event = json.loads(input_json)
    if stamp_time and isinstance(event, dict):
        event = {**event, "time": (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return event


def matches_filter(pattern: Any, value: Any) -> bool:
    """EventBridge-style filter matching, as Lambda event filtering applies it:
    nested objects, lists of allowed values, and the prefix / exists / anything-but
    operators."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(matches_filter(sub, value.get(key, _MISSING)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        return any(_matches_one(option, value) for option in pattern)
    return _matches_one(pattern, value)


_MISSING = object()


def _matches_one(option: Any, value: Any) -> bool:
    if isinstance(option, dict):
        if "exists" in option:
            return (value is not _MISSING) == option["exists"]
        if value is _MISSING:
            return False
        if "prefix" in option:
            return isinstance(value, str) and value.startswith(option["prefix"])
        if "anything-but" in option:
            excluded = option["anything-but"]
            return value not in (excluded if isinstance(excluded, list) else [excluded])
        return matches_filter(option, value)
    return value is not _MISSING and value == option


class LambdaContext:
    """The parts of the Lambda context object that handlers and powertools read."""

    def __init__(self, function_name: str, timeout_seconds: int = 30, memory_mb: int = 512,
                 region: str = "us-east-1") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)
