"""A channel's own payload mapped onto a ChannelRequest, by the registry entry's field paths."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from minyi.channels.registry import TITLE_FROM_CONTENT, Channel
from minyi.core import clock
from minyi.core.clock import SHANGHAI
from minyi.core.errors import ValidationFailed, validation_details
from minyi.models.channel_request import ChannelEvaluation, ChannelRequest

_MISSING = object()
_COMPACT_TIME = re.compile(r"^\d{14}$")


def _lookup(payload: Any, path: str) -> Any:
    node = payload
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _time(value: Any) -> Any:
    """Channel systems send times as ISO 8601, "2026-11-26 10:30:00", "2026/11/26 10:30:00",
    "20261126103000" or unix seconds; all but the last mean Asia/Shanghai wall-clock time.
    Unix seconds outside what a datetime holds (1e20) raise ValueError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, SHANGHAI)
        except (OverflowError, OSError, ValueError):
            raise ValueError("unix seconds out of range") from None
    if isinstance(value, str):
        text = value.strip()
        if _COMPACT_TIME.match(text):
            return f"{text[:4]}-{text[4:6]}-{text[6:8]}T{text[8:10]}:{text[10:12]}:{text[12:]}"
        return text.replace("/", "-")
    return value


def _validated[M](model: type[M], data: dict[str, Any], fields: dict[str, str], schema: str) -> M:
    """`data` as `model`; a problem names the channel's own field path, not ours."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = validation_details(error)
        for detail in details:
            detail["field"] = fields.get(detail["field"], detail["field"])
        raise ValidationFailed(schema, details) from None


def to_request(source: Channel, payload: Any, now: datetime) -> ChannelRequest:
    """The channel's payload as a ChannelRequest; errors name the channel's own field paths.
    A `received_at` before 2000 or more than a day ahead of `now` is refused."""
    if not isinstance(payload, dict):
        raise ValidationFailed("request body must be a JSON object",
                               [{"field": "(body)", "problem": "must be an object", "type": "dict_type"}])
    data: dict[str, Any] = {"citizen": {}}
    for field, path in source.fields.items():
        value = _lookup(payload, path)
        if value is _MISSING or value is None:
            continue
        if field == "received_at":
            try:
                value = _time(value)
            except ValueError as error:
                raise ValidationFailed(f"request does not match the {source.id} channel's schema", [
                    {"field": path, "problem": str(error), "type": "datetime_parsing"}]) from None
        elif field == "urgent" and source.urgent_values:
            value = isinstance(value, str) and value in source.urgent_values
        elif isinstance(value, int | float) and not isinstance(value, bool) and field != "urgent":
            value = str(value)  # ids and phone numbers sent as numbers
        if field.startswith("citizen."):
            data["citizen"][field.split(".", 1)[1]] = value
        else:
            data[field] = value
    if "title" not in source.fields and isinstance(data.get("content"), str):
        data["title"] = data["content"].strip()[:TITLE_FROM_CONTENT] or data["content"]
    schema = f"request does not match the {source.id} channel's schema"
    request = _validated(ChannelRequest, data, source.fields, schema)
    if request.received_at is not None and not clock.plausible(request.received_at, now):
        raise ValidationFailed(schema, [
            {"field": source.fields["received_at"], "type": "datetime_range",
             "problem": f"a time from {clock.EARLIEST.year} to a day ahead of now (Asia/Shanghai)"}])
    return request


def to_evaluation(source: Channel, payload: Any, now: datetime) -> ChannelEvaluation:
    """A channel's evaluation payload as a ChannelEvaluation, by its registry entry's
    evaluation mapping; the channel's own words for satisfaction and resolution are
    translated, and errors name the channel's own field paths."""
    mapping = source.evaluation
    schema = f"evaluation does not match the {source.id} channel's schema"
    if not isinstance(payload, dict):
        raise ValidationFailed("evaluation body must be a JSON object",
                               [{"field": "(body)", "problem": "must be an object", "type": "dict_type"}])
    data: dict[str, Any] = {}
    problems = []
    for field, path in mapping.fields.items():
        value = _lookup(payload, path)
        if value is _MISSING or value is None:
            continue
        if field == "satisfaction" or (field == "resolved" and mapping.resolved_values):
            values = mapping.satisfaction_values if field == "satisfaction" else mapping.resolved_values
            word = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
            if word not in values:
                problems.append({"field": path, "type": "enum", "problem": f"one of {', '.join(values)}"})
                continue
            value = values[word]
        elif field == "evaluated_at":
            try:
                value = _time(value)
            except ValueError as error:
                problems.append({"field": path, "problem": str(error), "type": "datetime_parsing"})
                continue
        elif field in ("evaluation_id", "external_id") and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        data[field] = value
    if problems:
        raise ValidationFailed(schema, problems)
    evaluation = _validated(ChannelEvaluation, data, mapping.fields, schema)
    if evaluation.evaluated_at is not None and not clock.plausible(evaluation.evaluated_at, now):
        raise ValidationFailed(schema, [{"field": mapping.fields["evaluated_at"], "type": "datetime_range",
                                         "problem": f"a time from {clock.EARLIEST.year} to a day ahead of now"}])
    return evaluation
