-- The vulnerability findings of each stored result, as its last match against the current
-- database found them, with their history: a finding that a rescan or a new database no
-- longer reports is kept with gone_at set (it stops counting), and comes back (gone_at
-- NULL again, first_seen kept) if a later match reports it again. Views across images
-- read this table; a result's full report is still matched from its inventory.
CREATE TABLE image_findings (
    digest TEXT NOT NULL,
    -- The name to show: the distribution's advisory (DSA-…) when there is one, else the
    -- vulnerability id.
    vuln_id TEXT NOT NULL,
    package TEXT NOT NULL,
    installed_version TEXT NOT NULL,
    vulnerability TEXT NOT NULL,
    -- JSON list of CVE ids.
    cves TEXT NOT NULL,
    package_type TEXT NOT NULL,
    purl TEXT NOT NULL,
    fixed_version TEXT NOT NULL,
    -- fix-asap | can-delay | no-need-now
    urgency TEXT NOT NULL,
    layer TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    gone_at BIGINT,
    PRIMARY KEY (digest, vuln_id, package, installed_version)
);
CREATE INDEX image_findings_vuln ON image_findings (vuln_id, gone_at);
CREATE INDEX image_findings_current ON image_findings (gone_at, digest);

-- Results stored before this table existed are matched again once, which fills it.
UPDATE image_scans SET matched_db = '' WHERE matched_db <> '';
