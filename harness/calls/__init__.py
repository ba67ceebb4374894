"""Control-plane call recording: every AWS, Kubernetes and toxiproxy API call a runbook step,
a fault or a drill makes is recorded in the drill's journal record (docs/journal.md, ``calls``).

The engine opens a :func:`~drillbook.harness.calls.scope.scope` while a step or fault runs;
the drivers' clients report each call to whatever scope is current (none: not recorded).
Each driver declares what it calls (:mod:`~drillbook.harness.calls.declared`), from which
``drillbook env policy`` writes the IAM policy and the Kubernetes Role.
"""

from drillbook.harness.calls.scope import CallLog, current, record, scope

__all__ = ["CallLog", "current", "record", "scope"]
