"""The ``drillbook`` command line. One module per command, each with
``add_parser(subparsers)`` registering itself and a ``run(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from drillbook.harness.errors import DrillbookError, DrillInterrupted

COMMANDS = (
    "init", "run", "explore", "revert", "verify", "env", "report", "signoff", "history", "postmortem", "plan",
    "unannounced", "ack", "readiness", "toxiproxy-server",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of command ``only`` (a command imports only its own
    modules: ``drillbook run`` refusing a busy environment answers in well under a second)."""
    parser = argparse.ArgumentParser(
        prog="drillbook",
        description="Chaos and disaster-recovery drills as pytest tests, with measured RTO/RPO.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS if only is None else (only,):
        module = importlib.import_module(f"drillbook.harness.cli.{name.replace('-', '_')}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list[0] if args_list and args_list[0] in COMMANDS else None)
    args = parser.parse_args(args_list)
    try:
        return int(args.handler(args) or 0)
    except DrillbookError as exc:
        print(f"drillbook {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a file or directory named on the command line cannot be used
        print(f"drillbook {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except DrillInterrupted as exc:  # a handled SIGTERM (or SIGINT): the shell's code for it
        print(f"drillbook {args.command}: interrupted ({exc})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"drillbook {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
