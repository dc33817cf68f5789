"""Hotspots (热点预警) as the live detector stores, announces and lists them."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["rising", "repeated"]
KeyKind = Literal["phone", "place"]
KIND_LABELS = {"rising": "上升热点", "repeated": "重复诉求"}
KEY_LABELS = {"phone": "同一来电人", "place": "同一地点"}
COUNTY_LABEL = "全县"


class HotspotRecord(BaseModel):
    """One hotspot: an episode of a group (rising: a matter in a township or county-wide) or of a
    request key (repeated: the orders index's key of one matter from one phone, or about one
    address: a hash, never the number), from its first day to its last.

    Identified by (kind, key, first day); stored under the day it was raised (for a repeated
    request, the day of the `min_repeats`-th order; its first day is the first of those)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    key: str  # rising: "<matter>/<township or *>"; repeated: "<phone|place>:<the index's hashed key>"
    matter: str  # rising: the level-1 matter; repeated: the matter's path 一级/二级/三级
    matter_code: str | None = None  # repeated: the level-3 code of the index key
    township: str | None = None  # None: county-wide (rising) or not known (repeated)
    raised: date  # the day whose detection opened it (预警日): how periods list hotspots
    first: date
    last: date
    count: int = Field(ge=1)  # rising: messages on the flagged days; repeated: the orders of the episode
    baseline: float = 0.0  # rising: messages expected over first..last; 0 for repeated
    strength: float = 0.0  # rising: −log10 of the smallest Poisson tail; repeated: the count
    p_value: float | None = None  # rising: the smallest Poisson tail of its days
    key_kind: KeyKind | None = None  # repeated: what made the orders the same request
    unit: str | None = None  # repeated: the lead department of the latest order (who answers for it)
    units: list[str] = Field(default_factory=list)  # rising: the departments the duty list has lead the matter
    order_ids: list[str] = Field(default_factory=list)  # repeated: the orders of the episode, oldest first
    detected_at: datetime
    announced_at: datetime | None = None

    @property
    def id(self) -> str:
        return hotspot_id(self.kind, self.key, self.first)

    @property
    def place(self) -> str:
        if self.kind == "rising":
            return self.township or COUNTY_LABEL
        label = KEY_LABELS[self.key_kind] if self.key_kind else ""
        return f"{self.township}（{label}）" if self.township else label

    def public(self) -> dict:
        """As the staff API shows it: no key (a hash of a phone or an address is still theirs)."""
        return {"id": self.id, "kind": self.kind, "kind_label": KIND_LABELS[self.kind], "matter": self.matter,
                "matter_code": self.matter_code, "township": self.township, "place": self.place,
                "raised_day": self.raised.isoformat(), "first_day": self.first.isoformat(),
                "last_day": self.last.isoformat(), "count": self.count,
                "baseline": self.baseline if self.kind == "rising" else None,
                "p_value": self.p_value, "strength": self.strength, "key_kind": self.key_kind,
                "unit": self.unit, "units": self.units, "order_ids": self.order_ids}


def hotspot_id(kind: str, key: str, first: date) -> str:
    return hashlib.sha256(f"{kind}\n{key}\n{first.isoformat()}".encode()).hexdigest()[:20]


class DetectRequest(BaseModel):
    """POST /staff/hotspots/detect: the day to detect (default: yesterday, Asia/Shanghai)."""

    model_config = ConfigDict(extra="forbid")

    day: date | None = None
