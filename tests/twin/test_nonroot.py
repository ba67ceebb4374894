"""The data plane as a normal user (CI runs as root: the other tests cover the root path,
where the servers run as an unprivileged user).

Run as root, this test re-runs the cluster operations in a user namespace
(``unshare --user --map-user=1000``): the process's uid is 1000 and it holds no
privilege, so drillbook takes its normal-user path (servers run as the current
user, no chown) and PostgreSQL's refusal of root does not apply. When the tests
themselves run as a normal user, every other data plane test already does this.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.twin.dataplane_support import server_tmp

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import json, os, sys, time
from datetime import UTC, datetime
from pathlib import Path
from drillbook.twin.archive import archive_current_wal
from drillbook.twin.pgbin import run_as
from drillbook.twin.pitr import RecoveryTarget, recover_to
from drillbook.twin.standby import promote, replication_lag
from tests.twin.dataplane_support import data_plane, wait_for

root = Path(sys.argv[1])
out = {"uid": os.getuid(), "run_as": run_as().name, "is_self": run_as().is_self}
for plane in data_plane(root):
    pid = plane.primary.pid()
    out["server_uid"] = int(next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines()
                                 if l.startswith("Uid:")).split()[1])
    plane.catalogue.take(plane.primary)
    plane.sql("CREATE TABLE t (id int)")
    plane.sql("INSERT INTO t VALUES (1)")
    target = datetime.now(UTC)
    time.sleep(0.05)
    plane.sql("INSERT INTO t VALUES (2)")
    archive_current_wal(plane.primary)
    wait_for(lambda: replication_lag(plane.primary, plane.standby).bytes == 0)
    out["standby_rows"] = plane.standby.sql("SELECT count(*) FROM t", dbname="compliant")[0][0]
    restored = recover_to(plane.catalogue, plane.archive, RecoveryTarget(time=target),
                          plane.new_cluster("pitr"))
    out["pitr_rows"] = restored.sql("SELECT array_agg(id) FROM t", dbname="compliant")[0][0]
    restored.stop("fast")
    promote(plane.standby)
    plane.standby.sql("INSERT INTO t VALUES (3)", dbname="compliant")
    out["promoted_rows"] = plane.standby.sql("SELECT count(*) FROM t", dbname="compliant")[0][0]
print("RESULT " + json.dumps(out))
"""


@pytest.fixture
def root() -> Iterator[Path]:
    with server_tmp("nonroot") as path:
        yield path


@pytest.mark.skipif(os.getuid() != 0, reason="already a normal user: every data plane test runs as one")
def test_the_data_plane_works_as_a_normal_user(root: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1) to become a normal user in a user namespace")
    probe = subprocess.run([unshare, "--user", "--map-user=1000", "--map-group=1000", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are not available here: {probe.stderr.strip()}")
    done = subprocess.run(
        [unshare, "--user", "--map-user=1000", "--map-group=1000", sys.executable, "-c", SCRIPT, str(root)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result == {"uid": 1000, "run_as": result["run_as"], "is_self": True, "server_uid": 1000,
                      "standby_rows": 2, "pitr_rows": [1], "promoted_rows": 3}
