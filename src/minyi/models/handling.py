"""Records of handling an order (办理记录), each an item in the order's partition written in
the same transaction as the change it belongs to: contacts with the citizen (先行联系),
co-handlers' opinions (协办意见), attachments (附件) and evaluations (回访评价)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from minyi.models.order import Evaluation


class ContactMethod(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    VISIT = "visit"
    ONLINE = "online"
    OTHER = "other"


class Contact(BaseModel):
    """先行联系: the lead department reached the citizen."""

    method: ContactMethod
    note: str
    department: str
    by: str
    at: datetime


class Opinion(BaseModel):
    """协办意见: a co-handling department's opinion, for the lead department."""

    department: str
    text: str
    by: str
    at: datetime


class Attachment(BaseModel):
    """附件: a file a department uploads through a presigned URL. It counts once its object
    exists with the declared size and type."""

    attachment_id: str
    filename: str
    content_type: str
    size: int
    key: str  # the object's key in the attachments bucket
    department: str
    by: str
    at: datetime


class Record(StrEnum):
    """The kinds of handling records, each with its sort-key prefix in the order's partition."""

    CONTACT = "CONTACT#"
    OPINION = "OPINION#"
    ATTACHMENT = "ATTACH#"
    EVALUATION = "EVAL#"


HandlingRecord = Contact | Opinion | Attachment | Evaluation
