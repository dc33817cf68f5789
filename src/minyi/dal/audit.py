"""Audit records (审计记录): one per change of an order, in the order's partition."""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime
from typing import Any

from minyi.core import clock
from minyi.dal.order_records import AUDIT_SK_PREFIX, AuditRecord, order_key
from minyi.models.audit import AuditEntry


def audit_record(order_id: str, action: str, actor: str, at: datetime, from_status: str | None,
                 to_status: str | None, detail: dict[str, Any] | None) -> AuditRecord:
    # ordered by when it was written (ns), not by the business time `at`, which a
    # scheduled sweep takes from its event and can lie a little in the past
    return AuditRecord(
        pk=order_key(order_id),
        sk=f"{AUDIT_SK_PREFIX}{time.time_ns():020d}#{secrets.token_hex(4)}",
        item_type="audit",
        action=action,
        actor=actor,
        at=clock.iso(at),
        from_status=from_status,
        to_status=to_status,
        detail=json.dumps(detail, ensure_ascii=False) if detail else None,
    )


def audit_trail(order_id: str) -> list[AuditEntry]:
    return [AuditEntry(action=item.action, actor=item.actor, at=clock.parse_iso(item.at),
                       from_status=item.from_status, to_status=item.to_status,
                       detail=json.loads(item.detail) if item.detail else None)
            for item in AuditRecord.query(order_key(order_id), AuditRecord.sk.startswith(AUDIT_SK_PREFIX),
                                          consistent_read=True)]
