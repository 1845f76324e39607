//! `feed::load_dir` over the whole of shared/vulndata: every feed found, records merged
//! across feeds, advisories applied, and the time it takes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vulndb::feed::{FeedError, load_dir};

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

#[test]
fn the_whole_directory_loads_quickly_and_merges() {
    let start = Instant::now();
    let feeds = load_dir(&vulndata()).unwrap_or_else(|e| panic!("{e} (shared/vulndata must sit beside the clone)"));
    let elapsed = start.elapsed();
    println!(
        "load_dir(shared/vulndata): {elapsed:?}, {} vulnerabilities, {} affected, {} problems",
        feeds.vulnerabilities.len(),
        feeds.affected.len(),
        feeds.problems.len()
    );
    let limit = if cfg!(debug_assertions) { Duration::from_secs(10) } else { Duration::from_secs(1) };
    assert!(elapsed < limit, "load_dir took {elapsed:?}");

    let names: Vec<&str> = feeds.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "debian-tracker",
            "alpine-secdb:v3.10/community",
            "alpine-secdb:v3.10/main",
            "alpine-secdb:v3.11/community",
            "alpine-secdb:v3.11/main",
            "alpine-secdb:v3.9/community",
            "alpine-secdb:v3.9/main",
            "osv:Go",
            "osv:PyPI",
            "osv:crates.io",
            "cve5",
        ]
    );
    let tracker = &feeds.sources[0];
    assert_eq!((tracker.vulnerabilities, tracker.affected), (1426, 1439));
    let osv_records: u64 = feeds.sources.iter().filter(|s| s.name.starts_with("osv:")).map(|s| s.vulnerabilities).sum();
    assert_eq!(osv_records, 293 + 150 + 115);
    assert_eq!(feeds.sources.last().unwrap().vulnerabilities, 57);

    // No two feeds share an ecosystem here, so merged entries are exactly the sum.
    let per_source: u64 = feeds.sources.iter().map(|s| s.affected).sum();
    assert_eq!(feeds.affected.len() as u64, per_source);

    // One record per id, sorted, and every affected entry points at one.
    let ids: Vec<&str> = feeds.vulnerabilities.iter().map(|v| v.id.as_str()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let known: HashSet<&str> = ids.iter().copied().collect();
    assert!(feeds.affected.iter().all(|a| known.contains(a.vulnerability.as_str())));

    // The tracker's changelog line gives way to the CVE record's text and date.
    let curl = feeds.vulnerabilities.iter().find(|v| v.id == "CVE-2023-38545").unwrap();
    assert!(curl.description.as_deref().unwrap().starts_with("This flaw makes curl overflow"));
    assert_eq!(curl.published.as_deref(), Some("2023-10-18T03:52:00Z"));
    // An OSV record naming a tracked CVE: each id names the other.
    let cve = feeds.vulnerabilities.iter().find(|v| v.id == "CVE-2022-3602").unwrap();
    assert!(cve.aliases.contains(&"RUSTSEC-2022-0064".to_string()), "{:?}", cve.aliases);
    let rustsec = feeds.vulnerabilities.iter().find(|v| v.id == "RUSTSEC-2022-0064").unwrap();
    assert!(rustsec.aliases.contains(&"CVE-2022-3602".to_string()));
    // A CVE both Debian and Alpine fixed has entries in both ecosystems.
    let ecosystems: HashSet<&str> = feeds
        .affected
        .iter()
        .filter(|a| a.vulnerability == "CVE-2016-1238")
        .map(|a| a.ecosystem.split(':').next().unwrap())
        .collect();
    assert_eq!(ecosystems, HashSet::from(["debian", "alpine"]));

    // Every problem is one of the documented Alpine quirks or a published CVSS score that
    // disagrees with its vector.
    for p in &feeds.problems {
        assert!(
            p.source.starts_with("alpine-secdb:") || p.message.contains("but the feed says"),
            "unexpected problem {p:?}"
        );
    }
}

#[test]
fn advisory_lists_beside_the_tracker_are_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let debian = tmp.path().join("debian");
    std::fs::create_dir_all(debian.join("DSA")).unwrap();
    std::fs::copy(vulndata().join("debian/tracker.json"), debian.join("tracker.json")).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/feed/debian/DSA/list");
    std::fs::copy(fixture, debian.join("DSA/list")).unwrap();

    let feeds = load_dir(tmp.path()).unwrap();
    let advisories = feeds.sources.iter().find(|s| s.name == "debian-advisories").unwrap();
    assert_eq!(advisories.affected, 3);
    assert_eq!(advisories.updated.as_deref(), Some("2024-11-12T00:00:00Z"));
    let glibc = feeds.affected.iter().find(|a| a.vulnerability == "CVE-2024-2961").unwrap();
    assert_eq!(glibc.advisories, ["DSA-9902-1"]);
    assert_eq!(feeds.problems.len(), 2, "{:#?}", feeds.problems);
}

#[test]
fn directories_without_feeds_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(load_dir(tmp.path()), Err(FeedError::NoFeeds(_))));
    assert!(matches!(load_dir(&tmp.path().join("missing")), Err(FeedError::Io { .. })));
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(load_dir(&file), Err(FeedError::Io { .. })));
}
