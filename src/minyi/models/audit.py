"""Audit records (审计记录) as read back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntry(BaseModel):
    """审计记录 as read back."""

    action: str
    actor: str
    at: datetime
    from_status: str | None = None
    to_status: str | None = None
    detail: dict[str, Any] | None = None
