"""Reports table and report files in S3."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from minyi.core import clock
from minyi.dal.tables import TableName
from minyi.models.report import Report, ReportStatus


class ReportRecord(Model):
    class Meta:
        table_name = TableName("reports_table")

    report_id = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute()
    status = UnicodeAttribute()
    requested_at = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    ready_at = UnicodeAttribute(null=True)
    csv_key = UnicodeAttribute(null=True)
    json_key = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)


def _report_of(record: ReportRecord) -> Report:
    return Report(
        report_id=record.report_id,
        period=record.period,
        status=ReportStatus(record.status),
        requested_at=clock.parse_iso(record.requested_at),
        requested_by=record.requested_by,
        ready_at=clock.parse_iso(record.ready_at) if record.ready_at else None,
        csv_key=record.csv_key,
        json_key=record.json_key,
        error=record.error,
    )


def insert(report: Report) -> None:
    ReportRecord(
        report_id=report.report_id,
        period=report.period,
        status=report.status.value,
        requested_at=clock.iso(report.requested_at),
        requested_by=report.requested_by,
    ).save(condition=ReportRecord.report_id.does_not_exist())


def get(report_id: str) -> Report | None:
    try:
        return _report_of(ReportRecord.get(report_id, consistent_read=True))
    except ReportRecord.DoesNotExist:
        return None


def mark_ready(report_id: str, csv_key: str, json_key: str, at: datetime) -> bool:
    record = ReportRecord(report_id=report_id)
    try:
        record.update(
            actions=[ReportRecord.status.set(ReportStatus.READY.value), ReportRecord.csv_key.set(csv_key),
                     ReportRecord.json_key.set(json_key), ReportRecord.ready_at.set(clock.iso(at))],
            condition=ReportRecord.status == ReportStatus.PENDING.value,
        )
    except UpdateError:
        return False
    return True



def mark_failed(report_id: str, reason: str, at: datetime) -> bool:
    """A report that could not be built, with why; only a pending one is marked."""
    record = ReportRecord(report_id=report_id)
    try:
        record.update(
            actions=[ReportRecord.status.set(ReportStatus.FAILED.value), ReportRecord.error.set(reason),
                     ReportRecord.ready_at.set(clock.iso(at))],
            condition=ReportRecord.status == ReportStatus.PENDING.value,
        )
    except UpdateError:
        return False
    return True


@lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3  # only the report function pays for boto3's import, and only when it uses S3
    from botocore.config import Config

    # SigV4 presigned URLs: the only kind AWS China regions accept, and they carry X-Amz-Expires
    return boto3.client("s3", config=Config(signature_version="s3v4"))


class FileNotStored(Exception):
    """S3 did not store a report file: `code` is S3's error code; `transient` when trying
    again later may succeed (throttling, a 5xx), not when it never will (no such bucket)."""

    def __init__(self, code: str, transient: bool) -> None:
        super().__init__(code)
        self.code, self.transient = code, transient


_TRANSIENT = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
              "ServiceUnavailable"}


def put_file(bucket: str, key: str, body: bytes, content_type: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                         ServerSideEncryption="AES256")
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        raise FileNotStored(code, transient=status >= 500 or code in _TRANSIENT) from error
    except BotoCoreError as error:  # the connection, not the request: worth another try
        raise FileNotStored(type(error).__name__, transient=True) from error


def download_url(bucket: str, key: str, expires_in: int, filename: str) -> str:
    return _s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key,
                "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        ExpiresIn=expires_in,
    )
