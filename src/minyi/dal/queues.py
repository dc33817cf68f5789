"""SQS queues of reply delivery: retries with backoff, and the dead-letter queue."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def schedule_reply_retry(order_id: str, attempt: int, delay_seconds: int) -> None:
    _sqs().send_message(QueueUrl=os.environ["REPLY_RETRY_QUEUE_URL"], DelaySeconds=delay_seconds,
                        MessageBody=json.dumps({"order_id": order_id, "attempt": attempt}))


def dead_letter_reply(order_id: str, attempts: int, error: str) -> None:
    _sqs().send_message(QueueUrl=os.environ["REPLY_DEAD_LETTER_QUEUE_URL"],
                        MessageBody=json.dumps({"order_id": order_id, "attempts": attempts, "last_error": error},
                                               ensure_ascii=False))
