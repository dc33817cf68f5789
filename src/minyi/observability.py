"""The one place that configures powertools Logger, Metrics and Tracer.

Service name, namespace, log level and tracing switches come from the template's
Globals (POWERTOOLS_* environment variables), so handlers only import from here.
"""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from minyi.privacy import mask_text


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks phone and ID-card numbers in the final JSON line, whatever field they
    reached it through (message, extra keys, exception text)."""

    def serialize(self, log: dict[str, Any]) -> str:
        return mask_text(super().serialize(log))


# A request that records no business metric (a status read) is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(logger_formatter=MaskingFormatter(), utc=False)
metrics = Metrics()
tracer = Tracer()

__all__ = ["logger", "metrics", "tracer"]
