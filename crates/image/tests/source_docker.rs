//! The `docker:` source against the real local engine. The test starts nothing: dockerd
//! must be running (the test command starts it); without it these tests fail and say so.
//! Images are built from a tar the test writes (`docker import`) plus one `COPY` step, so
//! nothing is pulled.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Layer, Recorder};
use image::source::OpenOptions;
use image::{Error, FileKind, Image, Limits, SourceKind};

fn socket() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("unix://") => PathBuf::from(host.trim_start_matches("unix://")),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

fn require_engine() {
    let socket = socket();
    assert!(
        socket.exists(),
        "dockerd must be running for this test: the Docker engine socket {} is missing \
         (install the Debian package docker.io and start `dockerd`)",
        socket.display()
    );
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        // The classic builder: no BuildKit component needed, and nothing is pulled.
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run the docker client ({e}): install the Debian package docker.io"));
    assert!(out.status.success(), "docker {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Removes the test's images however the test ends.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for name in self.0.iter().rev() {
            let _ = Command::new("docker").args(["rmi", "-f", name]).output();
        }
    }
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("cguard-test-{}-{nanos}", std::process::id())
}

/// Builds a two-layer image: an imported base and a `COPY` on top.
fn build_image(dir: &Path, name: &str, images: &mut Images) {
    let base = Layer::new()
        .dir("etc")
        .file("etc/hello", b"hello from base\n")
        .file("etc/os-release", b"ID=cguardtest\nVERSION_ID=1\n")
        .file_mode("bin/tool", b"#!/bin/sh\n", 0o755)
        .symlink("bin/alias", "tool")
        .tar();
    let base_tar = dir.join("base.tar");
    std::fs::write(&base_tar, base).unwrap();
    let base_name = format!("{name}-base:1");
    docker(&["import", base_tar.to_str().unwrap(), &base_name]);
    images.0.push(base_name.clone());

    let ctx = dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("added.txt"), b"added by COPY\n").unwrap();
    std::fs::write(ctx.join("Dockerfile"), format!("FROM {base_name}\nCOPY added.txt /opt/added.txt\n")).unwrap();
    docker(&["build", "-q", "-t", &format!("{name}:1"), ctx.to_str().unwrap()]);
    images.0.push(format!("{name}:1"));
}

#[test]
fn image_from_the_engine_has_its_layers_files_and_names() {
    require_engine();
    let tmp = tempfile::tempdir().unwrap();
    let name = unique_name();
    let mut images = Images(Vec::new());
    build_image(tmp.path(), &name, &mut images);
    let tag = format!("{name}:1");
    let engine_id = docker(&["image", "inspect", "-f", "{{.Id}}", &tag]);

    let img = Image::open(&format!("docker:{tag}"), &OpenOptions::default()).unwrap();
    assert_eq!(img.source, SourceKind::Docker);
    assert_eq!(img.repo_tags, std::slice::from_ref(&tag));
    assert!(img.repo_digests.is_empty(), "a locally built image has no repo digest: {:?}", img.repo_digests);
    assert_eq!(img.id.as_deref(), Some(engine_id.as_str()));
    assert_eq!(img.layers.len(), 2);
    assert!(img.layers.iter().all(|l| l.diff_id.as_deref().is_some_and(|d| d.starts_with("sha256:"))));

    let mut rec = Recorder::default();
    let out = img.read(&Limits::default(), &mut rec).unwrap();
    let tree = &out.tree;
    assert_eq!(rec.copies_of("/etc/hello")[0].content, b"hello from base\n");
    let added = tree.get("/opt/added.txt").unwrap();
    assert_eq!((added.layer, added.size), (1, 14));
    assert_eq!(rec.copies_of("/opt/added.txt")[0].content, b"added by COPY\n");
    assert_eq!(tree.get("/bin/tool").unwrap().mode & 0o777, 0o755);
    assert_eq!(tree.get("/bin/alias").unwrap().kind, FileKind::Symlink);
    assert_eq!(tree.resolve("/bin/alias").as_deref(), Some("/bin/tool"));

    // The same image by id.
    let by_id = Image::open(&format!("docker:{engine_id}"), &OpenOptions::default()).unwrap();
    assert_eq!(by_id.id, img.id);
    assert_eq!(by_id.layers, img.layers);
    // And through an explicit socket option.
    let options = OpenOptions { docker_host: Some(format!("unix://{}", socket().display())), ..OpenOptions::default() };
    assert_eq!(Image::open(&format!("docker:{tag}"), &options).unwrap().id, img.id);
}

#[test]
fn missing_image_is_not_found() {
    require_engine();
    let name = format!("{}-absent:none", unique_name());
    let err = Image::open(&format!("docker:{name}"), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(err.to_string(), format!("not found: docker:{name}: the Docker engine has no image {name}"));
}

#[test]
fn unreachable_engine_says_dockerd_must_run() {
    let tmp = tempfile::tempdir().unwrap();
    let socket = tmp.path().join("nothing.sock");
    let options = OpenOptions { docker_host: Some(format!("unix://{}", socket.display())), ..OpenOptions::default() };
    let err = Image::open("docker:alpine", &options).unwrap_err();
    assert!(matches!(err, Error::Docker(_)), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!(
            "docker engine: cannot connect to the Docker engine at {}: is dockerd running?",
            socket.display()
        )),
        "{err}"
    );
}
