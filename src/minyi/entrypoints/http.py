"""HTTP answers shared by the Chalice apps: JSON in UTF-8 (Chinese unescaped) and one
error shape, {"error": {"code", "message", "details"}}, for every 4xx."""

from __future__ import annotations

import json
from typing import Any

from chalice import Response
from pydantic import BaseModel, ValidationError

from minyi.core.errors import DomainError, MalformedBody, ValidationFailed, validation_details

JSON_UTF8 = "application/json; charset=utf-8"
# Chalice's own rejections (before any view runs) and the codes we give them
_CHALICE_CODES = {"BadRequestError": "bad_request", "UnsupportedMediaType": "unsupported_media_type",
                  "MethodNotAllowedError": "method_not_allowed", "NotFoundError": "not_found",
                  "UnauthorizedError": "unauthorized", "ForbiddenError": "forbidden"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": JSON_UTF8, **(headers or {})})


def error_response(error: DomainError) -> Response:
    return json_response(error.to_body(), error.status)


def uniform_errors(response: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a Chalice-generated error ({"Code", "Message"}) into our error shape."""
    status = response.get("statusCode", 200)
    if status < 400 or status >= 500:
        return response
    try:
        body = json.loads(response.get("body") or "{}")
    except ValueError:
        return response
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(body["Code"], "bad_request")
        response = {**response, "body": json.dumps({"error": {"code": code, "message": body["Message"]}},
                                                   ensure_ascii=False)}
        response["headers"] = {**(response.get("headers") or {}), "Content-Type": JSON_UTF8}
    return response


def parse_json[T: BaseModel](raw: bytes | None, model: type[T]) -> T:
    """A request body as `model`, or the 400 that says exactly what is wrong."""
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also over-long integers
        raise MalformedBody("request body is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise ValidationFailed("request body must be a JSON object",
                               [{"field": "(body)", "problem": "must be an object", "type": "dict_type"}])
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise ValidationFailed(f"{model.__name__} is invalid", validation_details(error)) from None
