"""Expected phase durations, after the DR procedures' "Expected Timeline".

The DR procedures give the timeline of Scenario 1 only (5, 10, 30, 45 and 20
minutes, 110 minutes for a 2-hour RTO). The other scenarios use the same shape
scaled to their own RTO, rounded to the minute: a phase that takes longer than
this in a drill is reported as over its expectation.
"""

from __future__ import annotations

from drillbook.harness.drill import ACTIVATION, ASSESSMENT, DETECTION, RESTORATION, VERIFICATION

SCENARIO_1 = {DETECTION: "5m", ASSESSMENT: "10m", ACTIVATION: "30m", RESTORATION: "45m", VERIFICATION: "20m"}
# 1 hour RTO (Scenarios 2 and 4): the 110-minute shape times 55/110.
ONE_HOUR = {DETECTION: "3m", ASSESSMENT: "5m", ACTIVATION: "15m", RESTORATION: "22m", VERIFICATION: "10m"}
# 15 minutes: the monthly "Application Deployment Test (15 minutes)".
QUARTER_HOUR = {DETECTION: "1m", ASSESSMENT: "1m", ACTIVATION: "4m", RESTORATION: "6m", VERIFICATION: "3m"}
# 30 minutes (Scenario 5).
HALF_HOUR = {DETECTION: "2m", ASSESSMENT: "3m", ACTIVATION: "7m", RESTORATION: "11m", VERIFICATION: "5m"}
# Scenario 3: "Immediate Containment (First 15 Minutes)", "Investigation (First Hour)".
SECURITY = {DETECTION: "5m", ASSESSMENT: "10m", ACTIVATION: "15m", RESTORATION: "1h", VERIFICATION: "30m"}
# Monthly backup verification: "30 minutes" in the DR testing schedule.
BACKUP_TEST = {DETECTION: "1m", ASSESSMENT: "2m", ACTIVATION: "15m", RESTORATION: "5m", VERIFICATION: "7m"}
