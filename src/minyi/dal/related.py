"""Candidates for related requests (并单) from the `related_phone` and `related_address` indexes."""

from __future__ import annotations

from datetime import datetime

from minyi.core import clock
from minyi.dal.order_records import OrderRecord


def related_candidates(phone_key: str | None, address_key: str | None, since: datetime) -> list[str]:
    """Ids of orders under either key received since `since`, oldest first."""
    found: dict[str, str] = {}
    low = clock.iso(since)
    if phone_key:
        for item in OrderRecord.related_phone.query(phone_key, OrderRecord.received_at >= low):
            found[item.order_id] = item.received_at
    if address_key:
        for item in OrderRecord.related_address.query(address_key, OrderRecord.received_at >= low):
            found[item.order_id] = item.received_at
    return sorted(found, key=found.__getitem__)
