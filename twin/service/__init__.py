"""The reference "Compliant API" service: one replica is one process.

Routes (JSON over HTTP/1.1 on loopback)::

    GET    /api/health          200 when PostgreSQL and Redis answer, else 503; detail per check
    GET    /livez               200 while the process serves (liveness; no dependencies)
    POST   /api/auth/login      {"email", "password"} -> {"token", ...}; session kept in Redis
    GET    /api/projects        list (?limit, ?offset, ?owner_id); audited as "read"
    POST   /api/projects        create; Authorization: Bearer <token>; 503 in READ_ONLY_MODE
    GET    /api/projects/<id>   one project
    PUT|PATCH /api/projects/<id>, DELETE /api/projects/<id>   update, delete (authenticated)

Every write commits with its ``audit_log`` row (event_type, user_id, ip_address,
user_agent, endpoint, table_name, record_id, created_at); logins (``login``,
``login_failed``, ``login_blocked``) and reads (``read``) are audited too.

Environment (read once, at start; see ``config.py``)::

    PORT, DATABASE_URL (no password), REDIS_URL                       required
    JWT_SECRET_ID, DB_PASSWORD_SECRET_ID, ENCRYPTION_KEY_SECRET_ID    required: Secrets Manager ids
    AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   where Secrets Manager is
    READ_ONLY_MODE, AUDIT_ALL_REQUESTS, SESSION_TTL_S, DB_TIMEOUT_S, HEALTH_TIMEOUT_S,
    DB_POOL_SIZE, APP_VERSION, REPLICA_NAME, ZONE, HOST, LOG_LEVEL    optional
    BLOCKED_IPS       addresses/CIDR blocks refused with 403 ``forbidden`` (a WAF IP set)

Run it: ``python -m drillbook.twin.service [--require NAME ...]``;
the workers: ``python -m drillbook.twin.service.worker``.
"""

import os
import sys

#: Where a pod finds its third-party packages. Pods start ``python -S`` (the image's
#: command): no ``site`` module and no ``.pth`` files to run (80 ms of CPU per start
#: here), so the site-packages directories of the interpreter that started the
#: environment come from this variable, after the standard library as ``site`` puts them.
SITE_PACKAGES = "DRILLBOOK_SITE_PACKAGES"

if sys.flags.no_site:
    if SITE_PACKAGES in os.environ:
        sys.path.extend(p for p in os.environ[SITE_PACKAGES].split(os.pathsep) if p and p not in sys.path)
    else:  # started -S by hand: what site would have done
        import site

        site.main()
