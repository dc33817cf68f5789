"""The channel registry (渠道登记): which channels may post requests and how each is
aggregated. A data file, not code: a new channel is a registry entry."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from minyi.errors import NotFound


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    managing_department: str
    aggregation_mode: Literal["native", "interconnect", "forwarded", "merged"]
    reply_reviewer: str


class _Registry(BaseModel):
    channels: tuple[Channel, ...]


@lru_cache(maxsize=1)
def registry() -> dict[str, Channel]:
    text = resources.files("minyi.data").joinpath("channels.json").read_text(encoding="utf-8")
    return {channel.id: channel for channel in _Registry.model_validate_json(text).channels}


def channel(channel_id: str) -> Channel:
    found = registry().get(channel_id)
    if found is None:
        raise NotFound(f"unknown channel: {channel_id}")
    return found
