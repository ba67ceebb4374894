"""The contract every registered fault keeps (fault_injectors/README.md): a unique name, a docstring,
inject then revert restores the steady state, revert twice is harmless, and
``describe()`` rebuilds an equivalent fault with no secret in it.

Each fault has a case in ``tests/fault_injectors/cases/<name>.py`` defining
``make(request) -> ContractCase`` on a real resource; a fault without a case
fails this test, so no fault escapes the contract.
"""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from drillbook.harness.errors import DrillbookError
from drillbook.harness.redact import redact
from drillbook.harness.registry import GROUP, registered_faults
from tests.fault_injectors.cases import ContractCase

CASES = Path(__file__).parent / "cases"
PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def declared_faults() -> set[str]:
    """The faults this checkout declares: one added since the last ``pip install -e .`` is not
    an installed entry point yet, and still gets its contract checked."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return set(project.get("entry-points", {}).get(GROUP, {}))


NAMES = sorted(set(registered_faults()) | declared_faults())


def _case_module(name: str) -> ModuleType:
    path = CASES / f"{name}.py"
    if not path.is_file():
        pytest.fail(f"fault {name!r} has no contract case: add {path.relative_to(Path.cwd())}")
    spec = importlib.util.spec_from_file_location(f"contract_case_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_names_are_unique_and_documented() -> None:
    classes = registered_faults()
    assert len({cls.name for cls in classes.values()}) == len(classes)
    for name, cls in classes.items():
        assert cls.__doc__ and cls.__doc__.strip(), f"{name} has no docstring"
        assert cls.name == name


@pytest.mark.parametrize("name", NAMES)
def test_inject_then_revert_restores_steady_state(name: str, request: pytest.FixtureRequest) -> None:
    case: ContractCase = _case_module(name).make(request)
    # The previous case's revert may still be settling (a rollout finishing): wait for it.
    assert case.settled(), f"{name}: steady state must hold before the fault"
    params = case.fault.describe()
    assert json.loads(json.dumps(params)) == params, f"{name}: describe() must be JSON"
    assert redact(params) == params, f"{name}: describe() must not hold secrets"
    if case.refused is not None:
        _refused(name, case)
        return
    case.fault.inject()
    try:
        if case.broken is not None:
            assert case.wait(case.broken), f"{name}: the fault had no effect"
    finally:
        case.fault.revert()
    case.fault.settle(case.timeout)
    assert case.wait(case.steady), f"{name}: steady state not restored after revert"
    case.fault.revert()  # twice is harmless
    assert case.wait(case.steady)


@pytest.mark.parametrize("name", NAMES)
def test_rebuilt_from_describe_reverts(name: str, request: pytest.FixtureRequest) -> None:
    """What ``drillbook revert`` does after the runner died."""
    case: ContractCase = _case_module(name).make(request)
    assert case.settled(), f"{name}: steady state must hold before the fault"
    if case.refused is not None:
        _refused(name, case)
        return
    case.fault.inject()
    rebuilt = type(case.fault).from_params(json.loads(json.dumps(case.fault.describe())))
    rebuilt.revert()
    rebuilt.settle(case.timeout)
    assert case.wait(case.steady), f"{name}: a fault rebuilt from describe() did not revert"
    case.fault.revert()


def _refused(name: str, case: ContractCase) -> None:
    """A fault the platform refuses here: a clear error, and the platform as it was."""
    assert case.refused is not None
    with pytest.raises(DrillbookError, match=case.refused):
        case.fault.inject()
    assert case.steady(), f"{name}: a refused fault changed something"
    case.fault.revert()
    assert case.wait(case.steady), f"{name}: reverting a refused fault changed something"
