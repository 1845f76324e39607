-- Image security: connected registries, the image catalogue (an image is a repository of
-- one kind; its versions map tags to digests), scan results per digest, and the durable
-- job queue that background work shares.
CREATE TABLE registries (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- private: every repository of the catalog; official: only the watched images.
    kind TEXT NOT NULL DEFAULT 'private',
    -- For official registries: the watched `repository:tag` references, a JSON list.
    watched TEXT NOT NULL DEFAULT '[]',
    url TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    -- The password, sealed by the server (never stored in clear); '' when none.
    password_sealed TEXT NOT NULL DEFAULT '',
    insecure BIGINT NOT NULL DEFAULT 0,
    ca_pem TEXT NOT NULL DEFAULT '',
    -- Hours between automatic syncs; 0: on demand only.
    sync_interval_hours BIGINT NOT NULL DEFAULT 24,
    sync_state TEXT NOT NULL DEFAULT 'never',
    last_sync_at BIGINT,
    last_sync_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE images (
    id TEXT PRIMARY KEY,
    -- local | private | official
    kind TEXT NOT NULL,
    -- The registry of private and official images; '' for local ones.
    registry_id TEXT NOT NULL DEFAULT '',
    -- Registry host for private and official images; '' for local ones.
    registry_host TEXT NOT NULL DEFAULT '',
    repository TEXT NOT NULL,
    organisation TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (kind, registry_id, repository)
);

CREATE TABLE image_versions (
    id TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL DEFAULT 0,
    pushed_at BIGINT,
    seen_at BIGINT NOT NULL,
    UNIQUE (image_id, tag)
);
CREATE INDEX image_versions_digest ON image_versions (digest);

-- The latest scan of a digest. One digest is scanned once, whatever names it.
CREATE TABLE image_scans (
    digest TEXT PRIMARY KEY,
    -- scanning | completed | failed
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    scanned_at BIGINT,
    -- The vulnerability database the counts were matched against ('' before any match).
    matched_db TEXT NOT NULL DEFAULT '',
    matched_at BIGINT,
    fix_asap BIGINT NOT NULL DEFAULT 0,
    can_delay BIGINT NOT NULL DEFAULT 0,
    no_need_now BIGINT NOT NULL DEFAULT 0,
    malware BIGINT NOT NULL DEFAULT 0,
    secrets BIGINT NOT NULL DEFAULT 0,
    baseline_failed BIGINT NOT NULL DEFAULT 0,
    packages BIGINT NOT NULL DEFAULT 0,
    size BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- What a scan found, without vulnerabilities (matched on demand): zstd-compressed JSON,
-- base64 so that both backends keep it as text.
CREATE TABLE image_results (
    digest TEXT PRIMARY KEY,
    report TEXT NOT NULL,
    stored_at BIGINT NOT NULL
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    -- What the job is about (a digest, a registry id), for lists and de-duplication.
    subject TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL DEFAULT '{}',
    -- Lower runs first: 0 manual, 1 new, 2 scheduled.
    priority BIGINT NOT NULL,
    -- queued | running | done | failed | cancelled
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 3,
    run_after BIGINT NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_ready ON jobs (state, priority, run_after, created_at);
CREATE INDEX jobs_created ON jobs (created_at, id);
-- At most one active job per kind and subject.
CREATE UNIQUE INDEX jobs_active_subject ON jobs (kind, subject) WHERE state IN ('queued', 'running');
