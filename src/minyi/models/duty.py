"""The duty list (职责清单): which department leads each matter and how fast."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

LOCAL_LEAD = "属地乡镇"  # the township where it happened: a matter the township government owns

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^\S+$")]


class Matter(BaseModel):
    """事项: a leaf of the 3-level matter taxonomy with its owners and time limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-]{1,32}$")]
    path: tuple[Name, Name, Name]
    lead: Name  # 主办部门; "属地乡镇" for matters the township government owns
    co: tuple[Name, ...] = ()  # 协办部门
    handling_type: Annotated[str, StringConstraints(pattern=r"^(咨询|求助|投诉|举报|建议)$")]
    time_limit_days: Annotated[int, Field(ge=1, le=60)]  # 办理时限(工作日)
    keywords: tuple[Name, ...] = Field(min_length=1)
    local: bool = False  # 属地办理: the township government where it happened leads it


class DutyList(BaseModel):
    version: int
    matters: tuple[Matter, ...]

    def by_code(self, code: str) -> Matter | None:
        return next((m for m in self.matters if m.code == code), None)


class DutyListVersion(BaseModel):
    """Who made a version of the duty list, when, from which file."""

    version: int
    created_at: str
    created_by: str
    source: str
    matters: int
