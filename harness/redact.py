"""Keep secrets (passwords in DSNs, tokens) out of logs, journals and reports."""

from __future__ import annotations

import itertools
import re
from typing import Any

MASK = "***"
# Key words that name a secret; a key is split into words ("db_password" -> db, password),
# so "passed" or "bypass_cache" are not mistaken for one.
_SECRET_WORDS = {
    "password",
    "passwords",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "credential",
    "credentials",
    "authorization",
    "cookie",
    "sessionid",
}
_SECRET_PAIRS = {
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("session", "id"),
    ("client", "secret"),
}
# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<at>@)")
# password=xyz in libpq keyword strings, query strings and env-style lines
_KV_PASSWORD = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|secret|api_key|apikey|access_key|secret_key)\s*[=:]\s*)"
    r"(?P<q>['\"]?)(?P<pw>[^\s'\"&;,]+)(?P=q)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\b(?:Bearer|Basic|OAuth|Token)\s+)(?P<tok>[A-Za-z0-9._~+/=-]{8,})")

_known: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it appears later."""
    if value and len(value) >= 4:
        _known.add(value)


def redact_text(text: str) -> str:
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)
    text = _KV_PASSWORD.sub(lambda m: f"{m['key']}{m['q']}{MASK}{m['q']}", text)
    text = _BEARER.sub(lambda m: f"{m['head']}{MASK}", text)
    for secret in sorted(_known, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact(value: Any) -> Any:
    """Return ``value`` with secrets masked; dicts, lists and strings are walked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and _is_secret_key(k) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _is_secret_key(key: str) -> bool:
    # A reference to a secret (its env var name or secret id) is not the secret.
    lowered = key.lower()
    if lowered.endswith(("_env", "_ref", "_id", "_arn", "_name", "_file", "_source")):
        return False
    words = [
        w
        for w in re.split(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])", re.sub(r"([a-z])([A-Z])", r"\1_\2", key).lower())
        if w
    ]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))
