//! The `docker-archive:` source: both `docker save` layouts, compressed archives, links
//! between members, tag selection and the errors for malformed archives.

use crate::common;

use std::path::{Path, PathBuf};

use common::{Layer, Recorder, Save, docker_save, sha256};
use image::source::OpenOptions;
use image::{Error, Image, Limits, SourceKind};

fn layers() -> Vec<Vec<u8>> {
    vec![
        Layer::new().dir("etc").file("etc/os-release", b"ID=test\n").file("etc/keep", b"base").tar(),
        Layer::new().file("etc/keep", b"top").file("app/run", b"#!/bin/sh\n").tar(),
    ]
}

fn open(path: &Path) -> Result<Image, Error> {
    Image::open(&format!("docker-archive:{}", path.display()), &OpenOptions::default())
}

#[test]
fn legacy_layout_opens_with_id_tags_and_diff_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("save.tar");
    let built = docker_save(&layers(), "example/app:1.0", Save::Legacy);
    built.members.write_tar(&path);
    let img = open(&path).unwrap();
    assert_eq!(img.source, SourceKind::DockerArchive);
    assert_eq!(img.id.as_deref(), Some(built.config_digest.as_str()));
    assert_eq!(img.repo_tags, ["example/app:1.0"]);
    assert_eq!(img.manifest_digest, None);
    assert_eq!(img.config.config.as_ref().unwrap().user.as_deref(), Some("1000"));
    let diff_ids: Vec<_> = img.layers.iter().map(|l| l.diff_id.clone().unwrap()).collect();
    assert_eq!(diff_ids, built.diff_ids);
    assert!(img.layers.iter().all(|l| l.digest.is_none()), "legacy member names carry no digest");
    assert_eq!(img.layers[1].size, Some(layers()[1].len() as u64));

    let mut rec = Recorder::default();
    let out = img.read(&Limits::default(), &mut rec).unwrap();
    let keep: Vec<_> = rec.copies_of("/etc/keep").iter().map(|s| s.content.clone()).collect();
    assert_eq!(keep, [b"base".to_vec(), b"top".to_vec()]);
    assert_eq!(out.tree.get("/app/run").unwrap().layer, 1);
}

#[test]
fn blobs_layout_sets_layer_digests_and_also_opens_as_oci() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("save.tar");
    let built = docker_save(&layers(), "example/app:2.0", Save::Blobs);
    built.members.write_tar(&path);
    let img = open(&path).unwrap();
    let digests: Vec<_> = img.layers.iter().map(|l| l.digest.clone().unwrap()).collect();
    assert_eq!(digests, built.diff_ids, "uncompressed blobs: digest equals diff id");
    assert_eq!(img.id.as_deref(), Some(built.config_digest.as_str()));
    let out = img.read(&Limits::default(), &mut Recorder::default()).unwrap();
    assert_eq!(out.tree.get("/etc/keep").unwrap().layer, 1);

    // The same file is a valid OCI layout (Docker 25 and later write both).
    let oci = Image::open(&format!("oci:{}", path.display()), &OpenOptions::default()).unwrap();
    assert_eq!(oci.source, SourceKind::Oci);
    assert_eq!(oci.id, img.id);
    assert_eq!(oci.repo_tags, ["docker.io/library/example/app:2.0"]);
    let named = Image::open(&format!("oci:{}:2.0", path.display()), &OpenOptions::default()).unwrap();
    assert_eq!(named.id, img.id);
}

/// The directory the archive decompressed into, found by its size, if it still exists.
fn scratch_holding(len: u64) -> Vec<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("cguard-archive-"))
        .map(|e| e.path().join("archive.tar"))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() == len))
        .collect()
}

