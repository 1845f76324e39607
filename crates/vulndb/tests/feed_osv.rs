//! The OSV parser over the real PyPI, Go and crates.io records in shared/vulndata, checked
//! against counts taken from the same files with plain JSON walking, and the `all.zip`
//! form of a feed.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vulndb::feed::{Parsed, osv};
use vulndb::{Affected, RangeKind, Status};

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn files(ecosystem: &str) -> Vec<PathBuf> {
    let dir = vulndata().join("osv").join(ecosystem);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (shared/vulndata must sit beside the clone)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Every record of one ecosystem directory, parsed one file at a time.
fn parse_all(ecosystem: &str) -> Vec<(Value, Parsed)> {
    files(ecosystem)
        .into_iter()
        .map(|path| {
            let data = std::fs::read(&path).unwrap();
            let parsed = osv::parse(&data, &path.display().to_string(), &format!("osv:{ecosystem}"));
            (serde_json::from_slice(&data).unwrap(), parsed)
        })
        .collect()
}

/// The ranges a record states for each package, walked independently, as (type,
/// introduced, fixed, last_affected).
type WalkedRange = (String, Option<String>, Option<String>, Option<String>);

fn walked_ranges(record: &Value) -> HashMap<String, BTreeSet<WalkedRange>> {
    let mut out: HashMap<String, BTreeSet<WalkedRange>> = HashMap::new();
    for affected in record["affected"].as_array().unwrap() {
        let name = affected["package"]["name"].as_str().unwrap().to_string();
        let set = out.entry(name).or_default();
        for range in affected["ranges"].as_array().into_iter().flatten() {
            let kind = range["type"].as_str().unwrap().to_string();
            // Each `introduced` opens a range; every closing event ends the open range or,
            // with none open (several fixes on different GIT branches), one from the start.
            let mut open: Option<Option<String>> = None;
            for event in range["events"].as_array().unwrap() {
                let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::to_string);
                if let Some(introduced) = text("introduced") {
                    if let Some(previous) = open.take() {
                        set.insert((kind.clone(), previous, None, None));
                    }
                    open = Some(Some(introduced).filter(|v| v != "0"));
                } else if text("fixed").is_some() || text("last_affected").is_some() {
                    set.insert((kind.clone(), open.take().flatten(), text("fixed"), text("last_affected")));
                }
            }
            if let Some(previous) = open {
                set.insert((kind.clone(), previous, None, None));
            }
        }
    }
    out
}

fn model_ranges(a: &Affected) -> BTreeSet<WalkedRange> {
    a.ranges
        .iter()
        .map(|r| {
            let kind = match r.kind {
                RangeKind::Ecosystem => "ECOSYSTEM",
                RangeKind::Semver => "SEMVER",
                RangeKind::Git => "GIT",
            };
            (kind.to_string(), r.introduced.clone(), r.fixed.clone(), r.last_affected.clone())
        })
        .collect()
}

