"""Duty-list table: versioned duty lists and the pointer to the one in force.

Layout: pk=CURRENT/sk=POINTER holds the version in force; pk=V#<n>/sk=M#<code>
holds one matter of version n. A new version is written in full before the
pointer moves (conditionally), so readers never see half a list.
"""

from __future__ import annotations

import json

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from minyi.core import clock
from minyi.core.errors import Conflict, NotFound
from minyi.dal.tables import TableName
from minyi.models.duty import DutyList, DutyListVersion, Matter


class DutyListTableModel(Model):
    class Meta:
        table_name = TableName("duty_list_table")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class PointerRecord(DutyListTableModel):
    version = NumberAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class MatterRecord(DutyListTableModel):
    body = UnicodeAttribute()


class VersionRecord(DutyListTableModel):
    """pk=VERSIONS, sk=V#<n, zero-padded>: who made each version, when, from what."""

    version = NumberAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    source = UnicodeAttribute()
    matters = NumberAttribute()


class VersionConflict(Conflict):
    """Another import or rollback moved the pointer first."""


class LearnedRecord(DutyListTableModel):
    """pk=LEARNED#V#<n>, sk=<term>: weights operators' corrections added to matters for
    a term, in duty-list version n ({matter code: weight} as JSON)."""

    body = UnicodeAttribute()


def learned(version: int) -> dict[str, dict[str, float]]:
    return {item.sk: json.loads(item.body) for item in LearnedRecord.query(f"LEARNED#V#{version}")}


def add_learned(version: int, term_weights: dict[str, dict[str, float]]) -> None:
    """Add to the stored weights (read-modify-write per term; corrections are rare and
    a lost increment costs only a little learning)."""
    current = learned(version)
    with LearnedRecord.batch_write() as batch:
        for term, codes in term_weights.items():
            merged = dict(current.get(term, {}))
            for code, weight in codes.items():
                merged[code] = round(merged.get(code, 0.0) + weight, 4)
            batch.save(LearnedRecord(pk=f"LEARNED#V#{version}", sk=term, body=json.dumps(merged)))


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
    return DutyList(version=version, matters=matters) if matters else None


def versions() -> list[DutyListVersion]:
    return [DutyListVersion(version=int(v.version), created_at=v.created_at, created_by=v.created_by,
                            source=v.source, matters=int(v.matters))
            for v in VersionRecord.query("VERSIONS", VersionRecord.sk.startswith("V#"))]


def _latest_version() -> int:
    latest = list(VersionRecord.query("VERSIONS", VersionRecord.sk.startswith("V#"), scan_index_forward=False,
                                      limit=1))
    return int(latest[0].version) if latest else 0


def save_new_version(matters: tuple[Matter, ...], actor: str, source: str = "csv") -> int:
    previous = current_version()
    version = _latest_version() + 1
    now = clock.iso(clock.now())
    try:  # claim the version number first, so two imports never write into one version
        VersionRecord(pk="VERSIONS", sk=f"V#{version:06d}", version=version, created_at=now, created_by=actor,
                      source=source[:200], matters=len(matters)).save(condition=VersionRecord.pk.does_not_exist())
    except PutError as error:
        raise VersionConflict(f"another import took version {version}") from error
    with MatterRecord.batch_write() as batch:
        for matter in matters:
            batch.save(MatterRecord(pk=f"V#{version}", sk=f"M#{matter.code}",
                                    body=json.dumps(matter.model_dump(mode="json"), ensure_ascii=False)))
    if previous is not None:  # what operators taught carries over for the matters that remain
        codes = {m.code for m in matters}
        kept = {term: {c: w for c, w in weights.items() if c in codes} for term, weights in learned(previous).items()}
        add_learned(version, {term: weights for term, weights in kept.items() if weights})
    _move_pointer(previous, version, actor)
    return version


def set_current(version: int, actor: str) -> int:
    found = list(VersionRecord.query("VERSIONS", VersionRecord.sk == f"V#{version:06d}"))
    # an import that died after claiming its version but before all its matters were written
    # must never be put in force
    stored = MatterRecord.count(f"V#{version}", MatterRecord.sk.startswith("M#")) if found else 0
    if not found or stored != int(found[0].matters):
        raise NotFound(f"no complete duty list version {version}")
    _move_pointer(current_version(), version, actor)
    return version


def _move_pointer(previous: int | None, version: int, actor: str) -> None:
    pointer = PointerRecord(pk="CURRENT", sk="POINTER", version=version,
                            updated_at=clock.iso(clock.now()), updated_by=actor)
    condition = (PointerRecord.pk.does_not_exist() if previous is None
                 else PointerRecord.version == previous)
    try:
        pointer.save(condition=condition)
    except PutError as error:
        raise VersionConflict(f"duty list moved past version {previous} meanwhile") from error
