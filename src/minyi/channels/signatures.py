"""Channel authentication: every webhook is signed with the channel's own secret.

    X-Minyi-Timestamp: <unix seconds>
    X-Minyi-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

The timestamp is inside the signature and must be within ±300 s of our clock, so a
captured request cannot be replayed later; within the window a replay is a
duplicate that idempotency answers without writing anything.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from minyi.core import clock
from minyi.core.errors import Unauthorized

TIMESTAMP_HEADER = "x-minyi-timestamp"
SIGNATURE_HEADER = "x-minyi-signature"
WINDOW_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    timestamp = clock.epoch(now or clock.now())
    return {"X-Minyi-Timestamp": str(timestamp), "X-Minyi-Signature": sign(secret, timestamp, body)}


def verify(secret: str | None, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER, "").strip()
    signature = lowered.get(SIGNATURE_HEADER, "").strip()
    if not timestamp or not signature:
        raise Unauthorized("missing X-Minyi-Timestamp or X-Minyi-Signature header")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("X-Minyi-Timestamp is not unix seconds")
    if secret is None:
        # a registered channel whose secret is not provisioned cannot be verified
        raise Unauthorized("channel has no credentials configured")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode("utf-8", "replace")):
        raise Unauthorized("signature does not match")
    if abs(clock.epoch(now) - int(timestamp)) > WINDOW_SECONDS:
        raise Unauthorized(f"timestamp outside ±{WINDOW_SECONDS} s (replayed or clock skew)")
