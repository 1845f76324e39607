//! End to end: the same image read from every source gives the same inventory.

use crate::common;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;

/// (type, name, version, purl) of each package in a `--format json` report.
fn packages_json(reference: &str) -> BTreeSet<(String, String, String, String)> {
    let out = cguard(&["scan", reference, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json report");
    report["inventory"]["packages"]
        .as_array()
        .expect("packages array")
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
            (s("type"), s("name"), s("version"), s("purl"))
        })
        .collect()
}

#[test]
fn docker_archive_oci_and_docker_engine_agree() {
    let archive = image("extra.tar");
    let from_archive = packages_json(&format!("docker-archive:{}", archive.display()));
    assert!(from_archive.len() > 100, "extra image has {} packages", from_archive.len());
    let from_oci = packages_json(&format!("oci:{}", images().join("extra-oci").display()));
    assert_eq!(from_archive, from_oci, "oci layout differs from docker-archive");
    let from_docker = packages_json("docker:cguard-test/extra:bookworm");
    assert_eq!(from_archive, from_docker, "docker engine differs from docker-archive");
}

#[test]
fn dir_source_agrees_with_archive() {
    let from_archive = packages_json(&format!("docker-archive:{}", image("minbase.tar").display()));
    let from_dir = packages_json(&format!("dir:{}", images().join("minbase-root").display()));
    assert_eq!(from_archive, from_dir);
}

/// Debian's docker-registry on a free loopback port, storing into a temporary directory.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    // The child is reaped by `Drop`, which the lint cannot see.
    #[allow(clippy::zombie_processes)]
    fn start() -> Registry {
        let bin = Path::new("/usr/bin/docker-registry");
        assert!(bin.exists(), "docker-registry is missing: apt-get install docker-registry (make test does)");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child =
            Command::new(bin).arg("serve").arg(&config).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Registry { child, port, _dir: dir };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("docker-registry did not start on port {port}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn registry_agrees_with_archive() {
    let archive = image("extra.tar");
    let registry = Registry::start();
    let dest = format!("127.0.0.1:{}/cguard/extra:bookworm", registry.port);
    let status = Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("docker://{dest}"))
        .status()
        .expect("skopeo is needed to push the test image (apt-get install skopeo)");
    assert!(status.success(), "pushing the test image failed");
    let from_archive = packages_json(&format!("docker-archive:{}", archive.display()));
    assert_eq!(from_archive, packages_json(&format!("registry:{dest}")));
    // A bare reference means the same registry image.
    assert_eq!(from_archive, packages_json(&dest));
}
