"""Default RTO/RPO targets: the reference platform's tables from the DR procedures.

A drill's targets come, in order, from its marker, from the config's per-component
table (``[tool.drillbook.targets.<component>]``) and from these tables.
"""

from __future__ import annotations

from dataclasses import dataclass

# "RTO/RPO Definitions" of the DR procedures. None: no objective stated
# ("Acceptable loss" for the Redis cache is no objective, not zero).
REFERENCE_TARGETS: dict[str, tuple[str | None, str | None, str]] = {
    "api": ("1h", "15m", "API Service"),
    "database": ("1h", "5m", "Database"),
    "cache": ("30m", None, "Redis Cache"),
    "file_storage": ("1h", "1h", "File Storage"),
    "frontend": ("30m", None, "Frontend Application"),
    "email": ("2h", None, "Email Service"),
    "background_jobs": ("2h", None, "Background Jobs"),
    "application_logs": (None, "1m", "Application Logs"),
    "audit_logs": (None, "0", "Audit Logs"),
}

# Each scenario's header in the DR procedures.
SCENARIO_TARGETS: dict[str, tuple[str | None, str | None]] = {
    "complete-infrastructure-failure": ("2h", "15m"),
    "database-corruption": ("1h", "5m"),
    # "Immediate containment, 2-4 hours for full recovery"; RPO 0.
    "security-breach": ("4h", "0"),
    "data-center-failure": ("1h", "5m"),
    "application-crash": ("30m", None),
}

ALIASES = {
    "api_service": "api",
    "service": "api",
    "app": "api",
    "db": "database",
    "postgres": "database",
    "postgresql": "database",
    "redis": "cache",
    "workers": "background_jobs",
    "audit_log": "audit_logs",
}


@dataclass(frozen=True)
class TargetDefault:
    rto: str | None
    rpo: str | None
    source: str


def component_key(component: str) -> str:
    key = component.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def reference_default(component: str | None) -> TargetDefault | None:
    if component is None:
        return None
    entry = REFERENCE_TARGETS.get(component_key(component))
    if entry is None:
        return None
    rto, rpo, label = entry
    return TargetDefault(rto, rpo, f"DR procedures, RTO/RPO tables: {label}")
