"""Revert, from any process, the faults a dead runner left behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drillbook.harness import registry, undolog
from drillbook.harness.errors import DrillbookError


@dataclass
class RevertOutcome:
    run_id: str
    name: str
    params: dict[str, object]
    status: str  # reverted | manual | failed | skipped
    detail: str = ""


@dataclass
class RevertReport:
    outcomes: list[RevertOutcome] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(o.status == "reverted" for o in self.outcomes)


def revert_leftovers(state_dir: Path, run_id: str | None = None, *, force: bool = False) -> RevertReport:
    """Revert the outstanding faults of dead runners (or of ``run_id``), newest first.

    A log whose runner is still alive is skipped unless ``force``: that runner
    reverts its own faults. A fault that is not registered cannot be rebuilt and
    is reported as needing a manual revert.
    """
    report = RevertReport()
    logs = undolog.all_logs(state_dir)
    if run_id is not None:
        logs = [log for log in logs if log.run_id == run_id]
        if not logs:
            raise DrillbookError(
                f"no undo log for run {run_id!r} in {state_dir / 'undo'}; "
                "run `drillbook revert` without --run-id to see every leftover"
            )
    for log in sorted(logs, key=lambda lg: lg.path.stat().st_mtime, reverse=True):
        if not log.outstanding:
            log.path.unlink(missing_ok=True)
            continue
        if log.runner_alive and not force:
            for entry in log.outstanding:
                report.outcomes.append(
                    RevertOutcome(
                        log.run_id,
                        entry.name,
                        entry.params,
                        "skipped",
                        f"runner pid {log.pid} is still running; it reverts its own faults "
                        "(--force to override)",
                    )
                )
            continue
        for entry in log.outstanding:
            report.outcomes.append(_revert_one(log, entry))
        if not undolog.read(log.path).outstanding:
            log.path.unlink(missing_ok=True)
    return report


def _revert_one(log: undolog.UndoLogFile, entry: undolog.UndoEntry) -> RevertOutcome:
    if not entry.registered:
        return RevertOutcome(
            log.run_id,
            entry.name,
            entry.params,
            "manual",
            f"not a registered fault: revert it by hand, then delete {log.path}",
        )
    try:
        fault = registry.build(entry.name, entry.params)
        fault.revert()
    except Exception as exc:  # each leftover is tried even if one fails
        undolog.append_mark(log.path, entry.seq, "failed", f"{type(exc).__name__}: {exc}")
        return RevertOutcome(log.run_id, entry.name, entry.params, "failed", f"{type(exc).__name__}: {exc}")
    undolog.append_mark(log.path, entry.seq, "reverted")
    return RevertOutcome(log.run_id, entry.name, entry.params, "reverted")
