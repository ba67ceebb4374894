"""boto3 clients with connect and read timeouts and bounded retries, and :func:`aws_call`,
which turns botocore's exceptions into :mod:`~drillbook.harness.environments.staging.aws.errors`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drillbook.harness.calls.aws import instrument
from drillbook.harness.environments.staging.aws.errors import AwsError, AwsUnreachable, class_for
from drillbook.harness.environments.staging.settings import AwsSettings
from drillbook.harness.redact import redact_text


def client(aws: AwsSettings, service: str) -> Any:
    """A boto3 client for ``service``; no network call is made here."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=aws.connect_timeout,
        read_timeout=aws.read_timeout,
        retries={"max_attempts": aws.max_attempts, "mode": "standard"},
        user_agent_extra="drillbook",
    )
    import botocore.session

    core = botocore.session.Session(profile=aws.profile)
    if aws.config_file:
        # Set before anything reads the configuration, which the session loads once.
        core.set_config_variable("config_file", aws.config_file)
    session = boto3.session.Session(botocore_session=core, region_name=aws.region)
    extra: dict[str, str] = {}
    if aws.emulator_credentials:
        # moto accepts any credentials; never send the machine's real ones to an emulator.
        extra = {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}
    return instrument(session.client(service, endpoint_url=aws.endpoint_url, config=config, **extra))


def aws_call(
    what: str, fn: Callable[..., Any], /, *, hints: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    """``fn(**kwargs)``; a failure raises the AwsError subclass for its code, with ``what`` and,
    when one is given for the code (or for the error class's name), the hint of what to check."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )
    from botocore.parsers import ResponseParserError

    try:
        return fn(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(
            error.get("Code", "") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        )
        message = str(error.get("Message", "") or "")
        cls = class_for(code)
        hint = (hints or {}).get(code) or (hints or {}).get(cls.__name__)
        text = hint if hint else f"{what}: {code}: {message}"
        if hint:
            text = f"{hint} (AWS said {code}: {message})" if message else f"{hint} (AWS said {code})"
        raise cls(redact_text(text), code=code, operation=exc.operation_name) from exc
    except NoCredentialsError as exc:
        raise AwsUnreachable(
            f'{what}: no AWS credentials found; configure a profile ([aws] profile = "...") or the usual '
            "AWS_* environment variables / instance role",
            code="NoCredentials",
        ) from exc
    except NoRegionError as exc:
        raise AwsUnreachable(
            f'{what}: no AWS region; set region = "..." in the profile\'s [aws] table', code="NoRegion"
        ) from exc
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        raise AwsUnreachable(
            f"{what}: the AWS endpoint did not answer in time ({exc}); check the network, "
            "the region and endpoint_url",
            code=type(exc).__name__,
        ) from exc
    except BotoCoreError as exc:
        raise AwsError(f"{what}: {redact_text(str(exc))}", code=type(exc).__name__) from exc
    except ResponseParserError as exc:
        raise AwsError(
            f"{what}: the endpoint answered with something that is not an AWS response (an error page "
            "from a proxy, or an emulator that lacks this call)",
            code="ResponseParserError",
        ) from exc
