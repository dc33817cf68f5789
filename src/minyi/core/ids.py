"""Identifiers."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _readable(digest: bytes) -> str:
    # Base32 has no 0/1/8/9: easy to read out over the phone, never mistaken for a phone number
    return "MY" + base64.b32encode(digest).decode()[:14]


def order_id_for(key: bytes, channel_id: str, external_id: str, attempt: int = 0) -> str:
    """A work-order id derived from (channel, external id) with a secret key: the same
    request always lands on the same item, so the conditional write lets exactly one
    through, yet nobody who knows a channel's id pattern can compute an order's id."""
    if not key:
        raise ValueError("order ids need a non-empty key")
    seed = f"{channel_id}\x1f{external_id}\x1f{attempt}".encode()
    return _readable(hmac.new(key, seed, hashlib.sha256).digest())


def legacy_order_id(channel_id: str, external_id: str, attempt: int = 0) -> str:
    """The unkeyed id orders were given before keyed ids; stored orders keep it, and a
    channel's retry of such a request must still find it."""
    seed = f"{channel_id}\x1f{external_id}\x1f{attempt}".encode()
    return _readable(hashlib.sha256(seed).digest())


def well_formed(order_id: str) -> bool:
    """What any order id looks like; anything else is not looked up at all."""
    return isinstance(order_id, str) and order_id.isascii() and order_id.isalnum() and 4 <= len(order_id) <= 64
