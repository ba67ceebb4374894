"""``python -m harness.environments.local.supervisor --state-dir DIR``."""

import sys

from harness.environments.local.supervisor.main import main

sys.exit(main())
