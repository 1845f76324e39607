//! The CVE JSON 5 parser over the 57 real records in shared/vulndata, checked against
//! counts taken from the same files with plain JSON walking.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vulndb::feed::cve5;

fn cve_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata/cve")
}

fn records() -> Vec<(Value, vulndb::feed::Parsed)> {
    let dir = cve_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (shared/vulndata must sit beside the clone)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (serde_json::from_slice(&data).unwrap(), cve5::parse(&data, &p.display().to_string()))
        })
        .collect()
}

/// (publisher, vector, score) of every CVSS metric of a record, walked independently.
fn walked_cvss(record: &Value) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    let assigner = record["cveMetadata"]["assignerShortName"].as_str().unwrap().to_string();
    let mut containers = vec![(assigner, &record["containers"]["cna"])];
    for adp in record["containers"]["adp"].as_array().into_iter().flatten() {
        containers.push((adp["providerMetadata"]["shortName"].as_str().unwrap().to_string(), adp));
    }
    for (publisher, container) in containers {
        for metric in container["metrics"].as_array().into_iter().flatten() {
            for (key, value) in metric.as_object().unwrap() {
                if key.starts_with("cvssV") {
                    let vector = value["vectorString"].as_str().unwrap().to_string();
                    out.push((publisher.clone(), vector, value["baseScore"].as_f64().unwrap()));
                }
            }
        }
    }
    out
}

#[test]
fn every_record_is_read_with_its_metrics() {
    let all = records();
    assert_eq!(all.len(), 57);
    let mut with_cvss = 0;
    let mut from_cna = 0;
    for (record, parsed) in &all {
        let id = record["cveMetadata"]["cveId"].as_str().unwrap();
        assert_eq!(parsed.vulnerabilities.len(), 1);
        let v = &parsed.vulnerabilities[0];
        assert_eq!(v.id, id);
        assert!(!v.withdrawn, "{id}");
        let english = record["containers"]["cna"]["descriptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["lang"].as_str().unwrap().starts_with("en"))
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .trim();
        assert_eq!(v.description.as_deref(), Some(english), "{id}");
        // Published dates keep their day, whatever the record's notation.
        let published = record["cveMetadata"]["datePublished"].as_str().unwrap();
        assert_eq!(v.published.as_deref().map(|d| &d[..10]), Some(&published[..10]), "{id}");
        assert!(v.published.as_deref().unwrap().ends_with('Z'));

        let walked = walked_cvss(record);
        let got: Vec<(String, String, f64)> =
            v.cvss.iter().map(|c| (c.source.clone(), c.vector.clone(), c.base_score)).collect();
        assert_eq!(got, walked, "{id}");
        if !walked.is_empty() {
            with_cvss += 1;
        }
        if walked.iter().any(|(p, _, _)| p != "CISA-ADP") {
            from_cna += 1;
        }
        // Problems only ever report published scores that disagree with the vector.
        for problem in &parsed.problems {
            assert!(problem.message.contains("but the feed says"), "{id}: {}", problem.message);
        }
    }
    // The data's README: 24 records with CVSS, 7 of them from the CNA.
    assert_eq!((with_cvss, from_cna), (24, 7));
}

#[test]
fn known_records_carry_their_fields() {
    let all = records();
    let find =
        |id: &str| all.iter().find(|(r, _)| r["cveMetadata"]["cveId"] == id).unwrap().1.vulnerabilities[0].clone();

    let sqlite = find("CVE-2025-6965");
    assert_eq!(sqlite.summary.as_deref(), Some("Integer Truncation on SQLite"));
    assert_eq!(sqlite.published.as_deref(), Some("2025-07-15T13:44:00Z"));
    assert_eq!(sqlite.modified.as_deref(), Some("2025-11-04T21:14:51Z"));
    assert_eq!(sqlite.cvss.len(), 1);
    let c = &sqlite.cvss[0];
    assert_eq!((c.version.as_str(), c.base_score, c.source.as_str()), ("4.0", 7.2, "Google"));
    // One CNA reference and six from the CVE Program container.
    assert_eq!(sqlite.references.len(), 7);

    let glibc = find("CVE-2024-2961");
    assert_eq!(glibc.cvss.len(), 1);
    assert_eq!(glibc.cvss[0].vector, "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:H");
    assert_eq!((glibc.cvss[0].base_score, glibc.cvss[0].source.as_str()), (7.3, "CISA-ADP"));

    let curl = find("CVE-2023-38545");
    assert!(
        curl.description
            .as_deref()
            .unwrap()
            .starts_with("This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy")
    );
    assert_eq!(curl.published.as_deref(), Some("2023-10-18T03:52:00Z"));
    assert!(curl.cvss.is_empty());

    // An old record without offset in its dates: read as UTC.
    let old = find("CVE-2022-27776");
    assert_eq!(old.published.as_deref(), Some("2022-06-01T00:00:00Z"));
}
