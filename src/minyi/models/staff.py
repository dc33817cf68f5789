"""Payloads of the staff endpoints (manual dispatch, returns, reviews, disputes,
duty-list rollback), validated whole before anything is read or written."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from minyi.models.order import ReturnReason

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32,
                                        pattern=r"^[A-Za-z0-9\-]+$")]
Department = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=1000)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ManualDispatch(_Payload):
    """人工分拨: the matter the operator chose, and a department if not the matter's lead."""

    matter_code: Code
    department: Department | None = None


class ReturnRequest(_Payload):
    """退单: why the department holds the order is not its own."""

    category: ReturnReason
    text: Reason


class ReviewDecision(_Payload):
    """The centre's decision on a return: 维持 (uphold) or 改派 (redispatch)."""

    decision: Literal["uphold", "redispatch"]
    matter_code: Code | None = None
    department: Department | None = None

    @model_validator(mode="after")
    def _redispatch_names_a_target(self) -> ReviewDecision:
        if self.decision == "uphold" and (self.matter_code or self.department):
            raise ValueError("an upheld dispatch keeps its matter and department")
        if self.decision == "redispatch" and not (self.matter_code or self.department):
            raise ValueError("a redispatch names the matter_code or the department it goes to")
        return self


class DisputeRequest(_Payload):
    """争议: the operator sends the order to the joint meeting (联席会议)."""

    reason: Reason


class RollbackRequest(_Payload):
    version: int = Field(ge=1, le=999_999)
