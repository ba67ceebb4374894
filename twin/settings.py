"""Settings of the local environment: ``[environments.local]`` in drillbook.toml.

Every key is optional; an unknown key or a bad value is an :class:`InvalidDrillConfig`
naming the key and what it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.twin.sample_data import parse_size
from drillbook.twin.service.images import API_IMAGES, GOOD_VERSION

ZONES = ("az-a", "az-b")


@dataclass(frozen=True)
class LocalSettings:
    #: Sample data set: small (default), 10MB, 100MB, 1GB, or a size with a unit.
    data_size: str = "small"
    #: API replicas spread over the zones, and background workers.
    replicas: int = 3
    workers: int = 2
    #: Replicas a rolling update may start above the desired count (Kubernetes' maxSurge;
    #: 1 rolls one replica at a time, the replica count rolls them all at once).
    max_surge: int = 1
    zones: tuple[str, ...] = ZONES
    #: Scheduled snapshots (base backups); 0 turns the schedule off.
    snapshot_interval_s: float = 3600.0
    snapshot_keep: int = 5
    #: Bound on the age of the newest archived WAL (the archive's RPO).
    archive_timeout_s: float = 10.0
    domain: str = "compliant.example"
    #: The primary is Multi-AZ: a standby server in the other zone, built in the background
    #: after ``up`` (RebootDBInstance with ForceFailover promotes it). false: Single-AZ.
    multi_az: bool = True
    #: The service release the API and workers start with (an image version: 1.0.0, or 1.2.0
    #: whose cache breaker latches, docs/explore.md).
    release: str = GOOD_VERSION
    start_timeout_s: float = 180.0
    #: How often a drill's waits poll (the profile's ``poll_interval``): the twin answers in ms.
    poll_interval_s: float = 0.05
    stop_timeout_s: float = 30.0

    @classmethod
    def from_config(cls, config: Config | None, **overrides: Any) -> LocalSettings:
        table: dict[str, Any] = {}
        if config is not None:
            environments = config.section("environments")
            raw = environments.get("local", {})
            if not isinstance(raw, dict):
                raise InvalidDrillConfig(f"{config.where()}: [environments.local] must be a table")
            table = dict(raw)
        table.update({k: v for k, v in overrides.items() if v is not None})
        return cls()._with(table, where=config.where() if config else "settings")

    def _with(self, table: dict[str, Any], *, where: str) -> LocalSettings:
        known = {f.name for f in fields(self)}
        aliases = {"snapshot_interval": "snapshot_interval_s", "archive_timeout": "archive_timeout_s",
                   "start_timeout": "start_timeout_s", "stop_timeout": "stop_timeout_s",
                   "poll_interval": "poll_interval_s"}
        values: dict[str, Any] = {}
        for key, value in table.items():
            name = aliases.get(key, key)
            if name not in known:
                raise InvalidDrillConfig(f"{where}: [environments.local] has no setting {key!r}; "
                                         f"settings: {', '.join(sorted(known))}")
            values[name] = _coerce(name, value, where)
        return replace(self, **values)


def _coerce(name: str, value: Any, where: str) -> Any:
    what = f"{where}: environments.local.{name}"
    if name.endswith("_s"):
        return parse_duration(value, what=what)
    if name in ("replicas", "workers", "snapshot_keep", "max_surge"):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "workers" else 1):
            raise InvalidDrillConfig(f"{what} must be a positive whole number, not {value!r}")
        return value
    if name == "multi_az":
        if not isinstance(value, bool):
            raise InvalidDrillConfig(f"{what} must be true or false, not {value!r}")
        return value
    if name == "zones":
        if not isinstance(value, list | tuple) or not value or not all(isinstance(z, str) for z in value):
            raise InvalidDrillConfig(f"{what} must be a list of zone names, not {value!r}")
        return tuple(value)
    if name == "release":
        if value not in API_IMAGES:
            raise InvalidDrillConfig(f"{what} must be a release of the service ({', '.join(API_IMAGES)}), "
                                     f"not {value!r}")
        return value
    if name == "data_size":
        parse_size(value)
        return str(value)
    if not isinstance(value, str) or not value:
        raise InvalidDrillConfig(f"{what} must be a non-empty string, not {value!r}")
    return value
