"""``python -m harness.environments.local.service``: one replica of the Compliant API."""

import sys

from harness.environments.local.service.main import main

sys.exit(main())
