"""Partial-batch processing of stream records (ReportBatchItemFailures).

Every record of a batch is tried, so one record that fails (a bad order, a bug on one
path) never holds back the records behind it: they are handled now. The failed ones
are reported; Lambda retries from the lowest of them, which redelivers some records
already handled; every handler here is idempotent, so that changes nothing. After its
retries the failed record goes to the on-failure queue, and the sweep's watchdog
catches any order still waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from minyi.core.observability import logger, metrics
from minyi.models.events import KinesisRecord, StreamRecord


def process_stream(event: dict[str, Any], handle: Callable[[StreamRecord], None]) -> dict[str, list]:
    failures = []
    for raw in event.get("Records", []):
        sequence = (raw.get("dynamodb") or {}).get("SequenceNumber", "")
        try:
            record = StreamRecord.model_validate(raw)
        except ValidationError:
            logger.exception("malformed stream record", extra={"sequence_number": sequence})
            failures.append({"itemIdentifier": sequence})
            continue
        try:
            handle(record)
        except Exception:
            logger.exception("stream record failed", extra={"sequence_number": sequence})
            failures.append({"itemIdentifier": sequence})
    if failures:
        metrics.add_metric(name="StreamRecordsFailed", unit="Count", value=len(failures))
    return {"batchItemFailures": failures}


def process_kinesis(event: dict[str, Any], handle: Callable[[KinesisRecord], None]) -> dict[str, list]:
    """The same for a Kinesis stream's records (their identifier is the Kinesis sequence number)."""
    failures = []
    for raw in event.get("Records", []):
        sequence = str((raw.get("kinesis") or {}).get("sequenceNumber", ""))
        try:
            record = KinesisRecord.model_validate(raw)
            handle(record)
        except Exception:
            logger.exception("kinesis record failed", extra={"sequence_number": sequence})
            failures.append({"itemIdentifier": sequence})
    if failures:
        metrics.add_metric(name="StreamRecordsFailed", unit="Count", value=len(failures))
    return {"batchItemFailures": failures}
