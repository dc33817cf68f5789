"""Reply function (统一回复): delivers approved replies to the channel they came from.

First try: the orders table's stream, on the transition of a reply into `approved`.
Later tries: the retry queue, each message delayed by the backoff of its attempt."""

from minyi.core import clock, settings
from minyi.core.observability import logger, metrics, tracer
from minyi.entrypoints.streams import process_stream
from minyi.intake import replies
from minyi.models.events import ReplyDelivery, StreamRecord

SETTINGS = settings.load("orders_table", "channel_config_path", "reply_retry_queue_url",
                         "reply_dead_letter_queue_url")


def _first_try(record: StreamRecord) -> None:
    outcome = replies.deliver(record.new_string("order_id"), 1, clock.now())
    metrics.add_metric(name=f"Reply_{outcome}", unit="Count", value=1)


def _retries(event: dict) -> dict:
    failures = []
    for message in event["Records"]:
        try:
            delivery = ReplyDelivery.model_validate_json(message["body"])
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
