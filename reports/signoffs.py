"""The sign-off block of a report: every sign-off record of the run, and each required role
that has not signed, said plainly; a signature of other records than today's says so."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.harness.signoff import SignOffState
from drillbook.reports.journals import RunRecords, chain_state
from drillbook.reports.options import ReportOptions

NOT_SIGNED = "not signed"


@dataclass(frozen=True)
class SignOffRow:
    role: str
    name: str
    signed_at: str  # "" when not signed
    note: str
    state: str  # "not signed", "signed ...: this report", "CHANGED AFTER SIGNING: ..."
    valid: bool | None  # None: not signed
    record: str  # the sign-off's journal file, "" when not signed


@dataclass(frozen=True)
class SignOffs:
    rows: tuple[SignOffRow, ...]
    status: str  # NOT SIGNED, PARTLY SIGNED (...), SIGNED, CHANGED AFTER SIGNING
    signed: bool  # every required role signed these very records
    changed: bool  # a signature covers other records than the report shows
    report_hash: str  # what a sign-off of this run signs
    command: str  # how to sign it


def signoffs(run: RunRecords, options: ReportOptions) -> SignOffs:
    current = run.report_hash
    rows = []
    for entry in run.signoffs:
        state = SignOffState(entry.signoff, current)
        ok, chain = chain_state(run.chain, entry.index)
        text, valid = state.text, state.valid
        if ok is False:
            text, valid = f"{text}; its journal record does not verify ({chain})", False
        s = entry.signoff
        rows.append(SignOffRow(s.role, s.name, s.signed_at, s.note, text, valid, entry.path.name))
    latest = {r.role.lower(): r for r in rows}  # a role signing again supersedes its earlier signature
    signed_roles = {role for role, r in latest.items() if r.valid}
    for person in options.sign_off:
        if not any(r.role.lower() == person.role.lower() for r in rows):
            rows.append(SignOffRow(person.role, person.name, "", "", NOT_SIGNED, None, ""))
    required = [p.role for p in options.sign_off]
    missing = [role for role in required if role.lower() not in signed_roles]
    changed = any(r.valid is False for r in latest.values())
    if changed:
        status = "CHANGED AFTER SIGNING"
    elif not missing:
        status = "SIGNED"
    elif len(missing) < len(required):
        status = f"PARTLY SIGNED ({', '.join(missing)} not signed)"
    else:
        status = "NOT SIGNED"
    return SignOffs(
        rows=tuple(rows),
        status=status,
        signed=not missing and not changed,
        changed=changed,
        report_hash=current,
        command=f"drillbook signoff {run.run_id} --as ROLE --name NAME --hash {current}",
    )
