"""The one place that configures powertools Logger, Metrics and Tracer.

Service name, namespace, log level and tracing switches come from the template's
Globals (POWERTOOLS_* environment variables), so handlers only import from here.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from minyi.core.privacy import mask_text


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks phone and ID-card numbers in the final JSON line, whatever field they
    reached it through (message, extra keys, exception text)."""

    def serialize(self, log: dict[str, Any]) -> str:
        return mask_text(super().serialize(log))


# A request that records no business metric (a status read) is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

class _Untraced(BaseSegment):
    def close(self, end_time=None): ...
    def add_subsegment(self, subsegment): ...
    def remove_subsegment(self, subsegment): ...
    def put_annotation(self, key, value): ...
    def put_metadata(self, key, value, namespace="default"): ...
    def add_exception(self, exception, stack, remote=False): ...


class _NoTracing(BaseProvider):
    """Tracer provider for when SDK tracing is off. Without it powertools imports the
    X-Ray SDK anyway, and building its recorder costs ~300 ms of every cold start.
    Lambda's own `Tracing: Active` still records each invocation without the SDK."""

    @contextlib.contextmanager
    def in_subsegment(self, name=None, **kwargs):
        yield _Untraced()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name=None, **kwargs):
        yield _Untraced()

    def put_annotation(self, key, value): ...
    def put_metadata(self, key, value, namespace="default"): ...
    def patch(self, modules): ...
    def patch_all(self): ...


def _sdk_tracing() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() not in ("1", "true")


logger = Logger(logger_formatter=MaskingFormatter(), utc=False)
metrics = Metrics()
tracer = Tracer() if _sdk_tracing() else Tracer(provider=_NoTracing(), disabled=True, auto_patch=False)



def count_by(name: str, **dimensions: str) -> None:
    """One count of `name` with its own dimensions (an escalation per department and step),
    emitted at once: the function's shared metrics keep their one dimension set."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


__all__ = ["count_by", "logger", "metrics", "tracer"]
