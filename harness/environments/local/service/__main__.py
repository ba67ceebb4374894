"""``python -m drillbook.harness.environments.local.service``: one replica of the Compliant API."""

from drillbook.harness.environments.local.service.main import exit_now, main

exit_now(main())
