"""The liaison table (联络员名单), versioned, in the duty-list table.

Layout (partition `LIAISONS`, apart from the duty list's own keys): `sk=V#<n, zero-padded>`
holds version n whole (who, when, from which file, and every unit as JSON: ~60 units are a
few tens of KB, far below an item's 400 KB); `sk=POINTER` names the version in force. An
import writes its version item first, only if that number is free, then moves the pointer
only if it still names the version the import started from: readers never see half a
table, and of two imports at once one gets 409.
"""

from __future__ import annotations

import json
import secrets

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from minyi.core import clock
from minyi.core.errors import Conflict
from minyi.dal.tables import TableName
from minyi.models.liaison import Liaison, LiaisonTable

PARTITION = "LIAISONS"


class _LiaisonTableModel(Model):
    class Meta:
        table_name = TableName("duty_list_table")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class LiaisonPointer(_LiaisonTableModel):
    """pk=LIAISONS, sk=POINTER: the version in force. `token` is the version's own random
    mark, so a warm container's cache knows its copy even if numbers were ever reused."""

    version = NumberAttribute()
    token = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class LiaisonVersion(_LiaisonTableModel):
    """pk=LIAISONS, sk=V#<n>: one version, whole."""

    version = NumberAttribute()
    token = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    source = UnicodeAttribute()
    count = NumberAttribute()
    body = UnicodeAttribute()  # the units, as a JSON list


class LiaisonConflict(Conflict):
    """Another import of the liaison table moved the pointer first."""


def _key(version: int) -> str:
    return f"V#{version:06d}"


def pointer() -> tuple[int, str] | None:
    """(version, token) in force, or None before the first import: one small consistent read."""
    try:
        item = LiaisonPointer.get(PARTITION, "POINTER", consistent_read=True)
    except LiaisonPointer.DoesNotExist:
        return None
    return int(item.version), item.token


def load(version: int | None = None) -> LiaisonTable | None:
    """A version (default: the one in force), or None if there is none."""
    if version is None:
        current = pointer()
        if current is None:
            return None
        version = current[0]
    try:
        item = LiaisonVersion.get(PARTITION, _key(version), consistent_read=True)
    except LiaisonVersion.DoesNotExist:
        return None
    return LiaisonTable(version=int(item.version), created_at=item.created_at, created_by=item.created_by,
                        source=item.source, units=tuple(Liaison.model_validate(u) for u in json.loads(item.body)))


def _latest_version() -> int:
    latest = list(LiaisonVersion.query(PARTITION, LiaisonVersion.sk.startswith("V#"), scan_index_forward=False,
                                       limit=1, attributes_to_get=["version"]))
    return int(latest[0].version) if latest else 0


def save_new_version(units: tuple[Liaison, ...], actor: str, source: str) -> LiaisonTable:
    """Store the units as the next version and put it in force. 409 if another import won."""
    current = pointer()
    version = _latest_version() + 1
    now = clock.iso(clock.now())
    token = secrets.token_hex(8)
    body = json.dumps([u.model_dump(mode="json", exclude_none=True) for u in units], ensure_ascii=False)
    try:
        LiaisonVersion(pk=PARTITION, sk=_key(version), version=version, token=token, created_at=now,
                       created_by=actor[:200], source=source[:200], count=len(units),
                       body=body).save(condition=LiaisonVersion.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise LiaisonConflict(f"another import of the liaison table took version {version}") from error
    moved = LiaisonPointer(pk=PARTITION, sk="POINTER", version=version, token=token, updated_at=now,
                           updated_by=actor[:200])
    condition = (LiaisonPointer.pk.does_not_exist() if current is None
                 else LiaisonPointer.version == current[0])
    try:
        moved.save(condition=condition)
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise LiaisonConflict(f"the liaison table moved past version {current and current[0]} meanwhile") \
            from error
    return LiaisonTable(version=version, units=units, created_at=now, created_by=actor[:200], source=source[:200])
