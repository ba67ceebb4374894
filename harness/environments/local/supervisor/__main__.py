"""``python -m drillbook.harness.environments.local.supervisor --state-dir DIR``."""

import sys

from drillbook.harness.environments.local.supervisor.main import main

sys.exit(main())
