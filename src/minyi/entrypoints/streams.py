"""Partial-batch processing of stream records (ReportBatchItemFailures).

Records of a stream shard are processed in order; at the first failure we stop and
report that record, and Lambda redelivers from it, so no later record overtakes an
earlier one and nothing processed is reported as failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from minyi.core.observability import logger
from minyi.models.events import StreamRecord


def process_stream(event: dict[str, Any], handle: Callable[[StreamRecord], None]) -> dict[str, list]:
    for raw in event.get("Records", []):
        sequence = raw.get("dynamodb", {}).get("SequenceNumber", "")
        try:
            record = StreamRecord.model_validate(raw)
        except ValidationError:
            # A record we cannot read will never succeed: report it, retries end in the DLQ.
            logger.exception("malformed stream record", extra={"sequence_number": sequence})
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        try:
            handle(record)
        except Exception:
            logger.exception("stream record failed", extra={"sequence_number": sequence})
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}
