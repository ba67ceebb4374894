"""``drillbook signoff``: sign a suite run's DR Test Report, as a record of the journal's chain."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from drillbook.reports import cliopts

    p = subparsers.add_parser(
        "signoff",
        help="sign a run's DR Test Report (a sign-off record in the journal's hash chain)",
        description="Append a sign-off to the journal's hash chain: who signed, as which role, when, "
        "and the report hash they signed (the run's drill records). A report whose records change "
        "afterwards says it changed after signing.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the suite run to sign (or 'latest')")
    p.add_argument(
        "--as",
        dest="role",
        metavar="ROLE",
        required=True,
        help="the sign-off role, one of [report] sign_off (default: DR Manager, IT Director)",
    )
    p.add_argument("--name", metavar="NAME", required=True, help="who signs")
    p.add_argument("--note", metavar="TEXT", default="", help="a note kept with the signature")
    p.add_argument(
        "--hash",
        dest="expected_hash",
        metavar="REPORT_HASH",
        default=None,
        help="the report hash printed in the report you read: refuse to sign if the journal now gives "
        "another",
    )
    cliopts.add_common(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from drillbook.harness.errors import DrillbookError
    from drillbook.harness.people import parse_name
    from drillbook.harness.redact import redact_text
    from drillbook.harness.signoff import MAX_NOTE, sign
    from drillbook.reports import cliopts, journals

    cfg = cliopts.config(args)
    options = cliopts.report_options(args, cfg)
    roles = [p.role for p in options.sign_off]
    role = next((r for r in roles if r.lower() == str(args.role).strip().lower()), None)
    if role is None:
        raise DrillbookError(
            f"--as {args.role!r} is not a sign-off role of this report: use one of {', '.join(roles)} "
            "(or add it to [report] sign_off in drillbook.toml)"
        )
    name = parse_name(args.name, "--name")
    note = str(args.note).strip()
    if len(note) > MAX_NOTE or "\n" in note or "\r" in note:
        raise DrillbookError(f"--note is one line of at most {MAX_NOTE} characters")
    note = redact_text(note)
    directory = cliopts.results_dir(args, cfg)
    records = journals.run_records(directory, None if args.run_id == "latest" else args.run_id)
    if not records.chain.ok:
        broken = records.chain.broken_at.name if records.chain.broken_at else "?"
        raise DrillbookError(
            f"the journal's hash chain is broken at {broken} ({records.chain.problem}): a report of a "
            "broken journal cannot be signed; `drillbook verify` names the damage"
        )
    current = records.report_hash
    if args.expected_hash is not None and args.expected_hash.strip().lower() != current:
        raise DrillbookError(
            f"the journal now gives report hash {current}, not {args.expected_hash}: the run's records "
            "changed since that report was rendered; render it again (drillbook report) and read it first"
        )
    pairs = [(e.result.record_id or "", e.result.hash or "") for e in records.entries]
    index = len(records.signoffs) + 1
    signoff, path = sign(
        directory, run_id=records.run_id, role=role, name=name, records=pairs, note=note, index=index
    )
    print(
        f"drillbook signoff: run {records.run_id} signed by {name} as {role} at {signoff.signed_at}; "
        f"report hash {signoff.report_hash}; journal record {path}"
    )
    return 0
