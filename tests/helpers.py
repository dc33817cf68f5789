"""Given-When-Then helpers: call the real handlers with real-shaped events."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra import events
from infra.authorizer import Unauthorized, UserPoolAuthorizer
from infra.provision import Provisioned
from infra.template import authorizers
from tests.conftest import FUNCTIONS, REGION, handler


def call_api(logical_id: str, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None,
             headers: dict[str, str] | None = None, query: dict[str, list[str]] | None = None,
             context: Any = None) -> tuple[int, Any, dict]:
    fn = FUNCTIONS[logical_id]
    route = next(r for r in fn.api_routes
                 if r.method == method and events.path_pattern(r.path).match(path))
    payload = raw if raw is not None else (json.dumps(body, ensure_ascii=False) if body is not None else None)
    if isinstance(payload, bytes):
        with contextlib.suppress(UnicodeDecodeError):
            payload = payload.decode("utf-8")
    headers = {"Content-Type": "application/json", **(headers or {})}
    authorizer = None
    if route.authorizer:  # what API Gateway's Cognito authorizer does before the function runs
        try:
            authorizer = {"claims": _authorizer(route.authorizer).claims(headers)}
        except Unauthorized:
            return 401, {"message": "Unauthorized"}, {}
    event = events.api_event(method, route.path, path, body=payload, query=query, headers=headers,
                             authorizer=authorizer)
    response = handler(logical_id)(event, context or events.LambdaContext(logical_id))
    text = response.get("body") or ""
    try:
        decoded = json.loads(text) if text else None
    except json.JSONDecodeError:
        decoded = text
    return response["statusCode"], decoded, response.get("headers") or {}


def _authorizer(name: str) -> UserPoolAuthorizer:
    import requests

    from tests.conftest import REGION, TEMPLATE, current_account

    spec = authorizers(TEMPLATE)[name]
    pool = current_account().refs[spec.user_pool]
    url = f"https://cognito-idp.{REGION}.amazonaws.com/{pool}/.well-known/jwks.json"
    return UserPoolAuthorizer(pool, REGION, lambda: requests.get(url, timeout=10).json(), spec.header)


def staff_token(username: str, role: str, department: str | None = None) -> dict[str, str]:
    """A real Cognito ID token from the account's user pool, as the Authorization header
    (the user is created on first use)."""
    from minyi.dal import staff_directory
    from minyi.models.identity import Role

    password = f"Test-{username}-Passw0rd"
    try:
        staff_directory.add_user(username, Role(role), password, department)
    except ClientError as error:  # made earlier in this test
        if error.response["Error"]["Code"] != "UsernameExistsException":
            raise
    return {"Authorization": staff_directory.id_token(username, password)}


CENTRE = ("centre01", "centre")
LEADER = ("leader01", "leader")
CHENGGUAN = ("chengguan01", "department", "区城管局")
SHICHANG = ("shichang01", "department", "区市场监管局")


def post_channel(channel_id: str, payload: Any = None, *, raw: bytes | None = None, sign: bool = True,
                 secret: str | None = None, at: datetime | None = None, headers: dict[str, str] | None = None,
                 ) -> tuple[int, Any, dict]:
    """POST a channel webhook, signed as the channel signs it (unless told otherwise)."""
    from minyi.channels import signatures as auth
    from tests.conftest import channel_secret

    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    signed = auth.signed_headers(secret or channel_secret(channel_id), body, at) if sign else {}
    return call_api("IntakeFunction", "POST", f"/channels/{channel_id}/requests", raw=body,
                    headers={**signed, **(headers or {})})


def sample(channel_id: str) -> dict:
    from pathlib import Path

    return json.loads((Path(__file__).parents[1] / "samples" / "channels" / f"{channel_id}.json").read_text("utf-8"))


def table_items(name: str) -> list[dict]:
    client = boto3.client("dynamodb", region_name=REGION)
    items, kwargs = [], {"TableName": name}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bus_log(aws: Provisioned, source: str, name: str):
    """Every event of `source` put on the stack's bus, read from an SQS queue a rule targets:
    returns a function answering all seen so far."""
    bus = aws.refs["EventBus"]
    sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName=f"{name}-bus-log")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=f"{name}-all", EventBusName=bus, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=f"{name}-all", EventBusName=bus, Targets=[{"Id": "log", "Arn": arn}])
    seen: list[dict] = []

    def read() -> list[dict]:
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return seen
            for message in got:
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return read


class StreamReader:
    """Reads a table's stream from moto as Lambda's event source mapping does, keeping
    its position, and hands the records that pass the function's filter to it.

    For a Kinesis event source (Kinesis Data Streams for DynamoDB) it reads the feeding
    table's DynamoDB stream (moto puts nothing on the Kinesis stream) and hands each change
    wrapped as the Kinesis record AWS delivers (infra.events.kinesis_event), the filter
    applied to the decoded `data`. `redeliver()` sends the last batch again, as AWS may."""

    def __init__(self, provisioned: Provisioned, logical_id: str, event_name: str | None = None) -> None:
        self.fn = FUNCTIONS[logical_id]
        self.source = next(s for s in self.fn.streams if event_name in (None, s.event_name))
        self.arn = provisioned.attributes[(self.source.table, "StreamArn")]
        self.kinesis = self.source.kind == "kinesis"
        if self.kinesis:
            self.kinesis_arn = provisioned.attributes[(self.source.kinesis_stream, "Arn")]
            self.table_name = provisioned.refs[self.source.table]
        self.client = boto3.client("dynamodbstreams", region_name=REGION)
        self.shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.last_seen: str | None = None
        self.last_batch: list[dict] = []

    def pending(self) -> list[dict]:
        """The new stream records (as dynamodbstreams.get_records returns them) that pass the filter."""
        # a fresh iterator each read: moto replaces the shard object when it cancels a transaction
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last_seen}
                    if self.last_seen else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = self.client.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard, **position)["ShardIterator"]
        records = self.client.get_records(ShardIterator=iterator)["Records"]
        if records:
            self.last_seen = records[-1]["dynamodb"]["SequenceNumber"]
        return [r for r in records if self._passes(r)]

    def _passes(self, record: dict) -> bool:
        if not self.source.filters:
            return True
        if self.kinesis:
            wrapped = self.event([record])["Records"][0]
            return any(events.matches_kinesis_filter(f, wrapped) for f in self.source.filters)
        return any(events.matches_filter(f, record) for f in self.source.filters)

    def event(self, records: list[dict]) -> dict:
        if self.kinesis:
            return events.kinesis_event(records, self.kinesis_arn, REGION, self.table_name,
                                        precision=self.source.creation_time_precision)
        return events.stream_event(records, self.arn, REGION)

    def deliver(self) -> list[dict]:
        """Delivers pending records; returns the handler's batchItemFailures."""
        records = self.pending()
        if not records:
            return []
        self.last_batch = records
        return self._invoke(records)

    def redeliver(self) -> list[dict]:
        """The last delivered batch once more, the same records with the same ids (a stream's
        at-least-once delivery: a retry, or a Kinesis duplicate); returns its batchItemFailures."""
        assert self.last_batch, "nothing delivered yet"
        return self._invoke(self.last_batch)

    def _invoke(self, records: list[dict]) -> list[dict]:
        result = handler(self.fn.logical_id)(self.event(records), events.LambdaContext(self.fn.logical_id))
        return (result or {}).get("batchItemFailures", [])


