"""Route function: dispatches each new order written to the orders table.

Triggered by the orders table's DynamoDB stream (INSERT of an order item only, by
the event source's filter), so the order's own write is the dispatch trigger:
there is no second write that could be lost between intake and routing."""

from minyi.casework.autodispatch import dispatch_received
from minyi.core import clock, settings
from minyi.core.observability import logger, metrics, tracer
from minyi.entrypoints.streams import process_stream
from minyi.models.events import StreamRecord
from minyi.routing.cache import CachedDutyList

SETTINGS = settings.load("orders_table", "duty_list_table", "event_bus_name")
duty_list = CachedDutyList(ttl=SETTINGS.duty_list_cache_seconds)


def _dispatch(record: StreamRecord) -> None:
    order_id = record.new_string("order_id")
    order = dispatch_received(order_id, duty_list.matcher(), clock.now(), actor="route",
                              threshold=SETTINGS.auto_dispatch_threshold)
    if order is not None:
        metrics.add_metric(name=f"Orders_{order.status.value}", unit="Count", value=1)
        logger.info("order routed", extra={"order_id": order_id, "status": order.status.value,
                                           "department": order.department})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_stream(event, _dispatch)
