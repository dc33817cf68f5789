"""Attachment files (附件) in S3: presigned upload and download links, and what is stored.

The presigned PUT signs the declared media type, so an upload of another type is
refused by S3; the size is checked when a reply names the attachment (`stored`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from minyi.core import settings


@lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3  # only the staff API pays for it, and only when a file is attached or listed
    from botocore.config import Config

    return boto3.client("s3", config=Config(signature_version="s3v4"))


def _bucket() -> str:
    return settings.require("attachments_bucket")


def upload_url(key: str, content_type: str, expires_in: int) -> str:
    return _s3().generate_presigned_url(
        "put_object", Params={"Bucket": _bucket(), "Key": key, "ContentType": content_type},
        ExpiresIn=expires_in)


def download_url(key: str, filename: str, expires_in: int) -> str:
    return _s3().generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": key,
                              "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        ExpiresIn=expires_in)


def stored(key: str) -> tuple[int, str] | None:
    """(size, media type) of the stored object, or None when nothing is stored under the key."""
    from botocore.exceptions import ClientError

    try:
        head = _s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return int(head["ContentLength"]), str(head.get("ContentType") or "").split(";")[0].strip()
