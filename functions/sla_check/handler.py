"""SLA sweep: every 5 minutes (EventBridge schedule), act on the timers that fired."""

from minyi.core import clock, settings
from minyi.core.observability import logger, metrics, tracer
from minyi.models.events import ScheduledEvent
from minyi.routing.cache import CachedDutyList
from minyi.sla import sweep

SETTINGS = settings.load("orders_table", "duty_list_table", "event_bus_name")
duty_list = CachedDutyList(ttl=SETTINGS.duty_list_cache_seconds)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    scheduled = ScheduledEvent.model_validate(event)
    # the event's time, not the clock: a retried or replayed sweep acts as of when it was due
    outcome = sweep.sweep(clock.to_shanghai(scheduled.time), duty_list.matcher, SETTINGS.auto_dispatch_threshold)
    metrics.add_metric(name="SweepTimersFired", unit="Count", value=sum(outcome.values()))
    for name, count in outcome.items():
        metrics.add_metric(name=f"Sweep_{name}", unit="Count", value=count)
    logger.info("sweep done", extra={"outcome": dict(outcome), "scheduled_at": scheduled.time.isoformat()})
    return dict(outcome)
