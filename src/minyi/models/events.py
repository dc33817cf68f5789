"""The non-HTTP events the functions receive, as pydantic models.

Written here rather than taken from powertools' parser and batch utilities, which
import models for every AWS event source and add ~300 ms to each cold start."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ScheduledEvent(BaseModel):
    """EventBridge "Scheduled Event" (a Schedule event of template.yaml)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    source: Literal["aws.events"]
    time: datetime
    resources: list[str] = []


class StreamChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    sequence_number: str = Field(alias="SequenceNumber")
    keys: dict[str, dict[str, Any]] = Field(alias="Keys")
    new_image: dict[str, dict[str, Any]] | None = Field(default=None, alias="NewImage")


class StreamRecord(BaseModel):
    """One DynamoDB Streams record as Lambda delivers it."""

    model_config = ConfigDict(populate_by_name=True)

    event_id: str = Field(alias="eventID")
    event_name: Literal["INSERT", "MODIFY", "REMOVE"] = Field(alias="eventName")
    event_source_arn: str = Field(alias="eventSourceARN")
    dynamodb: StreamChange

    def new_string(self, name: str) -> str:
        """A string attribute of the new image (the only kind the stream handlers read)."""
        image = self.dynamodb.new_image or {}
        return image[name]["S"]


class ReplyDelivery(BaseModel):
    """A message on the reply retry queue."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(pattern=r"^[A-Z0-9]{4,64}$")
    attempt: int = Field(ge=2, le=20)
