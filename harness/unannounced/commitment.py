"""The commitment: published before the drill, checked against the plan revealed after it.

``commitment = sha256(nonce + "\\n" + canonical_json(plan))`` in hex, where
``canonical_json`` is JSON with sorted keys, no whitespace (``","`` and
``":"`` separators) and UTF-8 text, and ``nonce`` the 64 hex digits kept
secret with the plan. Publishing the commitment reveals nothing of the plan;
once the plan and nonce are revealed, anyone can recompute it:

    printf '%s\\n%s' "$NONCE" "$(cat plan.json)" | sha256sum
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any


def canonical_json(plan: dict[str, Any]) -> str:
    return json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def new_nonce() -> str:
    return secrets.token_hex(32)


def commit(plan: dict[str, Any], nonce: str) -> str:
    return hashlib.sha256(f"{nonce}\n{canonical_json(plan)}".encode()).hexdigest()


def verify(plan: dict[str, Any], nonce: str, commitment: str) -> bool:
    """Whether ``plan`` and ``nonce`` are what ``commitment`` was made of."""
    return hmac.compare_digest(commit(plan, nonce), commitment.strip().lower())
