"""``eval "$(drillbook env shell)"``: the real aws CLI and kubectl reach the twin unchanged;
``env status --json`` names the same endpoint; nothing to export when it is not up."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from drillbook.harness.cli.env_shell import shell_lines
from tests.local_env import SharedEnv
from tests.twin.kube.support import needs_kubectl
from tests.twin.rds.support import DR_REGION, PRIMARY, REGION, REPLICA, aws_executable

DRILLBOOK = f"{shlex.quote(sys.executable)} -m drillbook"


def drillbook(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drillbook", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_eval_env_shell_points_the_aws_cli_and_kubectl_at_the_twin(
    local_env: SharedEnv, tmp_path: Path
) -> None:
    needs_kubectl()
    aws_dir = str(Path(aws_executable()).parent)
    script = (
        f'eval "$({DRILLBOOK} env shell --state-dir {shlex.quote(str(local_env.state_dir))})" || exit 9\n'
        "aws rds describe-db-instances --query 'DBInstances[].[DBInstanceIdentifier,Endpoint.Port]' "
        "--output json || exit 3\n"
        "echo ---\n"
        'aws --region "$DRILLBOOK_DR_REGION" rds describe-db-instances '
        "--query 'DBInstances[].DBInstanceIdentifier' --output json || exit 4\n"
        "echo ---\n"
        "kubectl get pods -o wide || exit 5\n"
    )
    # What a developer's shell may hold for a real account: the exports must win over all of it.
    environ = {**os.environ, "PATH": f"{aws_dir}:{os.environ.get('PATH', '')}", "HOME": str(tmp_path),
               "AWS_PROFILE": "production-admin", "AWS_ENDPOINT_URL_RDS": "https://rds.amazonaws.com",
               "AWS_MAX_ATTEMPTS": "1"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=240, env=environ)
    assert done.returncode == 0, f"rc {done.returncode}: {done.stdout}{done.stderr}"
    primary_region, dr_region, pods = done.stdout.split("---\n")
    ports = dict(json.loads(primary_region))
    # us-east-1 is the region aws-cli v1 pins `aws rds` to AWS in: the twin answered, with its real port.
    assert ports[PRIMARY] == local_env.env.local_database.port
    assert json.loads(dr_region) == [REPLICA]
    lines = pods.splitlines()
    assert lines[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert any(line.startswith("api-") and " Running " in line and "node-az-" in line for line in lines[1:])


def test_env_status_json_names_the_aws_endpoint_and_kubeconfig(local_env: SharedEnv) -> None:
    done = drillbook("env", "status", "--json", "--state-dir", str(local_env.state_dir))
    status = json.loads(done.stdout)
    aws = status["aws"]
    assert aws["endpoint_url"] == local_env.env.aws_endpoint.url
    assert (aws["region"], aws["dr_region"]) == (REGION, DR_REGION)
    assert Path(aws["config_file"]).read_text().count(aws["endpoint_url"]) == 1
    assert Path(status["kubeconfig"]).is_file()


def test_env_shell_when_not_up_says_so_and_exits_1(tmp_path: Path) -> None:
    done = drillbook("env", "shell", "--state-dir", str(tmp_path / "nothing-here"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "local is not up" in done.stderr and "drillbook env up" in done.stderr
    assert "Traceback" not in done.stderr


def test_shell_lines_quote_every_value_for_eval() -> None:
    access = {"aws": {"endpoint_url": "http://127.0.0.1:1", "region": "us-east-1", "dr_region": "us-west-2",
                      "config_file": "/tmp/a dir/it's here"}, "kubeconfig": "/tmp/$HOME/kubeconfig"}
    printed = shell_lines(access)
    script = 'eval "$1"; printf "%s\\n" "$AWS_CONFIG_FILE" "$KUBECONFIG"'
    done = subprocess.run(["bash", "-c", script, "-", printed], capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.stdout.splitlines() == ["/tmp/a dir/it's here", "/tmp/$HOME/kubeconfig"]

