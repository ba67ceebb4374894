"""Naming a toxiproxy API call: ``POST /proxies/{proxy}/toxics`` and the proxy and toxic it
is about. Toxiproxy has no authorisation, so its calls need no permission."""

from __future__ import annotations

from urllib.parse import unquote


def describe(method: str, path: str) -> tuple[str, dict[str, str]]:
    """(operation, identifying parameters) of ``method path``."""
    segments = [unquote(s) for s in path.split("?", 1)[0].split("/") if s]
    params: dict[str, str] = {}
    template = []
    for index, segment in enumerate(segments):
        before = segments[index - 1] if index else ""
        if before == "proxies":
            params["proxy"] = segment
            template.append("{proxy}")
        elif before == "toxics":
            params["toxic"] = segment
            template.append("{toxic}")
        else:
            template.append(segment)
    return f"{method.upper()} /{'/'.join(template)}", params
