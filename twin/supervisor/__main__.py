"""``python -m drillbook.twin.supervisor --state-dir DIR``."""

import sys

from drillbook.twin.supervisor.main import main

sys.exit(main())
