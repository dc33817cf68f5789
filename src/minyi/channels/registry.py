"""The channel registry (渠道登记) and each channel's payload mapping.

A data file (`minyi/data/channels.json`), not code: a new channel is a registry
entry plus a sample payload. Each entry says who manages the channel, how it is
aggregated (its 汇聚方式), who reviews a reply before it goes back, how callers
authenticate, and where each field of a work order sits in the channel's payload.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from minyi.core.clock import SHANGHAI
from minyi.core.errors import NotFound, ValidationFailed, validation_details
from minyi.models.order import ChannelRequest

# Order fields a mapping may fill; dotted names are nested in ChannelRequest.
ORDER_FIELDS = ("external_id", "title", "content", "citizen.name", "citizen.phone", "citizen.id_number",
                "address", "received_at", "urgent")
TITLE_FROM_CONTENT = 30


class ChannelAuth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["hmac-sha256", "api-key"]


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{1,31}$")
    name: str
    managing_department: str
    aggregation_mode: Literal["native", "interconnect", "forwarded", "merged"]
    # who approves a reply before it is sent back; None: the original platform reviews it
    reply_reviewer: str | None
    auth: ChannelAuth
    # order field -> dotted path in the channel's own payload; title may be absent (from content)
    fields: dict[str, str]
    urgent_values: tuple[str, ...] = ()
    description: str = ""

    def model_post_init(self, _context: Any) -> None:
        unknown = set(self.fields) - set(ORDER_FIELDS)
        if unknown:
            raise ValueError(f"channel {self.id}: unknown order fields {sorted(unknown)}")
        missing = {"external_id", "content", "citizen.name", "citizen.phone"} - set(self.fields)
        if missing:
            raise ValueError(f"channel {self.id}: mapping lacks {sorted(missing)}")


class _Registry(BaseModel):
    channels: tuple[Channel, ...]


@lru_cache(maxsize=1)
def registry() -> dict[str, Channel]:
    text = resources.files("minyi.data").joinpath("channels.json").read_text(encoding="utf-8")
    return {channel.id: channel for channel in _Registry.model_validate_json(text).channels}


def channel(channel_id: str) -> Channel:
    found = registry().get(channel_id) if isinstance(channel_id, str) else None
    if found is None:
        raise NotFound(f"unknown channel: {channel_id}")
    return found


_MISSING = object()
_COMPACT_TIME = re.compile(r"^\d{14}$")


def _lookup(payload: Any, path: str) -> Any:
    node = payload
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _time(value: Any) -> Any:
    """Channel systems send times as ISO 8601, "2026-11-26 10:30:00", "2026/11/26 10:30:00",
    "20261126103000" or unix seconds; all but the last mean Asia/Shanghai wall-clock time."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, SHANGHAI)
    if isinstance(value, str):
        text = value.strip()
        if _COMPACT_TIME.match(text):
            return f"{text[:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:]}"
        return text.replace("/", "-")
    return value


def to_request(source: Channel, payload: Any) -> ChannelRequest:
    """The channel's payload as a ChannelRequest; errors name the channel's own field paths."""
    if not isinstance(payload, dict):
        raise ValidationFailed("request body must be a JSON object",
                               [{"field": "(body)", "problem": "must be an object", "type": "dict_type"}])
    data: dict[str, Any] = {"citizen": {}}
    for field, path in source.fields.items():
        value = _lookup(payload, path)
        if value is _MISSING or value is None:
            continue
        if field == "received_at":
            value = _time(value)
        elif field == "urgent" and source.urgent_values:
            value = isinstance(value, str) and value in source.urgent_values
        elif isinstance(value, int | float) and not isinstance(value, bool) and field != "urgent":
            value = str(value)  # ids and phone numbers sent as numbers
        if field.startswith("citizen."):
            data["citizen"][field.split(".", 1)[1]] = value
        else:
            data[field] = value
    if "title" not in source.fields and isinstance(data.get("content"), str):
        data["title"] = data["content"].strip()[:TITLE_FROM_CONTENT] or data["content"]
    try:
        return ChannelRequest.model_validate(data)
    except ValidationError as error:
        details = validation_details(error)
        for detail in details:
            detail["field"] = source.fields.get(detail["field"], detail["field"])
        raise ValidationFailed(f"request does not match the {source.id} channel's schema", details) from None


def parse_json(raw: bytes) -> Any:
    from minyi.core.errors import MalformedBody

    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedBody(f"request body is not UTF-8 JSON: {error}") from None
