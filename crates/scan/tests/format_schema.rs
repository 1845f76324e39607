//! CycloneDX and SPDX output validated against the official JSON schemas (by Python's
//! `jsonschema`, installed by `make test`), over a report with awkward packages.

use std::path::Path;
use std::process::Command;

use detect::baseline::{CheckResult, Level, Location, Outcome};
use detect::secrets::{Origin, SecretFinding, Severity};
use inventory::{Inventory, OsInfo, Package, PackageType};
use scan::vulns::VulnReport;
use scan::{Format, ImageSummary, Report};
use vulndb::{Finding, Urgency};

fn package(name: &str, version: &str, kind: PackageType, purl: &str, licenses: &[&str]) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        purl: purl.into(),
        source_name: Some(format!("{name}-src")),
        source_version: None,
        arch: Some("amd64".into()),
        licenses: licenses.iter().map(|s| s.to_string()).collect(),
        layer: Some(0),
        location: "/var/lib/dpkg/status".into(),
        files: vec!["/usr/bin/x".into()],
    }
}

fn report() -> Report {
    let mut os = OsInfo::unknown();
    os.id = "debian".into();
    os.version_id = Some("12".into());
    os.pretty_name = Some("Debian GNU/Linux 12 (bookworm)".into());
    Report {
        schema_version: 1,
        image: ImageSummary {
            reference: "docker-archive:/tmp/x.tar".into(),
            source: "docker-archive".into(),
            id: Some("sha256:0123".into()),
            platform: "linux/amd64".into(),
            layers: vec!["sha256:aa".into()],
            size: 10,
            ..Default::default()
        },
        inventory: Inventory {
            os: Some(os),
            packages: vec![
                package("libc6", "2.36-9+deb12u4", PackageType::Deb, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4", &[]),
                // The same purl twice: element ids must still be unique.
                package("libc6", "2.36-9+deb12u4", PackageType::Deb, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4", &[]),
                package("requests", "2.31.0", PackageType::Python, "pkg:pypi/requests@2.31.0", &["Apache-2.0"]),
                package(
                    "weird",
                    "1:2.0~rc1",
                    PackageType::Npm,
                    "pkg:npm/weird@1:2.0~rc1",
                    &["GPL-2+ with \"odd\" text"],
                ),
                package("dual", "1.0", PackageType::Cargo, "pkg:cargo/dual@1.0", &["MIT OR Apache-2.0", "BSD"]),
            ],
            ..Default::default()
        },
        vulnerabilities: Some(VulnReport {
            findings: vec![
                finding("DSA-5514-1", "CVE-2023-4911", "libc6", Urgency::FixAsap, false),
                finding("GHSA-j8r2-6x86-q33q", "GHSA-j8r2-6x86-q33q", "requests", Urgency::CanDelay, true),
            ],
            ..Default::default()
        }),
        secrets: Some(vec![SecretFinding {
            rule_id: "aws-access-key-id".into(),
            title: "AWS access key id".into(),
            severity: Severity::High,
            origin: Origin::File,
            path: "/app/.env".into(),
            line: 3,
            masked: "AKIA****WXYZ".into(),
            layer: Some(0),
            removed: false,
        }]),
        malware: None,
        baseline: Some(vec![
            check(
                "CG-ACCOUNT-002",
                Level::High,
                Outcome::Failed,
                vec![Location { path: "/etc/passwd".into(), line: Some(2) }],
            ),
            check("CIS-DI-4.6", Level::Low, Outcome::Failed, vec![]),
            check("CIS-DI-4.1", Level::Medium, Outcome::Passed, vec![]),
        ]),
    }
}

fn check(id: &str, level: Level, result: Outcome, locations: Vec<Location>) -> CheckResult {
    CheckResult {
        id: id.into(),
        title: format!("check {id}"),
        level,
        method: "reads files".into(),
        result,
        problem: "a problem".into(),
        advice: "fix it".into(),
        locations,
    }
}

fn finding(id: &str, vulnerability: &str, package: &str, urgency: Urgency, ignored: bool) -> Finding {
    let purl = report_purl(package);
    Finding {
        id: id.into(),
        vulnerability: vulnerability.into(),
        cves: vec!["CVE-2023-4911".into()],
        advisories: if id.starts_with("DSA") { vec![id.into()] } else { vec![] },
        package: package.into(),
        package_type: PackageType::Deb,
        purl,
        installed_version: "1.0".into(),
        matched_name: package.into(),
        ecosystem: "debian:12".into(),
        fixed_version: Some("1.1".into()),
        status: vulndb::Status::Fixed,
        cvss_score: Some(7.8),
        cvss_vector: Some("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H".into()),
        severity: None,
        distro_urgency: Some("high".into()),
        published: Some("2023-10-03T18:15:00Z".into()),
        description: Some("A buffer overflow.".into()),
        solution: "Upgrade.".into(),
        layer: Some(0),
        layer_digest: Some("sha256:aa".into()),
        urgency,
        ignored,
        ignore_reason: ignored.then(|| "accepted".into()),
    }
}

fn report_purl(package: &str) -> String {
    match package {
        "libc6" => "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4".into(),
        _ => "pkg:pypi/requests@2.31.0".into(),
    }
}

fn validate(kind: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sbom.json");
    std::fs::write(&file, text).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_sbom.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(kind)
        .arg(&file)
        .output()
        .expect("python3 is needed to validate SBOMs (make test installs jsonschema)");
    assert!(
        out.status.success(),
        "{kind} document is not schema-valid:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cyclonedx_is_schema_valid_and_lists_packages_with_purls() {
    let text = scan::render(&report(), Format::CycloneDx, "2026-11-26T10:00:00Z");
    validate("cyclonedx", &text);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let comps = doc["components"].as_array().unwrap();
    assert_eq!(comps.len(), 5);
    assert!(comps.iter().all(|c| c["purl"].as_str().is_some_and(|p| p.starts_with("pkg:"))));
    let refs: std::collections::HashSet<_> = comps.iter().map(|c| c["bom-ref"].as_str().unwrap()).collect();
    assert_eq!(refs.len(), 5, "bom-refs must be unique");
    assert_eq!(doc["metadata"]["component"]["components"][0]["type"], "operating-system");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 2);
    assert_eq!(vulns[0]["id"], "CVE-2023-4911");
    assert_eq!(vulns[0]["affects"][0]["ref"], "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4");
    assert_eq!(vulns[0]["references"][0]["id"], "DSA-5514-1");
    assert_eq!(vulns[1]["references"][0]["id"], "CVE-2023-4911");
    assert_eq!(vulns[1]["analysis"]["response"][0], "will_not_fix");
}

#[test]
fn sarif_has_one_result_per_finding() {
    let text = scan::render(&report(), Format::Sarif, "2026-11-26T10:00:00Z");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    // Two vulnerabilities, one secret, two FAILED baseline checks (the passed one is not a result).
    assert_eq!(results.len(), 5);
    assert_eq!(results[2]["ruleId"], "aws-access-key-id");
    assert_eq!(results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "/app/.env");
    assert_eq!(results[2]["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
    assert!(!results[2].to_string().contains("AKIAIOSFODNN7"), "secrets are masked");
    assert_eq!(results[3]["ruleId"], "CG-ACCOUNT-002");
    assert_eq!(results[3]["properties"]["level"], "High");
    assert_eq!(results[3]["properties"]["result"], "failed");
    assert_eq!(results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "/etc/passwd");
    assert_eq!(results[4]["ruleId"], "CIS-DI-4.6");
    assert!(results[4].get("locations").is_none());
    assert_eq!(results[0]["ruleId"], "DSA-5514-1");
    assert_eq!(results[0]["level"], "error");
    let props = &results[0]["properties"];
    assert_eq!(props["urgency"], "fix-asap");
    assert_eq!(props["package"], "libc6");
    assert_eq!(props["installedVersion"], "1.0");
    assert_eq!(props["fixedVersion"], "1.1");
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "/var/lib/dpkg/status");
    assert!(results[0].get("suppressions").is_none());
    assert_eq!(results[1]["suppressions"][0]["justification"], "accepted");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules[results[1]["ruleIndex"].as_u64().unwrap() as usize]["id"], "GHSA-j8r2-6x86-q33q");
}

#[test]
fn spdx_is_schema_valid() {
    let text = scan::render(&report(), Format::Spdx, "2026-11-26T10:00:00Z");
    validate("spdx", &text);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The image plus five packages, each CONTAINed by the image.
    assert_eq!(doc["packages"].as_array().unwrap().len(), 6);
    let contains = doc["relationships"].as_array().unwrap().iter().filter(|r| r["relationshipType"] == "CONTAINS");
    assert_eq!(contains.count(), 5);
}

#[test]
fn a_broken_document_fails_validation() {
    // The validator itself must be able to fail: a CycloneDX document with a bad field.
    let text = scan::render(&report(), Format::CycloneDx, "2026-11-26T10:00:00Z");
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["components"][0]["type"] = serde_json::json!("not-a-type");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_sbom.py");
    let out = Command::new("python3").arg(&script).arg("cyclonedx").arg(&file).output().unwrap();
    assert!(!out.status.success(), "validator accepted an invalid document");
}
