"""Assess function (考核计数): counts each order change's assessment facts into the KPI counters.

Triggered by the orders table's changes through Kinesis Data Streams for DynamoDB (the
table's DynamoDB stream already has its two readers). A change may come twice or after a
newer one: `counting.count` diffs the order's facts against its ledger, so either counts once."""

from minyi.core import settings
from minyi.core.observability import logger, metrics, tracer
from minyi.dal.orders import order_from_image
from minyi.entrypoints.streams import process_kinesis
from minyi.models.events import KinesisRecord
from minyi.reports import counting

SETTINGS = settings.load("kpi_table", "duty_list_table")


def _count(record: KinesisRecord) -> None:
    try:
        order = order_from_image(record.change().new_image or {})
    # not base64, not JSON, not an order image: it never will be one, so retrying only delays the rest
    except (ValueError, KeyError, TypeError):
        logger.exception("malformed change record skipped", extra={"sequence_number": record.sequence_number})
        metrics.add_metric(name="MalformedRecords", unit="Count", value=1)
        return
    if order is None:  # not an order item (the filter lets only orders through; a test may not)
        return
    written = counting.count(order)
    metrics.add_metric(name="CountersWritten", unit="Count", value=written)
    if written:
        logger.debug("order counted", extra={"order_id": order.order_id, "version": order.version, "items": written})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_kinesis(event, _count)
