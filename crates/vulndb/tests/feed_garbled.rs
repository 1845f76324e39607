//! Garbled, truncated and mistyped feed input: no parser panics, each reports problems, and
//! what is still readable is kept.

use std::path::{Path, PathBuf};

use vulndb::feed::{Parsed, alpine, cve5, cvss, debian, dsa, load_dir, nvd, osv};

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn real(path: &str) -> Vec<u8> {
    let path = vulndata().join(path);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (shared/vulndata must sit beside the clone)", path.display()))
}

/// A parser as a function of bytes.
type Parser = Box<dyn Fn(&[u8]) -> Parsed>;

/// Every parser, by name.
fn parsers() -> Vec<(&'static str, Parser)> {
    vec![
        ("debian", Box::new(|d: &[u8]| debian::parse(d, "t"))),
        ("alpine", Box::new(|d: &[u8]| alpine::parse(d, "t", None).0)),
        ("osv", Box::new(|d: &[u8]| osv::parse(d, "t", "osv:test"))),
        ("cve5", Box::new(|d: &[u8]| cve5::parse(d, "t"))),
        ("nvd", Box::new(|d: &[u8]| nvd::parse(d, "t"))),
    ]
}

#[test]
fn malformed_documents_are_problems_for_every_parser() {
    let deep = "[".repeat(100_000);
    let inputs: [&[u8]; 8] = [b"", b"null", b"[]", b"{", b"\"text\"", b"\xff\xfe\x00garbage", b"42", deep.as_bytes()];
    for (name, parse) in parsers() {
        for input in inputs {
            let parsed = parse(input);
            assert!(
                !parsed.problems.is_empty(),
                "{name} accepted {:?}",
                String::from_utf8_lossy(&input[..input.len().min(20)])
            );
            assert!(parsed.vulnerabilities.is_empty() && parsed.affected.is_empty(), "{name}");
        }
    }
}

#[test]
fn truncated_and_mutated_real_files_never_panic() {
    let files = [
        ("debian", real("debian/tracker.json")),
        ("alpine", real("alpine/v3.10/main.json")),
        ("osv", real("osv/crates.io/RUSTSEC-2016-0001.json")),
        ("cve5", real("cve/CVE-2025-6965.json")),
        (
            "nvd",
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/feed/nvd/nvdcve-2.0-sample.json"))
                .unwrap(),
        ),
    ];
    let parsers = parsers();
    let mut state: u64 = 42;
    let mut next = |n: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n.max(1)
    };
    for (name, data) in &files {
        let parse = &parsers.iter().find(|(n, _)| n == name).unwrap().1;
        // Truncated anywhere: never valid JSON, always a problem.
        for step in 1..40 {
            let cut = data.len() * step / 40;
            let parsed = parse(&data[..cut]);
            assert!(!parsed.problems.is_empty(), "{name} truncated at {cut}");
        }
        // Random byte changes: whatever they make, no panic.
        for _ in 0..150 {
            let mut copy = data.clone();
            for _ in 0..1 + next(8) {
                let at = next(copy.len());
                let replacements = b"\"{}[]:,0aZ\\ \xff";
                copy[at] = replacements[next(replacements.len())];
            }
            let _ = parse(&copy);
        }
    }
}

