-- What the views across images read, kept up to date from image_findings, the catalogue
-- and vuln_ignores, so that a view answers from a few thousand rows whatever the number
-- of findings. Writes only mark what changed (the *_dirty tables); the next read brings
-- the rows it marked up to date first (VulnViews::refresh).

-- Per image version: its current findings per urgency (decisions aside).
CREATE TABLE version_vuln_tallies (
    version_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    kind TEXT NOT NULL,
    fix_asap BIGINT NOT NULL,
    can_delay BIGINT NOT NULL,
    no_need_now BIGINT NOT NULL,
    total BIGINT NOT NULL
);
CREATE INDEX version_vuln_tallies_kind ON version_vuln_tallies (kind, total);
CREATE INDEX version_vuln_tallies_digest ON version_vuln_tallies (digest);

-- Per image version and vulnerability: its current findings a decision covers (only for
-- vulnerabilities with a decision). A version's count is its tally less these.
CREATE TABLE version_ignored (
    version_id TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    fix_asap BIGINT NOT NULL,
    can_delay BIGINT NOT NULL,
    no_need_now BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (version_id, vuln_id)
);
CREATE INDEX version_ignored_vuln ON version_ignored (vuln_id);
CREATE INDEX version_ignored_kind ON version_ignored (kind, version_id);

-- Per view (kind of image) and vulnerability.
CREATE TABLE vuln_view_stats (
    kind TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    -- 0 fix-asap, 1 can-delay, 2 no-need-now: its most urgent current finding.
    urgency_rank BIGINT NOT NULL,
    cves TEXT NOT NULL,
    -- The packages it was found in, comma-separated.
    packages TEXT NOT NULL,
    -- The fixes known for them now ("package to version", comma-separated).
    fixes TEXT NOT NULL,
    -- Lower-case id, CVE ids and packages, for the search.
    search TEXT NOT NULL,
    -- Versions that have it now, not ignored / ignored; that ever had it (history).
    affected BIGINT NOT NULL,
    ignored BIGINT NOT NULL,
    ever BIGINT NOT NULL,
    PRIMARY KEY (kind, vuln_id)
);
CREATE INDEX vuln_view_stats_affected ON vuln_view_stats (kind, affected);

-- Vulnerabilities whose rows are to be made again; digests whose versions' tallies are;
-- digests whose versions changed, so that every vulnerability they have is too.
-- Marks: vulnerabilities whose rows are to be made again; digests whose versions' tallies
-- are; digests whose versions changed, so that every vulnerability they have is too. Each
-- mark is a row of its own (writers only ever insert, so they never wait on a refresh nor
-- on each other); a refresh claims the marks it sees (claim = 1), works from them and
-- removes only those, so a mark added meanwhile waits for the next refresh.
CREATE TABLE vuln_view_dirty (mark TEXT PRIMARY KEY, vuln_id TEXT NOT NULL, claim BIGINT NOT NULL DEFAULT 0);
CREATE TABLE digest_view_dirty (mark TEXT PRIMARY KEY, digest TEXT NOT NULL, claim BIGINT NOT NULL DEFAULT 0);
CREATE TABLE digest_vulns_dirty (mark TEXT PRIMARY KEY, digest TEXT NOT NULL, claim BIGINT NOT NULL DEFAULT 0);
-- When the views were last brought up to date (decisions that lapsed since then count again).
CREATE TABLE vuln_view_state (id BIGINT PRIMARY KEY, refreshed_at BIGINT NOT NULL);
INSERT INTO vuln_view_state (id, refreshed_at) VALUES (1, 0);
-- Every digest with findings is brought up to date once.
INSERT INTO digest_view_dirty (mark, digest) SELECT 'migration:' || digest, digest FROM image_findings
    WHERE digest <> '' GROUP BY digest;
INSERT INTO digest_vulns_dirty (mark, digest) SELECT 'migration:' || digest, digest FROM image_findings
    WHERE digest <> '' GROUP BY digest;
