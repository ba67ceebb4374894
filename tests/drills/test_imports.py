"""Drills and faults speak to roles, never to the local twin's internals: nothing under drills/
or fault_injectors/ imports ``drillbook.twin`` except the exceptions listed here, which are
today's debt. The list may only shrink: a new import fails (use a role, or a capability), and
an exception no longer needed fails until it is struck from the list."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("drills", "fault_injectors")
FORBIDDEN = ("drillbook.twin", "drillbook.harness.environments.local")

#: file -> the twin modules it still imports. Strike entries as drills and faults move to the roles.
ALLOWED: dict[str, set[str]] = {
    # The one door to the twin's data directories (database.data_directory).
    "drills/twin_access.py": {"drillbook.twin.driven", "drillbook.twin.postgres"},
    "drills/test_backup_verification.py": {"drillbook.twin.integrity"},
    "drills/test_database_corruption.py": {"drillbook.twin.integrity"},
    "fault_injectors/postgres_heap_page.py": {"drillbook.twin.postgres"},
}


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports (at any depth: function-level imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from drillbook.twin import components` imports the module drillbook.twin.components.
            if node.module in ("drillbook", *FORBIDDEN):
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


def reaches_in(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def twin_imports() -> dict[str, set[str]]:
    found = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            modules = {m for m in imported(path) if reaches_in(m)}
            if modules:
                found[str(path.relative_to(ROOT))] = modules
    return found


def test_no_new_import_of_the_twin_from_drills_or_faults() -> None:
    extra = {f: m - ALLOWED.get(f, set()) for f, m in twin_imports().items()}
    new = {f: sorted(m) for f, m in extra.items() if m}
    assert not new, (
        f"{new}: drills and faults reach the platform through roles (env.database, env.app, ...); what a "
        "platform cannot do is a capability (drillbook.harness.environments.capabilities)"
    )


def test_the_allow_list_only_shrinks() -> None:
    found = twin_imports()
    stale = {f: sorted(m - found.get(f, set())) for f, m in ALLOWED.items() if m - found.get(f, set())}
    assert not stale, f"{stale} no longer imported: strike them from ALLOWED in {Path(__file__).name}"


def test_the_scan_sees_every_form_of_import(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        "import drillbook.twin.redis\nfrom drillbook import twin\nfrom drillbook.twin import cache\n"
        "def f():\n    from drillbook.twin.postgres import PostgresCluster\n"
    )
    assert {m for m in imported(source) if reaches_in(m)} == {
        "drillbook.twin.redis", "drillbook.twin", "drillbook.twin.cache", "drillbook.twin.postgres"}
