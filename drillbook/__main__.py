"""``python -m drillbook``: the same as the ``drillbook`` command."""

from drillbook.harness.cli import main

raise SystemExit(main())
