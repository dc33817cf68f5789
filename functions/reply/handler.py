"""Reply function (统一回复, 状态推送): delivers approved replies and status notices to the
channel the order came from.

First try: the orders table's stream (every modification of an order item), on the
transition of a reply into `approved`, and on each public change of the order (a new
public stage, a reopen). Later tries: the retry queue, each message delayed by the
backoff of its attempt."""

from minyi.core import clock, settings
from minyi.core.observability import logger, metrics, tracer
from minyi.entrypoints.streams import process_stream
from minyi.intake import replies, status_updates
from minyi.models.events import ReplyDelivery, StreamRecord

SETTINGS = settings.load("orders_table", "channel_config_path", "reply_retry_queue_url",
                         "reply_dead_letter_queue_url")


def _first_try(record: StreamRecord) -> None:
    if replies.approved_now(record):
        outcome = replies.deliver(record.new_string("order_id"), 1, clock.now())
        metrics.add_metric(name=f"Reply_{outcome}", unit="Count", value=1)
    if status_updates.public_change(record):
        notice = status_updates.notice_of(record)
        if notice is not None:
            outcome = status_updates.deliver(notice, 1, clock.now())
            metrics.add_metric(name=f"Status_{outcome}", unit="Count", value=1)


def _retries(event: dict) -> dict:
    failures = []
    for message in event["Records"]:
        try:
            delivery = ReplyDelivery.model_validate_json(message["body"])
            if delivery.kind == "status":
                outcome = status_updates.deliver(delivery.notice, delivery.attempt, clock.now())
                metrics.add_metric(name=f"Status_{outcome}", unit="Count", value=1)
            else:
                outcome = replies.deliver(delivery.order_id, delivery.attempt, clock.now())
                metrics.add_metric(name=f"Reply_{outcome}", unit="Count", value=1)
        except Exception:
            logger.exception("reply retry failed", extra={"message_id": message.get("messageId")})
            failures.append({"itemIdentifier": message["messageId"]})
    return {"batchItemFailures": failures}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:sqs":
        return _retries(event)
    return process_stream(event, _first_try)
