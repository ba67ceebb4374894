"""The service's "images": each version a command line the supervisor runs.

``1.0.0`` is the service as it is. ``1.1.0`` is a release that cannot start in
production as configured: it requires ``FEATURE_FLAGS_URL``, which no release
sets, so its replicas exit at start (78, naming the variable) and crash-loop:
the DR procedures' Scenario 5 ("missing environment variables"), fixed by
rolling back or by setting the variable. ``1.1.1-hotfix1`` is the emergency
hotfix of 1.1.0 (Scenario 5, Option C): the variable became optional, so it
starts as configured. An unknown version is what a typo in an image tag gives:
ImagePullBackOff.

``1.2.0`` "fails fast on a sick cache": a database error while a cache call is slow or
has just failed opens its cache breaker for good (``--cache-breaker latch``, see breaker.py), so the
replica stays unready after both recover, until it is restarted. No single fault
shows it; ``drillbook explore`` finds it (docs/explore.md).
"""

from __future__ import annotations

PYTHON = "{python}"  # the interpreter running drillbook
# -S: no site module at start; the packages' directories come from the environment
# (see SITE_PACKAGES in this package's __init__).
SERVICE = [PYTHON, "-S", "-m", "drillbook.twin.service"]
WORKER = [PYTHON, "-S", "-m", "drillbook.twin.service.worker"]
GOOD_VERSION = "1.0.0"
BAD_VERSION = "1.1.0"
HOTFIX_VERSION = "1.1.1-hotfix1"
LATCHING_VERSION = "1.2.0"
NEW_REQUIRED_VARIABLE = "FEATURE_FLAGS_URL"
API_IMAGES = {GOOD_VERSION: SERVICE, BAD_VERSION: [*SERVICE, "--require", NEW_REQUIRED_VARIABLE],
              HOTFIX_VERSION: SERVICE, LATCHING_VERSION: [*SERVICE, "--cache-breaker", "latch"]}
WORKER_IMAGES = {GOOD_VERSION: WORKER, BAD_VERSION: WORKER, LATCHING_VERSION: WORKER}
