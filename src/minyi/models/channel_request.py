"""A request as a channel posts it (受理的诉求), before it is a work order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StringConstraints

from minyi.core.clock import SHANGHAI
from minyi.models.order import NO_CONTROL, Citizen, Satisfaction

Text = Annotated[str, StringConstraints(strip_whitespace=True, pattern=NO_CONTROL)]
ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[\w\-.:/#]+$")
]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        # channels in China send local wall-clock time without an offset
        return moment.replace(tzinfo=SHANGHAI)
    try:
        return moment.astimezone(SHANGHAI)
    except OverflowError:  # 9999-12-31T23:00-01:00 has no Asia/Shanghai time
        raise ValueError("time out of range") from None


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class ChannelRequest(BaseModel):
    """A request as a channel posts it to `POST /channels/{channel}/requests`."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId
    title: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    citizen: Citizen
    address: Annotated[Text, StringConstraints(max_length=200)] | None = None
    received_at: AwareTime | None = None
    urgent: bool = False
    requested_matter: str | None = None  # a matter the caller chose (an Open311 service_code)


class ChannelEvaluation(BaseModel):
    """A citizen's evaluation as a channel posts it to `POST /channels/{channel}/evaluations`,
    naming the channel's own id of the request it rates (统一评价 from the channel's side)."""

    model_config = ConfigDict(extra="forbid")

    evaluation_id: ExternalId
    external_id: ExternalId
    satisfaction: Satisfaction
    resolved: StrictBool  # a JSON boolean, or the channel's word through its registry entry
    comment: Annotated[Text, StringConstraints(max_length=500)] | None = None
    evaluated_at: AwareTime | None = None
