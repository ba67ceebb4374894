"""What an update or patch of a deployment, node or pod does to the supervisor.

The API computes the object a client asks for (the patch applied to the object as shown), then
this module compares it with the object as shown and carries the difference out with the
supervisor's own operations: ``spec.replicas`` is a scale; a new pod template (image,
environment, the ``restartedAt`` annotation) is a new release (or, when the template is an
older release's, that release again under a new revision, as ``rollout undo`` does); a node's
``spec.unschedulable`` cordons or uncordons its zone. Labels and annotations are kept by the
API (``kube.json``). A change the supervisor cannot carry out (a second container, a probe, a
paused rollout...) is refused with 422 naming the field, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from drillbook.twin.kube import meta, workloads
from drillbook.twin.kube.errors import Invalid, forbidden_field
from drillbook.twin.supervisor.model import STRATEGIES, Release

if TYPE_CHECKING:
    from drillbook.twin.kube.store import KubeStore
    from drillbook.twin.supervisor.controller import Controller

Path = tuple[str | int, ...]
#: Never compared: set by the server (or ignored by it, like the status of a main resource).
_IGNORED: tuple[Path, ...] = (
    ("metadata", "resourceVersion"),
    ("metadata", "managedFields"),
    ("metadata", "generation"),
    ("metadata", "creationTimestamp"),
    ("metadata", "uid"),
    ("metadata", "selfLink"),
    ("status",),
    ("apiVersion",),
    ("kind",),
)
_META: tuple[Path, ...] = (("metadata", "labels"), ("metadata", "annotations"))
_CONTAINER: Path = ("spec", "template", "spec", "containers", 0)
DEPLOYMENT_FIELDS: tuple[Path, ...] = (
    *_META,
    ("spec", "replicas"),
    (*_CONTAINER, "image"),
    (*_CONTAINER, "env"),
    ("spec", "template", "metadata", "annotations"),
    ("spec", "strategy", "type"),
    # Derived from the type (the supervisor's surge and unavailability): accepted, as Kubernetes
    # needs it removed with a change to Recreate, and not applied.
    ("spec", "strategy", "rollingUpdate"),
)
NODE_FIELDS: tuple[Path, ...] = (*_META, ("spec", "unschedulable"), ("spec", "taints"))
METADATA_FIELDS: tuple[Path, ...] = _META
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


def differences(old: Any, new: Any, *, whole: bool, path: Path = ()) -> Iterator[Path]:
    """Paths where ``new`` differs from ``old``. ``whole``: ``new`` is a complete object (a
    patch result), so a missing field was removed; else (a PUT) a missing field is unchanged."""
    if any(path[: len(p)] == p for p in _IGNORED):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            if key not in new:
                if whole and old[key] not in (None, {}, [], ""):
                    yield (*path, key)
            elif key not in old:
                if new[key] not in (None, {}, [], ""):
                    yield (*path, key)
            else:
                yield from differences(old[key], new[key], whole=whole, path=(*path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from differences(a, b, whole=whole, path=(*path, index))
    elif old != new:
        yield path


def checked(
    old: dict[str, Any], new: dict[str, Any], allowed: tuple[Path, ...], *, whole: bool
) -> list[Path]:
    changed = list(differences(old, new, whole=whole))
    for path in changed:
        if not any(path[: len(a)] == a for a in allowed):
            kind, api_version = str(old.get("kind", "")), str(old.get("apiVersion", ""))
            group = api_version.split("/", 1)[0] if "/" in api_version else ""
            raise forbidden_field(
                kind,
                group,
                str(old["metadata"]["name"]),
                _dotted(path),
                f"drillbook's twin cannot change it (it can change {', '.join(_dotted(a) for a in allowed)})",
            )
    return changed


def _dotted(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _dig(obj: Any, path: Path) -> Any:
    for part in path:
        if isinstance(part, int):
            obj = obj[part] if isinstance(obj, list) and part < len(obj) else None
        else:
            obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Invalid(f"{where} must map strings to strings")
    return dict(value)


def metadata(
    store: KubeStore,
    resource: str,
    namespace: str | None,
    name: str,
    new: dict[str, Any],
    computed: dict[str, dict[str, str]],
) -> None:
    """Keep the labels and annotations a client set; the computed ones cannot change."""
    kept: dict[str, dict[str, str]] = {}
    for part in ("labels", "annotations"):
        given = _strings(new.get("metadata", {}).get(part), f"metadata.{part}")
        for key, value in computed.get(part, {}).items():
            if key in given and given[key] != value and key != meta.REVISION:
                raise Invalid(
                    f"metadata.{part}[{key}] is set by drillbook's twin and cannot change (it is {value!r})"
                )
        kept[part] = {k: v for k, v in given.items() if k not in computed.get(part, {})}
    store.set_overlay(resource, namespace, name, labels=kept["labels"], annotations=kept["annotations"])


# -- deployments ------------------------------------------------------------------------------------


def deployment(
    ctl: Controller, store: KubeStore, name: str, old: dict[str, Any], new: dict[str, Any], *, whole: bool
) -> None:
    d = ctl.deployment(name)
    changed = checked(old, new, DEPLOYMENT_FIELDS, whole=whole)
    if not changed:
        return
    template_changed = any(p[:2] == ("spec", "template") for p in changed)
    strategy = _dig(new, ("spec", "strategy", "type")) or d.current.strategy
    if strategy not in STRATEGIES:
        raise Invalid(f"spec.strategy.type must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    replicas = _dig(new, ("spec", "replicas"))
    if replicas is None and not whole:
        replicas = d.replicas
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise Invalid(f"spec.replicas must be a whole number >= 0, not {replicas!r}")
    release = _release(d, new) if template_changed else None
    metadata(
        store,
        "deployments",
        ctl.state.namespace,
        name,
        new,
        {"labels": workloads.selector(d), "annotations": {meta.REVISION: str(d.current.revision)}},
    )
    if replicas != d.replicas:
        ctl.scale(name, replicas)
    if strategy != d.current.strategy and not template_changed:
        # The strategy alone: the next rollout's (as on Kubernetes, nothing rolls now).
        ctl.set_strategy(name, strategy)
    if release is not None and not release.same_template(d.current):
        cause = _cause(d, release, old, new)
        ctl.new_release(
            name,
            version=release.version,
            env=release.env,
            restarted_at=release.restarted_at,
            cause=cause,
            strategy=strategy,
        )


def _release(d: Any, new: dict[str, Any]) -> Release:
    """The release a pod template describes (what the supervisor can run of it)."""
    containers = _dig(new, ("spec", "template", "spec", "containers"))
    if not isinstance(containers, list) or len(containers) != 1 or not isinstance(containers[0], dict):
        raise Invalid("spec.template.spec.containers: drillbook's twin runs exactly one container per pod")
    image = containers[0].get("image")
    if not isinstance(image, str) or not image.strip():
        raise Invalid("spec.template.spec.containers[0].image: Required value")
    env: dict[str, str] = {}
    for index, entry in enumerate(containers[0].get("env") or []):
        where = f"spec.template.spec.containers[0].env[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise Invalid(f"{where}.name: Required value")
        if entry.get("valueFrom") is not None:
            raise Invalid(f"{where}.valueFrom: not emulated by drillbook's twin (set a value)")
        value = entry.get("value", "")
        if not isinstance(value, str):
            raise Invalid(f"{where}.value must be a string")
        env[entry["name"]] = value
    annotations = _strings(
        _dig(new, ("spec", "template", "metadata", "annotations")), "spec.template.metadata.annotations"
    )
    extra = sorted(set(annotations) - {meta.RESTARTED_AT})
    if extra:
        raise Invalid(
            f"spec.template.metadata.annotations: drillbook's twin keeps only "
            f"{meta.RESTARTED_AT} on a pod template, not {', '.join(extra)}"
        )
    return Release(
        revision=0,
        version=workloads.version_of(d, image.strip()),
        env=env,
        restarted_at=annotations.get(meta.RESTARTED_AT),
    )


def _cause(d: Any, release: Release, old: dict[str, Any], new: dict[str, Any]) -> str:
    given = _dig(new, ("metadata", "annotations", meta.CHANGE_CAUSE))
    if isinstance(given, str) and given != _dig(old, ("metadata", "annotations", meta.CHANGE_CAUSE)):
        return given
    earlier = next((r for r in d.releases if r.same_template(release)), None)
    if earlier is not None:
        return f"rollout undo to revision {earlier.revision}"
    current = d.current
    if release.version != current.version:
        return f"set image {workloads.image_of(d, release.version)}"
    if release.env != current.env:
        names = sorted(
            k for k in release.env.keys() | current.env.keys() if release.env.get(k) != current.env.get(k)
        )
        return f"set env {', '.join(names)}"
    return "rollout restart"


# -- nodes and pods ------------------------------------------------------------------------------------


def node(
    ctl: Controller, store: KubeStore, zone: str, old: dict[str, Any], new: dict[str, Any], *, whole: bool
) -> None:
    name = meta.node_name(zone)
    checked(old, new, NODE_FIELDS, whole=whole)
    for taint in _dig(new, ("spec", "taints")) or []:
        if not isinstance(taint, dict) or taint.get("key") != UNSCHEDULABLE_TAINT:
            raise Invalid(
                f"spec.taints: drillbook's twin has only the cordon's taint ({UNSCHEDULABLE_TAINT}); "
                "cordon or uncordon the node instead"
            )
    unschedulable = _dig(new, ("spec", "unschedulable"))
    if unschedulable is None and not whole:
        unschedulable = ctl.state.zones[zone].cordoned
    if unschedulable is not None and not isinstance(unschedulable, bool):
        raise Invalid(f"spec.unschedulable must be true or false, not {unschedulable!r}")
    computed = {
        "labels": {
            k: v
            for k, v in (old["metadata"].get("labels") or {}).items()
            if k not in store.overlay("nodes", None, name).get("labels", {})
        }
    }
    metadata(store, "nodes", None, name, new, computed)
    if bool(unschedulable) != ctl.state.zones[zone].cordoned:
        if unschedulable:
            ctl.cordon(zone, evict=False)
        else:
            ctl.uncordon(zone)


def labels_only(
    store: KubeStore,
    resource: str,
    namespace: str | None,
    name: str,
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    whole: bool,
) -> None:
    """Pods and namespaces: their labels and annotations may change, nothing else."""
    checked(old, new, METADATA_FIELDS, whole=whole)
    overlay = store.overlay(resource, namespace, name)
    computed = {
        part: {k: v for k, v in (old["metadata"].get(part) or {}).items() if k not in overlay.get(part, {})}
        for part in ("labels", "annotations")
    }
    metadata(store, resource, namespace, name, new, computed)
