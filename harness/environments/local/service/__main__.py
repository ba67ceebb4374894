"""``python -m harness.environments.local.service``: one replica of the Compliant API."""

from harness.environments.local.service.main import exit_now, main

exit_now(main())
