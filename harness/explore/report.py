"""An explore run in the DR Test Report's form (Markdown): scope, schedules tried, distinct
failures, each minimal schedule with its timeline and measured RTO/RPO, time spent."""

from __future__ import annotations

from pathlib import Path

from drillbook.harness.durations import format_duration
from drillbook.harness.explore.run import ExploreRun, Finding


def _figure(value: float | None) -> str:
    return "n/a" if value is None else format_duration(value)


def _finding(number: int, finding: Finding) -> list[str]:
    result = finding.result
    m, t = result.measured, result.targets
    lines = [
        f"### Failure {number}: {finding.invariant}",
        "",
        f"- Detail: {finding.detail}",
        f"- Minimal schedule ({len(finding.schedule.faults)} fault(s)):",
        *[f"  - {f.text()}" for f in finding.schedule.faults],
        f"- Drill file: `{finding.drill_file}`" if finding.drill_file else "- Drill file: (not written)",
        f"- Journal record: {result.record_id}, status {result.status.value}",
        "",
        "| Metric | Target | Measured |",
        "| --- | --- | --- |",
        f"| RTO (from the first fault) | {_figure(t.rto_s)} | {_figure(m.rto_s)} |",
        f"| RPO | {_figure(t.rpo_s)} | {_figure(m.rpo_s)} |",
        f"| Acknowledged / lost / unexpected writes | | {m.acked_writes} / {m.lost_writes} / "
        f"{m.unexpected_writes} |",
        "",
        "Timeline:",
        "",
        "| At | Event | Detail |",
        "| --- | --- | --- |",
        *[f"| {e.at} | {e.event} | {e.detail} |" for e in result.timeline],
        "",
    ]
    return lines


def render(run: ExploreRun) -> str:
    statuses: dict[str, int] = {}
    for example in run.examples:
        statuses[example.status] = statuses.get(example.status, 0) + 1
    lines = [
        f"# DR Test Report: exploration of {run.target}",
        "",
        "## Test Information",
        "",
        f"- Started: {run.started_at}",
        f"- Seed: {'random' if run.seed is None else run.seed}; budget {format_duration(run.budget_s)}",
        f"- Time spent: {format_duration(run.elapsed_s)} (search {format_duration(run.search_s)}, "
        f"shrink {format_duration(run.shrink_s)}, confirm {format_duration(run.confirm_s)})",
        "",
        "## Results",
        "",
        f"- Schedules tried: {len(run.examples)} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        + ")"
        + (f"; {run.reused} draw(s) of a schedule already played answered without playing it"
           if run.reused else ""),
        f"- Distinct failures: {len(run.distinct_failures)}"
        + (f" ({'; '.join(run.distinct_failures)})" if run.distinct_failures else ""),
        f"- Minimal failing schedules: {len(run.findings)}",
        "",
        "## Minimal schedules",
        "",
    ]
    if not run.findings:
        lines += ["None: every schedule tried kept every invariant.", ""]
    for number, finding in enumerate(run.findings, 1):
        lines += _finding(number, finding)
    lines += [
        "## Schedules tried",
        "",
        "| # | Stage | Schedule | Status | Broke | Time |",
        "| --- | --- | --- | --- | --- | --- |",
        *[
            f"| {e.number} | {e.stage} | {e.schedule.text()} | {e.status} | {e.invariant or '-'} | "
            f"{format_duration(e.duration_s)} |"
            for e in run.examples
        ],
        "",
    ]
    return "\n".join(lines)


def write_report(directory: Path, run: ExploreRun) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = run.started_at.replace(":", "").replace("-", "").replace("+0000", "Z")
    path = directory / f"explore-{run.target}-{stamp}.md"
    path.write_text(render(run))
    return path
