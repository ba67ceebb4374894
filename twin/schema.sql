-- The Compliant platform's schema: shared by the reference "Compliant API"
-- service and the sample data set (twin/sample_data.py).
-- Applied as the superuser to the `compliant` database; idempotent.
--
-- Passwords are stored as `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`
-- (twin/passwords.py hashes and verifies them).

CREATE TABLE IF NOT EXISTS users (
    id                bigserial PRIMARY KEY,
    email             text NOT NULL UNIQUE,
    password_hash     text NOT NULL,
    name              text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    suspension_reason text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS projects (
    id          bigserial PRIMARY KEY,
    owner_id    bigint NOT NULL REFERENCES users (id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'active',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS projects_owner_id_idx ON projects (owner_id);

-- Every write of the service appends here. The platform's RPO for audit logs is
-- zero, so the application role may only insert and read (no update, no delete).
CREATE TABLE IF NOT EXISTS audit_log (
    id          bigserial PRIMARY KEY,
    user_id     bigint REFERENCES users (id),
    event_type  text NOT NULL,              -- login, create, update, delete, read
    table_name  text,
    record_id   bigint,
    endpoint    text,
    ip_address  inet,
    user_agent  text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_log_created_at_idx ON audit_log (created_at);
CREATE INDEX IF NOT EXISTS audit_log_user_id_idx ON audit_log (user_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON users, projects TO compliant_app;
GRANT SELECT, INSERT ON audit_log TO compliant_app;
GRANT USAGE, SELECT ON SEQUENCE users_id_seq, projects_id_seq, audit_log_id_seq TO compliant_app;

-- Background work for the `workers` deployment: the API enqueues a job in the
-- same transaction as the write that needs it; a worker claims pending jobs
-- (FOR UPDATE SKIP LOCKED, so several workers never take the same one) and
-- marks them done. The backlog is what the "Background Jobs" RTO is about.
CREATE TABLE IF NOT EXISTS jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    processed_by text
);
CREATE INDEX IF NOT EXISTS jobs_pending_idx ON jobs (id) WHERE status = 'pending';
GRANT SELECT, INSERT, UPDATE ON jobs TO compliant_app;
GRANT USAGE, SELECT ON SEQUENCE jobs_id_seq TO compliant_app;
