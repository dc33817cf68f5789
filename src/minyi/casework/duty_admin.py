"""The duty list's administration (职责清单管理) through the staff API: the centre imports
and rolls back versions; the centre and leaders read them."""

from __future__ import annotations

from typing import Any

from minyi.dal import duty_list as duty_store
from minyi.models.identity import Role, StaffIdentity
from minyi.models.staff import RollbackRequest
from minyi.routing import duty_list


def versions(identity: StaffIdentity) -> dict[str, Any]:
    identity.require(Role.CENTRE, Role.LEADER)
    return {"current": duty_store.current_version(),
            "versions": [version.model_dump() for version in duty_store.versions()]}


def export(identity: StaffIdentity, version: int | None) -> str:
    identity.require(Role.CENTRE, Role.LEADER)
    return duty_list.export_csv(version)


def import_file(identity: StaffIdentity, filename: str, data: bytes) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    version = duty_list.import_file(filename, data, actor=identity.actor)
    return {"version": version, "current": version}


def rollback(identity: StaffIdentity, request: RollbackRequest) -> dict[str, Any]:
    identity.require(Role.CENTRE)
    return {"current": duty_list.rollback(request.version, actor=identity.actor)}
