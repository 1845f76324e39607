-- The control plane's core: identity, audit, policies, protection objects, events.
-- Portable SQL for SQLite and PostgreSQL: times are milliseconds since the Unix epoch
-- (BIGINT; SQLite stores it as INTEGER), flags are 0/1 (BIGINT).

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    email TEXT,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE iam_policies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    system BIGINT NOT NULL,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE policy_attachments (
    policy_id TEXT NOT NULL REFERENCES iam_policies(id) ON DELETE CASCADE,
    principal_type TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    PRIMARY KEY (policy_id, principal_type, principal_id)
);
CREATE INDEX policy_attachments_principal ON policy_attachments (principal_type, principal_id);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id, kind);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time BIGINT NOT NULL,
    event_name TEXT NOT NULL,
    event_type TEXT NOT NULL,
    source TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    operator TEXT NOT NULL,
    level TEXT NOT NULL,
    outcome TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);

-- Where the chain starts once old records are pruned: the last pruned record.
CREATE TABLE audit_anchor (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_anchor (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE security_policies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL,
    process_whitelist TEXT NOT NULL,
    file_protection TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE policy_images (
    policy_id TEXT NOT NULL REFERENCES security_policies(id) ON DELETE CASCADE,
    image TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (policy_id, image)
);

-- One row: the revision counter of every policy change (including deletions).
CREATE TABLE policy_revision (
    id BIGINT PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO policy_revision (id, revision) VALUES (1, 0);

CREATE TABLE clusters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    protection BIGINT NOT NULL,
    disclaimer_by TEXT,
    disclaimer_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE enrolment_tokens (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    credential_hash TEXT NOT NULL UNIQUE,
    shield_version TEXT NOT NULL,
    facts TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    last_heartbeat BIGINT,
    UNIQUE (cluster_id, name)
);

CREATE TABLE quotas (
    id TEXT PRIMARY KEY,
    edition TEXT NOT NULL,
    state TEXT NOT NULL,
    months BIGINT NOT NULL,
    auto_renew BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    frozen_at BIGINT
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until BIGINT NOT NULL
);

CREATE TABLE runtime_events (
    id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    time BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    category TEXT NOT NULL,
    kind TEXT NOT NULL,
    container_id TEXT NOT NULL,
    container_name TEXT NOT NULL,
    image TEXT NOT NULL,
    blocked BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX runtime_events_time ON runtime_events (time);
CREATE INDEX runtime_events_category ON runtime_events (category, time);
