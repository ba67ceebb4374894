"""Password hashes of the Compliant platform's users (``users.password_hash``).

Format: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``: standard library
only, so the reference service and the sample data set agree without a dependency.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from drillbook.harness.scram import scram_sha256_verifier as scram_sha256_verifier

SCHEME = "pbkdf2_sha256"
#: Enough for a local reference platform whose logins are probed many times a second.
DEFAULT_ITERATIONS = 10_000


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded``; False for a malformed hash."""
    try:
        scheme, iterations, salt_hex, digest_hex = encoded.split("$")
        if scheme != SCHEME:
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)