def scheduled(logical_id: str, at: datetime | None, schedule: str | None = None) -> Any:
    """A function's schedule (`schedule`: its event's name; default its first) fired as the local
    stack fires it: the Scheduled Event at `at`, or the schedule's Input with `"time"` = `at` added
    (`at` None: the Input alone, exactly as EventBridge delivers it)."""
    fn = FUNCTIONS[logical_id]
    source = next(s for s in fn.schedules if s.event_name == schedule) if schedule else fn.schedules[0]
    event = events.schedule_target_event(f"minyi-test-{logical_id}{source.event_name}", REGION, at, source.input,
                                         stamp_time=at is not None)
    return handler(logical_id)(event, events.LambdaContext(logical_id))


def request_body(external_id: str = "t-1", **overrides: Any) -> dict:
    body = {
        "external_id": external_id,
        "title": "小区路灯坏了",
        "content": "梅林镇某小区路灯坏了一周",
        "citizen": {"name": "张三", "phone": "13800000000"},
    }
    body.update(overrides)
    return body


def import_sample_duty_list() -> int:
    from minyi.routing import duty_list

    return duty_list.import_csv(duty_list.sample_csv(), actor="test")


def report_api(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any, dict]:
    """The report API as the centre's operator calls it (with a real ID token)."""
    headers = {**staff_token(*CENTRE), **kwargs.pop("headers", {})}
    return call_api("ReportApiFunction", method, path, body, headers=headers, **kwargs)


def audit_trail(order_id: str) -> list[dict]:
    """An order's audit records as dicts: action, actor, at, from, to, detail."""
    from minyi.dal.audit import audit_trail as read

    return [{**entry.model_dump(), "from": entry.from_status, "to": entry.to_status} for entry in read(order_id)]


def put_broken_order(order_id: str, *, received_at: str = "0001-01-01T00:00:00+08:00", timer_at: int = 1) -> None:
    """An order item as an older version of intake could store it (year 1): every read of it
    fails. It stands for any order one bug makes unreadable; the others must not suffer."""
    client = boto3.client("dynamodb", region_name=REGION)
    client.put_item(TableName="minyi-test-OrdersTable", Item={
        "pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}, "item_type": {"S": "order"},
        "order_id": {"S": order_id}, "channel": {"S": "12345"}, "external_id": {"S": order_id},
        "title": {"S": "坏数据"}, "content": {"S": "坏数据"}, "citizen_name": {"S": "张三"},
        "citizen_phone": {"S": "13800000000"}, "received_at": {"S": received_at}, "month": {"S": "0001-01"},
        "status": {"S": "received"}, "version": {"N": "1"}, "timer_shard": {"S": "T0"},
        "timer_at": {"N": str(timer_at)}, "queue": {"S": "undispatched"}})
