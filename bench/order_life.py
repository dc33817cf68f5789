"""One order's whole life, intake to closed, in-process on moto:

- DynamoDB write calls per step (goal: one write call per state change), counted on the
  wire (botocore events), beside the audit records each step wrote (one per state change);
- warm latency of a staff action (先行联系 through the staff API's handler, token claims as
  API Gateway's authorizer passes them) as a ratio to a bare handler that parses the body
  and does one update_item, measured in the same run, interleaved, median of many requests.

The steps run through the real handlers (intake, route, staff API, reply delivery) the way
the template wires them; the channel's reply endpoint is a loopback receiver.
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

os.environ["CHANNEL_CONFIG_CACHE_SECONDS"] = "300"
os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

import boto3  # noqa: E402

from bench.intake_writes import WRITES, CallTimer  # noqa: E402
from infra import events  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
CLAIMS = {
    "区城管局": {"cognito:username": "chengguan01", "cognito:groups": "department", "custom:department": "区城管局"},
    "centre": {"cognito:username": "zhongxin01", "cognito:groups": "centre"},
}


class Counter:
    def __init__(self) -> None:
        self.writes = 0

    def __call__(self, model, **kwargs) -> None:
        if model.name in WRITES:
            self.writes += 1


def main() -> None:
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), harness.provisioned_account() as aws:
        from minyi.dal import orders
        from tests.helpers import StreamReader, audit_trail, import_sample_duty_list, post_channel, request_body
        from tests.integration.test_related_and_replies import Receiver

        import_sample_duty_list()
        receiver = Receiver("12345")
        staff_api = harness.handler("StaffApiFunction")
        route, replies = StreamReader(aws, "RouteFunction"), StreamReader(aws, "ReplyFunction")
        context = events.LambdaContext("bench")
        client = orders.OrderRecord._get_connection().connection.client
        counter = Counter()
        client.meta.events.register("before-call.dynamodb.*", counter)

        def staff(who: str, order_id: str, action: str, body: dict | None = None) -> dict:
            event = events.api_event("POST", f"/orders/{{order_id}}/{action}", f"/orders/{order_id}/{action}",
                                     body=json.dumps(body or {}, ensure_ascii=False),
                                     headers={"Content-Type": "application/json"},
                                     authorizer={"claims": CLAIMS[who]})
            response = staff_api(event, context)
            assert response["statusCode"] in (200, 201), response
            return json.loads(response["body"])

        state: dict = {}

        def intake() -> None:
            status, ack, _ = post_channel("12345", request_body("life-1"))
            assert status == 201
            state["id"] = ack["order_id"]

        reply = {"result": "resolved", "text": "已修复", "internal_note": "班组已处理"}
        satisfied = {"satisfaction": "satisfied", "resolved": True, "method": "phone"}
        steps = [
            ("受理 intake", intake),
            ("分拨 route (stream)", lambda: route.deliver()),
            ("签收 sign", lambda: staff("区城管局", state["id"], "sign")),
            ("先行联系 contact", lambda: staff("区城管局", state["id"], "contact",
                                            {"method": "phone", "note": "已联系"})),
            ("办结申请 reply", lambda: staff("区城管局", state["id"], "reply", reply)),
            ("办结审核 approve", lambda: staff("centre", state["id"], "reply-review", {"decision": "approve"})),
            ("统一回复 delivery (stream)", lambda: replies.deliver()),
            ("回访 dissatisfied", lambda: staff("centre", state["id"], "evaluation",
                                              {"satisfaction": "dissatisfied", "resolved": False, "method": "phone"})),
            ("重办 reopen", lambda: staff("centre", state["id"], "reopen", {"reason": "诉求人不满意"})),
            ("办结申请 reply", lambda: staff("区城管局", state["id"], "reply", reply)),
            ("办结审核 approve", lambda: staff("centre", state["id"], "reply-review", {"decision": "approve"})),
            ("统一回复 delivery (stream)", lambda: replies.deliver()),
            ("回访 satisfied → closed", lambda: staff("centre", state["id"], "evaluation", satisfied)),
        ]
        rows, audits = [], 0
        for name, step in steps:
            counter.writes = 0
            step()
            trail = len(audit_trail(state["id"]))
            rows.append((name, counter.writes, trail - audits))
            audits = trail
        final = orders.get_order(state["id"]).status.value
        client.meta.events.unregister("before-call.dynamodb.*", counter)

        # warm latency: 先行联系 on a signed order, against a bare update_item handler
        table = boto3.client("dynamodb", region_name=harness.REGION)
        bare_table = aws.refs["OrdersTable"]
        _, ack, _ = post_channel("12345", request_body("life-2", citizen={"name": "李四", "phone": "13900000001"}))
        route.deliver()
        target = ack["order_id"]
        staff("区城管局", target, "sign")
        assert orders.get_order(target).status.value == "signed"

        def contact_event() -> dict:
            return events.api_event("POST", "/orders/{order_id}/contact", f"/orders/{target}/contact",
                                    body=json.dumps({"method": "phone", "note": "再次电话联系"}, ensure_ascii=False),
                                    headers={"Content-Type": "application/json"},
                                    authorizer={"claims": CLAIMS["区城管局"]})

        def bare_handler(event: dict) -> dict:
            body = json.loads(event["body"])
            table.update_item(TableName=bare_table, Key={"pk": {"S": "BARE#1"}, "sk": {"S": "ORDER"}},
                              UpdateExpression="SET note = :n, version = if_not_exists(version, :z) + :one",
                              ExpressionAttributeValues={":n": {"S": body["note"]}, ":z": {"N": "0"},
                                                         ":one": {"N": "1"}})
            return {"statusCode": 200, "body": "{}"}

        for _ in range(5):
            staff_api(contact_event(), context)
            bare_handler(contact_event())
        timer = CallTimer(client, table)
        ours, bare, ours_storage, bare_storage = [], [], [], []
        for _ in range(REQUESTS):
            timer.total, started = 0.0, time.perf_counter()
            response = staff_api(contact_event(), context)
            ours.append(time.perf_counter() - started)
            ours_storage.append(timer.total)
            assert response["statusCode"] == 200, response
            timer.total, started = 0.0, time.perf_counter()
            bare_handler(contact_event())
            bare.append(time.perf_counter() - started)
            bare_storage.append(timer.total)
        calls: list[str] = []

        def record(model, **kwargs) -> None:
            calls.append(model.name)

        client.meta.events.register("before-call.dynamodb.*", record)
        staff_api(contact_event(), context)
        client.meta.events.unregister("before-call.dynamodb.*", record)
        receiver.close()

    width = max(len(name) for name, _, _ in rows)
    print(f"One order's life, intake to {final}: DynamoDB write calls per step (goal: one per state change)")
    for name, writes, audit in rows:
        print(f"  {name:<{width}}  writes {writes}  state changes (audit records) {audit}")
    total_writes, total_changes = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"  total: {total_writes} write calls for {total_changes} state changes "
          f"({total_writes / total_changes:.2f} per change)")

    def ms(samples):
        return statistics.median(samples) * 1000

    ours_ms, bare_ms = ms(ours), ms(bare)
    print(f"warm staff action (先行联系 through the staff API), median of {REQUESTS}, in-process moto: "
          f"{ours_ms:.2f} ms, bare update_item handler {bare_ms:.2f} ms, ratio {ours_ms / bare_ms:.2f}")
    print(f"  DynamoDB calls of one staff action: {', '.join(calls)}; storage time of the first and last "
          f"{REQUESTS // 5} actions on the same order (its partition grows by two items each): "
          f"{ms(ours_storage[:REQUESTS // 5]):.2f} ms, {ms(ours_storage[-(REQUESTS // 5):]):.2f} ms")
    print(f"  of which inside DynamoDB calls: staff action {ms(ours_storage):.2f} ms, "
          f"bare {ms(bare_storage):.2f} ms (one UpdateItem)")
    ours_own = ms([a - b for a, b in zip(ours, ours_storage, strict=True)])
    bare_own = ms([a - b for a, b in zip(bare, bare_storage, strict=True)])
    print(f"  the handlers' own work (outside DynamoDB calls): staff action {ours_own:.2f} ms (claims, role, "
          f"body model, lifecycle check, step, logging, metrics), bare {bare_own:.2f} ms, "
          f"ratio {ours_own / bare_own:.2f}")


if __name__ == "__main__":
    main()
