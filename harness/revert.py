"""Revert, from any process, the faults a dead runner left behind."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from drillbook.harness import registry, undolog
from drillbook.harness.errors import DrillbookError
from drillbook.harness.redact import redact_text


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
    #: Undo logs that could not be read (each names its file and what is wrong).
    unreadable: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.unreadable and all(o.status == "reverted" for o in self.outcomes)


def revert_leftovers(state_dir: Path, run_id: str | None = None, *, force: bool = False) -> RevertReport:
    """Revert the outstanding faults of dead runners (or of ``run_id``), newest first.

    A log whose runner is still alive is skipped unless ``force``: that runner
    reverts its own faults. A fault that is not registered cannot be rebuilt and
    is reported as needing a manual revert.
    """
    report = RevertReport()
    logs, problems = undolog.scan(state_dir)
    if run_id is not None:
        logs = [log for log in logs if log.run_id == run_id]
        problems = {path: exc for path, exc in problems.items() if path.stem == run_id}
        if not logs and not problems:
            raise DrillbookError(
                f"no undo log for run {run_id!r} in {state_dir / 'undo'}; "
                "run `drillbook revert` without --run-id to see every leftover"
            )
    report.unreadable = [str(exc) for exc in problems.values()]
    for log in sorted(logs, key=_age):
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
        with contextlib.suppress(undolog.UndoLogError):  # gone: another revert finished it
            if not undolog.read(log.path).outstanding:
                log.path.unlink(missing_ok=True)
    return report


def revert_run(state_dir: Path, run_id: str) -> RevertReport:
    """Revert what run ``run_id`` left behind, if anything (its runner must be dead)."""
    if not (state_dir / "undo" / f"{run_id}.jsonl").exists():
        return RevertReport()
    return revert_leftovers(state_dir, run_id)


def _age(log: undolog.UndoLogFile) -> float:
    """Newest first; a log deleted meanwhile sorts last (and is skipped as done)."""
    try:
        return -log.path.stat().st_mtime
    except OSError:
        return 0.0


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
        detail = redact_text(f"{type(exc).__name__}: {exc}")
        _mark(log, entry, "failed", detail)
        return RevertOutcome(log.run_id, entry.name, entry.params, "failed", detail)
    marked = _mark(log, entry, "reverted")
    return RevertOutcome(log.run_id, entry.name, entry.params, "reverted", marked)


def _mark(log: undolog.UndoLogFile, entry: undolog.UndoEntry, state: str, error: str = "") -> str:
    """Record the outcome; a mark that cannot be written is said, not raised: the entry stays
    outstanding and the next revert does it again (reverts are idempotent)."""
    try:
        undolog.append_mark(log.path, entry.seq, state, error)
    except (DrillbookError, OSError) as exc:
        return f"not marked in the undo log: {exc}"
    return ""
