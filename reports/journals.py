"""Reading journals for reports: pick a suite run, load its records, know the chain's state.

Reports read the journal directory; nothing here writes to it. Records are
redacted as they are loaded, so that a secret an older drillbook let into a
journal never reaches a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.harness import journal
from drillbook.harness.errors import DrillbookError
from drillbook.harness.journal import ChainReport
from drillbook.harness.records import SIGNOFF_KIND, DrillResult, SignOff, kind_of
from drillbook.harness.redact import redact, redact_text
from drillbook.harness.signoff import report_hash

_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Entry:
    """One journal record with the file it came from and its place in the chain."""

    index: int  # 0-based position in the chain
    path: Path
    result: DrillResult  # redacted


@dataclass(frozen=True)
class SignedEntry:
    """A sign-off record of the run, with its file and place in the chain."""

    index: int
    path: Path
    signoff: SignOff  # redacted


@dataclass(frozen=True)
class RunRecords:
    directory: Path
    run_id: str
    entries: tuple[Entry, ...]
    chain: ChainReport
    total_records: int
    signoffs: tuple[SignedEntry, ...] = ()

    @property
    def report_hash(self) -> str:
        """What a sign-off of this run signs (:func:`drillbook.harness.signoff.report_hash`)."""
        return report_hash((e.result.record_id or "", e.result.hash or "") for e in self.entries)


class NoJournal(DrillbookError):
    """The results directory holds no journal, or not the run asked for."""


def read(path: Path) -> dict[str, Any]:
    """One record; a damaged or foreign file raises a JournalError naming it."""
    return journal.read_record(path)


def redact_record(data: dict[str, Any]) -> dict[str, Any]:
    """Mask secrets in a record's text everywhere, and by key where free-form mappings live.

    Key-based masking (``password = ...``) applies only to fault parameters, the
    fingerprint and ``extra``: the record's own keys (``passed``) are not secrets.
    """
    clean: dict[str, Any] = redact_texts(data)
    for fault in clean.get("faults") or []:
        if isinstance(fault, dict) and isinstance(fault.get("params"), dict):
            fault["params"] = redact(fault["params"])
    env = clean.get("environment")
    if isinstance(env, dict) and isinstance(env.get("fingerprint"), dict):
        env["fingerprint"] = redact(env["fingerprint"])
    if isinstance(clean.get("extra"), dict):
        clean["extra"] = redact(clean["extra"])
    return clean


def redact_texts(value: Any) -> Any:
    """Every string inside ``value`` redacted; keys are left alone (``passed`` is no password)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_texts(v) for v in value]
    return value


def to_signoff(data: dict[str, Any], path: Path) -> SignOff:
    try:
        return SignOff.from_dict(redact_texts(data))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise journal.damaged(path, f"a sign-off record of an unknown shape ({exc})") from exc


def to_result(data: dict[str, Any], path: Path) -> DrillResult:
    return journal.to_result(redact_record(data), path)


def files_or_fail(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise NoJournal(
            f"results directory {directory} does not exist; pass --results DIR (the drills' --drill-results)"
        )
    files = journal.record_files(directory)
    if not files:
        raise NoJournal(f"no journal records in {directory}; run the drills first (pytest drills/)")
    return files


def run_records(directory: Path, run_id: str | None = None, *, verify: bool = True) -> RunRecords:
    """The records of suite run ``run_id`` (the latest run when None), in chain order.

    The latest run is the run of the last record. A run is found by its records'
    file names first (the journal names files after the record id, which starts
    with the run id) and by reading every record when that finds nothing.
    """
    files = files_or_fail(directory)
    if run_id is None:
        run_id = str(read(files[-1])["run_id"])
    slug = _SLUG.sub("_", run_id)[:80]
    candidates = [(i, p) for i, p in enumerate(files) if p.name.split("-", 1)[1].startswith(slug)]
    picked = [(i, p, d) for i, p in candidates if (d := read(p))["run_id"] == run_id]
    if not picked:
        picked = [(i, p, d) for i, p in enumerate(files) if (d := read(p))["run_id"] == run_id]
    drills = [(i, p, d) for i, p, d in picked if kind_of(d) != SIGNOFF_KIND]
    if not drills:
        raise NoJournal(
            f"no run {run_id!r} in {directory}; the latest runs are: "
            f"{', '.join(latest_run_ids(files, 5))} (or use --latest)"
        )
    entries = tuple(Entry(i, p, to_result(d, p)) for i, p, d in drills)
    signoffs = tuple(
        SignedEntry(i, p, to_signoff(d, p)) for i, p, d in picked if kind_of(d) == SIGNOFF_KIND
    )
    chain = (
        journal.verify_chain(directory)
        if verify
        else ChainReport(directory, len(files), True, None, "not verified (--no-verify)")
    )
    return RunRecords(directory, run_id, entries, chain, len(files), signoffs)


def latest_run_ids(files: list[Path], count: int) -> list[str]:
    found: list[str] = []
    for path in reversed(files):
        run_id = str(read(path)["run_id"])
        if run_id not in found:
            found.append(run_id)
        if len(found) == count:
            break
    return found


def chain_state(chain: ChainReport, index: int) -> tuple[bool | None, str]:
    """Whether the record at ``index`` is covered by a verified chain, and why."""
    if chain.problem.startswith("not verified"):
        return None, "chain not verified"
    if chain.ok:
        return True, f"verified: hash and link intact, chain of {chain.records} records verifies"
    broken = chain.broken_at.name if chain.broken_at else "?"
    if index < chain.records:
        return True, f"verified; the chain breaks later, at {broken}: {chain.problem}"
    if index == chain.records:
        return False, f"BROKEN: {chain.problem}"
    return False, f"cannot be verified: the chain breaks before it, at {broken}: {chain.problem}"
