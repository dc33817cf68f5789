"""Request bodies: JSON in UTF-8, parsed the one way every endpoint parses it.

Malformed, over-deep or absurd JSON (an integer of 5,000 digits, nesting 50,000 deep)
is a 400 that says so, never a 500."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from minyi.core.errors import MalformedBody, ValidationFailed, validation_details

MAX_DEPTH = 32  # no payload of ours nests deeper than a handful of levels


def media_type(headers: Mapping[str, str] | None) -> str:
    """The Content-Type's media type, lower case, without parameters ("" when absent)."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "") or ""
    return value.split(";")[0].strip().lower()


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def load_json(raw: bytes | str | None) -> Any:
    """The body as JSON, or MalformedBody (400) saying why not."""
    if raw is None or not raw.strip():
        raise MalformedBody("request body is empty")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise MalformedBody("request body is not UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise MalformedBody(f"request body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, and integers over Python's 4,300-digit limit
        raise MalformedBody(f"request body is not valid JSON: {str(error)[:120]}") from None
    if _depth(value) > MAX_DEPTH:
        raise MalformedBody(f"request body nests deeper than {MAX_DEPTH} levels")
    return value


def load_object(raw: bytes | str | None) -> dict[str, Any]:
    body = load_json(raw)
    if not isinstance(body, dict):
        raise ValidationFailed("request body must be a JSON object",
                               [{"field": "(body)", "problem": "must be an object", "type": "dict_type"}])
    return body


def parse_model[T: BaseModel](raw: bytes | str | None, model: type[T]) -> T:
    """A request body as `model`, or the 400 that says exactly what is wrong."""
    body = load_object(raw)
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise ValidationFailed(f"{model.__name__} is invalid", validation_details(error)) from None
