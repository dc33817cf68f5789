"""The liaison table's administration (联络员名单) through the staff API: the centre imports a
new version; every staff member reads the table in force, phones in full (a staff contact
list, not citizens' data), with the units that still have no liaison."""

from __future__ import annotations

from typing import Any

from minyi.dal import liaisons as store
from minyi.models.duty import DutyList
from minyi.models.identity import Role, StaffIdentity
from minyi.models.liaison import LiaisonTable
from minyi.routing import jurisdiction, liaisons


def summary(table: LiaisonTable | None, duty_list: DutyList | None) -> dict[str, Any]:
    """The table as staff read it (GET /liaisons, `minyi liaisons show`)."""
    named = [u.unit for u in table.units] if table else []
    known = jurisdiction.departments(duty_list) if duty_list else set()
    return {
        "version": table.version if table else None,
        "created_at": table.created_at if table else None,
        "created_by": table.created_by if table else None,
        "source": table.source if table else None,
        "units": [u.contact() for u in table.units] if table else [],
        # units with no liaison: the table's own blanks, and every unit the duty list in force
        # may send an order to that the table does not name
        "gaps": liaisons.gaps([*named, *sorted(known)], table) if table else sorted(known),
        # named by the table but by no dispatch (a misspelt unit is never found by the clock)
        "not_in_duty_list": [u for u in named if u not in known] if duty_list else [],
    }


def table(identity: StaffIdentity, duty_list: DutyList | None) -> dict[str, Any]:
    identity.require(Role.CENTRE, Role.LEADER, Role.DEPARTMENT)
    return summary(store.load(), duty_list)


def import_file(identity: StaffIdentity, filename: str, data: bytes, duty_list: DutyList | None) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    return summary(liaisons.import_file(filename, data, actor=identity.actor), duty_list)