#[test]
fn mistyped_records_lose_only_themselves() {
    let tracker = br#"{"bad": 5, "pkg": {"CVE-2024-0001": 7, "CVE-2024-0002": {"releases": {"bookworm": "x",
        "bullseye": {"status": 3, "urgency": "low"}, "trixie": {"status": "resolved", "fixed_version": "1.0-1", "urgency": "low"}}},
        "CVE-2024-0003": {"description": "no releases"}}}"#;
    let parsed = debian::parse(tracker, "t");
    // The number package, the number entry, the string release, the numeric status and
    // the entry without releases.
    assert_eq!(parsed.problems.len(), 5, "{:#?}", parsed.problems);
    let fixed = parsed.affected.iter().find(|a| a.ecosystem == "debian:13").unwrap();
    assert_eq!(fixed.fixed_version.as_deref(), Some("1.0-1"));
    // The release with a numeric status is kept, conservatively, as affected.
    assert!(parsed.affected.iter().any(|a| a.ecosystem == "debian:11" && a.status == vulndb::Status::Affected));

    let secdb = br#"{"distroversion": "v3.12", "reponame": "main", "packages": [
        {"pkg": {"name": "a", "secfixes": {"1-r0": "CVE-2020-0001", "2-r0": [5, "CVE-2020-0002"]}}},
        {"pkg": {}}, 7, {"pkg": {"name": "b", "secfixes": []}}]}"#;
    let (parsed, _) = alpine::parse(secdb, "t", None);
    assert_eq!(parsed.affected.len(), 1);
    assert_eq!(parsed.affected[0].vulnerability, "CVE-2020-0002");
    assert_eq!(parsed.problems.len(), 5, "{:#?}", parsed.problems);

    let record = br#"{"id": "GHSA-xxxx-yyyy-zzzz", "published": "yesterday", "aliases": [1, "CVE-2024-0001"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:Q"}, {"type": "CVSS_V3"}],
        "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"}, "ranges": [{"type": "WEIRD", "events": []},
            {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}, "nonsense"]}"#;
    let parsed = osv::parse(record, "t", "osv:npm");
    assert_eq!(parsed.vulnerabilities[0].aliases, ["CVE-2024-0001"]);
    assert_eq!(parsed.vulnerabilities[0].published, None);
    assert_eq!(parsed.affected.len(), 1);
    assert_eq!(parsed.affected[0].fixed_version.as_deref(), Some("1.3.0"));
    assert_eq!(parsed.problems.len(), 5, "{:#?}", parsed.problems);

    let nvd_doc = br#"{"vulnerabilities": [{"cve": {"id": "not-a-cve"}}, 3, {"cve": {"id": "CVE-2024-0001",
        "metrics": {"cvssMetricV31": [{"source": "x", "cvssData": {"vectorString": "CVSS:3.1/AV:N", "baseScore": "high"}}]}}}]}"#;
    let parsed = nvd::parse(nvd_doc, "t");
    assert_eq!(parsed.vulnerabilities.len(), 1);
    assert_eq!(parsed.problems.len(), 3, "{:#?}", parsed.problems);
}

#[test]
fn advisory_lists_and_vectors_survive_garbage() {
    let mut state: u64 = 7;
    let mut bytes = Vec::new();
    for _ in 0..20_000 {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        bytes.push(b"[]{}- \t\nDSA-1CVE:0/"[(state >> 40) as usize % 19]);
    }
    let text = String::from_utf8_lossy(&bytes);
    let _ = dsa::parse(&text, "t");
    for line in text.lines() {
        let _ = cvss::base_score(line);
        let _ = cvss::base_score(&format!("CVSS:4.0/{line}"));
        let _ = cvss::base_score(&format!("CVSS:3.1/{line}"));
    }
}

#[test]
fn a_directory_of_broken_files_reports_each_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for dir in ["debian", "alpine/v3.12", "osv/PyPI", "osv/Go", "cve", "nvd"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("debian/tracker.json"), b"{\"curl\": {\"CVE-2023-38545\"").unwrap();
    // No distroversion inside: the release comes from the path.
    std::fs::write(
        root.join("alpine/v3.12/main.json"),
        br#"{"packages": [{"pkg": {"name": "a", "secfixes": {"1-r0": ["CVE-2020-0001"]}}}]}"#,
    )
    .unwrap();
    std::fs::write(root.join("alpine/v3.12/community.json"), b"[1, 2").unwrap();
    std::fs::copy(vulndata().join("osv/PyPI/PYSEC-2007-1.json"), root.join("osv/PyPI/PYSEC-2007-1.json")).unwrap();
    std::fs::write(root.join("osv/PyPI/broken.json"), b"{\"id\":").unwrap();
    std::fs::write(root.join("osv/Go/all.zip"), b"PK\x03\x04 this is not really a zip").unwrap();
    std::fs::write(root.join("cve/CVE-2024-0001.json"), b"").unwrap();
    std::fs::write(root.join("nvd/page.json"), b"{\"vulnerabilities\": 5}").unwrap();

    let feeds = load_dir(root).unwrap();
    let mut broken: Vec<String> = feeds
        .problems
        .iter()
        .map(|p| Path::new(&p.location).file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    broken.sort();
    assert_eq!(broken, ["CVE-2024-0001.json", "all.zip", "broken.json", "community.json", "page.json", "tracker.json"]);
    let alpine = feeds.affected.iter().find(|a| a.vulnerability == "CVE-2020-0001").unwrap();
    assert_eq!(alpine.ecosystem, "alpine:3.12");
    assert!(feeds.affected.iter().any(|a| a.vulnerability == "PYSEC-2007-1" && a.package == "django"));
}
