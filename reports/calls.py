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
    at: str
    service: str
    operation: str
    params: str
    request_id: str
    duration: str
    outcome: str
    ok: bool
    permission: str


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
    grouped: dict[tuple[str, str], list[CallRow]] = {}
    for call in r.calls:
        key = (call.caller_kind, call.caller)
        if key not in grouped:
            order.append(key)
            grouped[key] = []
        grouped[key].append(_row(call))
    groups = tuple(
        CallGroup(_title(kind, caller), kind, caller, tuple(grouped[(kind, caller)]))
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


def _row(call: ControlCall) -> CallRow:
    params = ", ".join(f"{k}={v}" for k, v in sorted(call.params.items()))
    return CallRow(
        at=timefmt.clock(timefmt.parse_iso(call.at)),
        service=call.service,
        operation=call.operation,
        params=redact_text(params),
        request_id=call.request_id or "",
        duration=format_duration(call.duration_s),
        outcome=call.outcome,
        ok=call.outcome == "ok",
        permission=call.permission,
    )


def _resources(calls: list[ControlCall]) -> tuple[tuple[str, str], ...]:
    seen: dict[str, dict[str, None]] = {}
    for call in calls:
        for key in RESOURCE_KEYS:
            value = call.params.get(key)
            if value:
                seen.setdefault(key, {})[str(value)] = None
    return tuple((key, redact_text(", ".join(seen[key]))) for key in RESOURCE_KEYS if key in seen)
