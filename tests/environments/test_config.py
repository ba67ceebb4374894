"""Configuration: profiles with typed validation, secrets only by reference, and clear
errors (naming the key, the expected type and the fix) with no traceback, from the
library, from ``drillbook`` and from pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drillbook.harness.config import Config, ConfigError, InlineSecret, find_config, load_config
from drillbook.harness.environments.profile import load_profile
from drillbook.harness.environments.staging.settings import DatabaseSettings, DeploymentSettings, load_staging

GOOD = """
[environments.staging]
production = false
health_url = "https://staging.compliant.example/health"

[environments.staging.aws]
region = "eu-west-1"
profile = "drillbook-staging"
connect_timeout = "3s"

[environments.staging.kubernetes]
context = "staging"
namespace = "compliant"

[environments.staging.database]
driver = "rds"
instance_id = "compliant-staging"
url_env = "DATABASE_URL"

[environments.staging.replica]
driver = "rds"
instance_id = "compliant-staging-dr"
region = "eu-central-1"
url_secret = "staging/dr-database-url"
url_secret_key = "url"

[environments.staging.app]
deployment = "compliant-api"
selector = "app=compliant-api"

[environments.staging.workers]
deployment = "compliant-workers"
selector = "app=compliant-workers"
namespace = "jobs"

[environments.staging.network]
url = "http://toxiproxy.staging:8474"
proxies = ["app-db", "app-cache"]

[environments.staging.object_store]
bucket = "compliant-evidence"
sse = "aws:kms"
kms_key_id = "alias/drillbook"
object_lock_mode = "COMPLIANCE"
object_lock_days = 365

[environments.staging.dns]
hosted_zone_id = "/hostedzone/Z0123456789ABC"

[environments.staging.secrets]
rotate = ["staging/jwt", "staging/db-password"]

