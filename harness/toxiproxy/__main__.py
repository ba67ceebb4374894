"""``python -m drillbook.harness.toxiproxy [--host H] [--port P]``: the same as
``drillbook toxiproxy-server``."""

from drillbook.harness.cli.toxiproxy_server import main

raise SystemExit(main())
