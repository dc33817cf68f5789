"""SLA sweep: every 5 minutes (EventBridge schedule), act on the timers that fired."""

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from minyi import clock, sla
from minyi.duty_list import CachedDutyList
from minyi.observability import logger, metrics, tracer
from minyi.settings import route_settings

duty_list = CachedDutyList(ttl=route_settings().duty_list_cache_seconds)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    scheduled = parse(event=event, model=EventBridgeModel)
    outcome = sla.sweep(clock.to_shanghai(scheduled.time), duty_list.get)
    for name, count in outcome.items():
        metrics.add_metric(name=f"Sweep_{name}", unit="Count", value=count)
    logger.info("sweep done", extra={"outcome": dict(outcome), "scheduled_at": scheduled.time.isoformat()})
    return dict(outcome)
