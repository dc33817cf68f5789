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
from minyi.models.order import Satisfaction

# Order fields a mapping may fill; dotted names are nested in ChannelRequest.
ORDER_FIELDS = ("external_id", "title", "content", "citizen.name", "citizen.phone", "citizen.id_number",
                "address", "received_at", "urgent")
TITLE_FROM_CONTENT = 30


# Evaluation fields a channel's evaluation mapping may fill (统一评价 from the channel's side).
EVALUATION_FIELDS = ("evaluation_id", "external_id", "satisfaction", "resolved", "comment", "evaluated_at")


class EvaluationMapping(BaseModel):
    """Where a channel's evaluation payload says what, and what its words mean: its
    satisfaction levels (满意 / 基本满意 / 不满意, star ratings, 好差评's five levels) and its
    answers to "was it resolved"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: dict[str, str]
    satisfaction_values: dict[str, Satisfaction]
    resolved_values: dict[str, bool] = Field(default_factory=dict)
    method: str = "online"  # how the citizen rated it, as the centre's 回访 records a method

    def model_post_init(self, _context: Any) -> None:
        unknown = set(self.fields) - set(EVALUATION_FIELDS)
        missing = {"evaluation_id", "external_id", "satisfaction", "resolved"} - set(self.fields)
        if unknown or missing:
            raise ValueError(f"evaluation mapping: unknown fields {sorted(unknown)}, missing {sorted(missing)}")

    def word_for(self, satisfaction: str) -> str:
        """The channel's first word for one of our satisfaction levels (samples, tests)."""
        return next(word for word, level in self.satisfaction_values.items() if level.value == satisfaction)


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
    # how the channel sends its citizens' evaluations; None: it sends none (the centre follows up)
    evaluation: EvaluationMapping | None = None

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
