"""Identifiers."""

from __future__ import annotations

import base64
import hashlib


def order_id_for(channel_id: str, external_id: str, attempt: int = 0) -> str:
    """A deterministic work-order id, so a retried or concurrent duplicate of a channel's
    request lands on the same item and the conditional write lets exactly one through.
    Base32 without 0/1/8/9: easy to read out over the phone, never mistaken for a phone number."""
    seed = f"{channel_id}\x1f{external_id}\x1f{attempt}".encode()
    return "MY" + base64.b32encode(hashlib.sha256(seed).digest()).decode()[:14]
