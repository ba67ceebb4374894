"""Fixtures for drillbook's own tests: real servers, started and always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import HttpServer, http_server as start_http_server


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HttpServer]:
    server = start_http_server(tmp_path)
    try:
        yield server
    finally:
        server.stop()
