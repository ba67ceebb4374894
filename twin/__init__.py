"""The twin: the reference platform as real local processes, answering the APIs a staging
platform answers (RDS, Kubernetes, Route 53, Secrets Manager, S3, toxiproxy, Redis,
PostgreSQL).

It holds the reference "Compliant API" service, the supervisor that runs its pods with
Kubernetes semantics, the front door, the PostgreSQL clusters (primary, DR replica,
snapshots, WAL archive, restores), Redis, moto's AWS server and the toxiproxy-compatible
server on the links. The engine never imports it: only the environment's lifecycle
(``drillbook env``, the ``env`` session fixture) starts it, and drills and faults reach it
through the drivers a staging run uses. See docs/local-environment.md.
"""
