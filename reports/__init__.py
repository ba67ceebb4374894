"""DR Test Reports, drill history, freshness and post-mortems, from the journal.

The modules, one concept each: ``journals`` (pick a run, load and redact its
records, the chain state), ``model`` (the report's view model), ``findings``
(issues found and their severity), ``charts`` (inline SVG), ``render`` (jinja2
templates, HTML/Markdown/JSON), ``frame`` (every record as a pandas row),
``history``, ``freshness``, ``regression``, ``postmortem``, ``options``
(the config's ``[report]``), ``synthetic`` (synthetic journals). See
docs/reports.md.
"""

from drillbook.harness.records import Person
from drillbook.reports.findings import Finding, Severity
from drillbook.reports.journals import NoJournal, RunRecords, run_records
from drillbook.reports.model import DrillReport, RunReport, build_drill, build_run
from drillbook.reports.options import Regression, ReportOptions, from_config

__all__ = [
    "DrillReport",
    "Finding",
    "NoJournal",
    "Person",
    "Regression",
    "ReportOptions",
    "RunRecords",
    "RunReport",
    "Severity",
    "build_drill",
    "build_run",
    "from_config",
    "run_records",
]
