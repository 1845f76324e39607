//! The database file: round trips, metadata, and refusal of damaged or foreign files.

use std::path::Path;

use vulndb::{Affected, Cvss, Database, DbError, Range, RangeKind, SourceInfo, Status, Vulnerability};

fn vuln(id: &str, description: &str) -> Vulnerability {
    Vulnerability {
        id: id.to_owned(),
        aliases: vec![format!("ALIAS-{id}")],
        summary: Some(format!("summary of {id}")),
        description: Some(description.to_owned()),
        published: Some("2024-03-01T00:00:00Z".into()),
        modified: None,
        cvss: vec![Cvss {
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            base_score: 9.8,
            source: "nvd@nist.gov".into(),
        }],
        severity: None,
        references: vec![format!("https://example.invalid/{id}")],
        withdrawn: false,
    }
}

fn affected(vuln: &str, eco: &str, pkg: &str, fixed: Option<&str>) -> Affected {
    Affected {
        vulnerability: vuln.to_owned(),
        ecosystem: eco.to_owned(),
        package: pkg.to_owned(),
        status: if fixed.is_some() { Status::Fixed } else { Status::Affected },
        ranges: vec![Range {
            kind: RangeKind::Ecosystem,
            introduced: Some("0".into()),
            fixed: fixed.map(str::to_owned),
            last_affected: None,
        }],
        versions: Vec::new(),
        fixed_version: fixed.map(str::to_owned),
        distro_urgency: Some("medium".into()),
        advisories: vec![format!("DSA-{vuln}")],
        note: None,
    }
}

fn sources() -> Vec<SourceInfo> {
    vec![
        SourceInfo {
            name: "debian-tracker".into(),
            location: "/feeds/debian/tracker.json".into(),
            updated: Some("2026-11-25T00:00:00Z".into()),
            vulnerabilities: 3,
            affected: 4,
        },
        SourceInfo {
            name: "osv:PyPI".into(),
            location: "/feeds/osv/PyPI/all.zip".into(),
            updated: None,
            vulnerabilities: 1,
            affected: 1,
        },
    ]
}

fn sample() -> (Vec<Vulnerability>, Vec<Affected>) {
    let vulns = vec![
        vuln("CVE-2024-0003", "third"),
        vuln("CVE-2024-0001", "first"),
        vuln("GHSA-aaaa-bbbb-cccc", "python"),
        vuln("CVE-2024-0002", "second"),
    ];
    let aff = vec![
        affected("CVE-2024-0002", "debian:12", "openssl", Some("3.0.11-1~deb12u2")),
        affected("CVE-2024-0001", "debian:12", "openssl", None),
        affected("CVE-2024-0003", "debian:12", "curl", Some("7.88.1-10+deb12u5")),
        affected("CVE-2024-0001", "debian:11", "openssl", Some("1.1.1w-0+deb11u1")),
        affected("GHSA-aaaa-bbbb-cccc", "PyPI", "requests", Some("2.32.0")),
    ];
    (vulns, aff)
}

fn build_sample(path: &Path) {
    let (v, a) = sample();
    Database::build(v, a, sources(), path).unwrap();
}

