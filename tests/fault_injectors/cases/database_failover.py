from __future__ import annotations

import pytest

from drillbook.faults.database_failover import DatabaseFailover
from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.settings import AwsSettings
from tests.fault_injectors.cases import ContractCase
from tests.local_env import shared_local_env


def make(request: pytest.FixtureRequest) -> ContractCase:
    shared = shared_local_env(request.config)
    endpoints = shared.env.access()["endpoints"]
    aws = AwsSettings(region=endpoints["aws"]["region"], endpoint_url=endpoints["aws"]["endpoint_url"],
                      emulator_credentials=True)
    rds, instance = Rds(aws, poll_interval=0.1), endpoints["database"]["instance_id"]
    zone = rds.describe(instance).availability_zone

    def steady() -> bool:
        # Available, and the primary accepts writes behind the endpoint the application uses.
        return rds.status(instance) == "available" and shared.env.local_database.primary.ready()

    def broken() -> bool:
        # Rebooting with failover, or already failed over: the primary is in the other zone.
        now = rds.describe(instance)
        return now.status == "rebooting" or now.availability_zone != zone

    return ContractCase(DatabaseFailover(**shared.where(), poll_interval=0.1), steady=steady, broken=broken,
                        timeout=120)
