//! Acceptance: an Alpine 3.10 image whose apk database holds packages at versions that
//! are themselves real fixed versions in secdb, so that what decides each finding is the
//! order against the package's other secfixes entries. The expected set comes from the
//! secdb JSON and a small version order written here for the plain `X.Y.Z-rN` versions,
//! not from the matcher or `vercmp`.

use crate::common;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::Value;

/// (binary package, origin, installed version). Every version is a secfixes key of its
/// origin (or, for `alpine-baselayout`, a package secdb does not list), and the
/// subpackages (`ssl_client`, `libcurl`, `sqlite-libs`, ...) are only found by origin.
const INSTALLED: &[(&str, &str, &str)] = &[
    ("busybox", "busybox", "1.29.3-r10"),
    ("ssl_client", "busybox", "1.29.3-r10"),
    ("musl", "musl", "1.1.15-r4"),
    ("musl-utils", "musl", "1.1.15-r4"),
    ("expat", "expat", "2.2.7-r0"),
    ("libxml2", "libxml2", "2.9.4-r2"),
    ("sqlite-libs", "sqlite", "3.28.0-r0"),
    ("perl", "perl", "5.26.2-r0"),
    ("tiff", "tiff", "4.0.9-r5"),
    ("samba-client", "samba", "4.8.7-r0"),
    ("libpq", "postgresql", "10.4-r0"),
    ("ghostscript", "ghostscript", "9.26-r1"),
    ("curl", "curl", "7.61.1-r0"),
    ("libcurl", "curl", "7.61.1-r0"),
    ("alpine-baselayout", "alpine-baselayout", "3.1.2-r0"),
];

/// A plain apk version, `1.29.3-r10`: dot-separated numbers and a revision. `None` for
/// anything else (letters, `_p1` suffixes, no revision), which the test does not judge.
fn simple(version: &str) -> Option<(Vec<u64>, u64)> {
    let (numbers, revision) = version.split_once("-r")?;
    let parts: Option<Vec<u64>> = numbers
        .split('.')
        .map(|n| (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then(|| n.parse().ok()).flatten())
        .collect();
    let revision =
        (!revision.is_empty() && revision.bytes().all(|b| b.is_ascii_digit())).then(|| revision.parse().ok());
    Some((parts?, revision.flatten()?))
}

/// Orders two plain versions: the numbers one by one (a longer list is newer when the
/// common part is equal), then the revision.
fn compare(a: &str, b: &str) -> Ordering {
    simple(a).expect("plain version").cmp(&simple(b).expect("plain version"))
}

/// A CVE id written cleanly, `CVE-2019-5747`.
fn clean_cve(id: &str) -> bool {
    let mut parts = id.split('-');
    let digits =
        |s: Option<&str>, min: usize| s.is_some_and(|s| s.len() >= min && s.bytes().all(|b| b.is_ascii_digit()));
    parts.next() == Some("CVE") && digits(parts.next(), 4) && digits(parts.next(), 4) && parts.next().is_none()
}

/// What secdb says about one origin: for each clean CVE id, the versions fixing it, and
/// the ids the test does not judge (listed under a non-plain version, or inside an entry
/// that is not a clean id, such as `CVE-2016-6258 XSA-182`).
#[derive(Debug, Default)]
struct Origin {
    fixes: BTreeMap<String, Vec<String>>,
    unjudged: BTreeSet<String>,
}

/// Reads secdb v3.10 (main and community) for `origins`.
fn secdb(origins: &BTreeSet<&str>) -> BTreeMap<String, Origin> {
    let mut out: BTreeMap<String, Origin> = BTreeMap::new();
    for repo in ["main", "community"] {
        let file = vulndata().join(format!("alpine/v3.10/{repo}.json"));
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).expect("secdb JSON");
        for entry in doc["packages"].as_array().unwrap() {
            let name = entry["pkg"]["name"].as_str().unwrap();
            if !origins.contains(name) {
                continue;
            }
            let origin = out.entry(name.to_owned()).or_default();
            for (version, ids) in entry["pkg"]["secfixes"].as_object().into_iter().flatten() {
                for item in ids.as_array().unwrap() {
                    let item = item.as_str().unwrap();
                    if clean_cve(item) && simple(version).is_some() {
                        origin.fixes.entry(item.to_owned()).or_default().push(version.clone());
                    } else {
                        // Whatever ids the entry holds are left to the feed tests.
                        origin.unjudged.extend(
                            item.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                                .filter(|t| !t.is_empty())
                                .map(|t| t.replace('_', "-")),
                        );
                    }
                }
            }
        }
    }
    for origin in out.values_mut() {
        let unjudged = origin.unjudged.clone();
        origin.fixes.retain(|cve, _| !unjudged.contains(cve));
    }
    out
}

