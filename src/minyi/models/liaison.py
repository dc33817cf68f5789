"""The liaison table (联络员名单, 附件2 of the county plan): for each responsible unit (责任单位: a
department or a township government) the liaison (联络员) the centre calls, day or night, about
its orders, and the leader in charge (分管领导) a lapse is escalated to."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from minyi.models.order import NO_CONTROL, Phone

UnitName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                            pattern=r"^[^\s\x00-\x1f\x7f]+$")]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=NO_CONTROL)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30, pattern=NO_CONTROL)]


class Liaison(BaseModel):
    """One unit's row of the table. A unit may have no liaison yet (the form's cells are
    empty): it is kept, and listed as a gap, so the centre sees whom it still has to chase."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: UnitName
    liaison_name: PersonName | None = None
    liaison_title: Title | None = None
    liaison_phone: Phone | None = None  # 24小时联系电话
    leader_name: PersonName | None = None
    leader_title: Title | None = None
    leader_phone: Phone | None = None

    @model_validator(mode="after")
    def _whole_people(self) -> Liaison:
        # a name without a phone reaches nobody; a phone without a name is nobody to ask for
        for who in ("liaison", "leader"):
            name, phone = getattr(self, f"{who}_name"), getattr(self, f"{who}_phone")
            title = getattr(self, f"{who}_title")
            if (name or title or phone) and not (name and phone):
                raise ValueError(f"{who}: a name and a phone, or neither")
        return self

    @property
    def has_liaison(self) -> bool:
        return self.liaison_name is not None

    def contact(self) -> dict[str, Any]:
        """The shape events carry: whom to call about this unit's orders."""
        return {
            "unit": self.unit,
            "liaison": {"name": self.liaison_name, "title": self.liaison_title, "phone": self.liaison_phone}
            if self.liaison_name else None,
            "leader_in_charge": {"name": self.leader_name, "title": self.leader_title, "phone": self.leader_phone}
            if self.leader_name else None,
        }


def no_contact(unit: str) -> dict[str, Any]:
    """`Liaison.contact()`'s shape for a unit the table does not name."""
    return {"unit": unit, "liaison": None, "leader_in_charge": None}


class LiaisonTable(BaseModel):
    """One version of the table, as imported: who imported it, when, from which file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    units: tuple[Liaison, ...]
    created_at: str
    created_by: str
    source: str

    def of(self, unit: str) -> Liaison | None:
        return next((u for u in self.units if u.unit == unit), None)

    def gaps(self) -> list[str]:
        return [u.unit for u in self.units if not u.has_liaison]
