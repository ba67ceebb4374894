"""Appendix A's "Pre-Disaster Preparation", line by line: automated items where the
journal, the environment and the repository can show it, manual items otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drillbook.harness.config import Config
from drillbook.harness.durations import format_duration
from drillbook.harness.environments.base import Environment
from drillbook.harness.marker import spec_from_marker
from drillbook.harness.paging.policy import policy_from_config
from drillbook.harness.readiness import database_checks, journal_checks, template_checks
from drillbook.harness.readiness.journal_checks import SuiteDrill
from drillbook.harness.readiness.model import Item, Readiness, manual
from drillbook.harness.readiness.settings import ReadinessSettings
from drillbook.harness.records import DrillResult
from drillbook.harness.timing import iso

#: The checklist in its order: (line, keys of the automated items evidencing it).
PRE_DISASTER = (
    ("DR plan documented and up-to-date", ()),
    ("All team members trained on procedures", ()),
    ("Contact lists current", ()),
    ("Backup systems tested monthly", ("backup_drill", "snapshot", "wal_archive")),
    ("Multi-AZ/region deployment configured", ("replica_lag",)),
    ("Automated failover tested", ("freshness",)),
    ("Monitoring and alerting configured", ("probes",)),
    ("Status page ready", ()),
    ("Communication templates prepared", ("templates",)),
    ("Legal/compliance requirements understood", ()),
)


@dataclass
class Inputs:
    config: Config
    environment: Environment
    records: Sequence[DrillResult]
    drills: Sequence[SuiteDrill]
    results: Path
    cadence_days: dict[str, int]
    schedule: str | None = None
    now: datetime | None = None


def check(inputs: Inputs) -> Readiness:
    now = inputs.now or datetime.now(UTC)
    settings = ReadinessSettings.from_config(inputs.config)
    rpo_s, rpo_source = database_rpo(inputs.config)
    records = journal_checks.evidence(inputs.records)
    env = inputs.environment
    snapshot_limit = settings.snapshot_max_age_s if settings.snapshot_max_age_s is not None else rpo_s
    automated: dict[str, Item] = {
        "backup_drill": journal_checks.backup_verified(
            records, now=now, max_age_days=settings.backup_max_age_days, names=settings.backup_drills
        ),
        "snapshot": database_checks.snapshot_fresh(
            env,
            now=now,
            max_age_s=snapshot_limit,
            limit_source="[readiness] snapshot_max_age"
            if settings.snapshot_max_age_s is not None
            else f"the database RPO, {rpo_source}",
        ),
        "wal_archive": database_checks.wal_archived(env, rpo_s=rpo_s),
        "replica_lag": database_checks.replica_lag(env, rpo_s=rpo_s),
        "freshness": journal_checks.scenarios_fresh(
            inputs.drills, records, now=now, cadence_days=inputs.cadence_days, schedule=inputs.schedule
        ),
        "probes": journal_checks.probes_defined(inputs.drills, records, _probe_names(env)),
        "templates": template_checks.templates_present(
            [d for d in (template_checks.builtin_templates(),) if d is not None] + list(settings.templates)
        ),
    }
    items: list[Item] = []
    for line, keys in PRE_DISASTER:
        if keys:
            items += [automated[k] for k in keys]
        else:
            items.append(manual(_key(line), line, line, _hint(line, inputs)))
    return Readiness(generated_at=iso(now), environment=env.name, results=str(inputs.results), items=items)


def database_rpo(config: Config) -> tuple[float, str]:
    spec = spec_from_marker((), {"scenario": "readiness", "component": "database"}, config=config)
    if spec.rpo_s is None:
        return 300.0, "DR procedures: Database 5 minutes"
    return spec.rpo_s, spec.rpo_source or "DR procedures"


def _probe_names(env: Environment) -> list[str]:
    try:
        return [str(getattr(p, "name", p)) for p in env.steady_probes()]
    except Exception:  # an environment that is down has no probes to list
        return []


def _key(line: str) -> str:
    return line.split()[0].lower().replace("/", "_")


def _hint(line: str, inputs: Inputs) -> str:
    if line.startswith("DR plan"):
        return "review the generated plan (`drillbook plan -o DIR --format md,html`) and the DR procedures"
    if line.startswith("Contact lists"):
        policy = policy_from_config(inputs.config)
        if policy is None:
            return "no [paging] escalation path configured: confirm the Emergency Contact List by hand"
        levels = "; ".join(
            f"{lv.name} ({lv.contact}) {format_duration(lv.respond_within_s)}" for lv in policy.levels
        )
        return f"confirm the people behind the configured escalation path: {levels}"
    if line.startswith("All team"):
        return "confirm everyone on the rota took part in a drill or walked through the runbooks"
    if line.startswith("Status page"):
        return "confirm the status page can be updated by the Communications role"
    return "confirm with the responsible owner"
