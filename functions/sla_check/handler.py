"""SLA sweep: every 5 minutes (EventBridge schedule), act on the timers that fired."""

from minyi.core import clock
from minyi.core.observability import logger, metrics, tracer
from minyi.core.settings import route_settings
from minyi.models.events import ScheduledEvent
from minyi.routing.duty_list import CachedDutyList
from minyi.sla import sweep as sla

duty_list = CachedDutyList(ttl=route_settings().duty_list_cache_seconds)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    scheduled = ScheduledEvent.model_validate(event)
    # the event's time, not the clock: a retried or replayed sweep acts as of when it was due
    outcome = sla.sweep(clock.to_shanghai(scheduled.time), duty_list.matcher)
    metrics.add_metric(name="SweepTimersFired", unit="Count", value=sum(outcome.values()))
    for name, count in outcome.items():
        metrics.add_metric(name=f"Sweep_{name}", unit="Count", value=count)
    logger.info("sweep done", extra={"outcome": dict(outcome), "scheduled_at": scheduled.time.isoformat()})
    return dict(outcome)
