-- What a stored result found besides vulnerabilities, one row per finding, for the lists
-- across images (SPEC 3.4 malicious files, 3.5 baseline). Replaced with the result; they
-- do not depend on the vulnerability database.
CREATE TABLE image_malware (
    digest TEXT NOT NULL,
    path TEXT NOT NULL,
    rule TEXT NOT NULL,
    file_name TEXT NOT NULL,
    -- Trojan, Worm, Virus, Adware, Miner, Backdoor, Webshell, HackTool, Rootkit
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    severity TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (digest, path, rule)
);
CREATE INDEX image_malware_name ON image_malware (file_name);

CREATE TABLE image_baseline (
    digest TEXT NOT NULL,
    check_id TEXT NOT NULL,
    title TEXT NOT NULL,
    -- High, Medium, Low
    level TEXT NOT NULL,
    method TEXT NOT NULL,
    -- passed | failed | not-applicable
    result TEXT NOT NULL,
    problem TEXT NOT NULL,
    advice TEXT NOT NULL,
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (digest, check_id)
);
CREATE INDEX image_baseline_check ON image_baseline (check_id, result);
