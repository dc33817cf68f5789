"""Hotspot warnings (热点预警): daily at 00:30 Asia/Shanghai (EventBridge schedule), detect the day
just ended, store its hotspots and announce the new ones on the bus."""

from minyi.core import clock, settings
from minyi.core.observability import logger, metrics, tracer
from minyi.models.events import ScheduledEvent
from minyi.reports import hotspot_watch
from minyi.routing.cache import CachedDutyList
from minyi.routing.liaisons import contact_of

SETTINGS = settings.load("orders_table", "duty_list_table", "kpi_table", "event_bus_name")
duty_list = CachedDutyList(ttl=SETTINGS.duty_list_cache_seconds)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    scheduled = ScheduledEvent.model_validate(event)
    # the event's time, not the clock: a retried or replayed run detects the day it was due for
    day = hotspot_watch.yesterday(scheduled.time)
    done = hotspot_watch.detect_day(day, clock.now(), duty_list.get(), contact_of)
    if done.unannounced:
        # the hotspots are stored; failing lets Lambda retry the run, which announces only these
        raise RuntimeError(f"{done.unannounced} hotspot events were not put on the bus")
    return {"day": done.day.isoformat(), "opened": len(done.opened), "extended": len(done.extended),
            "announced": done.announced}
