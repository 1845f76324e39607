//! End to end: the SBOMs of a real image are valid against the official schemas, and the
//! interface scripts rely on holds (CycloneDX `components` are the packages, with purls).

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

fn validate(kind: &str, file: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scan/tests/validate_sbom.py");
    let out = Command::new("python3").arg(script).arg(kind).arg(file).output().expect("python3");
    assert!(
        out.status.success(),
        "{kind} output is not schema-valid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sboms_of_the_lang_image_are_schema_valid() {
    let archive = image("lang.tar");
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("docker-archive:{}", archive.display());
    for (format, kind) in [("cyclonedx", "cyclonedx"), ("spdx", "spdx")] {
        let out = dir.path().join(format!("{format}.json"));
        cguard(&["scan", &reference, "--format", format, "--output", out.to_str().unwrap()]);
        validate(kind, &out);
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("cyclonedx.json")).unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&cguard(&["scan", &reference, "--format", "json"])).unwrap();
    let components = doc["components"].as_array().unwrap();
    let packages = json["inventory"]["packages"].as_array().unwrap();
    assert_eq!(components.len(), packages.len(), "one component per package");
    for (c, p) in components.iter().zip(packages) {
        assert_eq!(c["purl"], p["purl"]);
    }
}

#[test]
fn table_output_summarises_the_image() {
    let out = cguard(&["scan", &format!("docker-archive:{}", image("minbase.tar").display())]);
    assert!(out.contains("OS:        Debian GNU/Linux 12 (bookworm)"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("libc6 ")), "{out}");
}

#[test]
fn unknown_format_and_missing_image_are_clear_errors() {
    let bin = env!("CARGO_BIN_EXE_cguard");
    let out = Command::new(bin).args(["scan", "dir:/nonexistent-root", "--format", "xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown format \"xml\""));
    let out = Command::new(bin).args(["scan", "docker-archive:/nonexistent.tar"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent.tar"), "{err}");
}
