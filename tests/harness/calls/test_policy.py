"""``drillbook env policy``: the IAM policy and the Roles hold exactly what the drivers declare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from drillbook.harness.calls.declared import declarations
from drillbook.harness.calls.policy import iam_json, iam_policy, permissions, rbac_yaml
from drillbook.harness.cli import main
from tests.harness.calls.granted import granted_by


def test_policy_and_roles_grant_exactly_the_declared_calls() -> None:
    declared = declarations()
    documents = list(yaml.safe_load_all(rbac_yaml(declared, namespace="shop")))
    assert [d["kind"] for d in documents] == ["Role", "ClusterRole"]
    assert documents[0]["metadata"] == {"name": "drillbook", "namespace": "shop"}
    assert granted_by(iam_policy(declared), documents) == permissions(declared)
    assert "rds:StopDBInstance" in permissions(declared)
    assert "core/pods/eviction:create" in permissions(declared)
    assert not any(p.endswith(":*") or p == "*" for p in permissions(declared))


def test_the_command_prints_both_and_each_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env", "policy", "--only", "iam"]) == 0
    policy = json.loads(capsys.readouterr().out)
    assert policy["Version"] == "2012-10-17" and policy["Statement"]
    assert main(["env", "policy", "--only", "rbac", "--namespace", "payments"]) == 0
    role = next(yaml.safe_load_all(capsys.readouterr().out))
    assert role["kind"] == "Role" and role["metadata"]["namespace"] == "payments"
    assert main(["env", "policy"]) == 0
    both = capsys.readouterr().out
    assert "# IAM policy (JSON)" in both and "kind: ClusterRole" in both


def test_docs_show_the_policy_as_generated() -> None:
    """docs/staging.md quotes the generated policy and Roles: they must not drift from the code."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "staging.md").read_text(encoding="utf-8")
    declared = declarations()
    assert f"```json\n{iam_json(declared)}```" in text
    assert f"```yaml\n{rbac_yaml(declared, namespace='compliant')}```" in text


def test_the_role_namespace_comes_from_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "drillbook.toml"
    config.write_text(
        '[environments.staging.kubernetes]\napi_url = "http://127.0.0.1:9"\nnamespace = "payments"\n\n'
        '[environments.staging.app]\ndeployment = "api"\nselector = "app=api"\n'
    )
    assert main(["env", "policy", "--only", "rbac", "--env", "staging", "--config", str(config)]) == 0
    role = next(yaml.safe_load_all(capsys.readouterr().out))
    assert role["metadata"]["namespace"] == "payments"
