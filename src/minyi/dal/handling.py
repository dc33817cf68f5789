"""Handling records (办理记录) of an order: contacts, opinions, attachments, evaluations,
read from the order's partition with one query per kind."""

from __future__ import annotations

from pydantic import BaseModel

from minyi.dal.order_records import HandlingItem, order_key
from minyi.models.handling import Attachment, Contact, Opinion, Record
from minyi.models.order import Evaluation

_MODELS: dict[Record, type[BaseModel]] = {Record.CONTACT: Contact, Record.OPINION: Opinion,
                                          Record.ATTACHMENT: Attachment, Record.EVALUATION: Evaluation}


def records(order_id: str, kind: Record) -> list:
    """Every record of this kind on the order, oldest first (attachments: by id)."""
    model = _MODELS[kind]
    return [model.model_validate_json(item.body)
            for item in HandlingItem.query(order_key(order_id), HandlingItem.sk.startswith(kind.value),
                                           consistent_read=True)]


def attachment(order_id: str, attachment_id: str) -> Attachment | None:
    try:
        item = HandlingItem.get(order_key(order_id), f"{Record.ATTACHMENT.value}{attachment_id}",
                                consistent_read=True)
    except HandlingItem.DoesNotExist:
        return None
    return Attachment.model_validate_json(item.body)
