"""Duty-list table: versioned duty lists and the pointer to the one in force.

Layout: pk=CURRENT/sk=POINTER holds the version in force; pk=V#<n>/sk=M#<code>
holds one matter of version n. A new version is written in full before the
pointer moves (conditionally), so readers never see half a list.
"""

from __future__ import annotations

import json
import os

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from minyi import clock
from minyi.models.duty import DutyList, Matter


class _DutyListModel(Model):
    class Meta:
        table_name = os.environ.get("DUTY_LIST_TABLE", "duty-list")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class PointerRecord(_DutyListModel):
    version = NumberAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class MatterRecord(_DutyListModel):
    body = UnicodeAttribute()


class VersionConflict(Exception):
    """Another import moved the pointer first."""


def current_version() -> int | None:
    try:
        return int(PointerRecord.get("CURRENT", "POINTER", consistent_read=True).version)
    except PointerRecord.DoesNotExist:
        return None


def load(version: int | None = None) -> DutyList | None:
    version = version if version is not None else current_version()
    if version is None:
        return None
    matters = tuple(
        Matter.model_validate_json(item.body)
        for item in MatterRecord.query(f"V#{version}", MatterRecord.sk.startswith("M#"))
    )
    return DutyList(version=version, matters=matters)


def save_new_version(matters: tuple[Matter, ...], actor: str) -> int:
    previous = current_version()
    version = (previous or 0) + 1
    with MatterRecord.batch_write() as batch:
        for matter in matters:
            batch.save(MatterRecord(pk=f"V#{version}", sk=f"M#{matter.code}",
                                    body=json.dumps(matter.model_dump(mode="json"), ensure_ascii=False)))
    pointer = PointerRecord(pk="CURRENT", sk="POINTER", version=version,
                            updated_at=clock.iso(clock.now()), updated_by=actor)
    condition = (PointerRecord.pk.does_not_exist() if previous is None
                 else PointerRecord.version == previous)
    try:
        pointer.save(condition=condition)
    except PutError as error:
        raise VersionConflict(f"duty list moved past version {previous} during import") from error
    return version
