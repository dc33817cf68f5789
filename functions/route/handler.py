"""Route function: dispatches each new order written to the orders table.

Triggered by the orders table's DynamoDB stream (INSERT of an order item only, by
the event source's filter), so the order's own write is the dispatch trigger:
there is no second write that could be lost between intake and routing."""

from minyi.core import clock
from minyi.core.observability import logger, metrics, tracer
from minyi.core.settings import route_settings
from minyi.entrypoints.streams import process_stream
from minyi.models.events import StreamRecord
from minyi.routing.dispatch import dispatch_order
from minyi.routing.duty_list import CachedDutyList

duty_list = CachedDutyList(ttl=route_settings().duty_list_cache_seconds)


def _dispatch(record: StreamRecord) -> None:
    order_id = record.new_string("order_id")
    order = dispatch_order(order_id, duty_list.matcher(), clock.now(), actor="route")
    if order is not None:
        metrics.add_metric(name=f"Orders_{order.status.value}", unit="Count", value=1)
        logger.info("order routed", extra={"order_id": order_id, "status": order.status.value,
                                           "department": order.department})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_stream(event, _dispatch)
