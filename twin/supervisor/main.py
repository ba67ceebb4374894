"""Run the supervisor: ``python -m drillbook.twin.supervisor --state-dir DIR``.

It loads ``DIR/state.json`` (written by the launcher, or left by a previous
supervisor whose still-running pods it adopts), serves the control API on a
loopback port of its own choosing and records it, with its pid and start time,
in ``DIR/supervisor.json``, with the URL of the Kubernetes API it also serves
(``drillbook.twin.kube``, on ``kube_port`` of the state). SIGTERM (or POST
/v1/shutdown) stops every pod and then the supervisor; SIGKILL leaves the pods
running for the next one to adopt.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from drillbook.harness import procs
from drillbook.twin.kube.cluster import KubeApi
from drillbook.twin.kube.server import KubeServer
from drillbook.twin.supervisor.api import ControlServer
from drillbook.twin.supervisor.controller import Controller
from drillbook.twin.supervisor.operations import iso_now
from drillbook.twin.supervisor.store import StateFiles, write_atomic


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drillbook-supervisor", description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--tick", type=float, default=0.1, help="seconds between control loop passes")
    args = parser.parse_args(argv)
    files = StateFiles(args.state_dir)
    try:
        state = files.read_state()
    except (FileNotFoundError, ValueError, KeyError, TypeError) as exc:
        sys.stderr.write(f"cannot load {files.state}: {exc}\n")
        return 78
    controller = Controller(state, files, tick_s=args.tick)
    controller.adopt_running()
    done = threading.Event()

    def shutdown(stop_pods: bool) -> None:
        if done.is_set():
            return
        controller.stopping.set()
        controller.wake()
        if stop_pods:
            controller.stop_all()
        else:
            controller.save()
        done.set()

    server = ControlServer(("127.0.0.1", 0), controller, shutdown)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    # The Kubernetes API in this process: it renders the controller's state under the controller's
    # lock and acts through its operations, so there is one state and no second controller.
    try:
        api = KubeApi(controller, files.root)
        kube = KubeServer(("127.0.0.1", state.kube_port), api, controller.stopping)
    except OSError as exc:
        sys.stderr.write(f"cannot serve the Kubernetes API on port {state.kube_port}: {exc}\n")
        server.server_close()
        return 75
    threading.Thread(target=kube.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=shutdown, args=(True,), daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # A pod that exits is seen at once (a Recreate rollout starts the new pods when the
    # last old one is gone), not at the loop's next tick.
    signal.signal(signal.SIGCHLD, lambda signum, frame: controller.wake())
    write_atomic(files.supervisor, json.dumps({
        "pid": os.getpid(), "ticks": procs.start_ticks(os.getpid()), "url": f"http://127.0.0.1:{port}",
        "kube_url": kube.url,
        "started_at": iso_now(), "label": state.label,
    }))
    sys.stderr.write(f"{iso_now()} supervisor pid {os.getpid()} control API on http://127.0.0.1:{port}, "
                     f"Kubernetes API on {kube.url}\n")
    loop = threading.Thread(target=controller.run, name="control-loop", daemon=True)
    loop.start()
    while not done.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    kube.shutdown()
    kube.server_close()
    loop.join(5)
    time.sleep(0)  # let the API thread answer the shutdown request
    sys.stderr.write(f"{iso_now()} supervisor stopped\n")
    return 0
