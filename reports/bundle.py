"""Portable evidence: one archive with a run's report, the journal with its whole chain, the
drafts the report links, JUnit XML and logs. Every link inside is relative and resolves
inside the archive; ``manifest.json`` and ``SHA256SUMS`` list each file's sha256.

The journal's records are copied byte for byte so that ``drillbook verify journal/``
checks the chain on the extracted archive. The one exception is a record holding a
secret an older drillbook let through: it is masked, and the manifest says so and
keeps the original file's sha256 (the copy no longer verifies: check the original).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from drillbook.harness import journal
from drillbook.harness.redact import redact_text
from drillbook.reports.journals import RunRecords, redact_record
from drillbook.reports.model import RunReport
from drillbook.reports.options import ReportOptions
from drillbook.reports.render import relink, render_files, safe_name

FORMAT = "drillbook.bundle"
VERSION = 1
JOURNAL = "journal"

README = """drillbook evidence bundle of suite run {run_id}

report.html / report.md / report.json  the DR Test Report (links resolve inside this archive)
postmortem-*.md, comms-*.md            the post-mortem and communication drafts the report links
journal/                               every journal record, with its hash chain
junit/, logs/                          the JUnit XML and logs of the run, where there were any
manifest.json, SHA256SUMS              each file's sha256

Check the files:      sha256sum -c SHA256SUMS
Check the chain:      drillbook verify journal
Report hash signed:   {report_hash}
"""


def write_bundle(
    report: RunReport,
    run: RunRecords,
    options: ReportOptions,
    out_dir: Path,
    *,
    formats: Iterable[str],
    today: datetime,
    logs: Sequence[Path] = (),
) -> Path:
    """Write ``out_dir/<run id>.evidence.zip``; returns its path."""
    files: dict[str, bytes] = {}
    notes: dict[str, dict[str, Any]] = {}
    for path in journal.record_files(run.directory):
        raw = path.read_bytes()
        name = f"{JOURNAL}/{path.name}"
        try:
            data = json.loads(raw)
        except ValueError:
            data = None  # copied as it is: ``drillbook verify`` names the damage
        clean = redact_record(data) if isinstance(data, dict) else data
        if clean != data:
            notes[name] = {
                "redacted": True,
                "original_sha256": hashlib.sha256(raw).hexdigest(),
                "note": "a secret written by an older drillbook is masked: this copy does not verify",
            }
            raw = journal.file_text(clean).encode("utf-8")
        files[name] = raw
    for name, text in render_files(relink(report, JOURNAL), formats, options, today).items():
        files[name] = text.encode("utf-8")
    for path in sorted(run.directory.glob("*.xml")):
        files[f"junit/{path.name}"] = _clean(path)
    for path in [*sorted(run.directory.glob("*.log")), *logs]:
        files[f"logs/{path.name}"] = _clean(path)
    files["README.txt"] = README.format(
        run_id=report.run_id, report_hash=report.sign_off.report_hash
    ).encode()
    listed = [
        {"path": name, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body), **notes.get(name, {})}
        for name, body in sorted(files.items())
    ]
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "run_id": report.run_id,
        "report_id": report.report_id,
        "report_hash": report.sign_off.report_hash,
        "sign_off": report.sign_off.status,
        "journal_chain": report.chain,
        "generated_at": report.generated_at,
        "files": listed,
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    sums = "".join(f"{hashlib.sha256(body).hexdigest()}  {name}\n" for name, body in sorted(files.items()))
    files["SHA256SUMS"] = sums.encode()
    return _write_zip(
        out_dir / f"{safe_name(report.run_id)}.evidence.zip", safe_name(report.run_id), files, today
    )


def _clean(path: Path) -> bytes:
    """A log or JUnit file with secrets masked (neither is hash-chained)."""
    return redact_text(path.read_text(encoding="utf-8", errors="replace")).encode("utf-8")


def _write_zip(target: Path, root: str, files: dict[str, bytes], when: datetime) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in sorted(files.items()):
            info = zipfile.ZipInfo(f"{root}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, body)
    tmp.replace(target)
    return target
