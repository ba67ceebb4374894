"""A secret by reference: an environment variable's name or a Secrets Manager secret id,
never the value. Resolved at the moment of use; every value read is registered for
redaction, and so is the password inside a URL."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from drillbook.harness.config import ConfigError, Table
from drillbook.harness.errors import DrillbookError
from drillbook.harness.redact import redact_text, register_secret


class SecretUnavailable(DrillbookError):
    """A referenced secret cannot be read (unset variable, missing secret, missing JSON key)."""


#: Reads a Secrets Manager secret's string by id (the staging ``secrets`` role's ``get``).
SecretReader = Callable[[str], str]


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives. Exactly one of ``env``, ``secret_id`` or ``literal`` is set;
    ``literal`` only ever holds a value without a secret in it (a password-less URL)."""

    key: str
    where: str
    env: str | None = None
    secret_id: str | None = None
    #: A key inside a JSON secret (e.g. ``url``, or ``password`` of an RDS-managed secret).
    secret_key: str | None = None
    literal: str | None = None

    def describe(self) -> str:
        if self.env:
            return f"${self.env}"
        if self.secret_id:
            return f"secret {self.secret_id}" + (f" (key {self.secret_key})" if self.secret_key else "")
        return redact_text(self.literal or "")

    def resolve(self, read_secret: SecretReader | None = None) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if not value:
                raise SecretUnavailable(
                    f"{self.where} {self.key}_env: environment variable {self.env} is not set; "
                    f"export {self.env}=... before running drillbook"
                )
        elif self.secret_id:
            if read_secret is None:
                raise SecretUnavailable(
                    f"{self.where} {self.key}_secret: the secret {self.secret_id!r} needs the secrets role; "
                    'add a [secrets] table (driver = "secretsmanager") to this environment'
                )
            value = read_secret(self.secret_id)
            if self.secret_key:
                value = _json_field(value, self.secret_key, self)
        else:
            # Checked when read to hold no secret: registering it would mask the endpoint in every
            # record, and make the profile's own literal look like a secret when read again.
            return self.literal or ""
        register(value)
        return value


def register(value: str) -> None:
    """Mask ``value`` and, for a URL, its password, wherever they appear later."""
    register_secret(value)
    try:
        password = urlsplit(value).password
    except ValueError:
        password = None
    if password:
        register_secret(password)
        register_secret(unquote(password))


def _json_field(value: str, field: str, ref: SecretRef) -> str:
    try:
        data = json.loads(value)
    except ValueError:
        raise SecretUnavailable(
            f"{ref.where} {ref.key}_secret_key = {field!r}: the secret {ref.secret_id!r} is not a JSON "
            f"object; remove {ref.key}_secret_key to use its whole value"
        ) from None
    if not isinstance(data, dict) or field not in data:
        keys = ", ".join(sorted(data)) if isinstance(data, dict) else "none"
        raise SecretUnavailable(
            f"{ref.where} {ref.key}_secret_key = {field!r}: the secret {ref.secret_id!r} has no key "
            f"{field!r} (its keys: {keys})"
        )
    register_secret(str(data[field]))
    return str(data[field])


def read_ref(table: Table, key: str, *, required: bool, example_env: str) -> SecretRef | None:
    """``<key>`` (no secret in it), ``<key>_env`` or ``<key>_secret`` (+ ``<key>_secret_key``)."""
    literal = table.text(key)
    env = table.text(f"{key}_env")
    secret_id = table.text(f"{key}_secret")
    secret_key = table.text(f"{key}_secret_key")
    given = [
        name
        for name, value in ((key, literal), (f"{key}_env", env), (f"{key}_secret", secret_id))
        if value is not None
    ]
    if len(given) > 1:
        raise table.error(None, f"give only one of {', '.join(given)}")
    if not given:
        if required:
            raise table.error(
                f"{key}_env",
                f'is missing; name where the {key} comes from: {key}_env = "{example_env}" '
                f'(an environment variable) or {key}_secret = "secret-id" (Secrets Manager)',
            )
        return None
    if secret_key is not None and secret_id is None:
        raise table.error(f"{key}_secret_key", f"only applies together with {key}_secret")
    if literal is not None and redact_text(literal) != literal:
        raise ConfigError(
            f"{table.file}: {table.where} {key} holds a secret inline; set {key}_env = "
            f'"{example_env}" and export the value instead'
        )
    return SecretRef(
        key=key, where=table.where, env=env, secret_id=secret_id, secret_key=secret_key, literal=literal
    )
