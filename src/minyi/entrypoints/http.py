"""What every HTTP function shares: one Chalice app factory and one error mapping.

Each Chalice app is the Lambda handler itself (`Handler: app.app`). Around every
invocation: powertools logging (with the API request id as correlation id), tracing and
metrics. In every view: a DomainError becomes its 4xx in our shape,
{"error": {"code", "message", "details"}}. Chalice's own answers (415 for a content
type a route does not take, 405, an unexpected 500) are rewritten into the same shape,
so no client ever sees two kinds of error body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from chalice import Chalice, Response

from minyi.core.errors import DomainError, ValidationFailed
from minyi.core.observability import logger, metrics, tracer
from minyi.models.identity import StaffIdentity

JSON_UTF8 = "application/json; charset=utf-8"
# Chalice's own rejections (before or around any view) and the codes we give them
_CHALICE_CODES = {"BadRequestError": "bad_request", "BadRequest": "bad_request",
                  "UnsupportedMediaType": "unsupported_media_type", "MethodNotAllowedError": "method_not_allowed",
                  "NotFoundError": "not_found", "UnauthorizedError": "unauthorized", "ForbiddenError": "forbidden",
                  "InternalServerError": "internal_error"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": JSON_UTF8, **(headers or {})})


def error_response(error: DomainError) -> Response:
    return json_response(error.to_body(), error.status)


def uniform_errors(response: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a Chalice-generated error ({"Code", "Message"}) into our error shape."""
    status = response.get("statusCode", 200)
    if status < 400:
        return response
    try:
        body = json.loads(response.get("body") or "{}")
    except ValueError:
        return response
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(body["Code"], "internal_error" if status >= 500 else "bad_request")
        response = {**response, "body": json.dumps({"error": {"code": code, "message": body["Message"]}},
                                                   ensure_ascii=False)}
        response["headers"] = {**(response.get("headers") or {}), "Content-Type": JSON_UTF8}
    return response


class App(Chalice):
    """Chalice with our error mapping in every view and powertools around each invocation."""

    def __init__(self, app_name: str) -> None:
        super().__init__(app_name=app_name)

        @logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
        @tracer.capture_lambda_handler
        @metrics.log_metrics
        def handle(event: dict, context: Any) -> dict:
            return uniform_errors(Chalice.__call__(self, event, context))

        self._handle = handle

    def __call__(self, event: dict, context: Any) -> dict:
        return self._handle(event, context)

    def route(self, path: str, **kwargs: Any) -> Callable:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
            @wraps(view)
            def answered(*args: Any, **kw: Any) -> Response:
                try:
                    return view(*args, **kw)
                except DomainError as error:
                    logger.info("request refused", extra={"view": view.__name__, "code": error.code,
                                                          "status": error.status})
                    return error_response(error)

            return register(answered)

        return decorator

    def staff_route(self, path: str, **kwargs: Any) -> Callable:
        """A route behind the API's Cognito authorizer: the view gets the caller's
        StaffIdentity, read from the verified token's claims, as its first argument."""
        def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
            @wraps(view)
            def with_identity(*args: Any, **kw: Any) -> Response:
                identity = self.identity()
                logger.info("staff request", extra={"view": view.__name__, "user": identity.username,
                                                    "department": identity.department})
                return view(identity, *args, **kw)

            return self.route(path, **kwargs)(with_identity)

        return decorator

    # ------------------------------------------------------------ the request
    def identity(self) -> StaffIdentity:
        claims = (self.current_request.context.get("authorizer") or {}).get("claims")
        return StaffIdentity.from_claims(claims)

    def query(self) -> dict[str, str]:
        return dict(self.current_request.query_params or {})

    def headers(self) -> dict[str, str]:
        return dict(self.current_request.headers.items())

    def limit(self, maximum: int, default: int | None = None) -> int:
        raw = self.query().get("limit", str(default or maximum))
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= maximum:
            raise ValidationFailed(f"limit is 1 to {maximum}", [{"field": "limit", "problem": f"must be 1..{maximum}"}])
        return int(raw)

    def cursor(self) -> str | None:
        """An opaque paging cursor a list gave (checked by the list that reads it)."""
        return self.query().get("cursor") or None
