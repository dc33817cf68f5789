"""The on-call roster and departments' office hours, kept in the duty-list table:
pk=ONCALL/sk=<duty day> the rapid-handling team's on-call handler; pk=HOURS/sk=<department>
a department's office hours when not the default."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from minyi.dal.duty_list import DutyListTableModel
from minyi.models.roster import OnCall, WorkingHours


class RosterRecord(DutyListTableModel):
    body = UnicodeAttribute()


def on_call(day: str) -> OnCall | None:
    try:
        return OnCall.model_validate_json(RosterRecord.get("ONCALL", day).body)
    except RosterRecord.DoesNotExist:
        return None


def put_on_call(entry: OnCall) -> None:
    RosterRecord(pk="ONCALL", sk=entry.day, body=entry.model_dump_json()).save()


def working_hours(department: str) -> WorkingHours:
    try:
        return WorkingHours.model_validate_json(RosterRecord.get("HOURS", department).body)
    except RosterRecord.DoesNotExist:
        return WorkingHours()


def put_working_hours(department: str, hours: WorkingHours) -> None:
    RosterRecord(pk="HOURS", sk=department, body=hours.model_dump_json()).save()
