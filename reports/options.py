"""What a report needs besides the journal: people, owners, due dates, thresholds.

From the config's ``[report]`` table (``drillbook.toml`` or
``[tool.drillbook.report]``) and command-line options; every bad value raises
:class:`InvalidDrillConfig` naming the key and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from drillbook.harness.config import Config
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.paging.policy import DEFAULT_LEVELS, Level, policy_from_config
from drillbook.harness.people import parse_person
from drillbook.harness.records import Person
from drillbook.harness.redact import redact_text
from drillbook.reports.reference import CADENCE_DAYS, SIGN_OFF_ROLES

SEVERITY_KEYS = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Regression:
    """When history warns that a scenario's RTO (or RPO) creeps up to its target.

    Level rule: the median of the last ``window`` measured runs is above
    ``threshold`` x target. Slope rule: a least-squares line through the last
    ``slope_window`` runs rises and reaches ``threshold`` x target within
    ``horizon`` more runs. Either rule warns; ``min_runs`` runs are needed first.
    """

    threshold: float = 0.8
    window: int = 5
    slope_window: int = 10
    horizon: int = 5
    min_runs: int = 4


@dataclass(frozen=True)
class ReportOptions:
    led_by: str = ""
    participants: tuple[Person, ...] = ()
    sign_off: tuple[Person, ...] = tuple(Person("", role) for role in SIGN_OFF_ROLES)
    owners: dict[str, str] = field(default_factory=dict)  # "default", "procedures", "fix", "training"
    due_days: dict[str, int] = field(default_factory=dict)  # severities, "procedures", "training"
    organisation: str = "Compliant"
    regression: Regression = Regression()
    cadence_days: dict[str, int] = field(default_factory=lambda: dict(CADENCE_DAYS))
    #: More writes of unknown outcome than this in one drill is an issue with an action item.
    indeterminate_threshold: int = 10
    #: The internal message's BRIDGE and SLACK lines ("" : the procedures' placeholders).
    bridge: str = ""
    slack: str = ""
    #: The escalation path (``[paging]`` levels, else the procedures' Escalation Path).
    escalation: tuple[Level, ...] = DEFAULT_LEVELS

    def owner(self, kind: str) -> str:
        return self.owners.get(kind) or self.owners.get("default", "")

    def with_people(self, led_by: str | None, participants: list[str] | None) -> ReportOptions:
        """Command-line people replace the config's."""
        updated = self
        if led_by:
            updated = replace(updated, led_by=redact_text(led_by))
        if participants:
            updated = replace(
                updated, participants=tuple(parse_person(p, "--participant") for p in participants)
            )
        return updated


def from_config(config: Config) -> ReportOptions:
    table = config.section("report")
    where = f"{config.where()} [report]"
    people = table.get("participants", [])
    if not isinstance(people, list):
        raise InvalidDrillConfig(f'{where} participants must be a list of "Name (Role)" strings or tables')
    sign_off = table.get("sign_off", list(SIGN_OFF_ROLES))
    if not isinstance(sign_off, list) or not sign_off:
        raise InvalidDrillConfig(
            f"{where} sign_off must be a non-empty list of roles or {{role, name}} tables"
        )
    led_by = table.get("led_by", "")
    organisation = table.get("organisation", "Compliant")
    for key, value in (("led_by", led_by), ("organisation", organisation)):
        if not isinstance(value, str):
            raise InvalidDrillConfig(f"{where} {key} must be a string, not {value!r}")
    threshold = table.get("indeterminate_threshold", 10)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise InvalidDrillConfig(
            f"{where} indeterminate_threshold = {threshold!r}: use a whole number of writes >= 0, e.g. 10"
        )
    comms = _strings(table.get("comms", {}), f"{where}.comms")
    policy = policy_from_config(config)
    return ReportOptions(
        led_by=redact_text(led_by),
        participants=tuple(parse_person(p, f"{where} participants") for p in people),
        sign_off=tuple(_signer(s, where) for s in sign_off),
        owners=_strings(table.get("owners", {}), f"{where}.owners"),
        due_days=_days(table.get("due_days", {}), f"{where}.due_days"),
        organisation=organisation,
        regression=_regression(table.get("regression", {}), f"{where}.regression"),
        cadence_days={**CADENCE_DAYS, **_days(table.get("cadence_days", {}), f"{where}.cadence_days")},
        indeterminate_threshold=threshold,
        bridge=comms.get("bridge", ""),
        slack=comms.get("slack", ""),
        escalation=policy.levels if policy is not None else DEFAULT_LEVELS,
    )


def _signer(value: Any, where: str) -> Person:
    if isinstance(value, str):
        return Person("", redact_text(value.strip()))
    return parse_person(value, f"{where} sign_off")


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidDrillConfig(f'[{where}] must be a table of strings, e.g. default = "DevOps lead"')
    return {str(k).lower(): redact_text(v) for k, v in value.items()}


def _days(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise InvalidDrillConfig(f"[{where}] must be a table of day counts, e.g. high = 14")
    out = {}
    for key, days in value.items():
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidDrillConfig(f"[{where}] {key} = {days!r}: use a whole number of days >= 0")
        out[str(key).lower()] = days
    return out


def _regression(value: Any, where: str) -> Regression:
    if not isinstance(value, dict):
        raise InvalidDrillConfig(
            f"[{where}] must be a table (threshold, window, slope_window, horizon, min_runs)"
        )
    base = Regression()
    try:
        return regression(
            threshold=value.get("threshold", base.threshold),
            window=value.get("window", base.window),
            slope_window=value.get("slope_window", base.slope_window),
            horizon=value.get("horizon", base.horizon),
            min_runs=value.get("min_runs", base.min_runs),
        )
    except InvalidDrillConfig as exc:
        raise InvalidDrillConfig(f"[{where}] {exc}") from None


def regression(*, threshold: Any, window: Any, slope_window: Any, horizon: Any, min_runs: Any) -> Regression:
    """A validated :class:`Regression`."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 10:
        raise InvalidDrillConfig(
            f"regression threshold {threshold!r}: use a fraction of the target, e.g. 0.8"
        )
    counts = {"window": window, "slope_window": slope_window, "horizon": horizon, "min_runs": min_runs}
    for key, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidDrillConfig(f"regression {key} {count!r}: use a whole number of runs >= 1")
    if slope_window < 2:
        raise InvalidDrillConfig("regression slope_window must be at least 2 runs to fit a line")
    return Regression(float(threshold), window, slope_window, horizon, min_runs)
