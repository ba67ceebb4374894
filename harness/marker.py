"""The ``drill`` marker: what a drill is about and what it must achieve."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.targets import component_key, reference_default

TIERS = ("monthly", "quarterly", "annual")
SEVERITIES = (1, 2, 3)
ALLOWED = ("scenario", "tier", "rto", "rpo", "severity", "component", "option", "description")

MARKER_HELP = (
    "drill(scenario, tier='monthly'|'quarterly'|'annual', rto='1h', rpo='5m', severity=1|2|3, "
    "component='database', option=None, description=None): a DR drill with its targets. "
    "Durations: '0', '45s', '15min', '5m', '1h', '2h30m' or a timedelta; rto/rpo default "
    "from the component's row of the config's or the DR procedures' RTO/RPO tables."
)


@dataclass(frozen=True)
class DrillSpec:
    scenario: str
    tier: str | None
    rto_s: float | None
    rpo_s: float | None
    severity: int | None
    component: str | None
    option: str | None = None
    description: str | None = None
    rto_source: str | None = None
    rpo_source: str | None = None


def spec_from_marker(
    args: tuple[Any, ...], kwargs: Mapping[str, Any], *, config: Config | None = None, where: str = ""
) -> DrillSpec:
    """Validate the marker's arguments; every error names the bad value and the fix."""
    prefix = f"{where}: " if where else ""
    if len(args) > 1:
        raise InvalidDrillConfig(f"{prefix}drill marker takes at most one positional argument (scenario)")
    values = dict(kwargs)
    if args:
        if "scenario" in values:
            raise InvalidDrillConfig(f"{prefix}scenario given twice")
        values["scenario"] = args[0]
    unknown = sorted(set(values) - set(ALLOWED))
    if unknown:
        raise InvalidDrillConfig(
            f"{prefix}unknown drill marker argument(s) {', '.join(unknown)}; accepted: {', '.join(ALLOWED)}"
        )
    scenario = values.get("scenario")
    if not isinstance(scenario, str) or not scenario.strip():
        raise InvalidDrillConfig(f"{prefix}drill marker needs scenario='...' (a non-empty string)")
    tier = values.get("tier")
    if tier is not None and tier not in TIERS:
        raise InvalidDrillConfig(f"{prefix}invalid tier {tier!r}: use one of {', '.join(TIERS)}")
    severity = values.get("severity")
    if severity is not None and (isinstance(severity, bool) or severity not in SEVERITIES):
        raise InvalidDrillConfig(f"{prefix}invalid severity {severity!r}: use 1, 2 or 3")
    component = values.get("component")
    if component is not None and not isinstance(component, str):
        raise InvalidDrillConfig(f"{prefix}component must be a string, not {component!r}")

    rto_s, rto_source = _target("rto", values, component, config, prefix)
    rpo_s, rpo_source = _target("rpo", values, component, config, prefix)
    return DrillSpec(
        scenario=scenario.strip(),
        tier=tier,
        rto_s=rto_s,
        rpo_s=rpo_s,
        severity=severity,
        component=component,
        option=values.get("option"),
        description=values.get("description"),
        rto_source=rto_source,
        rpo_source=rpo_source,
    )


def _target(
    kind: str, values: dict[str, Any], component: str | None, config: Config | None, prefix: str
) -> tuple[float | None, str | None]:
    if kind in values:
        if values[kind] is None:  # said explicitly: this drill has no such objective
            return None, "drill marker: no objective"
        return _duration(values[kind], kind, prefix), "drill marker"
    if component is not None and config is not None:
        table = config.section("targets")
        for key in (component, component_key(component)):
            row = table.get(key)
            if isinstance(row, dict) and row.get(kind) is not None:
                where = f"{config.where()} [targets.{key}] {kind}"
                return _duration(row[kind], f"{kind} ({where})", prefix), where
    default = reference_default(component)
    value = getattr(default, kind) if default else None
    if default is None or value is None:
        return None, None
    return parse_duration(value), default.source


def check_targets(config: Config) -> None:
    """Every ``[targets.<component>]`` row, read now rather than by each drill that uses it."""
    for component, row in config.section("targets").items():
        where = f"{config.where()}: [targets.{component}]"
        if not isinstance(row, dict):
            raise InvalidDrillConfig(f'{where} must be a table of rto and rpo, e.g. rto = "1h", rpo = "5m"')
        unknown = sorted(set(row) - {"rto", "rpo"})
        if unknown:
            raise InvalidDrillConfig(f"{where}: {', '.join(unknown)} is not a known key here; use rto "
                                     "and rpo")
        for kind in ("rto", "rpo"):
            if row.get(kind) is not None:
                _duration(row[kind], f"{kind} ({where})", "")


def _duration(value: Any, what: str, prefix: str) -> float:
    try:
        return parse_duration(value, what=what)
    except InvalidDrillConfig as exc:
        raise InvalidDrillConfig(f"{prefix}{exc}") from None


def as_seconds(value: str | float | timedelta | None, what: str = "duration") -> float | None:
    return None if value is None else parse_duration(value, what=what)
