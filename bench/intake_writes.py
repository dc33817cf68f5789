"""Intake cost per accepted request, in-process on moto (so only the handler's own work
differs between the two sides):

- DynamoDB write calls per accepted request (goal <= 2), counted on the wire (botocore
  events), for intake alone and for intake + route (the order's whole way to dispatch);
- warm intake latency as a ratio to a bare handler that parses the body and does one
  put_item, measured in the same run, interleaved, median of many requests.

The handlers' metrics are serialised and written as in Lambda (EMF lines on stdout), but to the
null device rather than among the figures: the work is measured, the lines are not shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH", "1")

import tests.conftest as harness  # noqa: E402  (sets the test environment before minyi loads)

os.environ["CHANNEL_CONFIG_CACHE_SECONDS"] = "300"  # production caching of channel secrets
os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

import boto3  # noqa: E402

from infra import events  # noqa: E402
from minyi.channels import signatures as auth  # noqa: E402

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))


class WriteCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, model, **kwargs) -> None:
        if model.name in WRITES:
            self.calls += 1


def count_writes(fn) -> int:
    from minyi.dal import orders

    counter = WriteCounter()
    client = orders.OrderRecord._get_connection().connection.client
    client.meta.events.register("before-call.dynamodb.*", counter)
    try:
        fn()
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", counter)
    return counter.calls


class CallTimer:
    """Time spent inside DynamoDB calls, to tell the handler's own work from storage."""

    def __init__(self, *clients) -> None:
        self.total = 0.0
        self._started = 0.0
        for client in clients:
            client.meta.events.register("before-call.dynamodb.*", self._before)
            client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, **kwargs) -> None:
        self._started = time.perf_counter()

    def _after(self, **kwargs) -> None:
        self.total += time.perf_counter() - self._started


def main() -> None:
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), harness.provisioned_account() as aws:
        from tests.helpers import StreamReader, import_sample_duty_list, request_body

        import_sample_duty_list()
        intake = harness.handler("IntakeFunction")
        route = StreamReader(aws, "RouteFunction")
        secret = harness.channel_secret("12345")
        table = boto3.client("dynamodb", region_name=harness.REGION)
        bare_table = aws.refs["OrdersTable"]

        def intake_event(n: int) -> dict:
            body = json.dumps(request_body(f"bench-{n}"), ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", **auth.signed_headers(secret, body)}
            return events.api_event("POST", "/channels/{channel}/requests", "/channels/12345/requests",
                                    headers=headers, body=body)

        def bare_handler(event: dict) -> dict:
            """The baseline: parse the body and store it with one put_item."""
            body = json.loads(event["body"])
            table.put_item(TableName=bare_table, Item={"pk": {"S": f"BARE#{body['external_id']}"},
                                                       "sk": {"S": "ORDER"}, "body": {"S": event["body"]}})
            return {"statusCode": 201, "body": json.dumps({"ok": True})}

        context = events.LambdaContext("bench")
        # warm both up
        for n in range(5):
            intake(intake_event(10_000 + n), context)
            bare_handler(intake_event(20_000 + n))

        route.deliver()  # the warm-up orders
        intake_writes = count_writes(lambda: intake(intake_event(1), context))
        route.deliver()
        routed_writes = count_writes(lambda: (intake(intake_event(2), context), route.deliver()))

        from minyi.dal import orders

        timer = CallTimer(orders.OrderRecord._get_connection().connection.client, table)
        ours, bare, ours_storage, bare_storage = [], [], [], []
        for n in range(REQUESTS):
            event = intake_event(100_000 + n)
            timer.total, started = 0.0, time.perf_counter()
            response = intake(event, context)
            ours.append(time.perf_counter() - started)
            ours_storage.append(timer.total)
            assert response["statusCode"] == 201, response
            event = intake_event(200_000 + n)
            timer.total, started = 0.0, time.perf_counter()
            bare_handler(event)
            bare.append(time.perf_counter() - started)
            bare_storage.append(timer.total)

    def ms(samples):
        return statistics.median(samples) * 1000

    ours_ms, bare_ms = ms(ours), ms(bare)
    ours_own = ms([a - b for a, b in zip(ours, ours_storage, strict=True)])
    bare_own = ms([a - b for a, b in zip(bare, bare_storage, strict=True)])
    print(f"DynamoDB write calls per accepted request: intake {intake_writes} "
          f"(goal <= 2); intake + route, the order's whole way to its department: {routed_writes}")
    print(f"warm intake latency, median of {REQUESTS}, in-process moto: intake {ours_ms:.2f} ms, "
          f"bare put_item handler {bare_ms:.2f} ms, ratio {ours_ms / bare_ms:.2f}")
    print(f"  of which inside DynamoDB calls: intake {ms(ours_storage):.2f} ms (one TransactWriteItems), "
          f"bare {ms(bare_storage):.2f} ms (one PutItem)")
    print(f"  the handlers' own work (outside DynamoDB calls): intake {ours_own:.2f} ms "
          f"(route, signature, secrets cache, schema, mapping, logging, metrics), bare {bare_own:.2f} ms, "
          f"ratio {ours_own / bare_own:.2f}")


if __name__ == "__main__":
    main()