[environments.staging.limits.k8s_pod_kill]
max_pods = 2
max_percent = 50
"""


def write(tmp_path: Path, text: str, name: str = "drillbook.toml") -> Config:
    path = tmp_path / name
    path.write_text(text)
    return load_config(path)


def test_a_full_profile_reads_into_typed_settings(tmp_path: Path) -> None:
    settings = load_staging(write(tmp_path, GOOD), "staging")
    database = settings.roles["database"]
    assert isinstance(database, DatabaseSettings) and database.instance_id == "compliant-staging"
    assert (
        database.aws is not None
        and database.aws.region == "eu-west-1"
        and database.aws.connect_timeout == 3.0
    )
    assert database.url is not None and database.url.env == "DATABASE_URL"
    replica = settings.roles["replica"]
    assert replica.aws.region == "eu-central-1" and replica.url.secret_id == "staging/dr-database-url"
    workers = settings.roles["workers"]
    assert isinstance(workers, DeploymentSettings) and workers.kube.namespace == "jobs"
    assert workers.kube.context == "staging" and settings.roles["app"].kube.namespace == "compliant"
    assert settings.roles["dns"].hosted_zone_id == "Z0123456789ABC"
    assert settings.roles["object_store"].object_lock_days == 365
    assert settings.roles["backups"].instance_id == "compliant-staging"  # defaults to the database's
    limit = settings.profile.limit_for("k8s_pod_kill")
    assert limit is not None and (limit.max_pods, limit.max_percent) == (2, 50.0)


def test_the_config_api_the_plugin_uses_still_works(tmp_path: Path) -> None:
    config = write(tmp_path, 'state_dir = "state"\n[targets]\nrto = "1h"\n' + GOOD)
    assert config.get("state_dir") == "state" and config.get("missing", 1) == 1
    assert config.section("targets") == {"rto": "1h"} and config.section("nothing") == {}
    assert config.root == tmp_path and config.where() == str(tmp_path / "drillbook.toml")
    assert len(config.hash) == 64 and config.environment_names() == ["staging"]
    assert find_config(tmp_path).path == tmp_path / "drillbook.toml"


def test_pyproject_tool_drillbook(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname='x'\n[tool.drillbook.environments.ci.network]\n"
        "url = 'http://127.0.0.1:8474'\nproxies = ['app-db']\n"
    )
    config = find_config(tmp_path)
    assert config.path == tmp_path / "pyproject.toml"
    assert load_profile(config, "ci").kind == "staging"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # an inline password, by key
        (
            '[environments.s.database]\nurl_env = "DATABASE_URL"\npassword = "hunter2"\n',
            r"\[environments.s.database\] password holds a secret inline; .* set password_env = \"VARIABLE\"",
        ),
        # an inline password, in a URL
        (
            '[environments.s.database]\nurl = "postgresql://app:hunter2@db:5432/app"\n',
            r"\[environments.s.database\] url holds a password inline; put the whole URL in an environment"
            r" variable "
            r"and set url_env",
        ),
        # a token, anywhere in the file
        ('[paging]\napi_token = "abc123"\n', r"\[paging\] api_token holds a secret inline"),
        ('[environments.s.cache]\nurl = "redis://:hunter2@cache:6379/0"\n', r"url holds a password inline"),
        (
            '[environments.s.database]\nurl = "host=db password=hunter2 dbname=app"\n',
            r"holds a password inline",
        ),
    ],
)
def test_inline_secrets_are_refused_naming_the_key_and_the_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InlineSecret, match=message) as caught:
        write(tmp_path, text)
    assert "hunter2" not in str(caught.value) and "abc123" not in str(caught.value)


def test_references_are_not_secrets(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        '[environments.s.database]\nurl_env = "DATABASE_URL"\npassword_secret = "x"\n'
        'token_env = "T"\n[environments.s.secrets]\nregion = "eu-west-1"\n'
        'rotate = ["staging/db-password"]\n[environments.s.cache]\n'
        'url = "redis://cache.staging:6379/0"\n',
    )
    assert config.environment("s") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a missing key
        (
            '[environments.s.database]\ndriver = "rds"\nregion = "eu-west-1"\nurl_env = "D"\n',
            r"\[environments.s.database\] instance_id: is missing; add it, e.g. instance_id ="
            r" \"compliant-db\"",
        ),
        ('[environments.s.app]\nselector = "app=api"\n', r"\[environments.s.app\] deployment: is missing"),
        (
            '[environments.s.database]\ndriver = "rds"\ninstance_id = "db"\n',
            r"\[environments.s.database\] region: is missing; set it in the role table or in the profile's"
            r" \[aws\]",
        ),
        (
            "[environments.s.database]\n",
            r"\[environments.s.database\] url_env: is missing; name where the url comes "
            r"from: url_env = \"DATABASE_URL\"",
        ),
        # a wrong type
        (
            '[environments.s]\nproduction = "yes"\n[environments.s.network]\nurl ='
            ' "http://t:8474"\nproxies = ["a"]\n',
            r"\[environments.s\] production: expected true or false, got the string 'yes'; e.g. production"
            r" = true",
        ),
        (
            '[environments.s.network]\nurl = "http://t:8474"\nproxies = "app-db"\ntimeout = [1]\n',
            r"\[environments.s.network\] timeout: expected a duration like \"30s\" or a number of seconds,"
            r" got an array",
        ),
        (
            '[environments.s.dns]\nregion = "us-east-1"\nhosted_zone_id = 42\n',
            r"\[environments.s.dns\] hosted_zone_id: expected a non-empty string, got int 42",
        ),
        (
            "[environments.s.limits.k8s_pod_kill]\nmax_percent = 150\n[environments.s.network]\nurl ="
            ' "http://t"\n'
            'proxies = ["a"]\n',
            r"max_percent: expected a number between 0 and 100, got int 150",
        ),
        (
            '[environments.s.object_store]\nregion = "eu-west-1"\nbucket = "b"\nobject_lock_mode ='
            ' "FOREVER"\n'
            "object_lock_days = 1\n",
            r"object_lock_mode: expected one of 'GOVERNANCE', 'COMPLIANCE', got 'FOREVER'",
        ),
        (
            '[environments.s.cache]\nurl_env = "R"\ndriver = "memcached"\n',
            r"\[environments.s.cache\] driver: expected one of 'redis', got 'memcached'",
        ),
        (
            '[environments.s]\naws = "eu-west-1"\n[environments.s.network]\nurl = "http://t"\nproxies ='
            ' ["a"]\n',
            r"\[environments.s\] aws: expected a table, got the string 'eu-west-1'; write it as"
            r" \[environments.s.aws\]",
        ),
        # a typo
        (
            '[environments.s.network]\nurl = "http://t:8474"\nproxys = ["app-db"]\n',
            r"\[environments.s.network\] proxies: is missing",
        ),
        (
            '[environments.s.network]\nurl = "http://t:8474"\nproxies = ["a"]\nproxys = ["b"]\n',
            r"\[environments.s.network\] proxys: is not a known key here; did you mean 'proxies'\?",
        ),
        # a typo in a shared table no role uses
        (
            '[environments.s.aws]\nregon = "eu-west-1"\n[environments.s.network]\nurl = "http://t"\n'
            'proxies = ["a"]\n',
            r"\[environments.s.aws\] regon: is not a known key here; did you mean 'region'\?",
        ),
        # nothing configured
        ("[environments.s]\nproduction = false\n", r"\[environments.s\]: maps no role to a driver"),
        # a URL without its scheme
        ('[environments.s.network]\nurl = "toxiproxy:8474"\nproxies = ["a"]\n', r"must be an http:// URL"),
    ],
)
def test_bad_profiles_name_the_key_the_type_and_the_fix(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_staging(config, "s")


def test_an_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    config = write(tmp_path, GOOD)
    with pytest.raises(
        ConfigError,
        match=r"unknown environment 'prod': define \[environments.prod\] .* or use one "
        r"of: local, staging",
    ):
        load_profile(config, "prod")


# -- no traceback: from the command line and from pytest ---------------------------------------------


BAD = {
    "missing key": ('[environments.staging.app]\nselector = "app=api"\n', "deployment: is missing"),
    "wrong type": (
        '[environments.staging.network]\nurl = "http://t:8474"\nproxies = ["a"]\ntimeout = true\n',
        "timeout: expected a duration",
    ),
    "inline password": (
        '[environments.staging.database]\nurl = "postgresql://u:hunter2@db/app"\n',
        "url holds a password inline",
    ),
    "bad TOML": ("[environments.staging\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_command_line_reports_bad_config_without_a_traceback(tmp_path: Path, case: str) -> None:
    text, message = BAD[case]
    (tmp_path / "drillbook.toml").write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "env", "check", "--env", "staging"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "hunter2" not in done.stderr
    assert done.stderr.startswith("drillbook env: error: ")


@pytest.mark.parametrize("case", sorted(BAD))
def test_pytest_reports_bad_config_as_a_usage_error(pytester: pytest.Pytester, case: str) -> None:
    text, message = BAD[case]
    pytester.makefile(".toml", drillbook=text)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--drill-env", "staging")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text_out = result.stdout.str() + result.stderr.str()
    assert message in text_out and "Traceback" not in text_out and "hunter2" not in text_out


def test_an_unreachable_endpoint_is_reported_by_env_check(tmp_path: Path) -> None:
    from drillbook.twin.postgres import free_port

    (tmp_path / "drillbook.toml").write_text(
        f'[environments.staging.network]\nurl = "http://127.0.0.1:{free_port()}"\nproxies = ["app-db"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", "env", "check", "--env", "staging", "--timeout", "1s"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "toxiproxy API" in done.stdout and "NOT READY" in done.stdout
    assert "did not answer" in done.stdout