#[test]
fn lookups_return_exactly_the_records_built() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    let (vulns, aff) = sample();
    let stats = Database::build(vulns.clone(), aff.clone(), sources(), &path).unwrap();
    assert_eq!((stats.vulnerabilities, stats.affected, stats.packages), (4, 5, 4));
    assert_eq!(stats.file_size, std::fs::metadata(&path).unwrap().len());

    let db = Database::open(&path).unwrap();
    // Records of one package come back in vulnerability id order.
    let got = db.affected("debian:12", "openssl").unwrap();
    assert_eq!(got, vec![aff[1].clone(), aff[0].clone()]);
    assert_eq!(db.affected("debian:11", "openssl").unwrap(), vec![aff[3].clone()]);
    assert_eq!(db.affected("debian:12", "curl").unwrap(), vec![aff[2].clone()]);
    assert_eq!(db.affected("PyPI", "requests").unwrap(), vec![aff[4].clone()]);
    // Misses: unknown ecosystem, unknown package, names that sort before/after all others.
    for (eco, pkg) in
        [("debian:13", "openssl"), ("debian:12", "zlib"), ("debian:12", ""), ("", "a"), ("PyPI", "Requests")]
    {
        assert!(db.affected(eco, pkg).unwrap().is_empty(), "{eco}/{pkg}");
    }
    for v in &vulns {
        assert_eq!(db.vulnerability(&v.id).unwrap().as_ref(), Some(v));
    }
    assert_eq!(db.vulnerability("CVE-1999-0001").unwrap(), None);
    assert_eq!(db.ecosystems().collect::<Vec<_>>(), vec!["PyPI", "debian:11", "debian:12"]);
    assert_eq!(db.packages("debian:12").unwrap(), vec!["curl", "openssl"]);
}

#[test]
fn many_records_across_many_compressed_blocks_all_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let vulns: Vec<Vulnerability> =
        (0..6000).map(|i| vuln(&format!("CVE-2023-{i:05}"), &format!("description number {i} ").repeat(20))).collect();
    let aff: Vec<Affected> = (0..6000)
        .map(|i| affected(&format!("CVE-2023-{i:05}"), "alpine:3.19", &format!("pkg{}", i % 700), Some("1.0-r0")))
        .collect();
    Database::build(vulns.clone(), aff.clone(), Vec::new(), &path).unwrap();
    let db = Database::open(&path).unwrap();
    // Out of order on purpose, so that the block cache is missed as well as hit.
    for i in (0..6000).rev().step_by(7).chain(0..6000) {
        let v = &vulns[i];
        assert_eq!(db.vulnerability(&v.id).unwrap().as_ref(), Some(v));
    }
    for p in 0..700 {
        let pkg = format!("pkg{p}");
        let want: Vec<&Affected> = aff.iter().filter(|a| a.package == pkg).collect();
        let got = db.affected("alpine:3.19", &pkg).unwrap();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{pkg}");
    }
    assert_eq!(db.status().packages, 700);
}

#[test]
fn duplicate_vulnerability_ids_keep_the_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.db");
    let vulns = vec![vuln("CVE-1", "from nvd"), vuln("CVE-2", "other"), vuln("CVE-1", "from cve5")];
    let stats = Database::build(vulns, Vec::new(), Vec::new(), &path).unwrap();
    assert_eq!((stats.vulnerabilities, stats.duplicate_vulnerabilities), (2, 1));
    let db = Database::open(&path).unwrap();
    assert_eq!(db.vulnerability("CVE-1").unwrap().unwrap().description.as_deref(), Some("from nvd"));
}

#[test]
fn an_empty_database_opens_and_answers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    Database::build(Vec::new(), Vec::new(), Vec::new(), &path).unwrap();
    let db = Database::open(&path).unwrap();
    assert!(db.affected("debian:12", "openssl").unwrap().is_empty());
    assert_eq!(db.vulnerability("CVE-1").unwrap(), None);
    assert_eq!(db.status().vulnerabilities, 0);
}

#[test]
fn status_reports_sources_counts_age_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    build_sample(&path);
    let db = Database::open(&path).unwrap();
    let st = db.status();
    assert_eq!(st.sources, sources());
    assert_eq!((st.vulnerabilities, st.affected, st.packages), (4, 5, 4));
    assert_eq!(st.file_size, std::fs::metadata(&path).unwrap().len());
    assert_eq!(st.format_version, vulndb::db::FORMAT_VERSION);
    assert_eq!(st.cguard_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(st.path, path);
    // Built a moment ago.
    assert!(st.age_seconds < 120, "age {}", st.age_seconds);
    assert!(!st.is_older_than(std::time::Duration::from_secs(3600)));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - st.built_at_unix).abs() < 120);
    // RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SSZ`.
    assert!(st.built_at.len() == 20 && st.built_at.ends_with('Z') && &st.built_at[10..11] == "T", "{}", st.built_at);
    assert_eq!(st.ecosystems, vec!["PyPI", "debian:11", "debian:12"]);
}

