"""SQS queues of reply delivery: retries with backoff, and the dead-letter queue."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from minyi.core import settings


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def schedule_reply_retry(order_id: str, attempt: int, delay_seconds: int) -> None:
    _sqs().send_message(QueueUrl=settings.require("reply_retry_queue_url"), DelaySeconds=delay_seconds,
                        MessageBody=json.dumps({"order_id": order_id, "attempt": attempt}))


def dead_letter_reply(order_id: str, attempts: int, error: str) -> None:
    _sqs().send_message(QueueUrl=settings.require("reply_dead_letter_queue_url"),
                        MessageBody=json.dumps({"order_id": order_id, "attempts": attempts, "last_error": error},
                                               ensure_ascii=False))
