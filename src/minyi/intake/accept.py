"""Intake (受理): a channel's request becomes exactly one work order.

Checks run cheapest-first and all before any write: unknown channel (404), body too
large (413), signature (401), JSON (400), the channel's schema (400). Only a request
that passes them all is stored, and only once stored is it acknowledged."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from minyi.channels import signatures as auth
from minyi.channels.registry import Channel, channel, parse_json, to_request
from minyi.core import clock
from minyi.core.errors import MalformedBody, NotFound, PayloadTooLarge, UnsupportedMediaType
from minyi.core.ids import order_id_for
from minyi.dal import channel_config
from minyi.dal import orders as store
from minyi.models.order import ChannelRequest, OrderStatusView, WorkOrder

MAX_BODY_BYTES = 256 * 1024
# If the stream that triggers dispatch loses an order, the SLA sweep dispatches it
# once this much time has passed since intake.
DISPATCH_WATCHDOG_SECONDS = 300


def _body_bytes(raw_body: bytes | str | None) -> bytes:
    if raw_body is None:
        return b""
    return raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body


def check_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is over {MAX_BODY_BYTES} bytes")


def check_json_content_type(headers: Mapping[str, str]) -> None:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type.split(";")[0].strip().lower() not in ("application/json", "text/json"):
        raise UnsupportedMediaType("send the request as application/json")


def accept(channel_id: str, raw_body: bytes | str | None, headers: Mapping[str, str],
           now: datetime) -> tuple[WorkOrder, bool]:
    """Verify and store a channel's webhook. Returns (order, created); created is False
    when this channel already sent this external id, and the first order is returned."""
    source = channel(channel_id)
    body = _body_bytes(raw_body)
    check_size(body)
    config = channel_config.config_for(source.id)
    auth.verify(config.secret if config else None, headers, body, now)
    check_json_content_type(headers)
    if not body.strip():
        raise MalformedBody("request body is empty")
    request = to_request(source, parse_json(body))
    return store_request(source, request, body.decode("utf-8"), now)


def store_request(source: Channel, request: ChannelRequest, raw: str, now: datetime) -> tuple[WorkOrder, bool]:
    for attempt in range(3):
        order = WorkOrder(
            order_id=order_id_for(source.id, request.external_id, attempt),
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
        if store.insert_order(order, timer, actor=f"channel:{source.id}", raw_payload=raw,
                              detail={"channel": source.id, "external_id": request.external_id}):
            return order, True
        existing = store.get_order(order.order_id)
        if existing and (existing.channel, existing.external_id) == (source.id, request.external_id):
            return existing, False
        # a different request hashed to the same id: take the next id, never drop it
    raise RuntimeError(f"could not allocate an order id for {source.id}/{request.external_id}")


def acknowledgement(order: WorkOrder) -> dict:
    """The answer to a stored request. Built only from what never changes, so every
    duplicate of a request gets the same answer as the first."""
    return {"order_id": order.order_id, "channel": order.channel, "external_id": order.external_id,
            "received_at": clock.iso(order.received_at)}


def public_status(order_id: str) -> OrderStatusView:
    order = store.get_order(order_id) if order_id.isalnum() and len(order_id) <= 64 else None
    if order is None:
        raise NotFound(f"no order {order_id}")
    return OrderStatusView.of(order)
