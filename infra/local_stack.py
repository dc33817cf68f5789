"""The local stack: `make run`.

moto server on loopback stands in for DynamoDB, S3, SQS, SSM, Secrets Manager and Kinesis;
every function of template.yaml runs its real handler in processes of its own; an
HTTP server turns requests into API Gateway REST proxy events for the function whose
Api event matches; table streams are polled and delivered as Lambda's event source
mappings would (filters, batch size, partial failures, retries, bisection, on-failure
queue; see StreamMapping); schedules fire on a compressed clock. Everything is read from
template.yaml.

Kinesis Data Streams for DynamoDB. A function whose event is `Type: Kinesis` on a stream
that a table's KinesisStreamSpecification feeds gets that table's changes as Kinesis
records (base64 JSON `data`, infra.events.kinesis_record): moto would never put them on the
stream, so the mapping reads the table's DynamoDB stream with an iterator of its own and
wraps each change as AWS does. Locally each change comes once and in order; on AWS it may
come twice, and in order only per item.

The clock. Schedules fire LOCAL_SCHEDULE_COMPRESSION (default 30) times as often as the
template says (the 5-minute SLA sweep every 10 s, the daily report every 48 min), and the
scheduled events carry a virtual time: the stack's start + real elapsed x compression. The
sweep takes "now" from its event's time, so at 30 a day of deadlines passes in 48 real
minutes while everything else (intake, staff actions, received_at, due_at) runs on the real
clock. LOCAL_VIRTUAL_CLOCK=0 sends the real time instead. The report builds get the
virtual time too: each daily firing is one virtual day after the last and builds the day
before it (the weekly and monthly crons fire every 7 and 30 virtual days). A schedule with
`Input` (the report schedules: `{"period_kind": ...}`) delivers that JSON as the event, as
EventBridge does, which carries no time; so the stack adds `"time"` to it (the virtual
clock's, or `at`'s), and adds nothing on the real clock, where the handler reads its own.
`POST /_local/schedules/<FunctionLogicalId>/fire?at=<ISO-8601 with zone>[&schedule=<event
name, e.g. Weekly>]` fires one of a function's schedules (default: its first) now, once,
with `at` as the event's time (default: the stack's clock), and answers with what the
handler returned; `GET /_local/clock` tells the stack's time.

The event log. What the handlers put on the template's event bus would be dropped (nothing
subscribes locally), so the stack adds a catch-all rule with an SQS queue target (local
plumbing, not in template.yaml), drains that queue into memory (the last EVENT_LOG_SIZE)
and serves it at `GET /_local/events[?detail-type=X&order_id=Y&source=Z]`.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import multiprocessing
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infra import events
from infra.authorizer import Unauthorized, UserPoolAuthorizer
from infra.lambda_worker import serve
from infra.provision import Provisioned, function_environment, provision, provision_event_log
from infra.template import (
    ACCOUNT,
    ROOT,
    Function,
    QueueSource,
    ScheduleSource,
    StreamSource,
    authorizers,
    functions,
    load,
)
from minyi.core import settings
from minyi.core.clock import SHANGHAI
from minyi.core.ids import order_id_for

PREFIX = "minyi-local"
# Local time runs faster where waiting would make the stack useless to try out: these
# replace a function's value for the variable when the template gives it one.
LOCAL_ENV_COMPRESSION = {"REPLY_RETRY_DELAYS": "1,2,4,8", "CHANNEL_CONFIG_CACHE_SECONDS": "5"}
OPEN311_LOCAL_KEY = "local-open311-key"
MAX_API_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own limit
EVENT_LOG_SIZE = 10_000  # the events GET /_local/events keeps (the oldest go first)
_SPAWN = multiprocessing.get_context("spawn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _say(message: str) -> None:
    print(message, flush=True)


class MotoServer:
    """`python -m moto.server`, with infra.moto_patches applied (infra/moto_server.py):
    DynamoDB requests one at a time, transactions that cancel without copying the table,
    shard iterators that expire."""

    def __init__(self, port: int, log_dir: Path) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        log = open(log_dir / "moto.log", "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("moto server exited; see .local/moto.log") from None
                time.sleep(0.1)
        raise RuntimeError("moto server did not start within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


class FunctionPool:
    """Warm execution environments of one function; one event at a time each, as in Lambda."""

    def __init__(self, fn: Function, env: dict[str, str], size: int, log_dir: Path) -> None:
        self.fn = fn
        self.env = env
        self.log_path = str(log_dir / f"{fn.logical_id}.log")
        self.idle: queue.Queue = queue.Queue()
        self.all: list[tuple[Any, Any]] = []
        for _ in range(size):
            self.idle.put(self._start())

    def _start(self) -> tuple[Any, Any]:
        parent, child = _SPAWN.Pipe()
        process = _SPAWN.Process(
            target=serve, daemon=True,
            args=(child, self.env, str(self.fn.code_uri), self.fn.handler, self.fn.logical_id,
                  int(self.fn.properties.get("Timeout", 3)), int(self.fn.properties.get("MemorySize", 128)),
                  self.log_path))
        process.start()
        status, detail = parent.recv()
        if status != "ready":
            raise RuntimeError(f"{self.fn.logical_id} failed to initialise:\n{detail}")
        worker = (process, parent)
        self.all.append(worker)
        return worker

    def invoke(self, event: dict) -> tuple[str, Any]:
        worker = self.idle.get()
        process, conn = worker
        try:
            conn.send(event)
            status, payload = conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            process.kill()
            worker = self._start()
            status, payload = "error", {"errorType": "Runtime.ExitError", "errorMessage": "worker died"}
        finally:
            self.idle.put(worker)
        return status, payload

    def stop(self) -> None:
        for process, conn in self.all:
            with contextlib.suppress(OSError):
                conn.send(None)
            process.join(2)
            if process.is_alive():
                process.kill()


class ChannelReceiver:
    """Stands in for the channel systems' reply and status endpoints (统一回复, 状态推送):
    verifies each delivery's signature with the channel's secret and keeps it.
    `POST /_local/channels/<id>/fail-next?count=N` makes the next N replies to that channel
    fail with 503, to watch the retries (`&kind=status`: the next N status notices)."""

    KINDS = ("replies", "status")  # the endpoints, and what fail-next's kind names

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.fail_next: dict[tuple[str, str], int] = {}
        self.received: list[dict] = []
        self.statuses: list[dict] = []
        self.lock = threading.Lock()

    def handle(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if method == "GET" and parts == ["_local", "replies"]:
            with self.lock:
                return 200, list(self.received)
        if method == "GET" and parts == ["_local", "statuses"]:
            with self.lock:
                return 200, list(self.statuses)
        if len(parts) == 4 and parts[:2] == ["_local", "channels"] and method == "POST":
            channel_id, action = parts[2], parts[3]
            if channel_id not in self.secrets:
                return 404, {"error": f"no channel {channel_id}"}
            if action == "fail-next":
                kind = (query.get("kind") or ["replies"])[0]
                if kind not in self.KINDS:
                    return 400, {"error": "kind is replies or status"}
                with self.lock:
                    self.fail_next[(channel_id, kind)] = int((query.get("count") or ["1"])[0])
                return 200, {"channel": channel_id, "kind": kind, "fail_next": self.fail_next[(channel_id, kind)]}
            if action in self.KINDS:
                return self._receive(channel_id, action, headers, body)
        return 404, {"error": "no such local endpoint"}

    def _receive(self, channel_id: str, kind: str, headers: dict, body: bytes) -> tuple[int, Any]:
        from minyi.channels import signatures as auth
        from minyi.core.clock import now
        from minyi.core.errors import Unauthorized

        kept = self.received if kind == "replies" else self.statuses
        with self.lock:
            if self.fail_next.get((channel_id, kind), 0) > 0:
                self.fail_next[(channel_id, kind)] -= 1
                kept.append({"channel": channel_id, "accepted": False})
                return 503, {"error": "channel system unavailable (simulated)"}
            try:
                auth.verify(self.secrets[channel_id], headers, body, now())
            except Unauthorized as error:
                kept.append({"channel": channel_id, "accepted": False, "error": error.message})
                return 401, error.to_body()
            kept.append({"channel": channel_id, "accepted": True, "verified": True,
                         "delivery": headers.get("X-Minyi-Delivery"),
                         ("reply" if kind == "replies" else "status"): json.loads(body)})
            return 200, {"received": True}


class StackClock:
    """The time the stack's scheduled events carry: with `virtual`, the stack's start plus
    real elapsed time x compression (so deadlines pass `compression` times as fast for the
    sweep); otherwise the real time."""

    def __init__(self, compression: float, virtual: bool, monotonic: Any = time.monotonic,
                 start: datetime | None = None) -> None:
        self.compression = compression
        self.virtual = virtual
        self._monotonic = monotonic
        self.started_at = start or datetime.now(UTC)
        self._started = monotonic()

    def now(self) -> datetime:
        if not self.virtual:
            return datetime.now(UTC)
        return self.started_at + timedelta(seconds=(self._monotonic() - self._started) * self.compression)

    def describe(self) -> dict[str, Any]:
        return {"now": self.now().isoformat(), "real_now": datetime.now(UTC).isoformat(), "virtual": self.virtual,
                "compression": self.compression, "started_at": self.started_at.isoformat()}


def cron_period(expression: str) -> float:
    """Seconds between firings of a cron(min hour day-of-month month day-of-week year) of this
    template: a day-of-week schedule is weekly, a day-of-month one (a number or L) monthly (30
    days locally), anything else daily."""
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if len(fields) == 6 and fields[4] not in ("*", "?"):
        return 7 * 86400
    if len(fields) == 6 and fields[2] not in ("*", "?"):
        return 30 * 86400
    return 86400


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant with its zone (`2026-11-30T09:00:00+08:00`, `...Z`); ValueError otherwise."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("no zone")
    return at


class EventLog:
    """What the handlers put on the event bus, as EventBridge delivers it to an SQS target:
    the catch-all rule's queue (infra.provision.provision_event_log), drained into memory."""

    KEPT = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")

    def __init__(self, queue_url: str, region: str, size: int = EVENT_LOG_SIZE) -> None:
        self.queue_url = queue_url
        self.region = region
        self.events: collections.deque[dict] = collections.deque(maxlen=size)
        self.lock = threading.Lock()

    def drain(self, stop_event: threading.Event) -> None:
        import boto3

        sqs = boto3.client("sqs", region_name=self.region)
        while not stop_event.is_set():
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", [])
            if not messages:
                continue
            kept = []
            for message in messages:
                try:
                    event = json.loads(message["Body"])
                except ValueError:
                    continue
                kept.append({k: event[k] for k in self.KEPT if k in event})
            with self.lock:
                self.events.extend(kept)
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])

    def query(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        detail_type = (query.get("detail-type") or [None])[-1]
        order_id = (query.get("order_id") or [None])[-1]
        source = (query.get("source") or [None])[-1]
        with self.lock:
            found = [e for e in self.events
                     if (detail_type is None or e.get("detail-type") == detail_type)
                     and (source is None or e.get("source") == source)
                     and (order_id is None or (isinstance(e.get("detail"), dict)
                                               and e["detail"].get("order_id") == order_id))]
        return 200, {"events": found}


class StreamMapping:
    """One stream event source mapping, as Lambda runs it: reads the table's DynamoDB stream
    with an iterator of its own (moto has no limit on readers, so every mapping, DynamoDB or
    Kinesis, reads it independently), keeps the records that pass the filters, and invokes the
    function with batches of at most BatchSize, one batch at a time per shard, in order.

    A function error retries the batch (with BisectBatchOnFunctionError, split in two halves
    retried one after the other; a split itself does not use up a retry here, AWS does not say
    whether it does); reported batchItemFailures (ReportBatchItemFailures) retry from the first
    failed record on; after MaximumRetryAttempts the remaining records' metadata goes to the
    on-failure queue (DDBStreamBatchInfo, or KinesisBatchInfo) and the mapping moves on.

    Kinesis (`source.kind` "kinesis", Kinesis Data Streams for DynamoDB): moto does not put
    the table's changes on the Kinesis stream, so the table's DynamoDB stream is read instead
    and each change wrapped as the Kinesis record AWS would put there (events.kinesis_record);
    the filters apply to the decoded `data`, and partial failures name kinesis.sequenceNumber.
    Locally every change arrives once and in the table's order. On AWS the Kinesis copy may
    hold a change twice and orders changes only per item (the partition key is the item's key
    hash), and across items by nothing: the function must count each fact once, whatever
    comes again or first. `tests.helpers.StreamReader.redeliver` sends a batch twice."""

    def __init__(self, function_id: str, source: StreamSource, provisioned: Provisioned, region: str,
                 invoke: Any, stop_event: threading.Event, backoff: Any = None) -> None:
        import boto3

        self.function_id = function_id
        self.source = source
        self.region = region
        self.invoke = invoke  # event -> (status "ok" | "error", result)
        self.stop_event = stop_event
        self.backoff = backoff or (lambda attempt: min(0.2 * 2 ** attempt, 5))
        self.streams = boto3.client("dynamodbstreams", region_name=region)
        self.sqs = boto3.client("sqs", region_name=region)
        self.stream_arn = provisioned.attributes[(source.table, "StreamArn")]
        self.kinesis = source.kind == "kinesis"
        if self.kinesis:
            self.source_arn = provisioned.attributes[(source.kinesis_stream, "Arn")]
            self.table_name = provisioned.refs[source.table]
        else:
            self.source_arn = self.stream_arn
        self.dead_letter_url = provisioned.refs[source.on_failure_queue] if source.on_failure_queue else None
        self.last_seen: dict[str, str] = {}

    # what differs between the two kinds of records
    def _wrap(self, record: dict) -> dict:
        if not self.kinesis:
            return record
        return events.kinesis_record(record, self.source_arn, self.region, self.table_name,
                                     precision=self.source.creation_time_precision,
                                     invoke_identity_arn=f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-{self.function_id}Role")

    def _passes(self, item: dict) -> bool:
        if not self.source.filters:
            return True
        if self.kinesis:
            return any(events.matches_kinesis_filter(f, item) for f in self.source.filters)
        return any(events.matches_filter(f, item) for f in self.source.filters)

    def _event(self, batch: list[dict]) -> dict:
        return {"Records": batch} if self.kinesis else events.stream_event(batch, self.source_arn, self.region)

    def _id(self, item: dict) -> str:
        return item["kinesis"]["sequenceNumber"] if self.kinesis else item["dynamodb"]["SequenceNumber"]

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.poll()
            self.stop_event.wait(0.5)

    def poll(self) -> int:
        """One pass over the stream's shards; delivers what is new. Returns how many records
        passed the filters."""
        delivered = 0
        for shard in self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            # A fresh iterator after the last record seen, on every poll, rather than
            # following NextShardIterator: the position is the sequence number, so an
            # iterator that expired (15 min, or evicted; see infra/moto_patches.py) while
            # a batch was being retried cannot lose it. Nothing is skipped: the patched
            # moto answers under one lock, and a cancelled transaction's records never
            # become visible, so sequence numbers are never re-issued.
            position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last_seen[shard_id]}
                        if self.last_seen.get(shard_id) else {"ShardIteratorType": "TRIM_HORIZON"})
            iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id,
                                                       **position)["ShardIterator"]
            records = self.streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
            if not records:
                continue
            self.last_seen[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            wanted = [item for item in map(self._wrap, records) if self._passes(item)]
            delivered += len(wanted)
            batch_shard = events.KINESIS_SHARD if self.kinesis else shard_id
            for start in range(0, len(wanted), self.source.batch_size):
                self.deliver(batch_shard, wanted[start:start + self.source.batch_size])
        return delivered

    def deliver(self, shard_id: str, batch: list[dict], attempt: int = 0) -> None:
        while batch and not self.stop_event.is_set():
            status, result = self.invoke(self._event(batch))
            if status == "ok":
                failures = ((result or {}).get("batchItemFailures") or []) if self.source.report_item_failures \
                    else []
                if not failures:
                    return
                failed = {f.get("itemIdentifier") for f in failures}
                first = next((i for i, item in enumerate(batch) if self._id(item) in failed), 0)
                batch = batch[first:]
            elif self.source.bisect and len(batch) > 1:
                half = len(batch) // 2
                self.deliver(shard_id, batch[:half], attempt)
                self.deliver(shard_id, batch[half:], attempt)
                return
            attempt += 1
            if 0 <= self.source.max_retries < attempt:
                self.dead_letter(shard_id, batch, attempt)
                return
            self.stop_event.wait(self.backoff(attempt))

    def dead_letter(self, shard_id: str, batch: list[dict], attempts: int) -> None:
        _say(f"! {self.function_id}.{self.source.event_name}: {len(batch)} record(s) exhausted retries; "
             + ("sent to the on-failure queue" if self.dead_letter_url else "skipped (no on-failure queue)"))
        if not self.dead_letter_url:
            return
        message: dict[str, Any] = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts,
                               "functionArn": f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:"
                                              f"{PREFIX}-{self.function_id}"},
        }
        if self.kinesis:
            def arrival(item: dict) -> str:
                at = datetime.fromtimestamp(item["kinesis"]["approximateArrivalTimestamp"], UTC)
                return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")

            message["KinesisBatchInfo"] = {
                "shardId": shard_id, "streamArn": self.source_arn, "batchSize": len(batch),
                "startSequenceNumber": self._id(batch[0]), "endSequenceNumber": self._id(batch[-1]),
                "approximateArrivalOfFirstRecord": arrival(batch[0]),
                "approximateArrivalOfLastRecord": arrival(batch[-1]),
            }
        else:
            message["DDBStreamBatchInfo"] = {
                "shardId": shard_id, "streamArn": self.source_arn, "batchSize": len(batch),
                "startSequenceNumber": self._id(batch[0]), "endSequenceNumber": self._id(batch[-1]),
            }
        self.sqs.send_message(QueueUrl=self.dead_letter_url, MessageBody=json.dumps(message))


