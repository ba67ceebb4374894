"""The twin's AWS endpoint: ``python -m drillbook.twin.rds.server --state-dir DIR [--single-az]
-H HOST -p PORT``.

moto's own server (S3, Route 53, Secrets Manager, ...), with its RDS bound to the
environment in DIR. The binding is installed on the first RDS request or, once the
environment is up, by the keeper that builds the primary's Multi-AZ standby, whichever
comes first: importing moto's RDS takes a second that ``drillbook env up`` does not wait for.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drillbook.twin.rds.binding import RdsTwin

log = logging.getLogger("drillbook.twin.rds")
#: How often the keeper looks at the environment.
KEEP_INTERVAL_S = 1.0


class Binder:
    """Installs the binding into moto once, on first need."""

    def __init__(self, state_dir: Path, *, multi_az: bool) -> None:
        self.state_dir = state_dir.absolute()
        self.multi_az = multi_az
        self._lock = threading.Lock()
        self._twin: RdsTwin | None = None

    def twin(self) -> RdsTwin:
        with self._lock:
            if self._twin is None:
                from moto.rds.models import rds_backends

                from drillbook.twin.rds.backend import TwinRdsBackend
                from drillbook.twin.rds.binding import RdsTwin
                from drillbook.twin.rds.plane import plane_at

                twin = RdsTwin(plane_at(self.state_dir), multi_az=self.multi_az, log=log)
                TwinRdsBackend.twin = twin
                rds_backends.backend = TwinRdsBackend
                rds_backends.clear()  # a backend made before (by another service) would be moto's own
                self._twin = twin
                log.info("RDS bound to the environment in %s", self.state_dir)
            return self._twin

    def create_app(self, service: Any) -> Any:
        from moto.moto_server.werkzeug_app import create_backend_app

        if service == "rds":
            self.twin()
        return create_backend_app(service)


def keep(binder: Binder, stop: threading.Event) -> None:
    """Once the environment is up: bind, and keep the primary's Multi-AZ standby."""
    from drillbook.twin.state import StateError, StateFile  # here, not before moto listens

    state = StateFile(binder.state_dir)
    while not stop.wait(KEEP_INTERVAL_S):
        try:
            record = state.read()
            if record is None or record.phase != "up":
                continue
            binder.twin().keep_standby()
        except (StateError, OSError) as exc:
            log.warning("keeping the Multi-AZ standby: %s", exc)
        except Exception:
            log.exception("keeping the Multi-AZ standby failed")


def quicken_dispatch() -> None:
    """moto's dispatcher lists its package directory (``os.listdir``, an ``isdir`` per entry)
    on every request to find the service: a sixth of a DescribeDBInstances' CPU. The list is
    the same for the process's life, so it is read once (moto is pinned: see pyproject)."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drillbook.twin.rds.server", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True, help="the local environment's directory")
    parser.add_argument("--single-az", action="store_true", help="no Multi-AZ standby for the primary")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from werkzeug.serving import run_simple

    quicken_dispatch()
    binder = Binder(args.state_dir, multi_az=not args.single_az)
    app = DomainDispatcherApplication(binder.create_app)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    threading.Thread(target=keep, args=(binder, stop), name="multi-az-keeper", daemon=True).start()
    run_simple(args.host, args.port, app, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
