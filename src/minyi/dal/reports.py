"""Reports table and report files in S3.

Listing (`GET /reports`) is one Query of the table's one index, `listing`: partition `listing`
= "county" for the county's reports or "department#<name>" for a department's own, sort key
`listed_at` = "<requested_at ISO to the µs, +08:00>#<report_id>" (every time is in Asia/Shanghai,
so the text sorts as the instants do; the id breaks ties), read newest first. A department's
list is its own partition, so it never reads another's report, not even to filter it out; the
centre reads the county's partition, or a department's with `?department=`. Why not also an
index on one constant partition for "every report, newest first": CloudFormation adds one
global secondary index per table update (a deployed ReportsTable would refuse two at once), and
a constant partition is one more hot key for little: the centre asks about the county or about
one department. Add it in a later deployment if an interleaved list is wanted. Items written
before this index (no `listing`) are not listed; they are still read by id. Never a Scan.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from pynamodb.attributes import MapAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from minyi.core import clock
from minyi.core.errors import ValidationFailed
from minyi.dal.tables import TableName
from minyi.models.listing import Page
from minyi.models.report import Report, ReportKind, ReportStatus

COUNTY = "county"


def listing_of(scope: str | None) -> str:
    """The `listing` partition of a scope's reports (a department named "county" stays its own)."""
    return COUNTY if scope is None else f"department#{scope}"


class ListingIndex(GlobalSecondaryIndex["ReportRecord"]):
    class Meta:
        index_name = "listing"
        projection = AllProjection()  # a report's item is a few hundred bytes

    listing = UnicodeAttribute(hash_key=True)
    listed_at = UnicodeAttribute(range_key=True)


class ReportRecord(Model):
    class Meta:
        table_name = TableName("reports_table")

    report_id = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute()
    status = UnicodeAttribute()
    requested_at = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    kind = UnicodeAttribute(null=True)  # items stored before kinds were kept: requested
    scope = UnicodeAttribute(null=True)  # a department's own report; absent: the county's
    listing = UnicodeAttribute(null=True)
    listed_at = UnicodeAttribute(null=True)
    ready_at = UnicodeAttribute(null=True)
    files = MapAttribute[str, str](null=True)  # format -> S3 key
    csv_key = UnicodeAttribute(null=True)  # items stored before `files`: read into files
    json_key = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)

    by_listing = ListingIndex()


def _report_of(record: ReportRecord) -> Report:
    files = {str(k): str(v) for k, v in (record.files.as_dict() if record.files else {}).items()}
    for fmt, key in (("csv", record.csv_key), ("json", record.json_key)):
        if key and fmt not in files:
            files[fmt] = key
    return Report(
        report_id=record.report_id,
        period=record.period,
        status=ReportStatus(record.status),
        requested_at=clock.parse_iso(record.requested_at),
        requested_by=record.requested_by,
        kind=ReportKind(record.kind) if record.kind else ReportKind.REQUESTED,
        scope=record.scope,
        ready_at=clock.parse_iso(record.ready_at) if record.ready_at else None,
        files=files,
        error=record.error,
    )


def insert(report: Report) -> bool:
    """Put a new report's item; False (and nothing written) if one with its id exists: a
    scheduled report's id is its kind and period, so a schedule fired again adds nothing."""
    requested_at = clock.iso(report.requested_at)
    try:
        ReportRecord(
            report_id=report.report_id,
            period=report.period,
            status=report.status.value,
            requested_at=requested_at,
            requested_by=report.requested_by,
            kind=report.kind.value,
            scope=report.scope,
            listing=listing_of(report.scope),
            # microseconds: reports asked within one second still list in the order they were asked
            listed_at=f"{clock.to_shanghai(report.requested_at).isoformat(timespec='microseconds')}#{report.report_id}",
        ).save(condition=ReportRecord.report_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get(report_id: str) -> Report | None:
    try:
        return _report_of(ReportRecord.get(report_id, consistent_read=True))
    except ReportRecord.DoesNotExist:
        return None


def mark_ready(report_id: str, files: dict[str, str], now: datetime) -> bool:
    """A pending report's files (format -> S3 key) are stored: it is ready. False if it was not
    pending (built already, or failed)."""
    record = ReportRecord(report_id=report_id)
    try:
        record.update(
            actions=[ReportRecord.status.set(ReportStatus.READY.value), ReportRecord.files.set(dict(files)),
                     ReportRecord.ready_at.set(clock.iso(now))],
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


def _encode(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str | None, listing: str) -> dict[str, Any] | None:
    """The index key a page ended at, from the token that page gave; refused (400) unless it is
    one this list wrote for the same partition."""
    if token is None:
        return None
    bad = ValidationFailed("next is not a token this list gave", [{"field": "next", "problem": "invalid"}])
    if len(token) > 1024:
        raise bad
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise bad from None
    if not isinstance(key, dict) or set(key) != {"report_id", "listing", "listed_at"}:
        raise bad
    for value in key.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
                and 0 < len(value["S"]) <= 256):
            raise bad
    if key["listing"]["S"] != listing:
        raise bad
    return key


def list_reports(scope: str | None, limit: int, token: str | None = None) -> Page[Report]:
    """A scope's reports (None: the county's), newest first, a page at a time: one Query."""
    listing = listing_of(scope)
    start = _decode(token, listing)
    # one more than the page, so a page that ends the list says so (no token to an empty page)
    records = list(ReportRecord.by_listing.query(listing, scan_index_forward=False, limit=limit + 1,
                                                 last_evaluated_key=start))
    page, more = records[:limit], len(records) > limit
    token = _encode({"report_id": {"S": page[-1].report_id}, "listing": {"S": listing},
                     "listed_at": {"S": page[-1].listed_at}}) if more else None
    return Page[Report](items=[_report_of(record) for record in page], next_cursor=token)


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