#[test]
fn compressed_archives_are_decompressed_into_a_private_scratch_directory() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // A distinctive size so that the scratch copy can be told from other tests' copies.
    let mut layer = layers();
    layer.push(Layer::new().file("pad", &vec![b'p'; 123_457]).tar());
    let built = docker_save(&layer, "example/app:gz", Save::Legacy);
    let plain = built.members.tar();

    let gz_path = tmp.path().join("save.tar.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).unwrap();
    std::fs::write(&gz_path, enc.finish().unwrap()).unwrap();
    let zst_path = tmp.path().join("save.tar.zst");
    std::fs::write(&zst_path, zstd::encode_all(plain.as_slice(), 3).unwrap()).unwrap();

    for path in [gz_path, zst_path] {
        let img = open(&path).unwrap();
        assert_eq!(img.id.as_deref(), Some(built.config_digest.as_str()), "{}", path.display());
        let out = img.read(&Limits::default(), &mut Recorder::default()).unwrap();
        assert_eq!(out.tree.get("/pad").unwrap().size, 123_457);
        let scratch = scratch_holding(plain.len() as u64);
        assert_eq!(scratch.len(), 1, "{scratch:?}");
        let mode = std::fs::metadata(scratch[0].parent().unwrap()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        drop(img);
        assert!(!scratch[0].exists(), "scratch directory outlived the image");
    }
}

#[test]
fn symlinked_layer_members_are_followed_inside_the_archive() {
    // Older `docker save` writes a layer shared by two images once and links the other.
    let tmp = tempfile::tempdir().unwrap();
    let built = docker_save(&layers(), "example/app:1", Save::Legacy);
    let target = built.layer_members[0].clone();
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in &built.members.0 {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        if *name == target {
            // Stored under another name; the manifest's name is a relative symlink to it.
            h.set_size(data.len() as u64);
            b.append_data(&mut h, "shared/layer.tar", data.as_slice()).unwrap();
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::Symlink);
            l.set_size(0);
            b.append_link(&mut l, name, "../shared/layer.tar").unwrap();
        } else {
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
    }
    let path = tmp.path().join("linked.tar");
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    let img = open(&path).unwrap();
    assert_eq!(img.layers[0].size, Some(layers()[0].len() as u64));
    let out = img.read(&Limits::default(), &mut Recorder::default()).unwrap();
    assert!(out.tree.get("/etc/os-release").is_some());
}

#[test]
fn tag_suffix_picks_one_image_of_several() {
    let tmp = tempfile::tempdir().unwrap();
    let one = docker_save(&[Layer::new().file("one", b"1").tar()], "multi:one", Save::Legacy);
    let two = docker_save(&[Layer::new().file("two", b"2").tar()], "multi:two", Save::Legacy);
    let mut members = one.members.clone();
    for (name, data) in &two.members.0 {
        if name != "manifest.json" {
            members.put(name, data.clone());
        }
    }
    let mut manifest: Vec<serde_json::Value> = serde_json::from_slice(one.members.get("manifest.json")).unwrap();
    manifest.extend(serde_json::from_slice::<Vec<serde_json::Value>>(two.members.get("manifest.json")).unwrap());
    members.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
    let path = tmp.path().join("multi.tar");
    members.write_tar(&path);

    let first = open(&path).unwrap();
    assert_eq!(first.id.as_deref(), Some(one.config_digest.as_str()));
    let chosen = Image::open(&format!("docker-archive:{}:multi:two", path.display()), &OpenOptions::default()).unwrap();
    assert_eq!(chosen.id.as_deref(), Some(two.config_digest.as_str()));
    assert_eq!(chosen.repo_tags, ["multi:two"]);
    let err =
        Image::open(&format!("docker-archive:{}:multi:three", path.display()), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("no image tagged multi:three"), "{err}");
}

#[test]
fn missing_layer_member_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut built = docker_save(&layers(), "t:1", Save::Legacy);
    built.members.remove(&built.layer_members[1].clone());
    let path = tmp.path().join("save.tar");
    built.members.write_tar(&path);
    let err = open(&path).unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "malformed image: docker-archive:{}: manifest.json lists layer {}, which the archive does not contain",
            path.display(),
            built.layer_members[1]
        )
    );
}

#[test]
fn diff_id_count_must_match_the_layer_list() {
    let tmp = tempfile::tempdir().unwrap();
    let mut built = docker_save(&layers(), "t:1", Save::Legacy);
    // A config naming only the first layer, stored under its own digest.
    let config = common::config_for(&built.diff_ids[..1], "amd64");
    let name = format!("{}.json", common::hex_of(&sha256(&config)));
    built.members.remove(&built.config_member.clone());
    built.members.put(&name, config);
    let manifest = serde_json::json!([{"Config": name, "RepoTags": ["t:1"], "Layers": built.layer_members}]);
    built.members.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
    let path = tmp.path().join("save.tar");
    built.members.write_tar(&path);
    let err = open(&path).unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    assert!(err.to_string().contains("manifest.json lists 2 layers but the config's rootfs.diff_ids names 1"), "{err}");
}

#[test]
fn malformed_archives_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // No manifest.json, but an OCI index: say which source to use.
    let mut built = docker_save(&layers(), "t:1", Save::Blobs);
    built.members.remove("manifest.json");
    let path = tmp.path().join("oci-only.tar");
    built.members.write_tar(&path);
    let err = open(&path).unwrap_err();
    assert!(err.to_string().contains("no manifest.json; it looks like an OCI layout: use oci:PATH"), "{err}");

    // manifest.json that is not JSON.
    let mut built = docker_save(&layers(), "t:1", Save::Legacy);
    built.members.put("manifest.json", b"{not json".to_vec());
    built.members.write_tar(&path);
    let err = open(&path).unwrap_err();
    assert!(matches!(err, Error::Format(_)) && err.to_string().contains("manifest.json:"), "{err:?}");

    // Not a tar at all.
    std::fs::write(&path, vec![0x42; 4000]).unwrap();
    let err = open(&path).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("reading the member list of {}:", path.display())), "{err}");

    // Missing file and directory.
    let err = open(&tmp.path().join("absent.tar")).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = open(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("is a directory"), "{err}");
}
