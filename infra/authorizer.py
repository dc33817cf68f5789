"""API Gateway's Cognito user-pool authorizer, emulated for the local stack and the
tests: the same checks API Gateway makes before a staff route's function runs.

A request's `Authorization` header carries a Cognito ID token (bare, or after
"Bearer "). It must be an RS256 JWT signed by a key of the pool's JWKS, issued by
that pool, of `token_use` "id", and not expired. Its claims then reach the function
under requestContext.authorizer.claims, every value a string as API Gateway passes
them (a list claim such as cognito:groups becomes "a,b"). Anything else is answered
401 {"message": "Unauthorized"} without invoking the function, as API Gateway does.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLOCK_SKEW_SECONDS = 0


class Unauthorized(Exception):
    """API Gateway answers 401 {"message": "Unauthorized"}."""


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _public_key(jwk: Mapping[str, str]) -> rsa.RSAPublicKey:
    n = int.from_bytes(_b64url(jwk["n"]), "big")
    e = int.from_bytes(_b64url(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def _claim_string(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class UserPoolAuthorizer:
    def __init__(self, user_pool_id: str, region: str, fetch_jwks: Callable[[], Mapping[str, Any]],
                 header: str = "Authorization") -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.header = header
        self._fetch_jwks = fetch_jwks
        self._keys: dict[str, rsa.RSAPublicKey] | None = None

    def _key(self, kid: str) -> rsa.RSAPublicKey:
        if self._keys is None or kid not in self._keys:  # keys rotate: re-read once on an unknown kid
            self._keys = {k["kid"]: _public_key(k) for k in self._fetch_jwks().get("keys", []) if k.get("kty") == "RSA"}
        if kid not in self._keys:
            raise Unauthorized("signed by an unknown key")
        return self._keys[kid]

    def claims(self, headers: Mapping[str, str], now: float | None = None) -> dict[str, str]:
        token = next((v for k, v in headers.items() if k.lower() == self.header.lower()), "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        parts = token.split(".")
        if len(parts) != 3:
            raise Unauthorized("not a JWT")
        try:
            header = json.loads(_b64url(parts[0]))
            payload = json.loads(_b64url(parts[1]))
            signature = _b64url(parts[2])
        except (ValueError, UnicodeDecodeError):
            raise Unauthorized("not a readable JWT") from None
        if not isinstance(header, dict) or not isinstance(payload, dict) or header.get("alg") != "RS256":
            raise Unauthorized("not an RS256 JWT")
        try:
            self._key(str(header.get("kid"))).verify(signature, f"{parts[0]}.{parts[1]}".encode(),
                                                     padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise Unauthorized("bad signature") from None
        if payload.get("iss") != self.issuer:
            raise Unauthorized("issued by another pool")
        if payload.get("token_use") != "id":
            raise Unauthorized("an ID token is required")
        expires = payload.get("exp")
        if not isinstance(expires, int | float) or expires + CLOCK_SKEW_SECONDS <= (now or time.time()):
            raise Unauthorized("expired")
        return {name: _claim_string(value) for name, value in payload.items()}
