"""An environment profile's common part: its kind, ``production``, its capabilities
(``capabilities = [...]``: what the platform can do beyond the roles' common API, see
:mod:`drillbook.harness.environments.capabilities`), and the blast-radius limits per fault
(``[limits.<fault>]`` for every environment, ``[environments.<name>.limits.<fault>]`` for one).
The roles of a staging profile are read by :mod:`drillbook.harness.environments.staging.settings`."""

from __future__ import annotations

from dataclasses import dataclass, field

from drillbook.harness.config import Config, ConfigError, Table
from drillbook.harness.environments import capabilities as caps

KINDS = ("local", "staging", "containers")
#: How often a wait asks a control plane by default: the local twin answers in milliseconds;
#: AWS and Kubernetes take seconds to minutes, and their APIs are rate-limited.
POLL_INTERVAL_S = {"local": 0.05, "staging": 5.0, "containers": 1.0}
#: The key of the limits that apply to every fault without its own.
DEFAULT_LIMIT = "default"


@dataclass(frozen=True)
class FaultLimit:
    """How much one fault may break. ``allow = false`` refuses it outright."""

    fault: str
    allow: bool = True
    max_pods: int | None = None
    max_percent: float | None = None
    max_nodes: int | None = None

    @classmethod
    def read(cls, fault: str, table: Table) -> FaultLimit:
        limit = cls(
            fault=fault,
            allow=table.flag("allow", True),
            max_pods=table.integer("max_pods", minimum=0),
            max_percent=table.number("max_percent", minimum=0.0, maximum=100.0),
            max_nodes=table.integer("max_nodes", minimum=0),
        )
        table.finish()
        return limit

    def merged(self, other: FaultLimit | None) -> FaultLimit:
        """``other`` (more specific) overrides what it sets."""
        if other is None:
            return self
        return FaultLimit(
            fault=other.fault,
            allow=self.allow and other.allow,
            max_pods=other.max_pods if other.max_pods is not None else self.max_pods,
            max_percent=other.max_percent if other.max_percent is not None else self.max_percent,
            max_nodes=other.max_nodes if other.max_nodes is not None else self.max_nodes,
        )


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str
    production: bool = False
    limits: dict[str, FaultLimit] = field(default_factory=dict)
    #: What the platform can do beyond the roles' common API (the local twin: everything).
    capabilities: frozenset[str] = frozenset()
    #: How often a wait polls (``poll_interval``), bounded by the drill's hard timeout.
    poll_interval: float = POLL_INTERVAL_S["staging"]
    #: The profile's table (None for the built-in local profile without one).
    table: Table | None = None

    def limit_for(self, fault: str) -> FaultLimit | None:
        default = self.limits.get(DEFAULT_LIMIT)
        own = self.limits.get(fault)
        if default is None:
            return own
        return default.merged(own)


def kind_of(name: str, table: Table | None) -> str:
    if table is not None and "driver" in table:
        return table.required_str("driver", choices=KINDS, example='"staging"')
    if name in ("local", "containers"):
        return name
    return "staging"


def load_profile(config: Config, name: str) -> Profile:
    """The profile called ``name``; ``local`` exists without a table, others need one."""
    table = config.environment(name)
    if table is None and name not in ("local", "containers"):
        known = ", ".join(["local", *[n for n in config.environment_names() if n != "local"]])
        raise ConfigError(
            f"{config.where()}: unknown environment {name!r}: define [environments.{name}] in drillbook.toml "
            f"(see docs/configuration.md) or use one of: {known}"
        )
    kind = kind_of(name, table)
    limits = _limits(config)
    production = False
    capabilities = caps.LOCAL if kind == "local" else frozenset()
    poll_interval = table.duration("poll_interval", POLL_INTERVAL_S[kind]) if table else POLL_INTERVAL_S[kind]
    if table is not None and kind != "local":
        production = table.flag("production", False)
        capabilities = _capabilities(table)
        for fault, limit_table in table.tables("limits").items():
            limits[fault] = (
                limits[fault].merged(FaultLimit.read(fault, limit_table))
                if fault in limits
                else FaultLimit.read(fault, limit_table)
            )
    return Profile(
        name=name,
        kind=kind,
        production=production,
        limits=limits,
        capabilities=capabilities,
        poll_interval=poll_interval,
        table=table,
    )


def _capabilities(table: Table) -> frozenset[str]:
    granted = table.strings("capabilities", example=f'["{caps.DATA_DIRECTORY}"]')
    for name in granted:
        if name not in caps.KNOWN:
            raise table.error(
                "capabilities",
                f"unknown capability {name!r}; a profile may grant {', '.join(caps.KNOWN)}",
            )
    return frozenset(granted)


def _limits(config: Config) -> dict[str, FaultLimit]:
    raw = config.get("limits")
    if raw is None:
        return {}
    top = Table({"limits": raw}, "", config.where())
    return {fault: FaultLimit.read(fault, t) for fault, t in top.tables("limits").items()}
