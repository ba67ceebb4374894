"""resourceVersions and watch events of rendered objects."""

from __future__ import annotations

from typing import Any

from drillbook.twin.kube.cache import ObjectCache
from drillbook.twin.kube.meta import Rendered, human_duration


def pod(name: str, phase: str = "Running") -> Rendered:
    obj: dict[str, Any] = {"metadata": {"name": name, "namespace": "production"}, "status": {"phase": phase}}
    return Rendered("pods", obj)


def versions(rendered: list[Rendered]) -> dict[str, int]:
    return {r.name: int(r.obj["metadata"]["resourceVersion"]) for r in rendered}


def test_an_object_keeps_its_version_until_it_changes() -> None:
    cache = ObjectCache()
    first = [pod("a"), pod("b")]
    list_version = cache.observe("pods", first)
    assert max(versions(first).values()) == list_version
    again = [pod("a"), pod("b", "Pending")]
    cache.observe("pods", again)
    assert versions(again)["a"] == versions(first)["a"] and versions(again)["b"] > versions(first)["b"]
    assert cache.version_of("pods", "production", "b") == str(versions(again)["b"])


def test_watch_events_after_a_version() -> None:
    cache = ObjectCache()
    start = cache.observe("pods", [pod("a")])
    cache.observe("pods", [pod("a", "Pending"), pod("b")])
    cache.observe("pods", [pod("b")])
    cache.observe("nodes", [Rendered("nodes", {"metadata": {"name": "node-az-a"}})])
    events = cache.events_after("pods", start)
    assert events is not None
    assert [(e.type, e.rendered.name) for e in events] == [
        ("MODIFIED", "a"),
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]
    assert [e.rv for e in events] == sorted(e.rv for e in events)


def test_a_watch_from_before_the_kept_window_is_too_old() -> None:
    cache = ObjectCache(window=3)
    start = cache.observe("pods", [pod("a")])
    for phase in ("Pending", "Running", "Failed", "Succeeded"):
        cache.observe("pods", [pod("a", phase)])
    assert cache.events_after("pods", start) is None
    assert cache.events_after("pods", cache.rv) == []


def test_versions_grow_across_restarts() -> None:
    saved = pod("lease")
    saved.obj["metadata"]["resourceVersion"] = str(ObjectCache().rv + 1000)
    cache = ObjectCache()
    cache.prime([saved])
    assert cache.rv >= int(saved.obj["metadata"]["resourceVersion"])
    assert cache.observe("pods", [pod("lease")]) == int(saved.obj["metadata"]["resourceVersion"])


def test_human_durations_as_kubectl_prints_ages() -> None:
    assert [human_duration(s) for s in (0, 59, 119, 120, 605, 3 * 3600 + 60, 30 * 3600, 50 * 3600)] == [
        "0s",
        "59s",
        "119s",
        "2m",
        "10m",
        "3h1m",
        "30h",
        "2d2h",
    ]
