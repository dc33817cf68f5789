"""The channel registry (渠道登记) and each channel's payload mapping.

A data file (`minyi/data/channels.json`), not code: a new channel is a registry
entry plus a sample payload. Each entry says who manages the channel, how it is
aggregated (its 汇聚方式), who reviews a reply before it goes back, how callers
authenticate, and where each field of a work order sits in the channel's payload.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from minyi.core.errors import NotFound

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
    centre: str  # the hotline centre's name, as a reviewer names it
    channels: tuple[Channel, ...]


@lru_cache(maxsize=1)
def _loaded() -> _Registry:
    text = resources.files("minyi.data").joinpath("channels.json").read_text(encoding="utf-8")
    return _Registry.model_validate_json(text)


@lru_cache(maxsize=1)
def registry() -> dict[str, Channel]:
    return {channel.id: channel for channel in _loaded().channels}


def centre() -> str:
    """The hotline centre (12345热线管理中心): a channel whose reviewer is the centre has its
    replies reviewed by centre staff."""
    return _loaded().centre


def channel(channel_id: str) -> Channel:
    found = registry().get(channel_id) if isinstance(channel_id, str) else None
    if found is None:
        raise NotFound(f"unknown channel: {channel_id}")
    return found
