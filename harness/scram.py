"""PostgreSQL's SCRAM-SHA-256 password verifier, computed on the client (RFC 5802/7677).

A rotation sets a role's password on any PostgreSQL (RDS included) without the clear text
reaching the server or its log; the twin sets its application role's password the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def scram_sha256_verifier(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password``.

    ``ALTER ROLE ... PASSWORD '<verifier>'`` sets the password without the clear
    text ever reaching the server (or its log), as psql's ``\\password`` does.
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
