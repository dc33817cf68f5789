"""Intake (受理): a channel's request becomes exactly one work order.

Checks run cheapest-first and all before any write: unknown channel (404), body too
large (413), signature (401), JSON (400), the channel's schema (400). Only a request
that passes them all is stored, and only once stored is it acknowledged."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from minyi.channels import signatures
from minyi.channels.payloads import to_request
from minyi.channels.registry import Channel, channel
from minyi.core import clock
from minyi.core.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from minyi.core.ids import legacy_order_id, order_id_for, well_formed
from minyi.core.jsonbody import load_json, media_type
from minyi.dal import channel_config, secrets
from minyi.dal import orders as store
from minyi.models import lifecycle
from minyi.models.channel_request import ChannelRequest
from minyi.models.lifecycle import Command
from minyi.models.order import WorkOrder
from minyi.models.public import OrderStatusView

MAX_BODY_BYTES = 256 * 1024
# If the stream that triggers dispatch loses an order, the SLA sweep dispatches it
# once this much time has passed since intake.
DISPATCH_WATCHDOG_SECONDS = 300
ID_ATTEMPTS = 3  # a different request hashing to a taken id takes the next one


def _body_bytes(raw_body: bytes | str | None) -> bytes:
    if raw_body is None:
        return b""
    return raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body


def check_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is over {MAX_BODY_BYTES} bytes")


def accept(channel_id: str, raw_body: bytes | str | None, headers: Mapping[str, str],
           now: datetime) -> tuple[WorkOrder, bool]:
    """Verify and store a channel's webhook. Returns (order, created); created is False
    when this channel already sent this external id, and the first order is returned."""
    source = channel(channel_id)
    body, payload = read_body(source, raw_body, headers, now)
    request = to_request(source, payload, now)
    return store_request(source, request, body.decode("utf-8"), now)


def find_order(source: Channel, external_id: str) -> WorkOrder | None:
    """The order a channel's request became, by the channel's own id of it: every id it
    may have been stored under (keyed by each attempt, or the unkeyed scheme of orders
    received before keyed ids) in one read. Intake answers a duplicate with it; a
    channel's evaluation finds the order it rates with it."""
    key = secrets.order_id_key()
    ids = [candidate for attempt in range(ID_ATTEMPTS)
           for candidate in (order_id_for(key, source.id, external_id, attempt),
                             legacy_order_id(source.id, external_id, attempt))]
    for existing, _ in store.get_orders(ids).values():
        if (existing.channel, existing.external_id) == (source.id, external_id):
            return existing
    return None


def read_body(source: Channel, raw_body: bytes | str | None, headers: Mapping[str, str],
              now: datetime) -> tuple[bytes, Any]:
    """A channel's signed JSON body, checked cheapest-first: size (413), signature (401),
    media type (415), JSON (400)."""
    body = _body_bytes(raw_body)
    check_size(body)
    config = channel_config.config_for(source.id)
    signatures.verify(config.secret if config else None, headers, body, now)
    if media_type(headers) not in ("application/json", "text/json"):
        raise UnsupportedMediaType("send the request as application/json")
    return body, load_json(body)


def store_request(source: Channel, request: ChannelRequest, raw: str, now: datetime) -> tuple[WorkOrder, bool]:
    key = secrets.order_id_key()
    for attempt in range(ID_ATTEMPTS):
        legacy = legacy_order_id(source.id, request.external_id, attempt)
        order = WorkOrder(
            order_id=order_id_for(key, source.id, request.external_id, attempt),
            channel=source.id,
            external_id=request.external_id,
            title=request.title,
            content=request.content,
            citizen=request.citizen,
            address=request.address,
            received_at=request.received_at or now,
            urgent=request.urgent,
            requested_matter=request.requested_matter,
        )
        timer = clock.epoch(now) + DISPATCH_WATCHDOG_SECONDS
        if store.insert_order(order, timer, actor=f"channel:{source.id}", raw_payload=raw, absent=legacy,
                              detail={"channel": source.id, "external_id": request.external_id},
                              action=lifecycle.audit_action(None, Command.RECEIVE, order.status)):
            return order, True
        # stored before (under a keyed id or the unkeyed one), else another request holds this id
        existing = find_order(source, request.external_id)
        if existing is not None:
            return existing, False
    raise RuntimeError(f"could not allocate an order id for {source.id}/{request.external_id}")


def acknowledgement(order: WorkOrder) -> dict:
    """The answer to a stored request. Built only from what never changes, so every
    duplicate of a request gets the same answer as the first."""
    return {"order_id": order.order_id, "channel": order.channel, "external_id": order.external_id,
            "received_at": clock.iso(order.received_at)}


def public_status(order_id: str) -> OrderStatusView:
    order = store.get_order(order_id) if well_formed(order_id) else None
    if order is None:
        raise NotFound(f"no order {order_id}")
    return OrderStatusView.of(order)