#[test]
fn every_record_of_every_ecosystem_is_read() {
    // (directory, records) as the data's README counts them.
    for (ecosystem, expected_records) in [("PyPI", 293), ("Go", 150), ("crates.io", 115)] {
        let all = parse_all(ecosystem);
        assert_eq!(all.len(), expected_records, "{ecosystem}");
        let mut affected_total = 0;
        for (record, parsed) in &all {
            let id = record["id"].as_str().unwrap();
            assert!(parsed.problems.is_empty(), "{id}: {:#?}", parsed.problems);
            assert_eq!(parsed.vulnerabilities.len(), 1, "{id}");
            let v = &parsed.vulnerabilities[0];
            assert_eq!(v.id, id);
            assert_eq!(v.withdrawn, record.get("withdrawn").is_some(), "{id}");
            let aliases: Vec<&str> =
                record["aliases"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            assert_eq!(v.aliases, aliases, "{id}");
            assert_eq!(v.references.len(), record["references"].as_array().map_or(0, Vec::len), "{id}");

            let walked = walked_ranges(record);
            assert_eq!(parsed.affected.len(), walked.len(), "{id}: one entry per package");
            affected_total += walked.len();
            for a in &parsed.affected {
                let expected_name = if ecosystem == "PyPI" {
                    a.package.to_lowercase().replace(['_', '.'], "-")
                } else {
                    a.package.clone()
                };
                assert_eq!(a.package, expected_name);
                assert_eq!(a.ecosystem, ecosystem, "{id}: language ecosystems keep their OSV name");
                assert_eq!(model_ranges(a), walked[&a.package], "{id} {}", a.package);
                let fixes: Vec<&str> = a.ranges.iter().filter_map(|r| r.fixed.as_deref()).collect();
                if let Some(fixed) = &a.fixed_version {
                    assert!(fixes.contains(&fixed.as_str()), "{id}: fixed version from a range");
                }
                let open =
                    a.ranges.iter().any(|r| r.kind != RangeKind::Git && r.fixed.is_none() && r.last_affected.is_none());
                if open || fixes.is_empty() {
                    assert_eq!(a.status, Status::Affected, "{id}");
                } else {
                    assert_eq!(a.status, Status::Fixed, "{id}");
                }
            }
        }
        let from_files: usize = all.iter().map(|(r, _)| r["affected"].as_array().unwrap().len()).sum::<usize>();
        assert!(affected_total <= from_files);
        if ecosystem == "Go" {
            // Go records list a module once per set of imported packages; 171 entries in all.
            assert_eq!(from_files, 171);
        }
    }
}

#[test]
fn known_records_carry_their_fields() {
    let pypi = parse_all("PyPI");
    let find = |all: &[(Value, Parsed)], id: &str| {
        all.iter().find(|(r, _)| r["id"] == id).map(|(_, p)| p.clone()).unwrap_or_else(|| panic!("{id} missing"))
    };
    let django = find(&pypi, "PYSEC-2007-1");
    let v = &django.vulnerabilities[0];
    assert_eq!(v.aliases, ["CVE-2007-5712"]);
    assert_eq!(v.published.as_deref(), Some("2007-10-30T19:46:00Z"));
    assert_eq!(v.modified.as_deref(), Some("2021-07-15T02:22:07Z"));
    assert!(v.description.as_deref().unwrap().starts_with("The internationalization (i18n) framework in Django"));
    let a = &django.affected[0];
    assert_eq!((a.ecosystem.as_str(), a.package.as_str(), a.status), ("PyPI", "django", Status::Fixed));
    assert_eq!(a.fixed_version.as_deref(), Some("1.1"));
    assert_eq!(a.versions, ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]);

    // The only `last_affected` event of the data: no fix exists.
    let py = find(&pypi, "PYSEC-2022-42969");
    let a = &py.affected[0];
    assert_eq!((a.package.as_str(), a.status, a.fixed_version.as_ref()), ("py", Status::Affected, None));
    assert_eq!(a.ranges[0].last_affected.as_deref(), Some("1.11.0"));

    let go = parse_all("Go");
    let gin = find(&go, "GO-2020-0001");
    let a = &gin.affected[0];
    assert_eq!((a.package.as_str(), a.fixed_version.as_deref()), ("github.com/gin-gonic/gin", Some("1.6.0")));
    assert_eq!(a.ranges[0].kind, RangeKind::Semver);
    assert_eq!(
        gin.vulnerabilities[0].summary.as_deref(),
        Some("Arbitrary log line injection in github.com/gin-gonic/gin")
    );
    assert!(find(&go, "GO-2025-3543").vulnerabilities[0].withdrawn);

    let crates = parse_all("crates.io");
    let openssl = find(&crates, "RUSTSEC-2016-0001");
    let cvss = &openssl.vulnerabilities[0].cvss[0];
    assert_eq!((cvss.version.as_str(), cvss.base_score, cvss.source.as_str()), ("3.0", 8.1, "RUSTSEC"));
    assert_eq!(cvss.vector, "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H");
    assert_eq!(openssl.affected[0].ranges[0].introduced.as_deref(), Some("0.0.0-0"));
    let v4 = find(&crates, "RUSTSEC-2026-0067");
    assert_eq!(v4.vulnerabilities[0].cvss[0].version, "4.0");
}

#[test]
fn every_severity_vector_of_the_data_is_scored() {
    let mut vectors = 0;
    for ecosystem in ["PyPI", "Go", "crates.io"] {
        for (record, parsed) in parse_all(ecosystem) {
            let expected = record["severity"].as_array().map_or(0, Vec::len);
            assert_eq!(parsed.vulnerabilities[0].cvss.len(), expected, "{}", record["id"]);
            vectors += expected;
        }
    }
    assert_eq!(vectors, 58);
}

#[test]
fn an_all_zip_reads_like_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("osv/crates.io");
    std::fs::create_dir_all(&dir).unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(dir.join("all.zip")).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let sources = files("crates.io");
    for path in &sources {
        zip.start_file(path.file_name().unwrap().to_string_lossy(), options).unwrap();
        zip.write_all(&std::fs::read(path).unwrap()).unwrap();
    }
    zip.start_file("README.txt", options).unwrap();
    zip.write_all(b"not a record").unwrap();
    zip.start_file("broken.json", options).unwrap();
    zip.write_all(b"{\"id\": \"RUSTSEC-0000-0000\", \"affected\": [").unwrap();
    zip.finish().unwrap();

    let feeds = vulndb::feed::load_dir(tmp.path()).unwrap();
    assert_eq!(feeds.sources.len(), 1);
    assert_eq!(feeds.sources[0].name, "osv:crates.io");
    assert_eq!(feeds.sources[0].vulnerabilities, sources.len() as u64);
    assert_eq!(feeds.problems.len(), 1, "{:#?}", feeds.problems);
    assert!(feeds.problems[0].location.ends_with("all.zip!broken.json"));
    let from_dir: usize = parse_all("crates.io").iter().map(|(_, p)| p.affected.len()).sum();
    assert_eq!(feeds.affected.len(), from_dir);
}
