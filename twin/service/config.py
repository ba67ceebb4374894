"""The service's configuration: environment variables read once, at start.

A required variable that is missing ends the process at once with exit status
78 (EX_CONFIG) and a message naming it: under the supervisor that is a
CrashLoopBackOff, the DR procedures' Scenario 5 "missing environment variable".
Secrets are not in the environment: it holds their Secrets Manager ids, and the
values are fetched at start, so a rotated secret takes effect on restart only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drillbook.twin.service.resp import parse_url

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

EX_CONFIG = 78

#: Every replica needs these; an image may require more (``--require NAME``).
REQUIRED = (
    "PORT",
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_SECRET_ID",
    "DB_PASSWORD_SECRET_ID",
    "ENCRYPTION_KEY_SECRET_ID",
)
TRUE = frozenset({"1", "true", "yes", "on"})


class ConfigError(Exception):
    """The environment does not let the service start; the message names the fix."""


@dataclass(frozen=True)
class ServiceConfig:
    port: int
    database_url: str
    redis_url: str
    jwt_secret_id: str
    db_password_secret_id: str
    encryption_key_secret_id: str
    host: str = "127.0.0.1"
    version: str = "dev"
    replica: str = "local"
    zone: str = ""
    read_only: bool = False
    audit_all_requests: bool = False
    session_ttl_s: int = 3600
    db_timeout_s: float = 2.0
    health_timeout_s: float = 1.0
    secrets_timeout_s: float = 3.0
    pool_size: int = 4
    log_level: str = "info"
    #: Seconds between SIGTERM and the stop, answering but unready (a preStop pause).
    drain_s: float = 0.1
    #: Client addresses refused with 403 (a deny list, like a WAF IP set): ``BLOCKED_IPS``.
    blocked: tuple[Network, ...] = ()

    def is_blocked(self, address: str | None) -> bool:
        if not self.blocked or not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.blocked)

    @classmethod
    def from_env(cls, env: Mapping[str, str], required: Sequence[str] = ()) -> ServiceConfig:
        missing = [name for name in (*REQUIRED, *required) if not env.get(name)]
        if missing:
            raise ConfigError(
                f"missing required environment variable{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}: set {'them' if len(missing) > 1 else 'it'} in the release "
                f"(kubectl set env / Deployment.set_env({missing[0]}=...))"
            )
        try:
            return cls(
                port=_int(env, "PORT"),
                database_url=env["DATABASE_URL"],
                redis_url=checked_redis_url(env["REDIS_URL"]),
                jwt_secret_id=env["JWT_SECRET_ID"],
                db_password_secret_id=env["DB_PASSWORD_SECRET_ID"],
                encryption_key_secret_id=env["ENCRYPTION_KEY_SECRET_ID"],
                host=env.get("HOST", "127.0.0.1"),
                version=env.get("APP_VERSION", "dev"),
                replica=env.get("REPLICA_NAME", "local"),
                zone=env.get("ZONE", ""),
                read_only=env.get("READ_ONLY_MODE", "").strip().lower() in TRUE,
                audit_all_requests=env.get("AUDIT_ALL_REQUESTS", "").strip().lower() in TRUE,
                session_ttl_s=_int(env, "SESSION_TTL_S", 3600),
                db_timeout_s=_float(env, "DB_TIMEOUT_S", 2.0),
                health_timeout_s=_float(env, "HEALTH_TIMEOUT_S", 1.0),
                secrets_timeout_s=_float(env, "SECRETS_TIMEOUT_S", 3.0),
                pool_size=_int(env, "DB_POOL_SIZE", 4),
                log_level=env.get("LOG_LEVEL", "info").lower(),
                drain_s=_float(env, "DRAIN_S", 0.1),
                blocked=_networks(env, "BLOCKED_IPS"),
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc


def checked_redis_url(url: str) -> str:
    """``url``, or ValueError naming what is wrong (never the URL: it may hold a password)."""
    parse_url(url)
    return url


def _int(env: Mapping[str, str], name: str, default: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ValueError(f"{name} is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR blocks (``203.0.113.7, 198.51.100.0/24``)."""
    out = []
    for item in env.get(name, "").split(","):
        if item.strip():
            try:
                out.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{name}: {item.strip()!r} is not an address or a CIDR block") from None
    return tuple(out)


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be positive")
    return value
