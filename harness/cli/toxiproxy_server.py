"""``drillbook toxiproxy-server``: run the toxiproxy-compatible server in the foreground."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from drillbook.harness.errors import DrillbookError
from drillbook.harness.toxiproxy.server import DEFAULT_PORT, serve

DESCRIPTION = (
    "Serve the Toxiproxy 2.x HTTP API and proxy TCP connections through its toxics, "
    "until SIGTERM or Ctrl-C. Every API call is logged to stderr."
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "toxiproxy-server",
        help="run a toxiproxy-compatible TCP proxy server (Toxiproxy 2.x HTTP API)",
        description=DESCRIPTION,
    )
    add_arguments(p)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address of the HTTP API (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port of the HTTP API (default {DEFAULT_PORT})"
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="JSON file of proxies to create at start (toxiproxy's -config format)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="log level (default info: each API call and proxy start/stop)",
    )
    p.set_defaults(handler=run)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m drillbook.harness.toxiproxy``: the command alone, without importing every other one."""
    parser = argparse.ArgumentParser(prog="python -m drillbook.harness.toxiproxy", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except DrillbookError as exc:
        print(f"toxiproxy-server: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(
            f"drillbook toxiproxy-server: error: --port {args.port} is not a TCP port (0-65535)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    serve(args.host, args.port, args.config)
    return 0
