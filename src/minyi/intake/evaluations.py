"""The citizen's evaluation from the channel (统一评价): a channel posts, in its own shape and
signed like its requests, how the citizen rated the reply to a request it sent. The order
is found by the channel's own request id; the evaluation is the same step as the centre's
follow-up (satisfied or basically satisfied closes the order, dissatisfied waits for the
centre). Idempotent per (channel, evaluation id): a redelivery answers as the first time
and writes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from minyi.casework import followup, shell
from minyi.channels.payloads import to_evaluation
from minyi.channels.registry import channel
from minyi.core import clock
from minyi.core.errors import Conflict, NotFound
from minyi.dal import handling
from minyi.intake.accept import find_order, read_body
from minyi.models.handling import Record
from minyi.models.lifecycle import Command
from minyi.models.order import Evaluation


def answer(order_id: str, evaluation: Evaluation, channel_id: str, external_id: str) -> dict[str, Any]:
    """Built from the recorded evaluation alone, so a redelivery gets the first answer."""
    return {"order_id": order_id, "channel": channel_id, "external_id": external_id,
            "evaluation_id": evaluation.evaluation_id, "satisfaction": evaluation.satisfaction.value,
            "resolved": evaluation.resolved, "recorded_at": clock.iso(evaluation.at)}


def _recorded(order_id: str, channel_id: str, evaluation_id: str) -> Evaluation | None:
    return next((e for e in handling.records(order_id, Record.EVALUATION)
                 if e.source == channel_id and e.evaluation_id == evaluation_id), None)


def receive(channel_id: str, raw_body: bytes | str | None, headers: Mapping[str, str],
            now: datetime) -> tuple[dict[str, Any], bool]:
    """Verify and record a channel's evaluation. Returns (answer, created); created is False
    for a redelivery of one already recorded."""
    source = channel(channel_id)
    if source.evaluation is None:
        raise NotFound(f"the {source.id} channel sends no evaluations; the centre follows its requests up")
    _, payload = read_body(source, raw_body, headers, now)
    posted = to_evaluation(source, payload, now)
    order = find_order(source, posted.external_id)
    if order is None:
        raise NotFound(f"no request {posted.external_id} from the {source.id} channel")
    earlier = _recorded(order.order_id, source.id, posted.evaluation_id)
    if earlier is not None:
        return answer(order.order_id, earlier, source.id, posted.external_id), False
    evaluation = Evaluation(satisfaction=posted.satisfaction, resolved=posted.resolved,
                            method=source.evaluation.method, comment=posted.comment, source=source.id,
                            evaluation_id=posted.evaluation_id, by=f"channel:{source.id}", at=now,
                            evaluated_at=posted.evaluated_at)
    try:
        shell.act(order.order_id, Command.EVALUATE, followup.evaluate(evaluation), actor=f"channel:{source.id}",
                  now=now, order=order)
    except Conflict:
        # the same evaluation, delivered twice at once: the other delivery recorded it
        earlier = _recorded(order.order_id, source.id, posted.evaluation_id)
        if earlier is None:
            raise
        return answer(order.order_id, earlier, source.id, posted.external_id), False
    return answer(order.order_id, evaluation, source.id, posted.external_id), True