#[test]
fn build_replaces_atomically_and_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    build_sample(&path);
    let old = Database::open(&path).unwrap();
    Database::build(vec![vuln("CVE-NEW", "new")], Vec::new(), Vec::new(), &path).unwrap();
    // The handle opened before keeps answering from the old content.
    assert!(old.vulnerability("CVE-2024-0001").unwrap().is_some());
    let new = Database::open(&path).unwrap();
    assert!(new.vulnerability("CVE-2024-0001").unwrap().is_none());
    assert!(new.vulnerability("CVE-NEW").unwrap().is_some());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("vuln.db")]);
}

#[test]
fn build_into_a_missing_directory_fails_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/vuln.db");
    let err = Database::build(Vec::new(), Vec::new(), Vec::new(), &path).unwrap_err();
    assert!(matches!(err, DbError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[test]
fn every_flipped_byte_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    build_sample(&path);
    let good = std::fs::read(&path).unwrap();
    let bad_path = dir.path().join("bad.db");
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        std::fs::write(&bad_path, &bad).unwrap();
        let err = Database::open(&bad_path).expect_err(&format!("flipped byte {at} was accepted"));
        match at {
            0..=7 => assert!(matches!(err, DbError::NotADatabase { .. }), "{at}: {err:?}"),
            8..=11 => assert!(matches!(err, DbError::TooNew { .. } | DbError::TooOld { .. }), "{at}: {err:?}"),
            16..=23 => assert!(matches!(err, DbError::Truncated { .. }), "{at}: {err:?}"),
            _ => assert!(matches!(err, DbError::ChecksumMismatch { .. } | DbError::Corrupt { .. }), "{at}: {err:?}"),
        }
    }
}

#[test]
fn a_truncated_file_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    build_sample(&path);
    let good = std::fs::read(&path).unwrap();
    for keep in [0, 5, 8, 30, 64, good.len() / 2, good.len() - 1] {
        std::fs::write(&path, &good[..keep]).unwrap();
        let err = Database::open(&path).unwrap_err();
        assert!(matches!(err, DbError::Truncated { .. }), "kept {keep}: {err:?}");
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}

#[test]
fn a_checksum_mismatch_names_the_file_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    build_sample(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let msg = Database::open(&path).unwrap_err().to_string();
    assert!(msg.contains("corrupt") && msg.contains("checksum") && msg.contains("vuln.db"), "{msg}");
}

#[test]
fn a_newer_format_version_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    build_sample(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&(vulndb::db::FORMAT_VERSION + 1).to_le_bytes());
    // A newer format may grow its header too: the version must be judged first.
    bytes.truncate(40);
    std::fs::write(&path, &bytes).unwrap();
    let err = Database::open(&path).unwrap_err();
    assert!(matches!(err, DbError::TooNew { found, .. } if found == vulndb::db::FORMAT_VERSION + 1), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("newer") && msg.contains("upgrade cguard"), "{msg}");
}

#[test]
fn foreign_and_missing_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracker.json");
    std::fs::write(&path, br#"{"openssl": {}}"#).unwrap();
    let err = Database::open(&path).unwrap_err();
    assert!(matches!(err, DbError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("not a cguard vulnerability database"));
    let err = Database::open(&dir.path().join("absent.db")).unwrap_err();
    assert!(matches!(err, DbError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("absent.db"), "{err}");
}

#[test]
fn the_database_serves_the_matcher() {
    use vulndb::VulnSource;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vuln.db");
    build_sample(&path);
    let db = Database::open(&path).unwrap();
    let src: &dyn VulnSource = &db;
    assert_eq!(src.affected("PyPI", "requests").len(), 1);
    assert_eq!(src.vulnerability("GHSA-aaaa-bbbb-cccc").unwrap().description.as_deref(), Some("python"));
}
