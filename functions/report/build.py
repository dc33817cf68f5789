"""Report builder: the reports table's stream builds each requested report; the daily
schedule (01:00 Asia/Shanghai) builds yesterday's."""

from minyi.core import clock, settings
from minyi.core.observability import logger, metrics, tracer
from minyi.entrypoints.streams import process_stream
from minyi.models.events import ScheduledEvent, StreamRecord
from minyi.reports import build as reports

SETTINGS = settings.load("orders_table", "reports_table", "reports_bucket")


def _build(record: StreamRecord) -> None:
    report = reports.build(record.new_string("report_id"), SETTINGS.reports_bucket, clock.now())
    metrics.add_metric(name=f"Reports_{report.status.value}", unit="Count", value=1)
    logger.info("report built", extra={"report_id": report.report_id, "period": report.period,
                                       "status": report.status.value})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    if "Records" in event:
        return process_stream(event, _build)
    scheduled = ScheduledEvent.model_validate(event)
    report = reports.build_scheduled(clock.to_shanghai(scheduled.time), SETTINGS.reports_bucket)
    metrics.add_metric(name=f"Reports_{report.status.value}", unit="Count", value=1)
    return {"report_id": report.report_id, "period": report.period, "status": report.status.value}
