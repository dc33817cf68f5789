"""Intake (受理): a channel's request becomes exactly one work order."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import ValidationError

from minyi import clock
from minyi.channels import channel
from minyi.dal import orders as store
from minyi.errors import MalformedBody, NotFound, PayloadTooLarge, ValidationFailed, validation_details
from minyi.ids import order_id_for
from minyi.models.order import ChannelRequest, OrderStatusView, WorkOrder

MAX_BODY_BYTES = 256 * 1024
# If the stream that triggers dispatch loses an order, the SLA sweep dispatches it
# once this much time has passed since intake.
DISPATCH_WATCHDOG_SECONDS = 300


def parse_request(raw_body: bytes | str | None) -> ChannelRequest:
    if raw_body is None or raw_body in (b"", ""):
        raise MalformedBody("request body is empty")
    data = raw_body.encode() if isinstance(raw_body, str) else raw_body
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedBody(f"request body is not UTF-8 JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ValidationFailed("request body must be a JSON object",
                               [{"field": "(body)", "problem": "must be an object", "type": "dict_type"}])
    try:
        return ChannelRequest.model_validate(payload)
    except ValidationError as error:
        raise ValidationFailed("request does not match the channel schema", validation_details(error)) from None


def accept(channel_id: str, raw_body: bytes | str | None, now: datetime) -> tuple[WorkOrder, bool]:
    """Store the request as a work order. Returns (order, created); created is False
    when this channel already sent this external id, and the first order is returned."""
    source = channel(channel_id)
    request = parse_request(raw_body)
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
        )
        timer = clock.epoch(now) + DISPATCH_WATCHDOG_SECONDS
        if store.insert_order(order, timer, actor=f"channel:{source.id}",
                              detail={"channel": source.id, "external_id": request.external_id}):
            return order, True
        existing = store.get_order(order.order_id)
        if existing and (existing.channel, existing.external_id) == (source.id, request.external_id):
            return existing, False
        # a different request hashed to the same id: take the next id, never drop it
    raise RuntimeError(f"could not allocate an order id for {source.id}/{request.external_id}")


def public_status(order_id: str) -> OrderStatusView:
    order = store.get_order(order_id) if order_id.isalnum() and len(order_id) <= 64 else None
    if order is None:
        raise NotFound(f"no order {order_id}")
    return OrderStatusView.of(order)
