"""Probes: named checks that pass or fail with detail. The steady state is a set of them."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drillbook.harness.redact import redact_text


@dataclass(frozen=True)
class ProbeResult:
    name: str
    passed: bool
    detail: str = ""
    started: float = 0.0  # time.monotonic() when the probe began
    observed: float = 0.0  # time.monotonic() when its answer arrived


class Probe:
    """A named check. ``check`` returns True (or None) for pass; False or an exception fails.

    It may also return ``(passed, detail)``.
    """

    def __init__(self, name: str, check: Callable[[], Any], *, description: str = "") -> None:
        self.name = name
        self.check = check
        self.description = description

    def run(self) -> ProbeResult:
        started = time.monotonic()
        try:
            value = self.check()
        except Exception as exc:  # a probe failing is data, not an error
            detail = redact_text(f"{type(exc).__name__}: {exc}")
            return ProbeResult(self.name, False, detail, started, time.monotonic())
        observed = time.monotonic()
        if isinstance(value, tuple) and len(value) == 2:
            return ProbeResult(self.name, bool(value[0]), redact_text(str(value[1])), started, observed)
        if value is None or value is True:
            return ProbeResult(self.name, True, "", started, observed)
        return ProbeResult(self.name, False, f"returned {value!r}", started, observed)

    def __call__(self) -> ProbeResult:
        return self.run()

    def __repr__(self) -> str:
        return f"Probe({self.name!r})"


def as_probe(obj: Probe | Callable[[], Any]) -> Probe:
    if isinstance(obj, Probe):
        return obj
    if callable(obj):
        name = getattr(obj, "__name__", None) or repr(obj)
        if name == "<lambda>":
            name = f"lambda@{obj.__code__.co_firstlineno}" if hasattr(obj, "__code__") else "lambda"
        return Probe(name, obj)
    raise TypeError(f"a probe must be callable or a Probe, not {type(obj).__name__}")


def http_probe(url: str, *, name: str | None = None, timeout: float = 1.0, expect: int = 200) -> Probe:
    """Passes when ``GET url`` answers with status ``expect`` within ``timeout`` seconds."""

    def check() -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        return status == expect, f"HTTP {status}"

    return Probe(name or f"http {redact_text(url)}", check)


def tcp_probe(host: str, port: int, *, name: str | None = None, timeout: float = 1.0) -> Probe:
    """Passes when a TCP connection to ``host:port`` opens within ``timeout`` seconds."""

    def check() -> bool:
        with socket.create_connection((host, port), timeout=timeout):
            return True

    return Probe(name or f"tcp {host}:{port}", check)


def sql_probe(
    dsn: str | Callable[[], str],
    query: str = "SELECT 1",
    *,
    name: str | None = None,
    timeout: float = 2.0,
    expect: Callable[[Any], bool] | None = None,
) -> Probe:
    """Passes when ``query`` runs on PostgreSQL (and ``expect(first_value)`` holds)."""

    def check() -> tuple[bool, str]:
        import psycopg

        target = dsn() if callable(dsn) else dsn
        ms = int(timeout * 1000)
        with psycopg.connect(
            target,
            connect_timeout=max(1, int(timeout + 0.999)),
            autocommit=True,
            options=f"-c statement_timeout={ms}",
        ) as conn:
            row = conn.execute(query).fetchone()  # type: ignore[arg-type]
        value = row[0] if row else None
        if expect is not None and not expect(value):
            return False, f"unexpected value {value!r}"
        return True, f"{value!r}"

    return Probe(name or f"sql {query[:40]}", check)
