"""``python -m harness.toxiproxy [--host H] [--port P]``: the same as ``drillbook toxiproxy-server``."""

import sys

from harness.cli import main

raise SystemExit(main(["toxiproxy-server", *sys.argv[1:]]))
