"""The import contract (#13): the engine (drill, plugin, ledger, journal, reports) never imports
the platform twin (``drillbook.twin``); it reaches an environment only through its drivers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ("harness/drill.py", "harness/plugin.py", "harness/journal.py", "harness/ledger", "reports")
ENGINE_MODULES = ("drillbook.harness.drill", "drillbook.harness.plugin", "drillbook.harness.journal",
                  "drillbook.harness.ledger", "drillbook.reports")
PLATFORM = "drillbook.twin"


def engine_files() -> list[Path]:
    found: list[Path] = []
    for entry in ENGINE:
        path = ROOT / entry
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def imported(path: Path) -> list[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_no_engine_module_imports_the_twin() -> None:
    files = engine_files()
    assert len(files) > 20  # the walk found the engine
    offending = {str(path.relative_to(ROOT)): name for path in files for name in imported(path)
                 if name == PLATFORM or name.startswith(f"{PLATFORM}.")}
    assert offending == {}, f"the engine imports the twin: {offending}"


def test_importing_the_engine_loads_nothing_of_the_twin() -> None:
    script = (
        f"import sys\nfor name in {ENGINE_MODULES!r}:\n    __import__(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[:2] == {PLATFORM.split('.')!r}))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
