"""The escalation path and how pages are sent, from ``[paging]`` in the config.

Defaults follow the DR procedures' "Escalation Path": level 1 the on-call
engineer (respond within 15 minutes), level 2 the technical lead (30 minutes),
level 3 the incident commander / CTO (1 hour). A level that does not
acknowledge within its time is escalated to the next one.

    [paging]
    url_env = "DRILLBOOK_PAGING_URL"    # or url = "https://..." when it holds no secret
    token_env = "DRILLBOOK_PAGING_TOKEN" # sent as "Authorization: Bearer ..."; optional
    timeout = "5s"                      # per HTTP request
    retries = 3                         # after the first attempt, on 5xx/429/timeouts
    ack_bind = "127.0.0.1:0"            # the local acknowledgement server
    ack_url = "https://ack.example.com" # how the paged person reaches it (default: the bind address)

    [[paging.levels]]
    name = "on-call engineer"
    contact = "primary on-call"
    respond_within = "15m"

Secrets are referenced by environment variable name only; their values are
never written to the config, the journal, the reports or the output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.durations import format_duration, parse_duration
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.paging.rotation import Rotation, rotation_from_config
from drillbook.harness.redact import redact_text, register_secret


@dataclass(frozen=True)
class Level:
    number: int
    name: str
    contact: str
    respond_within_s: float

    def describe(self) -> str:
        who = f"{self.name} ({self.contact})" if self.contact else self.name
        return f"level {self.number}: {who}, respond within {format_duration(self.respond_within_s)}"


DEFAULT_LEVELS = (
    Level(1, "on-call engineer", "primary on-call", 15 * 60.0),
    Level(2, "technical lead", "Technical Lead", 30 * 60.0),
    Level(3, "incident commander", "Incident Commander / CTO", 60 * 60.0),
)


class PagingConfigError(InvalidDrillConfig):
    pass


@dataclass(frozen=True)
class Webhook:
    url: str | None = None
    url_env: str | None = None
    token_env: str | None = None
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5

    def resolve_url(self) -> str:
        if self.url_env:
            value = os.environ.get(self.url_env)
            if not value:
                raise PagingConfigError(
                    f"[paging] url_env: environment variable {self.url_env} is not set; export it with the "
                    "webhook URL"
                )
            register_secret(value)  # a webhook URL often is the credential (Slack, Teams)
            return value
        assert self.url is not None
        return self.url

    def token(self) -> str | None:
        if not self.token_env:
            return None
        value = os.environ.get(self.token_env)
        if not value:
            raise PagingConfigError(
                f"[paging] token_env: environment variable {self.token_env} is not set; export the token"
            )
        register_secret(value)
        return value

    def describe(self) -> str:
        """How to name the webhook in output: never its secret parts."""
        return f"${self.url_env}" if self.url_env else redact_text(self.url or "")


@dataclass(frozen=True)
class PagingPolicy:
    webhook: Webhook
    levels: tuple[Level, ...] = DEFAULT_LEVELS
    ack_bind: tuple[str, int] = ("127.0.0.1", 0)
    ack_url: str | None = None
    rotation: Rotation | None = None

    @property
    def total_s(self) -> float:
        return sum(level.respond_within_s for level in self.levels)


def policy_from_config(config: Config) -> PagingPolicy | None:
    """The ``[paging]`` policy, or None when the config has no ``[paging]`` table."""
    section = config.section("paging")
    if not section:
        return None
    where = f"{config.where()} [paging]"
    url, url_env = section.get("url"), section.get("url_env")
    if bool(url) == bool(url_env):
        raise PagingConfigError(f"{where}: set exactly one of url (no secret in it) or url_env")
    if url is not None and not str(url).startswith(("http://", "https://")):
        raise PagingConfigError(f"{where}: url must be an http(s) URL")
    try:
        retries = int(section.get("retries", 3))
    except (TypeError, ValueError):
        raise PagingConfigError(f"{where}: retries must be a whole number") from None
    if retries < 0:
        raise PagingConfigError(f"{where}: retries must be >= 0")
    webhook = Webhook(
        url=None if url is None else str(url),
        url_env=None if url_env is None else str(url_env),
        token_env=section.get("token_env"),
        timeout_s=_positive(section.get("timeout", "5s"), f"{where} timeout"),
        retries=retries,
        backoff_s=parse_duration(section.get("backoff", "0.5s"), what=f"{where} backoff"),
    )
    return PagingPolicy(
        webhook=webhook,
        levels=_levels(section.get("levels"), where),
        ack_bind=_bind(str(section.get("ack_bind", "127.0.0.1:0")), where),
        ack_url=section.get("ack_url"),
        rotation=rotation_from_config(_table(section.get("rotation")), f"{where}.rotation"),
    )


def _levels(raw: Any, where: str) -> tuple[Level, ...]:
    if raw is None:
        return DEFAULT_LEVELS
    if not isinstance(raw, list) or not raw:
        raise PagingConfigError(f"{where}: levels must be a non-empty array of tables ([[paging.levels]])")
    levels = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or "respond_within" not in entry:
            raise PagingConfigError(f'{where}: level {number} needs respond_within (e.g. "15m")')
        levels.append(
            Level(
                number=number,
                name=str(entry.get("name", f"level {number}")),
                contact=str(entry.get("contact", "")),
                respond_within_s=_positive(entry["respond_within"], f"{where} level {number} respond_within"),
            )
        )
    return tuple(levels)


def _positive(value: Any, what: str) -> float:
    seconds = parse_duration(value, what=what)
    if seconds <= 0:
        raise PagingConfigError(f"{what} must be more than 0")
    return seconds


def _bind(value: str, where: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise PagingConfigError(f"{where}: ack_bind {value!r} is not HOST:PORT") from None


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
