"""Staff identity (工作人员身份): who is calling, from the verified token's claims.

API Gateway's Cognito authorizer has already verified the ID token's signature,
issuer and expiry before a staff endpoint runs; the handler gets the token's claims,
every value a string. Three groups: `centre` (the 12345 centre: dispatch, review,
disputes, duty list), `leader` (county leaders: read everything, reports) and
`department` (a department or township: only the orders it leads or co-handles,
identified by the user's `custom:department` attribute).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from minyi.core.errors import Forbidden, Unauthorized


class Role(StrEnum):
    CENTRE = "centre"  # 12345 中心
    DEPARTMENT = "department"  # 承办单位 (部门、乡镇)
    LEADER = "leader"  # 领导


DEPARTMENT_CLAIM = "custom:department"


def _claim_list(value: Any) -> list[str]:
    """Groups as API Gateway passes them: "a", "a,b" or "[a b]" (or a real list)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].replace(",", " ")
        return [part for part in text.split() if part]
    return [part.strip() for part in text.split(",") if part.strip()]


class StaffIdentity(BaseModel, frozen=True):
    username: str
    roles: frozenset[Role]
    department: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any] | None) -> StaffIdentity:
        if not claims or not (claims.get("cognito:username") or claims.get("sub")):
            raise Unauthorized("a staff token is required")
        roles = frozenset(Role(g) for g in _claim_list(claims.get("cognito:groups")) if g in Role.__members__.values())
        department = str(claims.get(DEPARTMENT_CLAIM) or "").strip() or None
        return cls(username=str(claims.get("cognito:username") or claims["sub"]), roles=roles, department=department)

    @property
    def actor(self) -> str:
        """How the audit trail names this person: the department's name for its staff."""
        return f"{self.department}/{self.username}" if self.department and self.roles == {Role.DEPARTMENT} \
            else self.username

    def require(self, *allowed: Role) -> None:
        if not self.roles & set(allowed):
            wanted = "、".join(r.value for r in allowed)
            raise Forbidden(f"this needs the {wanted} role")

    @property
    def sees_everything(self) -> bool:
        return bool(self.roles & {Role.CENTRE, Role.LEADER})

    def own_department(self) -> str:
        """The department a department user acts for; a department user without one is
        misconfigured and gets nothing rather than everything."""
        self.require(Role.DEPARTMENT)
        if not self.department:
            raise Forbidden("this account has no department; ask the centre to set custom:department")
        return self.department
