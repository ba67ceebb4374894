"""drillbook's engine: the pytest plugin, Drill, probes, ledger, timing, journal,
environments, runbooks and the command line. Internal: the public API is ``drillbook``."""
