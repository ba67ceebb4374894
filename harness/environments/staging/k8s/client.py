"""The official Kubernetes client, configured from a profile, and :func:`kcall`, which puts
a timeout on every call and turns the client's exceptions into :class:`KubeError`\\ s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drillbook.harness.calls.kube import recording_api_client
from drillbook.harness.environments.staging.settings import KubeSettings
from drillbook.harness.errors import DrillbookError, InvalidDrillConfig
from drillbook.harness.redact import redact_text


class KubeError(DrillbookError):
    """A Kubernetes API call failed; ``status`` is the HTTP status (0 when nothing answered)."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeNotFound(KubeError):
    pass


class KubeForbidden(KubeError):
    pass


class KubeConflict(KubeError):
    pass


class KubeTooManyRequests(KubeError):
    """429: e.g. an eviction a PodDisruptionBudget does not allow yet."""


class KubeInvalid(KubeError):
    pass


class KubeUnreachable(KubeError):
    """The API server did not answer within the timeout."""


class KubeConfigError(InvalidDrillConfig):
    """The kubeconfig, its context or the in-cluster configuration cannot be loaded."""


_BY_STATUS: dict[int, type[KubeError]] = {
    404: KubeNotFound,
    403: KubeForbidden,
    401: KubeForbidden,
    409: KubeConflict,
    429: KubeTooManyRequests,
    422: KubeInvalid,
    400: KubeInvalid,
}


def api_client(settings: KubeSettings, *, where: str = "[kubernetes]") -> Any:
    """An ApiClient for the profile: ``api_url``, in-cluster, or the kubeconfig's context.
    Retries are bounded; every call still takes its own timeout through :func:`kcall`."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    try:
        if settings.api_url:
            configuration.host = settings.api_url.rstrip("/")
        elif settings.in_cluster:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=settings.kubeconfig,
                context=settings.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        source = (
            "the in-cluster service account"
            if settings.in_cluster
            else f"kubeconfig {settings.kubeconfig or '~/.kube/config (or $KUBECONFIG)'}"
            + (f" context {settings.context!r}" if settings.context else "")
        )
        raise KubeConfigError(
            f"{where}: cannot load {source}: {exc}; check context / kubeconfig there, or set api_url"
        ) from exc
    configuration.retries = 2
    return recording_api_client(configuration)


def timeout(settings: KubeSettings) -> tuple[float, float]:
    """(connect, read) seconds for ``_request_timeout``."""
    return (min(5.0, settings.request_timeout), settings.request_timeout)


def kcall(
    what: str,
    fn: Callable[..., Any],
    *args: Any,
    request_timeout: tuple[float, float],
    hints: dict[int, str] | None = None,
    **kwargs: Any,
) -> Any:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return fn(*args, _request_timeout=request_timeout, **kwargs)
    except ApiException as exc:
        status = int(exc.status or 0)
        message = _message(exc)
        hint = (hints or {}).get(status)
        text = f"{hint} (the API server said {status} {message})" if hint else f"{what}: {status} {message}"
        raise _BY_STATUS.get(status, KubeError)(
            redact_text(text), status=status, reason=str(exc.reason or "")
        ) from exc
    except (HTTPError, OSError) as exc:
        raise KubeUnreachable(
            f"{what}: the Kubernetes API server did not answer within "
            f"{request_timeout[1]:g}s ({type(exc).__name__}: {exc}); check the context, "
            "api_url and the network"
        ) from exc


def _message(exc: Any) -> str:
    import json

    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return str(exc.reason or "")
    return str(body.get("message") or exc.reason or "") if isinstance(body, dict) else str(exc.reason or "")


class Kube:
    """One cluster connection: the typed APIs, the namespace, the timeouts, where the config is."""

    def __init__(
        self,
        settings: KubeSettings,
        *,
        where: str = "[kubernetes]",
        poll_interval: float = 2.0,
        progress: Callable[[str], None] | None = None,
        api: Any = None,
    ) -> None:
        from kubernetes import client

        self.settings = settings
        self.where = where
        self.poll_interval = poll_interval
        self.progress = progress
        self.api = api if api is not None else api_client(settings, where=where)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.authz = client.AuthorizationV1Api(self.api)
        self.version_api = client.VersionApi(self.api)

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    def call(
        self,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
        hints: dict[int, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        return kcall(what, fn, *args, request_timeout=timeout(self.settings), hints=hints, **kwargs)

    def plain(self, model: Any) -> Any:
        """A client model as the API's JSON (camelCase keys), for copying and patching."""
        return self.api.sanitize_for_serialization(model)

    def close(self) -> None:
        self.api.close()
