"""The toy platform, weak or healthy, one per test (each example of a search is a drill of
its own; the platform outlives them, as a real one would)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.explore.toy import ToyPlatform


@pytest.fixture
def weak_toy() -> Iterator[ToyPlatform]:
    platform = ToyPlatform(weak=True).start()
    yield platform
    platform.stop()


@pytest.fixture
def healthy_toy() -> Iterator[ToyPlatform]:
    platform = ToyPlatform(weak=False).start()
    yield platform
    platform.stop()