class LocalStack:
    def __init__(self, port: int, moto_port: int, compression: float, region: str,
                 virtual_clock: bool = True) -> None:
        self.region = region
        self.compression = compression
        self.clock = StackClock(compression, virtual_clock)
        self.stop_event = threading.Event()
        self.log_dir = Path(os.environ.get("MINYI_LOCAL_DIR") or ROOT / ".local")
        self.log_dir.mkdir(exist_ok=True)
        self.moto = MotoServer(moto_port, self.log_dir)
        os.environ.update({
            "AWS_ENDPOINT_URL": self.moto.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            # newer botocore routes DynamoDB Streams to account-scoped hosts moto does not serve
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        })
        self.template = load()
        self.provisioned: Provisioned = provision(self.template, PREFIX, region)
        self.event_log = EventLog(provision_event_log(PREFIX, region, self.provisioned), region)
        self.functions = functions(self.template)
        self.stage = self._stage()
        self.pools: dict[str, FunctionPool] = {}
        for fn in self.functions:
            size = 2 if fn.api_routes else 1
            self.pools[fn.logical_id] = FunctionPool(fn, self._function_env(fn), size, self.log_dir)
        self.routes = [(route, events.path_pattern(route.path), fn)
                       for fn in self.functions for route in fn.api_routes]
        self.authorizers = {
            name: UserPoolAuthorizer(self.provisioned.refs[spec.user_pool], region,
                                     self._jwks(self.provisioned.refs[spec.user_pool]), spec.header)
            for name, spec in authorizers(self.template).items()}
        self.receiver = ChannelReceiver()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._http_handler())
        self.port = self.httpd.server_address[1]

    def order_id_key(self) -> bytes:
        """The stack's order-id key, as IntakeFunction reads it (to print a request's id)."""
        import boto3

        secret = next(lid for lid, resource in self.template["Resources"].items()
                      if resource["Type"] == "AWS::SecretsManager::Secret")
        value = boto3.client("secretsmanager", region_name=self.region).get_secret_value(
            SecretId=self.provisioned.refs[secret])["SecretString"]
        return value.encode("utf-8")

    def _jwks(self, user_pool_id: str) -> Any:
        """The pool's signing keys, from moto's own JWKS endpoint (what API Gateway reads)."""
        def fetch() -> dict:
            url = f"{self.moto.endpoint}/{user_pool_id}/.well-known/jwks.json"
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        return fetch

    def _stage(self) -> str:
        for resource in self.template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Api":
                return str(self.provisioned.resolver.resolve(resource["Properties"]["StageName"]))
        return "dev"

    def _function_env(self, fn: Function) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "PATH", "HOME", "LANG"))}
        own = function_environment(fn.properties, self.provisioned)
        env.update(own)
        env.update({k: v for k, v in LOCAL_ENV_COMPRESSION.items() if k in own})
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": f"{PREFIX}-{fn.logical_id}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.properties.get("MemorySize", 128)),
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
            "PYTHONUNBUFFERED": "1",
        })
        return env

    # ------------------------------------------------------------ API Gateway
    def _http_handler(self) -> type[BaseHTTPRequestHandler]:
        stack = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:
                with open(stack.log_dir / "api.log", "a", encoding="utf-8") as log:
                    log.write(f"{datetime.now(UTC).isoformat()} {self.address_string()} {fmt % args}\n")

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, body: dict) -> None:
                self._reply(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

            def _handle(self) -> None:
                # http.server decodes the request line as latin-1; curl sends 区城管局 as raw UTF-8
                # bytes, which a browser or an SDK would percent-encode: read them as UTF-8
                url = urlsplit(self.path.encode("latin-1").decode("utf-8", "replace"))
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_API_PAYLOAD:
                    self._json(413, {"message": "Request Too Long"})
                    return
                body = self.rfile.read(length) if length else None
                if url.path.startswith("/_local/"):
                    status, answer = stack.local_endpoint(self.command, url, dict(self.headers.items()),
                                                          body or b"")
                    self._json(status, answer)
                    return
                target = None
                for route, pattern, fn in stack.routes:
                    if pattern.match(url.path) and route.method == self.command:
                        target = (route, fn)
                        break
                if target is None:  # API Gateway's answer for any unknown resource or method
                    self._json(403, {"message": "Missing Authentication Token"})
                    return
                route, fn = target
                authorizer = None
                if route.authorizer:  # API Gateway's Cognito authorizer runs before the function
                    try:
                        claims = stack.authorizers[route.authorizer].claims(dict(self.headers.items()))
                    except Unauthorized:
                        self._json(401, {"message": "Unauthorized"})
                        return
                    authorizer = {"claims": claims}
                event = events.api_event(self.command, route.path, url.path, headers=dict(self.headers.items()),
                                         query=parse_qs(url.query, keep_blank_values=True) or None, body=body,
                                         stage=stack.stage, source_ip=self.client_address[0], authorizer=authorizer)
                status, result = stack.pools[fn.logical_id].invoke(event)
                if status != "ok" or not isinstance(result, dict) or "statusCode" not in result:
                    self._json(502, {"message": "Internal server error"})
                    return
                headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
                for name, values in (result.get("multiValueHeaders") or {}).items():
                    headers[name] = ", ".join(str(v) for v in values)
                payload = result.get("body") or ""
                raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
                self._reply(int(result["statusCode"]), headers, raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        return Handler

    def local_endpoint(self, method: str, url: Any, headers: dict, body: bytes) -> tuple[int, Any]:
        """/_local/...: the stack's own endpoints (not in template.yaml)."""
        parts = url.path.strip("/").split("/")
        if parts == ["_local", "events"] and method == "GET":
            return self.event_log.query(parse_qs(url.query))
        if parts == ["_local", "clock"] and method == "GET":
            return 200, self.clock.describe()
        if len(parts) == 4 and parts[:2] == ["_local", "schedules"] and parts[3] == "fire" and method == "POST":
            # a literal "+" in `at` is the zone's sign, not a form-encoded space
            query = parse_qs(url.query.replace("+", "%2B"))
            return self.fire(parts[2], query.get("at", [None])[-1], query.get("schedule", [None])[-1])
        return self.receiver.handle(method, url.path, parse_qs(url.query), headers, body)

    # ------------------------------------------------------------ event sources
    def _keep_running(self, name: str, loop: Any, *args: Any) -> None:
        """An event source mapping or schedule does not stop on an error: report it, go on."""
        while not self.stop_event.is_set():
            try:
                loop(*args)
            except Exception as error:
                _say(f"! {name}: {type(error).__name__}: {error}; retrying")
                self.stop_event.wait(1)

    # ------------------------------------------------------------ SQS
    def _poll_queue(self, fn: Function, source: QueueSource) -> None:
        import boto3

        sqs = boto3.client("sqs", region_name=self.region)
        url = self.provisioned.refs[source.queue]
        arn = self.provisioned.attributes[(source.queue, "Arn")]
        pool = self.pools[fn.logical_id]
        while not self.stop_event.is_set():
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10),
                                           WaitTimeSeconds=1, AttributeNames=["All"]).get("Messages", [])
            if not messages:
                continue
            status, result = pool.invoke(events.sqs_event(messages, arn, self.region))
            if status != "ok":
                continue  # every message becomes visible again after its visibility timeout
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures") or []}
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    # ------------------------------------------------------------ schedules
    def schedule_interval(self, expression: str) -> float:
        if expression.startswith("rate("):
            amount, unit = expression[5:-1].split()
            seconds = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}[unit]
            return int(amount) * seconds / self.compression
        return cron_period(expression) / self.compression

    def _schedule_event(self, fn: Function, source: ScheduleSource, at: datetime, chosen: bool = False) -> dict:
        """The event the target gets (`events.schedule_target_event`): with Input, the Input plus
        `"time"` when the stack's clock is virtual or the instant was chosen (`fire?at=`); on the
        real clock nothing is added, as EventBridge adds nothing, and the handler reads its clock."""
        rule = f"{PREFIX}-{fn.logical_id}{source.event_name}"
        return events.schedule_target_event(rule, self.region, at, source.input,
                                            stamp_time=self.clock.virtual or chosen)

    def _fire_schedule(self, fn: Function, source: ScheduleSource) -> None:
        interval = self.schedule_interval(source.expression)
        first = True
        while not self.stop_event.wait(min(interval, 5.0) if first else interval):
            first = False
            event = self._schedule_event(fn, source, self.clock.now())
            status, result = self.pools[fn.logical_id].invoke(event)
            if status != "ok":
                _say(f"! {fn.logical_id}.{source.event_name} failed: {result}")

    def fire(self, logical_id: str, at_text: str | None, schedule: str | None = None) -> tuple[int, Any]:
        """`POST /_local/schedules/<logical id>/fire?at=...&schedule=<event name>`: one of the
        function's schedules (default: its first), once, now, synchronously, with `at` (default:
        the stack's clock) as the scheduled event's time (with Input: the `"time"` added to it)."""
        fn = next((f for f in self.functions if f.logical_id == logical_id), None)
        if fn is None or not fn.schedules:
            scheduled = [f.logical_id for f in self.functions if f.schedules]
            return 404, {"error": {"code": "not_found", "message": f"no scheduled function {logical_id}",
                                   "details": [{"field": "function", "problem": f"one of {', '.join(scheduled)}"}]}}
        try:
            at = parse_instant(at_text) if at_text else self.clock.now()
        except ValueError:
            return 400, {"error": {"code": "invalid_at", "message": "at is an ISO-8601 instant with its zone",
                                   "details": [{"field": "at", "problem": "e.g. 2026-11-30T09:00:00+08:00"}]}}
        source = next((s for s in fn.schedules if s.event_name == schedule), None) if schedule else fn.schedules[0]
        if source is None:
            names = ", ".join(s.event_name for s in fn.schedules)
            return 404, {"error": {"code": "not_found", "message": f"{logical_id} has no schedule {schedule}",
                                   "details": [{"field": "schedule", "problem": f"one of {names}"}]}}
        event = self._schedule_event(fn, source, at, chosen=True)
        status, result = self.pools[fn.logical_id].invoke(event)
        return (200 if status == "ok" else 502), {
            "function": logical_id, "schedule": source.event_name,
            "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "status": status, "result": result}

    # ------------------------------------------------------------ lifecycle
    def seed_duty_list(self) -> None:
        env = {**os.environ, "DUTY_LIST_TABLE": self.provisioned.refs["DutyListTable"]}
        minyi = Path(sys.executable).with_name("minyi")
        subprocess.run([str(minyi), "duty-list", "import", "--county"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        # the liaison table (联络员名单) the clock names whom to call from: the sample 附件2
        subprocess.run([str(minyi), "liaisons", "import", "--sample", "--by", "local-stack"], env=env, check=True,
                       stdout=subprocess.DEVNULL)

    def seed_channels(self) -> None:
        """Dev secrets for every registry channel in SSM (as operators would put them),
        with reply and status endpoints on the local channel receiver; also written to a git-ignored
        file so that anyone can sign requests."""
        from minyi.channels.registry import registry
        from minyi.dal import channel_config

        path = next(v for fn in self.functions for k, v in self._function_env(fn).items()
                    if k == "CHANNEL_CONFIG_PATH")
        os.environ["CHANNEL_CONFIG_PATH"] = path
        settings.reset()
        base = f"http://127.0.0.1:{self.port}"
        secrets_out = {}
        for channel_id in registry():
            secret = secrets.token_hex(24)
            config = channel_config.ChannelConfig(
                secret=secret, reply_url=f"{base}/_local/channels/{channel_id}/replies",
                status_url=f"{base}/_local/channels/{channel_id}/status",
                api_keys=(OPEN311_LOCAL_KEY,) if channel_id == "open311" else ())
            channel_config.put_config(channel_id, config)
            secrets_out[channel_id] = secret
        self.receiver.secrets = secrets_out
        (self.log_dir / "channel-secrets.json").write_text(json.dumps({
            "api": base, "parameter_path": path, "open311_api_key": OPEN311_LOCAL_KEY, "secrets": secrets_out},
            ensure_ascii=False, indent=2), encoding="utf-8")

    # Who the local stack signs up, one account per role (and three departments), so that
    # the department-scoping can be tried out: each sees only its own orders.
    LOCAL_STAFF = (("zhongxin01", "centre", None), ("lingdao01", "leader", None),
                   ("chengguan01", "department", "区城管局"), ("shichang01", "department", "区市场监管局"),
                   ("tiancun01", "department", "田村镇人民政府"), ("zhujian01", "department", "区住建局"),
                   # reviews the replies of the forwarded 政务网站 channels (wz-jx, wz-gz)
                   ("shenpi01", "department", "区行政审批局"))

    def seed_staff(self) -> None:
        from minyi.dal import staff_directory
        from minyi.models.identity import Role

        pool = next(lid for lid, r in self.template["Resources"].items() if r["Type"] == "AWS::Cognito::UserPool")
        client = next(lid for lid, r in self.template["Resources"].items()
                      if r["Type"] == "AWS::Cognito::UserPoolClient")
        self.staff_env = {"STAFF_USER_POOL_ID": self.provisioned.refs[pool],
                          "STAFF_USER_POOL_CLIENT_ID": self.provisioned.refs[client]}
        os.environ.update(self.staff_env)
        settings.reset()
        users = {}
        for username, role, department in self.LOCAL_STAFF:
            password = secrets.token_urlsafe(12) + "Aa1"
            staff_directory.add_user(username, Role(role), password, department)
            users[username] = {"role": role, "department": department, "password": password}
        (self.log_dir / "staff-users.json").write_text(json.dumps({**self.staff_env, "users": users},
                                                                  ensure_ascii=False, indent=2), encoding="utf-8")

    def start(self) -> None:
        self.seed_duty_list()
        self.seed_channels()
        self.seed_staff()
        for fn in self.functions:
            for source in fn.streams:  # one mapping (and position) each, kept across a loop's restart
                mapping = StreamMapping(fn.logical_id, source, self.provisioned, self.region,
                                        self.pools[fn.logical_id].invoke, self.stop_event)
                threading.Thread(target=self._keep_running, daemon=True,
                                 args=(f"{fn.logical_id}.{source.event_name}", mapping.run)).start()
            for source in fn.queues:
                threading.Thread(target=self._keep_running, daemon=True,
                                 args=(f"{fn.logical_id}.{source.event_name}", self._poll_queue, fn, source)).start()
            for source in fn.schedules:
                threading.Thread(target=self._keep_running, daemon=True,
                                 args=(f"{fn.logical_id}.{source.event_name}", self._fire_schedule, fn, source)).start()
        threading.Thread(target=self._keep_running, daemon=True,
                         args=("event log", self.event_log.drain, self.stop_event)).start()
        shared_env = {k: v for fn in self.functions for k, v in self._function_env(fn).items()
                      if k.endswith(("_TABLE", "_BUCKET", "_PATH", "_QUEUE_URL"))}
        (self.log_dir / "stack.json").write_text(json.dumps({
            "api": f"http://127.0.0.1:{self.port}", "moto": self.moto.endpoint, "moto_pid": self.moto.process.pid,
            "region": self.region,
            "resources": self.provisioned.refs, "env": {**shared_env, **self.staff_env}},
            ensure_ascii=False, indent=2), encoding="utf-8")
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        for pool in self.pools.values():
            pool.stop()
        self.moto.stop()


def _banner(stack: LocalStack) -> str:
    base = f"http://127.0.0.1:{stack.port}"
    secrets_file = stack.log_dir / "channel-secrets.json"
    secret = json.loads(secrets_file.read_text(encoding="utf-8"))["secrets"]["12345"]
    body = json.dumps({"external_id": "demo-1", "title": "小区路灯坏了", "content": "梅林镇某小区路灯坏了一周",
                       "citizen": {"name": "张三", "phone": "13800000000"}}, ensure_ascii=False)
    scheduled = [f.logical_id for f in stack.functions if f.schedules] or ["<Function>"]
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    tomorrow_text = tomorrow.isoformat()
    lines = [
        f"minyi-suban local stack: {base}  (moto server {stack.moto.endpoint}, region {stack.region})",
        "functions: " + ", ".join(f.logical_id for f in stack.functions),
        f"logs: {stack.log_dir}/<Function>.log   dev channel secrets: {secrets_file}",
        "",
        "Post a signed request (HMAC-SHA256 of \"<timestamp>.<body>\" with the channel's secret):",
        f"  BODY='{body}'; TS=$(date +%s); SIG=$(printf '%s.%s' \"$TS\" \"$BODY\" | openssl dgst -sha256 "
        f"-hmac '{secret}' -r | cut -d' ' -f1); curl -s -X POST {base}/channels/12345/requests "
        "-H 'Content-Type: application/json' -H \"X-Minyi-Timestamp: $TS\" "
        "-H \"X-Minyi-Signature: sha256=$SIG\" -d \"$BODY\"",
        f"  curl -s {base}/orders/{order_id_for(stack.order_id_key(), '12345', 'demo-1')}",
        f"Any channel's sample:  .venv/bin/minyi --local-dir {stack.log_dir} channel post petition "
        "samples/channels/petition.json",
        f"Open311:  curl -s {base}/open311/v2/services.json",
        "",
        "Staff endpoints need a Cognito ID token (users and passwords: "
        f"{stack.log_dir}/staff-users.json; zhongxin01 = centre, lingdao01 = leader,",
        "chengguan01 / shichang01 / tiancun01 / zhujian01 / shenpi01 = 区城管局 / 区市场监管局 / "
        "田村镇人民政府 / 区住建局 / 区行政审批局):",
        f"  TOKEN=$(.venv/bin/minyi --local-dir {stack.log_dir} staff token zhongxin01)",
        f"  curl -s {base}/staff/queues/manual -H \"Authorization: $TOKEN\"",
        f"  curl -s -X POST {base}/reports -H \"Authorization: $TOKEN\" -H 'Content-Type: application/json' "
        f"-d '{{\"period\": \"{datetime.now(UTC).strftime('%Y-%m')}\"}}'   then  "
        f"curl -s {base}/reports/<report_id> -H \"Authorization: $TOKEN\"",
        f"Replies received by the simulated channel systems:  curl -s {base}/_local/replies",
        f"Status notices they received (each public change of an order):  curl -s {base}/_local/statuses",
        "Events on the bus (Emergency, OffHoursDispatch, DeadlineApproaching, DeadlineEscalated):  "
        f"curl -s '{base}/_local/events?order_id=<id>&detail-type=Emergency'   (filters optional)",
        f"Clock: schedules fire {stack.compression:g}x as often; "
        + (f"their events carry virtual time ({stack.compression:g}x real, from start; LOCAL_VIRTUAL_CLOCK=0: "
           "real time)" if stack.clock.virtual else "their events carry the real time (LOCAL_VIRTUAL_CLOCK=0)")
        + f":  curl -s {base}/_local/clock",
        f"A schedule fired once, now, as of a chosen instant ({', '.join(scheduled)}):  "
        f"curl -s -X POST '{base}/_local/schedules/{scheduled[0]}/fire?at={tomorrow_text}'",
        "",
        f"READY {base}",
    ]
    return "\n".join(lines)


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    moto_port = int(os.environ.get("MOTO_PORT", "0")) or _free_port()
    compression = float(os.environ.get("LOCAL_SCHEDULE_COMPRESSION", "30"))
    region = os.environ.get("AWS_REGION", "us-east-1")
    virtual_clock = os.environ.get("LOCAL_VIRTUAL_CLOCK", "1").strip().lower() not in ("0", "false", "no", "off")
    stack = LocalStack(port, moto_port, compression, region, virtual_clock)
    done = threading.Event()

    def shutdown(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        stack.start()
        _say(_banner(stack))
        done.wait()
    finally:
        _say("stopping local stack ...")
        stack.stop()
        _say("stopped")


if __name__ == "__main__":
    main()
