"""Mutations: a recovery broken on purpose, from the test side.

A mutation test proves a drill can fail: with one runbook step swapped for a broken one
(the restore skipped, the PITR target after the fault, a secret left as it was) the drill
must end FAIL or PARTIAL, never PASS. The drill files know nothing of it: a test plugin
registers mutations (``register(config, Mutation(...))`` in its ``pytest_configure``) and
``--drill-mutate NAME`` picks one for the session. The runbook runs the mutation's action
in place of the step it names, and the journal record says so (``extra["mutation"]``):
a mutated run can never pass for a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

#: ``action(context, original)``: what runs instead of the step; ``original`` is the step's own
#: action, for a mutation that breaks it only in part (runs it, then spoils what it found).
MutationAction = Callable[[Any, Callable[[Any], Any]], Any]


@dataclass(frozen=True)
class Mutation:
    """The runbook steps named in ``steps`` (one per drill it breaks) run ``action`` instead."""

    name: str
    steps: tuple[str, ...]
    action: MutationAction
    description: str = ""


REGISTERED = pytest.StashKey[dict[str, Mutation]]()


def register(config: pytest.Config, *mutations: Mutation) -> None:
    """Make ``mutations`` selectable with ``--drill-mutate`` (from a test plugin's ``pytest_configure``)."""
    known = config.stash.setdefault(REGISTERED, {})
    for mutation in mutations:
        known[mutation.name] = mutation


def add_option(group: pytest.OptionGroup) -> None:
    """``--drill-mutate`` (added by the drillbook plugin, which imports this module)."""
    group.addoption(
        "--drill-mutate",
        metavar="NAME",
        default=None,
        help="mutation tests only: run the drills with the registered mutation NAME swapped into "
        "their runbooks (the record says so; such a run must not PASS)",
    )


def active(config: pytest.Config) -> Mutation | None:
    """The mutation ``--drill-mutate`` names; an unknown name is a usage error listing the known."""
    name = config.getoption("drill_mutate", None)
    if not name:
        return None
    known = config.stash.get(REGISTERED, {})
    if name not in known:
        listed = ", ".join(sorted(known)) or "none (a test plugin registers them: drillbook.harness.mutation)"
        raise pytest.UsageError(
            f"drillbook: --drill-mutate {name!r} is not a registered mutation; known: {listed}"
        )
    return known[name]
