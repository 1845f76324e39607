-- Decisions to ignore a vulnerability: for every image (scope 'all', subject ''), for
-- every version of one catalogue image, i.e. one repository (scope 'repository', subject:
-- the image id), or for one version (scope 'version', subject: the version id). An
-- ignored finding stops counting but stays visible, marked. A decision lapses at
-- expires_at, or (until_fixed) for a finding that has a fixed version.
CREATE TABLE vuln_ignores (
    id TEXT PRIMARY KEY,
    vuln_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- not-affected | accepted-risk | false-positive
    kind TEXT NOT NULL,
    -- VEX justification of a not-affected decision ('' otherwise).
    justification TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    until_fixed BIGINT NOT NULL DEFAULT 0,
    UNIQUE (vuln_id, scope, subject)
);
