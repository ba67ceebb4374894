"""The control-plane calls of a drill as its report's evidence appendix lists them: grouped by
what made them (each runbook step, each fault's injection and revert, each change, the drill's
own body), in the order made, with the resources they named (the instance and snapshot ids)."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.durations import format_duration
from drillbook.harness.records import CallerKind, ControlCall, DrillResult
from drillbook.harness.redact import redact_text
from drillbook.reports import timefmt

#: The parameters whose values are listed as "resources used" at the head of the calls.
RESOURCE_KEYS = (
    "DBInstanceIdentifier", "SourceDBInstanceIdentifier", "TargetDBInstanceIdentifier",
    "DBSnapshotIdentifier", "HostedZoneId", "SecretId", "Bucket", "namespace",
)
_TITLES = {
    CallerKind.STEP.value: "Step",
    CallerKind.FAULT.value: "Fault injected",
    CallerKind.REVERT.value: "Reverted",
    CallerKind.CHANGE.value: "Change applied",
    CallerKind.DRILL.value: "Drill",
}


@dataclass(frozen=True)
class CallRow:
    """One call, or ``count`` identical calls in a row (a wait polling a status): then ``at``
    and ``request_id`` name the first and the last, and ``duration`` is their total."""

    at: str
    service: str
    operation: str
    params: str
    request_id: str
    duration: str
    outcome: str
    ok: bool
    permission: str
    count: int = 1


@dataclass(frozen=True)
class CallGroup:
    """The calls one step, fault, revert or change made ("Step: promote the replica")."""

    title: str
    kind: str
    caller: str
    rows: tuple[CallRow, ...]


@dataclass(frozen=True)
class CallsView:
    total: int
    failed: int
    groups: tuple[CallGroup, ...]
    resources: tuple[tuple[str, str], ...]  # (parameter, its distinct values, comma-separated)


def calls_view(r: DrillResult) -> CallsView:
    order: list[tuple[str, str]] = []
    grouped: dict[tuple[str, str], list[list[ControlCall]]] = {}
    for call in r.calls:
        key = (call.caller_kind, call.caller)
        if key not in grouped:
            order.append(key)
            grouped[key] = []
        runs = grouped[key]
        if runs and _same(runs[-1][-1], call):
            runs[-1].append(call)  # a wait polling: one row, with its count
        else:
            runs.append([call])
    groups = tuple(
        CallGroup(_title(kind, caller), kind, caller, tuple(_row(run) for run in grouped[(kind, caller)]))
        for kind, caller in order
    )
    return CallsView(
        total=len(r.calls),
        failed=sum(1 for c in r.calls if c.outcome != "ok"),
        groups=groups,
        resources=_resources(r.calls),
    )


def _title(kind: str, caller: str) -> str:
    title = _TITLES.get(kind, kind)
    return f"{title}: {caller}" if caller else "The drill (between steps)"


def _same(a: ControlCall, b: ControlCall) -> bool:
    return (a.service, a.operation, a.params, a.outcome) == (b.service, b.operation, b.params, b.outcome)


def _row(run: list[ControlCall]) -> CallRow:
    first, last = run[0], run[-1]
    params = ", ".join(f"{k}={v}" for k, v in sorted(first.params.items()))
    at = timefmt.clock(timefmt.parse_iso(first.at))
    request_id = first.request_id or ""
    if len(run) > 1:
        at = f"{at} to {timefmt.clock(timefmt.parse_iso(last.at))}"
        request_id = f"{request_id} … {last.request_id or ''}".strip()
    return CallRow(
        at=at,
        service=first.service,
        operation=first.operation,
        params=redact_text(params),
        request_id=request_id,
        duration=format_duration(sum(c.duration_s for c in run)),
        outcome=first.outcome,
        ok=first.outcome == "ok",
        permission=first.permission,
        count=len(run),
    )


def _resources(calls: list[ControlCall]) -> tuple[tuple[str, str], ...]:
    seen: dict[str, dict[str, None]] = {}
    for call in calls:
        for key in RESOURCE_KEYS:
            value = call.params.get(key)
            if value:
                seen.setdefault(key, {})[str(value)] = None
    return tuple((key, redact_text(", ".join(seen[key]))) for key in RESOURCE_KEYS if key in seen)
