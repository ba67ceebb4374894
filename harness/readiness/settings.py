"""``[readiness]`` in the config: thresholds and names the checklist uses.

[readiness]
backup_max_age = 31             # days: a backup verification drill passed within them
backup_drills = ["database-corruption/snapshot-restore"]  # default: drills naming "backup"
snapshot_max_age = "25h"        # default: the database RPO
templates = ["ops/comms"]       # the team's own communication templates, beside reports'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig

KEYS = ("backup_max_age", "backup_drills", "snapshot_max_age", "templates")


@dataclass(frozen=True)
class ReadinessSettings:
    backup_max_age_days: int = 31
    backup_drills: tuple[str, ...] = ()
    snapshot_max_age_s: float | None = None
    templates: tuple[Path, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> ReadinessSettings:
        table = config.section("readiness")
        where = f"{config.where()} [readiness]"
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            raise InvalidDrillConfig(f"{where}: unknown key(s) {', '.join(unknown)}; keys: {', '.join(KEYS)}")
        days = table.get("backup_max_age", 31)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidDrillConfig(f"{where}: backup_max_age is a whole number of days >= 1, not {days!r}")
        snapshot = table.get("snapshot_max_age")
        return cls(
            backup_max_age_days=days,
            backup_drills=_strings(table.get("backup_drills", []), f"{where} backup_drills"),
            snapshot_max_age_s=None
            if snapshot is None
            else parse_duration(snapshot, what=f"{where} snapshot_max_age"),
            templates=tuple(
                config.root / p for p in _strings(table.get("templates", []), f"{where} templates")
            ),
        )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidDrillConfig(f"{where} must be a list of strings")
    return tuple(value)
