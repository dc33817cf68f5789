"""Domain errors carry an HTTP status and a machine-readable code, so every endpoint
answers bad input the same way: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class ValidationFailed(DomainError):
    status = 400
    code = "validation_error"


class MalformedBody(DomainError):
    status = 400
    code = "malformed_json"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class Conflict(DomainError):
    status = 409
    code = "conflict"


def validation_details(exc: Any) -> list[dict[str, Any]]:
    """Pydantic errors as [{"field": "citizen.phone", "problem": ..., "type": ...}]."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in err["loc"]) or "(body)"
        details.append({"field": path, "problem": err["msg"], "type": err["type"]})
    return details
