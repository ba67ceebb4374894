"""Kubernetes label and field selectors, as the API server applies them (the twin's Kubernetes API
and the tests' emulator).

Label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``,
comma-separated (all must hold). Field selectors: ``path=value``, ``path==value``,
``path!=value`` on dotted paths such as ``spec.nodeName`` or ``status.phase``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, str]], bool]
_SET = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _requirement(text: str) -> Matcher:
    found = _SET.match(text)
    if found:
        key, op, values = found.group(1), found.group(2), {v.strip() for v in found.group(3).split(",")}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in text:
            key, _, value = (s.strip() for s in text.partition(op))
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if text.startswith("!"):
        key = text[1:].strip()
        return lambda labels: key not in labels
    return lambda labels: text in labels


def label_matcher(selector: str | None) -> Matcher:
    if not selector:
        return lambda labels: True
    requirements = [_requirement(part) for part in _split(selector)]
    return lambda labels: all(r(labels) for r in requirements)


def _path(obj: Mapping[str, Any], dotted: str) -> str:
    value: Any = obj
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def field_matcher(selector: str | None) -> Callable[[Mapping[str, Any]], bool]:
    if not selector:
        return lambda obj: True
    checks: list[tuple[str, str, bool]] = []  # (path, value, equal)
    for part in _split(selector):
        for op in ("!=", "==", "="):
            if op in part:
                path, _, value = (s.strip() for s in part.partition(op))
                checks.append((path, value, op != "!="))
                break
    return lambda obj: all((_path(obj, path) == value) is equal for path, value, equal in checks)


def field_names(selector: str | None) -> list[str]:
    """The fields a field selector tests (an API server refuses fields it cannot select on)."""
    names = []
    for part in _split(selector or ""):
        for op in ("!=", "==", "="):
            if op in part:
                names.append(part.partition(op)[0].strip())
                break
        else:
            names.append(part)
    return names
