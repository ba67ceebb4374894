"""What a drill uses, found in its code without running it.

A drill's faults and runbooks are not declared in its marker: they are the
``Fault`` classes and ``Runbook`` objects its test function (and the helpers
and fixtures it calls from the suite) refer to. Walking the compiled code's
names finds them as the interpreter would resolve them, attribute access
(``faults.ProcessKill``) and registered fault names given as strings
(``registry.build("process_kill", ...)``) included.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from types import CodeType, FunctionType, ModuleType
from typing import Any

from fault_injectors.base import Fault
from harness.runbook import Runbook

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
    registered: dict[str, type[Fault]],
    *,
    local: Callable[[FunctionType], bool],
) -> tuple[list[type[Fault]], list[Runbook]]:
    """The fault classes and runbooks ``funcs`` refer to, in order of first reference.

    ``namespace`` resolves global names (the test module's globals); ``local``
    says whether a function is the suite's own (followed) or a library's (not).
    """
    by_class_name = {cls.__name__: cls for cls in registered.values()}
    faults: dict[type[Fault], None] = {}
    runbooks: dict[int, Runbook] = {}
    seen: set[CodeType] = set()

    def visit(func: Callable[..., Any], scope: dict[str, Any], depth: int) -> None:
        code = _code(func)
        if code is None or code in seen or depth > MAX_DEPTH:
            return
        seen.add(code)
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
    return list(faults), list(runbooks.values())


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
        and issubclass(obj, Fault)
        and obj is not Fault
        and not inspect.isabstract(obj)
        and isinstance(getattr(obj, "name", None), str)
    )
