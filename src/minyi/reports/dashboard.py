"""The staff dashboard (考核看板): the caller's scope's rates, score, counts and queue lengths for
a month, from the KPI counters and gauges alone (a few Queries, whatever the number of orders)."""

from __future__ import annotations

import re
from datetime import datetime

from minyi.core import clock
from minyi.core.errors import ValidationFailed
from minyi.models.identity import StaffIdentity
from minyi.reports.assemble import dashboard

_MONTH = re.compile(r"20[0-9]{2}-(0[1-9]|1[0-2])")


def dashboard_for(identity: StaffIdentity, period: str | None, now: datetime) -> dict:
    """The centre and leaders see every department; a department only its own row."""
    month = period or clock.to_shanghai(now).strftime("%Y-%m")
    if not _MONTH.fullmatch(month):
        raise ValidationFailed("period is a month YYYY-MM (2000-2099)",
                               [{"field": "period", "problem": "must be YYYY-MM", "type": "pattern"}])
    scope = None if identity.sees_everything else identity.own_department()
    answer = dashboard(month, scope)
    answer["as_of"] = clock.iso(now)
    return answer
