//! The NVD API 2.0 parser over the sample response in tests/data/feed/nvd (written for these
//! tests in the API's shape), and its merge with the real feeds of shared/vulndata.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vulndb::feed::nvd;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/feed/nvd/nvdcve-2.0-sample.json")
}

#[test]
fn the_sample_response_is_read_completely() {
    let data = std::fs::read(fixture()).unwrap();
    let parsed = nvd::parse(&data, "sample");
    assert!(parsed.problems.is_empty(), "{:#?}", parsed.problems);
    let root: Value = serde_json::from_slice(&data).unwrap();
    let items = root["vulnerabilities"].as_array().unwrap();
    assert_eq!(parsed.vulnerabilities.len(), items.len());
    assert!(parsed.affected.is_empty());
    assert_eq!(parsed.updated.as_deref(), Some("2025-01-15T10:21:42Z"));

    let find = |id: &str| parsed.vulnerabilities.iter().find(|v| v.id == id).unwrap();
    let curl = find("CVE-2023-38545");
    assert_eq!(
        curl.description.as_deref(),
        Some("This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy handshake.")
    );
    assert_eq!(curl.published.as_deref(), Some("2023-10-18T04:15:11Z"));
    assert_eq!(curl.cvss.len(), 1);
    assert_eq!(
        (curl.cvss[0].version.as_str(), curl.cvss[0].base_score, curl.cvss[0].source.as_str()),
        ("3.1", 9.8, "nvd@nist.gov")
    );
    assert_eq!(curl.references.len(), 2);

    let acl = find("CVE-2009-4411");
    assert_eq!(
        (acl.cvss[0].version.as_str(), acl.cvss[0].vector.as_str(), acl.cvss[0].base_score),
        ("2.0", "AV:L/AC:L/Au:N/C:P/I:P/A:P", 4.6)
    );

    let v4 = find("CVE-2099-0002");
    assert_eq!((v4.cvss[0].version.as_str(), v4.cvss[0].base_score), ("4.0", 9.3));
    assert!(find("CVE-2099-0001").withdrawn);
    assert!(!curl.withdrawn);
}

#[test]
fn nvd_merges_with_the_real_feeds() {
    let vulndata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata");
    let tmp = tempfile::tempdir().unwrap();
    // The real Debian tracker and CVE records, plus the NVD sample, as one feed directory.
    std::fs::create_dir_all(tmp.path().join("debian")).unwrap();
    std::fs::copy(vulndata.join("debian/tracker.json"), tmp.path().join("debian/tracker.json"))
        .unwrap_or_else(|e| panic!("{}: {e} (shared/vulndata must sit beside the clone)", vulndata.display()));
    std::fs::create_dir_all(tmp.path().join("cve")).unwrap();
    for name in ["CVE-2023-38545.json", "CVE-2024-2961.json"] {
        std::fs::copy(vulndata.join("cve").join(name), tmp.path().join("cve").join(name)).unwrap();
    }
    std::fs::create_dir_all(tmp.path().join("nvd")).unwrap();
    std::fs::copy(fixture(), tmp.path().join("nvd/sample.json")).unwrap();

    let feeds = vulndb::feed::load_dir(tmp.path()).unwrap();
    let names: Vec<&str> = feeds.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["debian-tracker", "cve5", "nvd"]);
    let find = |id: &str| feeds.vulnerabilities.iter().find(|v| v.id == id).unwrap();

    // Tracker changelog text gives way to the CVE record's text; the CVE record was read
    // before NVD, so its text stays; the earliest publication date wins; CVSS is united.
    let curl = find("CVE-2023-38545");
    assert!(curl.description.as_deref().unwrap().contains("SOCKS5 proxy\nhandshake"));
    assert_eq!(curl.published.as_deref(), Some("2023-10-18T03:52:00Z"));
    assert_eq!(curl.cvss.len(), 1);
    assert_eq!(curl.cvss[0].source, "nvd@nist.gov");

    // Only the tracker and NVD know this one: NVD's text replaces the changelog line.
    let acl = find("CVE-2009-4411");
    assert!(acl.description.as_deref().unwrap().starts_with("The (1) setfacl and (2) getfacl"));
    assert_eq!(acl.published.as_deref(), Some("2009-12-24T17:30:00Z"));
    assert!(acl.references.contains(&"https://bugs.debian.org/499076".to_string()));
    assert!(acl.references.contains(&"https://savannah.nongnu.org/bugs/?28131".to_string()));

    // Same vector from CISA-ADP (CVE record) and from NVD under CISA's org id: two sources.
    let glibc = find("CVE-2024-2961");
    assert_eq!(glibc.cvss.len(), 2);
    // The tracker's affected entry is untouched by the text feeds.
    let entry = feeds.affected.iter().find(|a| a.vulnerability == "CVE-2024-2961").unwrap();
    assert_eq!((entry.package.as_str(), entry.fixed_version.as_deref()), ("glibc", Some("2.36-9+deb12u6")));
}
