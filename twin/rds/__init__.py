"""The twin's RDS API: moto's RDS (it parses the AWS Query requests and renders AWS's
responses and errors) with every state change bound to the environment's real PostgreSQL
servers. Served by the same moto process as S3, Route 53 and Secrets Manager.

    server       the launcher: moto's app, with the binding installed on the first RDS call
    backend      moto's RDS backend, its instances and snapshots kept in step with the twin
    models       moto's DB instance and snapshot with the twin's live status and endpoint
    responses    the one request moto parses short (RebootDBInstance's ForceFailover)
    binding      the twin's side: each API call checked, then acted on in the background
    inventory    which server each DB instance is, in which region and zone; the snapshots
    operations   what runs in the background, and the status an instance shows meanwhile
    multi_az     the primary's standby in the other zone, and the failover to it
    keeper       builds that standby after ``env up`` (cold start stays as it was)
    window       the restorable window of point-in-time recovery
    errors       AWS's errors

moto is imported only by ``backend``, ``models``, ``responses``, ``urls`` and ``errors``,
and those only on the first RDS request (importing moto's RDS takes a second).
See docs/local-environment.md.
"""
