"""The sample data set: deterministic, of the size asked for, and usable by the service's login."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drillbook.twin import sample_data
from drillbook.twin.passwords import verify_password
from tests.twin.dataplane_support import DataPlane, data_plane, server_tmp


@pytest.fixture(scope="module")
def plane() -> Iterator[DataPlane]:
    with server_tmp("sample") as root:
        yield from data_plane(root, standby=False)


def test_a_loaded_data_set_has_the_size_asked_for_and_is_loaded_once(plane: DataPlane) -> None:
    lines: list[str] = []
    first = sample_data.load(plane.primary, "5MB", progress=lines.append)
    assert 0.8 * 5 * 1024**2 <= first.data_bytes <= 1.3 * 5 * 1024**2
    assert first.projects == 5 * (first.users - 1) and first.audit_rows == 40 * (first.users - 1)
    assert lines[-1].startswith(f"sample data: {first.users} users")
    again = sample_data.load(plane.primary, "5MB")
    assert (again.users, again.projects, again.audit_rows) == (first.users, first.projects, first.audit_rows)
    # Every value derives from the row number: the same rows whatever the machine.
    assert plane.sql("SELECT email, status FROM users WHERE id IN (96, 97) ORDER BY id") == [
        ("user96@example.com", "active"), ("user97@example.com", "suspended")]
    assert plane.sql("SELECT count(*) FROM projects WHERE owner_id = 2") == [(5,)]


def test_the_reference_smoke_test_login_exists(plane: DataPlane) -> None:
    sample_data.load(plane.primary, "small")
    row = plane.sql("SELECT password_hash, status FROM users WHERE email = %s",
                    (sample_data.TEST_USER_EMAIL,))
    assert row and row[0][1] == "active"
    assert verify_password(sample_data.TEST_USER_PASSWORD, str(row[0][0]))
    assert not verify_password("wrong", str(row[0][0]))
