"""initdb's output is kept once and copied; a copy of the primary made before its first start
streams as its standby (the two shortcuts of the cold start)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.harness import pg
from drillbook.twin import pg_template
from drillbook.twin.archive import WalArchive
from drillbook.twin.postgres import PostgresCluster
from drillbook.twin.primary import APP_DATABASE, APP_USER, app_seed, create_app_database, init_primary
from drillbook.twin.standby import (
    StandbyError,
    copy_before_first_start,
    copy_template,
    create_slot,
    replication_lag,
    start_standby,
)
from tests.twin.dataplane_support import server_tmp, wait_for


def system_identifier(cluster: PostgresCluster) -> object:
    return cluster.sql("SELECT system_identifier FROM pg_control_system()")[0][0]


def test_the_first_init_keeps_a_template_and_the_next_one_copies_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with server_tmp("template") as root:
        monkeypatch.setenv(pg_template.VARIABLE, str(root / "templates"))
        first = PostgresCluster(root / "a" / "data", name="a").init(checksums=True, wal_segment_mb=1)
        kept = [p for p in (root / "templates").iterdir() if not p.name.startswith(".")]
        assert len(kept) == 1 and (kept[0] / pg_template.COMPLETE).is_file()
        assert not (kept[0] / "data" / "drillbook.conf").exists()  # initdb's pristine output only
        second = PostgresCluster(root / "b" / "data", name="b").init(checksums=True, wal_segment_mb=1)
        try:
            first.start()
            second.start()
            # A copy: the same system identifier, its own port and settings, checksums on.
            assert system_identifier(first) == system_identifier(second)
            assert second.sql("SHOW port") == [(str(second.port),)] != first.sql("SHOW port")
            assert second.sql("SHOW data_checksums") == [("on",)]
            assert second.sql("SHOW wal_segment_size") == [("1MB",)]
        finally:
            first.stop("immediate")
            second.stop("immediate")


def test_other_options_get_a_template_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    with server_tmp("template") as root:
        monkeypatch.setenv(pg_template.VARIABLE, str(root / "templates"))
        PostgresCluster(root / "a" / "data").init(checksums=True)
        PostgresCluster(root / "b" / "data").init(checksums=False)
        assert len(list((root / "templates").iterdir())) == 2


def test_an_incomplete_template_is_never_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pg_template.VARIABLE, str(tmp_path))
    (tmp_path / "abc" / "data").mkdir(parents=True)
    (tmp_path / "abc" / "data" / "PG_VERSION").write_text("15\n")
    assert pg_template.template("abc") is None
    (tmp_path / "abc" / pg_template.COMPLETE).write_text("")
    assert pg_template.template("abc") == tmp_path / "abc" / "data"


def test_off_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pg_template.VARIABLE, "off")
    assert pg_template.templates_dir() is None
    assert pg_template.template("anything") is None


def test_a_copy_made_before_the_primary_first_starts_streams_as_its_standby() -> None:
    with server_tmp("cold-standby") as root:
        archive = WalArchive(root / "archive")
        primary = PostgresCluster(root / "primary" / "data", name="primary", dbname=APP_DATABASE)
        standby = PostgresCluster(root / "standby" / "data", name="dr-replica", dbname=APP_DATABASE)
        primary.prepare_parent()
        archive.create(primary.user)
        try:
            init_primary(primary, archive, archive_timeout_s=60)
            copy_before_first_start(primary, standby)
            primary.start()
            create_slot(primary)
            create_app_database(primary, "app-password-for-tests")
            primary.sql("CREATE TABLE after_copy (id int)", dbname=APP_DATABASE)
            primary.sql("INSERT INTO after_copy SELECT generate_series(1, 500)", dbname=APP_DATABASE)
            start_standby(primary, standby, archive)
            wait_for(lambda: replication_lag(primary, standby).bytes == 0, timeout=60, what="caught up")
            assert replication_lag(primary, standby).state == "streaming"
            assert standby.in_recovery()
            assert standby.sql("SELECT count(*) FROM after_copy", dbname=APP_DATABASE) == [(500,)]
            # Once the primary runs, a copy of its files is no backup: refused.
            with pytest.raises(StandbyError, match="is running"):
                copy_before_first_start(primary, PostgresCluster(root / "late" / "data"))
        finally:
            primary.stop("immediate")
            standby.stop("immediate")


def test_a_copy_of_the_primary_template_made_while_it_runs_streams_as_its_standby(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with server_tmp("template-standby") as root:
        monkeypatch.setenv(pg_template.VARIABLE, str(root / "templates"))
        archive = WalArchive(root / "archive")
        primary = PostgresCluster(root / "primary" / "data", name="primary", dbname=APP_DATABASE)
        standby = PostgresCluster(root / "standby" / "data", name="dr-replica", dbname=APP_DATABASE)
        primary.prepare_parent()
        archive.create(primary.user)
        try:
            init_primary(primary, archive, archive_timeout_s=60)  # the first: initdb, then kept
            assert primary.template is not None
            primary.start()
            create_slot(primary)
            create_app_database(primary, "app-password-for-tests")
            primary.sql("CREATE TABLE before_copy (id int)", dbname=APP_DATABASE)
            primary.sql("INSERT INTO before_copy SELECT generate_series(1, 300)", dbname=APP_DATABASE)
            copy_template(primary, standby)  # while the primary runs: it replays the whole history
            start_standby(primary, standby, archive)
            wait_for(lambda: replication_lag(primary, standby).bytes == 0, timeout=60, what="caught up")
            assert standby.in_recovery()
            assert standby.sql("SELECT count(*) FROM before_copy", dbname=APP_DATABASE) == [(300,)]
            assert system_identifier(standby) == system_identifier(primary)
        finally:
            primary.stop("immediate")
            standby.stop("immediate")


def test_without_a_template_the_standby_cannot_be_copied_from_one(monkeypatch: pytest.MonkeyPatch) -> None:
    with server_tmp("no-template") as root:
        monkeypatch.setenv(pg_template.VARIABLE, "off")
        primary = PostgresCluster(root / "primary" / "data").init()
        assert primary.template is None
        with pytest.raises(StandbyError, match="copy it before it starts"):
            copy_template(primary, PostgresCluster(root / "standby" / "data"))


def test_the_primary_begins_as_a_template_that_already_holds_the_application_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with server_tmp("seeded") as root:
        monkeypatch.setenv(pg_template.VARIABLE, str(root / "templates"))
        archive = WalArchive(root / "archive")
        first = PostgresCluster(root / "first" / "data", name="first", dbname=APP_DATABASE)
        second = PostgresCluster(root / "second" / "data", name="second", dbname=APP_DATABASE)
        first.prepare_parent()
        archive.create(first.user)
        seeded = pg_template.seeded
        try:
            init_primary(first, archive, archive_timeout_s=60)  # makes both templates
            kept = sorted(p.name for p in (root / "templates").iterdir() if not p.name.startswith("."))
            assert len(kept) == 2 and kept[1] == seeded(kept[0], app_seed())
            assert first.template == root / "templates" / kept[1] / "data"
            init_primary(second, archive, archive_timeout_s=60)  # copies the seeded one
            assert second.template == first.template
            second.start()
            # The role, the database and the schema are there before create_app_database...
            tables = second.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'users'",
                                dbname=APP_DATABASE)
            assert tables == [(1,)]
            assert second.sql("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = %s",
                              (APP_USER,), dbname="postgres") == [(True,)]
            # ...which sets this environment's own password (no password is kept in a template).
            create_app_database(second, "app-password-for-tests")
            dsn = second.dsn(APP_DATABASE, user=APP_USER, password="app-password-for-tests")
            assert pg.query(dsn, "SELECT count(*) FROM users", timeout=10.0) == [(0,)]
        finally:
            first.stop("immediate")
            second.stop("immediate")


def test_another_schema_gets_a_seeded_template_of_its_own() -> None:
    def nothing(cluster: PostgresCluster) -> None:
        return None

    assert app_seed().key == app_seed().key
    assert pg_template.seeded("k", app_seed()) != pg_template.seeded("k", pg_template.Seed("other", nothing))


def test_a_new_cluster_takes_a_ready_copy_by_rename_and_a_background_copy_replaces_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with server_tmp("spares") as root:
        monkeypatch.setenv(pg_template.VARIABLE, str(root / "templates"))
        PostgresCluster(root / "initdb" / "data").init(wal_segment_mb=1)  # initdb: kept
        first = PostgresCluster(root / "a" / "data", name="a").init(wal_segment_mb=1)
        source = first.template
        assert source is not None
        # The first copy found no spare: it copied, then asked for the spares to be made.
        wait_for(lambda: len(pg_template.ready_spares(source)) == pg_template.SPARES, timeout=60,
                 what="the spares made in the background")
        oldest = pg_template.ready_spares(source)[0]
        inode = (oldest / "PG_VERSION").stat().st_ino
        second = PostgresCluster(root / "b" / "data", name="b").init(wal_segment_mb=1)
        assert (second.datadir / "PG_VERSION").stat().st_ino == inode  # moved, not copied
        assert not oldest.parent.exists()
        wait_for(lambda: len(pg_template.ready_spares(source)) == pg_template.SPARES, timeout=60,
                 what="the spare taken replaced")
        try:
            first.start()
            second.start()
            assert system_identifier(first) == system_identifier(second)
            assert second.sql("SHOW port") == [(str(second.port),)]
        finally:
            first.stop("immediate")
            second.stop("immediate")


def test_with_no_spare_left_a_cluster_is_copied(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = tmp_path / "name" / "data"
    source.mkdir(parents=True)
    (source / "PG_VERSION").write_text("15\n")
    assert not pg_template.take_spare(source, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_one_refill_at_a_time_and_a_killed_one_leaves_nothing_half_made(tmp_path: Path) -> None:
    import fcntl

    source = tmp_path / "name" / "data"
    source.mkdir(parents=True)
    (source / "PG_VERSION").write_text("15\n")
    (tmp_path / "name" / pg_template.COMPLETE).write_text("")
    home = pg_template.spares_dir(source)
    home.mkdir()
    (home / ".making-dead").mkdir()  # a refill killed half-way
    with open(home / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert pg_template.refill(source, want=2) == 0  # another refill runs: nothing done
    assert pg_template.refill(source, want=2) == 2
    assert not (home / ".making-dead").exists()
    spares = pg_template.ready_spares(source)
    assert [(s / "PG_VERSION").read_text() for s in spares] == ["15\n", "15\n"]
    assert pg_template.take_spare(source, tmp_path / "taken")
    assert pg_template.ready_spares(source) == spares[1:]  # the oldest went first
    assert pg_template.refill(source, want=2) == 1


def test_a_refill_for_a_deleted_template_makes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "name" / "data"  # its cache was deleted (a test's, at its end)
    assert pg_template.refill(source, want=2) == 0
    assert not (tmp_path / "name").exists()
