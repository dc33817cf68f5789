"""SQS queues of reply and status delivery: retries with backoff, and the dead-letter queue."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from minyi.core import settings
from minyi.models.events import ReplyDelivery
from minyi.models.public import StatusNotice


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def schedule_reply_retry(order_id: str, attempt: int, delay_seconds: int) -> None:
    _sqs().send_message(QueueUrl=settings.require("reply_retry_queue_url"), DelaySeconds=delay_seconds,
                        MessageBody=json.dumps({"order_id": order_id, "attempt": attempt}))


def dead_letter_reply(order_id: str, attempts: int, error: str) -> None:
    _sqs().send_message(QueueUrl=settings.require("reply_dead_letter_queue_url"),
                        MessageBody=json.dumps({"kind": "reply", "order_id": order_id, "attempts": attempts,
                                                "last_error": error}, ensure_ascii=False))


def schedule_status_retry(notice: StatusNotice, attempt: int, delay_seconds: int) -> None:
    message = ReplyDelivery(order_id=notice.order_id, attempt=attempt, kind="status", version=notice.version,
                            notice=notice)
    _sqs().send_message(QueueUrl=settings.require("reply_retry_queue_url"), DelaySeconds=delay_seconds,
                        MessageBody=message.model_dump_json(exclude_none=True))


def dead_letter_status(notice: StatusNotice, attempts: int, error: str) -> None:
    """The notice as it was, so an operator can see what the channel missed (and replay it)."""
    _sqs().send_message(QueueUrl=settings.require("reply_dead_letter_queue_url"),
                        MessageBody=json.dumps({"kind": "status", "order_id": notice.order_id,
                                                "version": notice.version, "attempts": attempts,
                                                "last_error": error, "notice": notice.model_dump(mode="json")},
                                               ensure_ascii=False))
