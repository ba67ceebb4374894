"""A restored copy takes the application's password Secrets Manager holds now: a backup taken
before a rotation carries the revoked one, and the service, reading the secret, could not log in
to its own restored database (Scenarios 2 and 3 in one annual run)."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from drillbook.faults.restored_database import RestoredDatabase
from drillbook.harness import pg
from tests.local_env import SharedEnv


def test_a_copy_restored_after_a_rotation_accepts_the_current_password(
    local_env: SharedEnv, request: pytest.FixtureRequest
) -> None:
    env = local_env.env
    settings = env.app.env()
    secret_id = settings["DB_PASSWORD_SECRET_ID"]
    user = urlsplit(settings["DATABASE_URL"]).username
    before = env.secrets.get(secret_id)
    # Rotated after the latest snapshot: only Secrets Manager has the new value (the restore is
    # all this test looks at; the running service keeps its open connections meanwhile).
    env.secrets.put(secret_id, "rotated-" + before[:8])
    request.addfinalizer(lambda: env.secrets.put(secret_id, before))
    restored = RestoredDatabase(**local_env.where(), instance="password-check", snapshot="latest")
    restored.inject()
    request.addfinalizer(restored.revert)
    assert restored.restored is not None
    endpoint = urlsplit(restored.restored.dsn())

    def as_app(password: str) -> str:
        return f"postgresql://{user}:{password}@{endpoint.hostname}:{endpoint.port}/compliant"

    assert pg.query(as_app("rotated-" + before[:8]), "SELECT current_user", timeout=5.0) == [(user,)]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        pg.query(as_app(before), "SELECT 1", timeout=5.0)
