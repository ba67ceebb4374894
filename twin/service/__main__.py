"""``python -m drillbook.twin.service``: one replica of the Compliant API."""

from drillbook.twin.service.main import exit_now, main

exit_now(main())
