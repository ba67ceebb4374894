from __future__ import annotations

import json

import pytest
import redis

from drillbook.faults.security_compromise import SecurityCompromise
from drillbook.harness import pg
from tests.fault_injectors.cases import ContractCase
from tests.local_env import SharedEnv
from tests.twin.app_plane_support import http

VICTIM, TARGET = "user6@example.com", "user7@example.com"


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared: SharedEnv = request.getfixturevalue("local_env")
    env = shared.env
    fault = SecurityCompromise(env.front_door_url, env.cache.url(), VICTIM, TARGET, failed_logins=3,
                               bulk_reads=5)

    def sessions() -> int:
        client = redis.Redis.from_url(env.cache.url(), socket_timeout=3)
        try:
            found = [json.loads(client.get(k) or b"{}") for k in client.scan_iter(match="session:*")]
        finally:
            client.close()
        return sum(1 for s in found if s.get("email") in (VICTIM, TARGET))

    def steady() -> bool:
        return sessions() == 0 and http("GET", f"{env.front_door_url}/api/health", timeout=3).status == 200

    def broken() -> bool:
        # The stolen token works (an empty create is refused after authentication: 400, not 401),
        # and the attacker's address is in the audit log.
        token = fault.stolen_token
        accepted = token is not None and http("POST", f"{env.front_door_url}/api/projects", {},
                                               token=token, timeout=3).status == 400
        rows = pg.query(env.database.dsn("compliant"),
                        "SELECT count(*) FROM audit_log WHERE host(ip_address) = %s AND event_type = 'read'",
                        (fault.attacker_ip,))
        return accepted and sessions() == 2 and int(rows[0][0]) == 5

    return ContractCase(fault, steady=steady, broken=broken)
