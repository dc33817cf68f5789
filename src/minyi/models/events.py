"""The non-HTTP events the functions receive, as pydantic models.

Written here rather than taken from powertools' parser and batch utilities, which
import models for every AWS event source and add ~300 ms to each cold start."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from minyi.models.public import StatusNotice


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
    old_image: dict[str, dict[str, Any]] | None = Field(default=None, alias="OldImage")


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

    def new_value(self, name: str) -> str | None:
        """A string or number attribute of the new image as its text (None when absent)."""
        return _scalar(self.dynamodb.new_image, name)

    def old_value(self, name: str) -> str | None:
        """The same attribute in the old image (a MODIFY's before-image)."""
        return _scalar(self.dynamodb.old_image, name)


class KinesisRecord(BaseModel):
    """One record of a Kinesis stream as Lambda delivers it; with Kinesis Data Streams for
    DynamoDB its data is a table change (`change`), which may arrive twice or out of order."""

    model_config = ConfigDict(populate_by_name=True)

    event_id: str = Field(alias="eventID")
    event_source_arn: str = Field(alias="eventSourceARN")
    kinesis: dict[str, Any]

    @property
    def sequence_number(self) -> str:
        return str(self.kinesis.get("sequenceNumber", ""))

    def change(self) -> TableChange:
        import base64
        import json

        return TableChange.model_validate(json.loads(base64.b64decode(self.kinesis["data"], validate=True)))


class TableChange(BaseModel):
    """A table change as Kinesis Data Streams for DynamoDB writes it (the record's data)."""

    model_config = ConfigDict(populate_by_name=True)

    event_id: str = Field(alias="eventID")
    event_name: Literal["INSERT", "MODIFY", "REMOVE"] = Field(alias="eventName")
    table_name: str = Field(alias="tableName")
    dynamodb: dict[str, Any]

    @property
    def new_image(self) -> dict[str, dict[str, Any]] | None:
        return self.dynamodb.get("NewImage")


def _scalar(image: dict[str, dict[str, Any]] | None, name: str) -> str | None:
    value = (image or {}).get(name) or {}
    return value.get("S", value.get("N"))


class ReplyDelivery(BaseModel):
    """A message on the reply retry queue: the next try of an approved reply (`reply`), or
    of a status notice (`status`), which carries the notice of the order version it
    reports, so a retry sends that version as it was without reading the order."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(pattern=r"^[A-Z0-9]{4,64}$")
    attempt: int = Field(ge=2, le=20)
    kind: Literal["reply", "status"] = "reply"
    version: int | None = Field(default=None, ge=1)
    notice: StatusNotice | None = None

    @model_validator(mode="after")
    def _status_names_its_version(self) -> ReplyDelivery:
        if self.kind == "reply" and (self.version is not None or self.notice is not None):
            raise ValueError("a reply's retry carries no version or notice")
        if self.kind == "status" and (self.notice is None or self.version != self.notice.version
                                      or self.order_id != self.notice.order_id):
            raise ValueError("a status retry carries the notice of the order version it reports")
        return self