#[test]
fn alpine_findings_follow_secdb_and_the_version_order() {
    let origins: BTreeSet<&str> = INSTALLED.iter().map(|(_, origin, _)| *origin).collect();
    let secdb = secdb(&origins);
    // Each installed version is a real fixed version of its origin (so that the order
    // against the other entries decides), except for the package secdb does not list.
    for (binary, origin, version) in INSTALLED {
        match secdb.get(*origin) {
            Some(o) => assert!(o.fixes.values().flatten().any(|v| v == version), "{binary} {version}"),
            None => assert_eq!(*binary, "alpine-baselayout", "{origin} is not in secdb"),
        }
    }

    // A CVE affects an installed version when one of the versions fixing it is newer:
    // secdb lists a CVE again under a later version when the first fix was incomplete.
    let mut want = BTreeSet::new();
    let (mut older, mut newer) = (0, 0);
    for (binary, origin, version) in INSTALLED {
        for (cve, fixed) in secdb.get(*origin).map(|o| &o.fixes).into_iter().flatten() {
            if fixed.iter().any(|f| compare(version, f) == Ordering::Less) {
                want.insert((binary.to_string(), cve.clone()));
                newer += 1;
            } else {
                older += 1;
            }
        }
    }
    assert!(newer > 30 && older > 30, "the versions exercise the order both ways ({newer} / {older})");

    let dir = tempfile::tempdir().unwrap();
    let mut apk_db = String::new();
    for (binary, origin, version) in INSTALLED {
        apk_db.push_str(&format!(
            "C:Q1{binary}Checksum=\nP:{binary}\nV:{version}\nA:x86_64\nS:100000\nI:250000\nT:{binary} for the test\n\
             U:https://alpinelinux.org\nL:MIT\no:{origin}\nm:Alpine Developers\nt:1570000000\nc:0123456789abcdef\n\n"
        ));
    }
    let os_release = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.9\nPRETTY_NAME=\"Alpine Linux v3.10\"\n\
        HOME_URL=\"https://alpinelinux.org/\"\n";
    let archive = dir.path().join("alpine.tar");
    write_docker_archive(
        &archive,
        &[
            ("etc/os-release".into(), os_release.as_bytes().to_vec(), 0o644),
            ("etc/alpine-release".into(), b"3.10.9\n".to_vec(), 0o644),
            ("lib/apk/db/installed".into(), apk_db.into_bytes(), 0o644),
        ],
    );
    let report = scan_json(&archive, &vulndata_db(dir.path()), &[]);
    let found = finding_pairs(&report);

    // Findings of ids the test does not judge are set aside, and only those.
    let origin_of: BTreeMap<&str, &str> = INSTALLED.iter().map(|(b, o, _)| (*b, *o)).collect();
    let (judged, set_aside): (BTreeSet<_>, BTreeSet<_>) = found.into_iter().partition(|(binary, cve)| {
        let origin = origin_of.get(binary.as_str()).unwrap_or_else(|| panic!("finding for unknown package {binary}"));
        !secdb[*origin].unjudged.contains(cve)
    });
    assert_eq!(want, judged, "{}", finding_diff(&want, &judged));
    assert!(set_aside.len() < judged.len() / 4, "most findings are judged here: {set_aside:?}");

    for f in report["vulnerabilities"]["findings"].as_array().unwrap() {
        if f["package"] == "ssl_client" && f["vulnerability"] == "CVE-2019-5747" {
            assert_eq!(f["matched_name"], "busybox");
            assert_eq!(f["fixed_version"], "1.30.1-r2", "the newer of the two fixes is the one to name");
            assert_eq!(f["installed_version"], "1.29.3-r10");
        }
    }
    assert!(judged.contains(&("ssl_client".into(), "CVE-2019-5747".into())));
}

#[test]
fn the_plain_version_order_is_numeric() {
    assert_eq!(compare("1.29.3-r10", "1.30.1-r2"), Ordering::Less);
    assert_eq!(compare("1.29.3-r10", "1.29.3-r9"), Ordering::Greater);
    assert_eq!(compare("10.4-r0", "9.6.4-r0"), Ordering::Greater);
    assert_eq!(compare("4.8.7-r0", "4.8.11-r0"), Ordering::Less);
    assert_eq!(compare("2.2.7-r0", "2.2.7-r0"), Ordering::Equal);
    assert_eq!(simple("1.1.1a-r0"), None);
    assert_eq!(simple("7.53.0"), None);
    assert_eq!(simple("9.12.3_p4-r0"), None);
}
