"""The AWS drivers' calls, recorded against moto's real HTTP server: each call once, with its
identifying parameters, moto's request id, its outcome, and never a secret value."""

from __future__ import annotations

import json

import pytest

from drillbook.harness.calls.scope import CallLog, scope
from drillbook.harness.environments.staging.aws.client import client
from drillbook.harness.environments.staging.aws.errors import AwsNotFound
from drillbook.harness.environments.staging.aws.rds import Rds
from drillbook.harness.environments.staging.aws.rds_snapshots import RdsSnapshots
from drillbook.harness.environments.staging.aws.secrets import SecretsManager
from drillbook.harness.records import CallerKind
from tests.environments.staging.moto_server import MotoServer, create_postgres, started

SECRET_VALUE = "s3cr3t-value-never-journaled"


@pytest.fixture
def moto(request: pytest.FixtureRequest) -> MotoServer:
    return started(request)


def test_rds_calls_are_recorded_with_ids_and_request_ids(moto: MotoServer) -> None:
    aws = moto.settings()
    create_postgres(aws, "orders-db")  # outside any scope: not recorded
    rds = Rds(aws, poll_interval=0.01)
    log = CallLog()
    with scope(log, CallerKind.STEP, "take a snapshot"):
        rds.describe("orders-db")
        RdsSnapshots(rds).create("orders-db", "orders-db-drill-1", wait=False)
        with pytest.raises(AwsNotFound):
            rds.describe("no-such-db")
    calls = log.records()
    assert [(c.service, c.operation, c.outcome) for c in calls] == [
        ("rds", "DescribeDBInstances", "ok"),
        ("rds", "CreateDBSnapshot", "ok"),
        ("rds", "DescribeDBInstances", "DBInstanceNotFound"),
    ]
    assert calls[1].params == {
        "DBInstanceIdentifier": "orders-db",
        "DBSnapshotIdentifier": "orders-db-drill-1",
    }
    assert calls[1].permission == "rds:CreateDBSnapshot"
    assert all(c.request_id for c in calls), [c.request_id for c in calls]
    assert len({c.request_id for c in calls}) == 3
    assert all(c.caller == "take a snapshot" and c.caller_kind == "step" for c in calls)
    assert all(c.duration_s >= 0 and c.at for c in calls)


def test_a_secret_value_is_never_recorded(moto: MotoServer) -> None:
    aws = moto.settings()
    client(aws, "secretsmanager").create_secret(Name="staging/jwt", SecretString="initial-value-1234")
    secrets = SecretsManager(aws)
    log = CallLog()
    with scope(log, CallerKind.FAULT, "secret_leak"):
        secrets.put_version("staging/jwt", SECRET_VALUE)
        assert secrets.get("staging/jwt") == SECRET_VALUE
    calls = log.records()
    assert [c.operation for c in calls] == ["PutSecretValue", "GetSecretValue"]
    assert all(c.params == {"SecretId": "staging/jwt"} for c in calls)
    assert SECRET_VALUE not in json.dumps([c.__dict__ for c in calls])
    assert all(c.caller_kind == "fault" for c in calls)


def test_no_scope_no_record(moto: MotoServer) -> None:
    aws = moto.settings()
    create_postgres(aws, "orders-db")
    log = CallLog()
    Rds(aws).describe("orders-db")
    assert log.records() == []
