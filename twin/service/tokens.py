"""Session tokens: JWTs signed with HS256 and the JWT secret read at start.

The token names a session (``sid``) kept in Redis: a valid signature is not
enough, the session must still exist, so flushing Redis revokes every token
(the DR procedures' Scenario 3 "revoke all active sessions"). A token signed
with a rotated-out secret fails the signature check once the replica restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

ISSUER = "compliant-api"


class InvalidToken(Exception):
    """The token is malformed, badly signed or expired; the message says which."""


@dataclass(frozen=True)
class Claims:
    user_id: int
    email: str
    session_id: str
    issued_at: int
    expires_at: int


def key_id(secret: str) -> str:
    """A short public fingerprint of ``secret`` (the JWT ``kid``): which key, not the key."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def issue(secret: str, claims: Claims) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": key_id(secret)}
    payload = {
        "iss": ISSUER, "sub": str(claims.user_id), "email": claims.email, "sid": claims.session_id,
        "iat": claims.issued_at, "exp": claims.expires_at,
    }
    signing_input = f"{_b64(_json(header))}.{_b64(_json(payload))}"
    return f"{signing_input}.{_b64(_mac(secret, signing_input))}"


def verify(secret: str, token: str, *, now: float | None = None) -> Claims:
    try:
        head, body, signature = token.split(".")
        header = json.loads(_unb64(head))
        payload = json.loads(_unb64(body))
        given = _unb64(signature)
    except ValueError as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise InvalidToken("unsupported token algorithm")
    if not hmac.compare_digest(given, _mac(secret, f"{head}.{body}")):
        raise InvalidToken("bad signature (signed with another key?)")
    try:
        claims = Claims(int(payload["sub"]), str(payload["email"]), str(payload["sid"]),
                        int(payload["iat"]), int(payload["exp"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("token claims incomplete") from exc
    if payload.get("iss") != ISSUER:
        raise InvalidToken("token from another issuer")
    if claims.expires_at <= (time.time() if now is None else now):
        raise InvalidToken("token expired")
    return claims


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _mac(secret: str, signing_input: str) -> bytes:
    return hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad base64") from exc
