"""Report builder: the reports table's stream builds each requested report; the schedules
(01:00 Asia/Shanghai: daily, Monday weekly, the 1st monthly) build the county's report of the
period just ended. A schedule's event is its Input, {"period_kind": "day" | "week" | "month"}
(EventBridge delivers exactly that JSON; the local stack adds "time" for its virtual clock)."""

from minyi.core import clock, settings
from minyi.core.observability import logger, metrics, tracer
from minyi.entrypoints.streams import process_stream
from minyi.models.events import StreamRecord
from minyi.reports import build as reports
from minyi.reports import schedule

SETTINGS = settings.load("orders_table", "reports_table", "reports_bucket", "kpi_table")


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
    report = schedule.run(event, SETTINGS.reports_bucket)
    metrics.add_metric(name=f"Reports_{report.status.value}", unit="Count", value=1)
    logger.info("scheduled report", extra={"report_id": report.report_id, "period": report.period,
                                           "kind": report.kind.value, "status": report.status.value})
    return {"report_id": report.report_id, "period": report.period, "kind": report.kind.value,
            "status": report.status.value}
