"""Run-wide settings of the drill harness, from options and config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.people import run_people
from drillbook.harness.records import People


@dataclass(frozen=True)
class DrillSettings:
    results_dir: Path = Path("drill-results")
    state_dir: Path = Path(".drillbook")
    probe_interval: float = 0.1
    consecutive: int = 3
    hard_timeout: float | None = None  # None: twice the RTO target, else 600 s
    ledger_interval: float = 0.05
    ledger_timeout: float = 1.0
    allow_partial: bool = False
    env_name: str = "local"
    schedule: str | None = None
    progress: bool = True
    #: Merged into every record's ``extra`` (e.g. an unannounced drill's commitment).
    run_extra: dict[str, Any] = field(default_factory=dict)
    #: Who led the run and took part (``--drill-led-by``, ``--drill-participant``, ``[report]``).
    people: People | None = None
    #: How long a run waits for its environment's lease before giving up (0: refuse at once).
    wait_for_lease: float = 0.0

    def hard_timeout_for(self, rto_target: float | None) -> float:
        if self.hard_timeout is not None:
            return self.hard_timeout
        if rto_target:
            return 2 * rto_target
        return 600.0


def from_config(cfg: Config, options: Mapping[str, Any] | None = None) -> DrillSettings:
    """The run's settings: ``options`` (the pytest options, ``None`` when not given) over the
    config's keys over the defaults. A bad value raises :class:`InvalidDrillConfig` naming it."""
    given = dict(options or {})

    def pick(option: str, key: str, default: Any) -> Any:
        value = given.get(option)
        return value if value is not None else cfg.get(key, default)

    where = cfg.where()
    interval = parse_duration(pick("drill_probe_interval", "probe_interval", 0.1),
                              what=f"{where}: probe_interval")
    hard = pick("drill_hard_timeout", "hard_timeout", None)
    consecutive = pick("drill_consecutive", "consecutive", 3)
    if isinstance(consecutive, bool) or not isinstance(consecutive, int) or consecutive < 1:
        raise InvalidDrillConfig(f"{where}: consecutive must be a whole number of at least 1, "
                                 f"not {consecutive!r}")
    if interval <= 0:
        raise InvalidDrillConfig(f"{where}: the probe interval must be longer than zero, not {interval!r}")
    paths = {}
    for option, key, default in (("drill_results", "results_dir", "drill-results"),
                                 ("drill_state_dir", "state_dir", ".drillbook")):
        value = pick(option, key, default) or default
        if not isinstance(value, str | Path):
            raise InvalidDrillConfig(f"{where}: {key} must be a path (a string), not {value!r}")
        paths[key] = _under(str(value))
    allow_partial = pick("drill_allow_partial", "allow_partial", False)
    if not isinstance(allow_partial, bool):
        raise InvalidDrillConfig(f"{where}: allow_partial must be true or false, not {allow_partial!r}")
    return DrillSettings(
        results_dir=paths["results_dir"],
        state_dir=paths["state_dir"],
        probe_interval=interval,
        consecutive=consecutive,
        hard_timeout=None if hard is None else parse_duration(hard, what=f"{where}: hard_timeout"),
        ledger_interval=parse_duration(cfg.get("ledger_interval", 0.05), what=f"{where}: ledger_interval"),
        ledger_timeout=parse_duration(cfg.get("ledger_timeout", 1.0), what=f"{where}: ledger_timeout"),
        allow_partial=allow_partial,
        env_name=str(given.get("drill_env") or "local"),
        schedule=given.get("drill_tier"),
        progress=not given.get("drill_quiet"),
        wait_for_lease=parse_duration(given.get("drill_wait_for_lease") or 0, what="--drill-wait-for-lease"),
        people=run_people(cfg, given.get("drill_led_by"), given.get("drill_participant")),
    )


def _under(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path)
