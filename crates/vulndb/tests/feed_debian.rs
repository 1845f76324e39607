//! The Debian tracker parser over the real export in shared/vulndata, checked against
//! counts taken from the same file with plain JSON walking, and the advisory-list reader
//! over a fixture written for these tests.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use vulndb::feed::{debian, dsa};
use vulndb::{RangeKind, Status};

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn tracker_bytes() -> Vec<u8> {
    let path = vulndata().join("debian/tracker.json");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (shared/vulndata must sit beside the clone)", path.display()))
}

#[test]
fn every_release_entry_of_the_real_tracker_is_read() {
    let data = tracker_bytes();
    let parsed = debian::parse(&data, "tracker.json");
    assert!(parsed.problems.is_empty(), "{:#?}", parsed.problems);

    // Independent walk: one entry per (package, id, release), urgencies as written.
    let root: Value = serde_json::from_slice(&data).unwrap();
    let mut entries = 0;
    let mut ids = HashSet::new();
    let mut urgencies: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_affected = 0;
    for (_package, cves) in root.as_object().unwrap() {
        for (id, entry) in cves.as_object().unwrap() {
            ids.insert(id.clone());
            for (_codename, release) in entry["releases"].as_object().unwrap() {
                entries += 1;
                *urgencies.entry(release["urgency"].as_str().unwrap().to_string()).or_default() += 1;
                if release["status"] == "resolved" && release["fixed_version"] == "0" {
                    not_affected += 1;
                }
            }
        }
    }
    // The counts the data's README states, to be sure the walk above reads the file right.
    assert_eq!((entries, ids.len()), (1439, 1426));
    assert_eq!(parsed.affected.len(), entries);
    let parsed_ids: HashSet<&str> = parsed.vulnerabilities.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(parsed_ids.len(), ids.len());
    assert_eq!(parsed.vulnerabilities.len(), ids.len(), "one record per id");

    let mut parsed_urgencies: BTreeMap<String, usize> = BTreeMap::new();
    for a in &parsed.affected {
        *parsed_urgencies.entry(a.distro_urgency.clone().unwrap_or_default()).or_default() += 1;
    }
    assert_eq!(parsed_urgencies, urgencies);
    assert_eq!(urgencies.get("medium"), Some(&783));
    let count = |s: Status| parsed.affected.iter().filter(|a| a.status == s).count();
    assert_eq!(count(Status::NotAffected), not_affected);
    assert_eq!(count(Status::Fixed), entries - not_affected);
    assert!(parsed.affected.iter().all(|a| a.ecosystem == "debian:12"));
}

#[test]
fn known_records_carry_their_fields() {
    let parsed = debian::parse(&tracker_bytes(), "tracker.json");
    let find = |package: &str, id: &str| {
        parsed
            .affected
            .iter()
            .find(|a| a.package == package && a.vulnerability == id)
            .unwrap_or_else(|| panic!("{package} {id} missing"))
    };
    let curl = find("curl", "CVE-2023-38545");
    assert_eq!(curl.status, Status::Fixed);
    assert_eq!(curl.fixed_version.as_deref(), Some("7.88.1-10+deb12u4"));
    assert_eq!(curl.distro_urgency.as_deref(), Some("high"));
    assert_eq!(curl.ranges.len(), 1);
    assert_eq!(curl.ranges[0].kind, RangeKind::Ecosystem);
    assert_eq!(
        (curl.ranges[0].introduced.as_ref(), curl.ranges[0].fixed.as_deref()),
        (None, Some("7.88.1-10+deb12u4"))
    );

    let glibc = find("glibc", "CVE-2024-2961");
    assert_eq!(glibc.fixed_version.as_deref(), Some("2.36-9+deb12u6"));
    assert_eq!(glibc.distro_urgency.as_deref(), Some("medium"));
    let acl = find("acl", "CVE-2009-4411");
    assert_eq!((acl.fixed_version.as_deref(), acl.distro_urgency.as_deref()), (Some("2.2.49-2"), Some("low")));

    let glibc_vuln = parsed.vulnerabilities.iter().find(|v| v.id == "CVE-2024-2961").unwrap();
    assert!(glibc_vuln.description.as_deref().unwrap().contains("ISO-2022-CN-EXT"));
    assert_eq!(glibc_vuln.references, ["https://bugs.debian.org/1069191"]);
}

/// A DSA list in the tracker's `data/DSA/list` format, with invented advisory numbers for
/// real bookworm fixes of the tracker export.
const DSA_FIXTURE: &str = "tests/data/feed/debian/DSA/list";

#[test]
fn advisory_lists_name_the_advisory_on_matching_entries() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DSA_FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap();
    let (advisories, problems) = dsa::parse(&text, "list");
    // The fixture holds one deliberately unreadable header and one unknown release.
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(advisories.len(), 4);
    let curl = advisories.iter().find(|a| a.id == "DSA-9901-1").unwrap();
    assert_eq!(curl.cves, ["CVE-2023-38545", "CVE-2023-38546"]);
    assert_eq!(curl.date.as_deref(), Some("2023-10-11"));

    let mut parsed = debian::parse(&tracker_bytes(), "tracker.json");
    let annotated = dsa::apply(&advisories, &mut parsed.affected);
    let with = |id: &str, package: &str| {
        parsed.affected.iter().find(|a| a.vulnerability == id && a.package == package).unwrap().advisories.clone()
    };
    assert_eq!(with("CVE-2023-38545", "curl"), ["DSA-9901-1"]);
    assert_eq!(with("CVE-2023-38546", "curl"), ["DSA-9901-1"]);
    assert_eq!(with("CVE-2024-2961", "glibc"), ["DSA-9902-1"]);
    // The bullseye-only advisory names no bookworm entry; the header-less one is dropped.
    assert_eq!(annotated, 3);
    assert_eq!(parsed.affected.iter().filter(|a| !a.advisories.is_empty()).count(), 3);
}
