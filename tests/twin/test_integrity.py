"""An overwritten heap page is detected by pg_amcheck (online) and pg_checksums (offline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.twin.integrity import IntegrityError, amcheck, checksums, relation_file
from drillbook.twin.postgres import PostgresCluster
from tests.twin.dataplane_support import server_tmp

PAGE = 8192


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """Outside pytest's temporary directories (see ``server_tmp``)."""
    with server_tmp("integrity") as root:
        yield root


def test_an_overwritten_heap_page_is_detected(tmp_path: Path) -> None:
    cluster = PostgresCluster(tmp_path / "pg" / "data", name="victim").init(checksums=True).start()
    try:
        cluster.wait_ready()
        cluster.sql("CREATE TABLE victim AS SELECT g AS id, md5(g::text) AS v "
                    "FROM generate_series(1, 5000) g")
        healthy = amcheck(cluster, "postgres")
        assert healthy.passed, healthy.detail
        path = relation_file(cluster, "victim", "postgres")
        assert path.is_file() and path.stat().st_size >= 4 * PAGE
        cluster.sql("CHECKPOINT")
        cluster.stop("fast")
        assert checksums(cluster).passed
        with open(path, "r+b") as handle:  # behind PostgreSQL's back, in the middle of page 2
            handle.seek(2 * PAGE + 3000)
            handle.write(b"\xde\xad\xbe\xef" * 64)
        offline = checksums(cluster)
        assert not offline.passed
        assert "checksum verification failed" in offline.detail
        assert "Bad checksums:" in offline.detail
        cluster.start()
        cluster.wait_ready()
        online = amcheck(cluster, "postgres")
        assert not online.passed
        assert "page verification failed" in online.detail or "checksum" in online.detail
    finally:
        cluster.stop("immediate")


def test_the_checks_say_which_state_they_need(tmp_path: Path) -> None:
    cluster = PostgresCluster(tmp_path / "pg" / "data", name="idle").init(checksums=True)
    with pytest.raises(IntegrityError, match="not running"):
        amcheck(cluster)
    cluster.start()
    try:
        with pytest.raises(IntegrityError, match="stop it first"):
            checksums(cluster)
        with pytest.raises(IntegrityError, match="no table 'missing'"):
            relation_file(cluster, "missing", "postgres")
    finally:
        cluster.stop("immediate")
