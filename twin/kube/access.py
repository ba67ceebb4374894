"""SelfSubjectAccessReview (``kubectl auth can-i``, ``drillbook env check``): the twin has no
users, so a request is allowed exactly when the twin serves that verb on that resource; a
denial says what the twin does not serve."""

from __future__ import annotations

from typing import Any

from drillbook.twin.kube import resources
from drillbook.twin.kube.errors import BadRequest

_READ_PATHS = ("/api", "/apis", "/version", "/healthz", "/livez", "/readyz")


def review(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        raise BadRequest("a SelfSubjectAccessReview needs a spec")
    spec = body["spec"]
    allowed, reason = _decide(spec)
    status: dict[str, Any] = {"allowed": allowed, "reason": reason}
    if not allowed:
        status["denied"] = True
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def _decide(spec: dict[str, Any]) -> tuple[bool, str]:
    attributes = spec.get("resourceAttributes")
    if isinstance(attributes, dict):
        verb = str(attributes.get("verb") or "")
        group = str(attributes.get("group") or "")
        name = str(attributes.get("resource") or "")
        sub = str(attributes.get("subresource") or "")
        found = next(
            (r for r in resources.RESOURCES if r.name == name and (r.group == group or group == "*")), None
        )
        if found is None:
            return False, f"drillbook's twin does not serve {name}{'.' + group if group else ''}"
        verbs = found.verbs
        if sub:
            subresource = found.subresource(sub)
            if subresource is None:
                return False, f"drillbook's twin does not serve {name}/{sub}"
            verbs = subresource.verbs
        if verb == "*" or verb in verbs:
            return True, "drillbook's twin serves it"
        return (
            False,
            f"drillbook's twin does not {verb} {name}{'/' + sub if sub else ''} (it can: {', '.join(verbs)})",
        )
    other = spec.get("nonResourceAttributes")
    if isinstance(other, dict):
        path = str(other.get("path") or "")
        if str(other.get("verb") or "").lower() == "get" and path.startswith(_READ_PATHS):
            return True, "drillbook's twin serves it"
        return False, f"drillbook's twin serves only GET of {', '.join(_READ_PATHS)}"
    raise BadRequest("a SelfSubjectAccessReview needs resourceAttributes or nonResourceAttributes")
