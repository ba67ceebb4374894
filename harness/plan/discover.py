"""What a drill uses, found in its code without running it.

A drill's faults and runbooks are not declared in its marker: they are the
``Fault`` classes and ``Runbook`` objects its test function (and the helpers
and fixtures it calls from the suite) refer to. Walking the compiled code's
names finds them as the interpreter would resolve them, attribute access
(``faults.ProcessKill``) and registered fault names given as strings
(``registry.build("process_kill", ...)``) included.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import CodeType, FunctionType, ModuleType
from typing import Any

from drillbook.faults.base import Change, Fault, Reversible
from drillbook.harness.durations import parse_duration
from drillbook.harness.errors import InvalidDrillConfig
from drillbook.harness.runbook import Runbook

#: How deep helper functions are followed (a helper calling a helper ...).
MAX_DEPTH = 4


def _names(code: CodeType) -> Iterator[str]:
    """Global and attribute names and string constants of ``code`` and the code nested in it."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)
        elif isinstance(const, str):
            yield const


def _code(func: Callable[..., Any]) -> CodeType | None:
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    return code if isinstance(code, CodeType) else None


def referenced(
    funcs: list[Callable[..., Any]],
    namespace: dict[str, Any],
    registered: dict[str, type[Reversible]],
    *,
    local: Callable[[FunctionType], bool],
) -> References:
    """The fault classes and runbooks ``funcs`` refer to, in order of first reference, and
    the phases they open with ``drill.phase(...)``.

    ``namespace`` resolves global names (the test module's globals); ``local``
    says whether a function is the suite's own (followed) or a library's (not).
    """
    by_class_name = {cls.__name__: cls for cls in registered.values()}
    faults: dict[type[Reversible], None] = {}
    runbooks: dict[int, Runbook] = {}
    seen: set[CodeType] = set()
    visited: list[Callable[..., Any]] = []

    def visit(func: Callable[..., Any], scope: dict[str, Any], depth: int) -> None:
        code = _code(func)
        if code is None or code in seen or depth > MAX_DEPTH:
            return
        seen.add(code)
        visited.append(func)
        for name in _names(code):
            obj = scope.get(name)
            if _is_fault_class(obj):
                faults.setdefault(obj, None)  # type: ignore[arg-type]
            elif isinstance(obj, Runbook):
                runbooks.setdefault(id(obj), obj)
            elif isinstance(obj, dict | list | tuple) and (inside := _runbooks_in(obj)):
                for runbook in inside:
                    runbooks.setdefault(id(runbook), runbook)
            elif isinstance(obj, FunctionType) and local(obj):
                visit(obj, obj.__globals__, depth + 1)
            elif name in by_class_name:
                faults.setdefault(by_class_name[name], None)
            elif name in registered:
                faults.setdefault(registered[name], None)

    for func in funcs:
        globals_of = getattr(inspect.unwrap(func), "__globals__", namespace)
        visit(func, globals_of, 0)
    phases: dict[str, float | None] = {}
    for func in visited:
        for name, expected in declared_phases(func):
            if phases.get(name) is None:
                phases[name] = expected
    return References(list(faults), list(runbooks.values()), list(phases.items()))


@dataclass(frozen=True)
class References:
    faults: list[type[Reversible]]
    runbooks: list[Runbook]
    #: ``(phase, expected seconds or None)`` from ``drill.phase(name, expected=...)`` calls.
    phases: list[tuple[str, float | None]]


def declared_phases(func: Callable[..., Any]) -> list[tuple[str, float | None]]:
    """The ``.phase(NAME, expected=...)`` calls in ``func``'s source, with the values that
    can be known without running it (literals and module-level constants)."""
    func = inspect.unwrap(func)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return []
    scope = getattr(func, "__globals__", {})
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "phase"
        ):
            continue
        if not node.args:
            continue
        name = _static(node.args[0], scope)
        if not isinstance(name, str):
            continue
        raw = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg == "expected"), None)
        )
        found.append((name, _seconds(_static(raw, scope)) if raw is not None else None))
    return found


def _static(node: ast.expr, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _static(node.value, scope)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _seconds(value: Any) -> float | None:
    try:
        return parse_duration(value, what="phase estimate") if value is not None else None
    except InvalidDrillConfig:
        return None


def _runbooks_in(container: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> list[Runbook]:
    """Runbooks kept in a table (``RUNBOOKS[option].run(...)``)."""
    values = container.values() if isinstance(container, dict) else container
    return [v for v in values if isinstance(v, Runbook)]


def module_runbooks(module: ModuleType) -> list[Runbook]:
    """The runbooks a module declares at its top level, in definition order."""
    found: dict[int, Runbook] = {}
    for value in vars(module).values():
        if isinstance(value, Runbook):
            found.setdefault(id(value), value)
    return list(found.values())


def _is_fault_class(obj: Any) -> bool:
    return (
        isinstance(obj, type)
        and issubclass(obj, Reversible)
        and obj not in (Reversible, Fault, Change)
        and not inspect.isabstract(obj)
        and isinstance(getattr(obj, "name", None), str)
    )
