"""``python -m harness.toxiproxy [--host H] [--port P]``: the same as ``drillbook toxiproxy-server``."""

from harness.cli.toxiproxy_server import main

raise SystemExit(main())
