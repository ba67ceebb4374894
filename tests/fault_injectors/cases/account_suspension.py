from __future__ import annotations

import pytest

from drillbook.faults.account_suspension import AccountSuspension
from drillbook.harness import pg
from tests.fault_injectors.cases import ContractCase
from tests.local_env import SharedEnv

EMAILS = ["user4@example.com", "user5@example.com"]


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared: SharedEnv = request.getfixturevalue("local_env")
    dsn = shared.env.database.dsn("compliant")
    ids = [int(r[0]) for r in pg.query(dsn, "SELECT id FROM users WHERE email = ANY(%s)", (EMAILS,))]
    fault = AccountSuspension(ids, "contract case", dsn=dsn)

    def statuses() -> set[tuple[str, str | None]]:
        rows = pg.query(dsn, "SELECT status, suspension_reason FROM users WHERE id = ANY(%s)", (ids,))
        return {(str(r[0]), r[1]) for r in rows}

    return ContractCase(
        fault,
        steady=lambda: statuses() == {("active", None)},
        broken=lambda: statuses() == {("suspended", "contract case")},
    )
