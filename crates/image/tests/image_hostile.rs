//! Hostile images: every case is refused with a clear error (or, for symlinks and devices,
//! contained), and nothing is ever written outside a private temporary area.

use crate::common;

use std::io::{self, Write};
use std::path::Path;

use common::{Comp, Layer, Oci, Recorder, Save, compress, docker_save, gzip_with_mtime, listing, sha256};
use image::source::OpenOptions;
use image::{Error, Expected, FileKind, FileTree, Image, Limits, NoContent, apply_layer};

fn open(reference: String) -> Result<Image, Error> {
    Image::open(&reference, &OpenOptions::default())
}

/// A one-image docker archive of these layers, in `dir`.
fn archive_of(dir: &Path, layers: &[Vec<u8>]) -> String {
    let path = dir.join("image.tar");
    docker_save(layers, "hostile:1", Save::Legacy).members.write_tar(&path);
    format!("docker-archive:{}", path.display())
}

/// Reads `layers` as an image from a private directory and checks that the directory
/// holds nothing new afterwards (no member was ever extracted).
fn read_layers(layers: &[Vec<u8>], limits: &Limits) -> (Result<image::ReadOutcome, Error>, Recorder) {
    let tmp = tempfile::tempdir().unwrap();
    let reference = archive_of(tmp.path(), layers);
    let before = listing(tmp.path());
    let img = open(reference).unwrap();
    let mut rec = Recorder::default();
    let result = img.read(limits, &mut rec);
    assert_eq!(listing(tmp.path()), before, "reading wrote files");
    (result, rec)
}

#[test]
fn dotdot_member_is_refused_and_nothing_escapes() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = format!("cguard-escape-{}", std::process::id());
    let name = format!("../../../../../../../../tmp/{marker}");
    let layer = Layer::new().file("ok", b"fine").raw_file(name.as_bytes(), b"escaped").tar();
    let reference = archive_of(tmp.path(), &[layer]);
    let err = open(reference).unwrap().read(&Limits::default(), &mut NoContent).unwrap_err();
    match &err {
        Error::HostileEntry { name: got, reason } => {
            assert_eq!(got, &name);
            assert_eq!(*reason, "`..` in member name");
        }
        other => panic!("expected HostileEntry, got {other:?}"),
    }
    assert!(err.to_string().starts_with("refusing hostile layer member"), "{err}");
    assert!(!Path::new("/tmp").join(&marker).exists());
    assert!(!tmp.path().parent().unwrap().join(&marker).exists());
}

#[test]
fn absolute_member_is_refused() {
    let target = format!("/tmp/cguard-absolute-{}", std::process::id());
    let layer = Layer::new().raw_file(target.as_bytes(), b"absolute").tar();
    let (result, rec) = read_layers(&[layer], &Limits::default());
    match result.unwrap_err() {
        Error::HostileEntry { name, reason } => {
            assert_eq!(name, target);
            assert_eq!(reason, "absolute member name");
        }
        other => panic!("expected HostileEntry, got {other:?}"),
    }
    assert!(rec.seen.is_empty());
    assert!(!Path::new(&target).exists());
}

#[test]
fn escaping_symlinks_resolve_inside_the_root_and_never_read_the_host() {
    let host = tempfile::tempdir().unwrap();
    let secret = host.path().join("secret");
    std::fs::write(&secret, b"HOST SECRET").unwrap();
    let secret_path = secret.display().to_string();
    let missing_path = host.path().join("missing").display().to_string();
    let layer = Layer::new()
        .symlink("etc/passwd", &format!("../../../../../../../..{secret_path}"))
        .symlink("abs", &secret_path)
        .symlink("gone", &missing_path)
        .symlink("dir", "../../../../")
        .file("bin/sh", b"image shell")
        // The image's own file at the host path: links that climb out land on it.
        .file(secret_path.trim_start_matches('/'), b"image file")
        .tar();
    let (result, rec) = read_layers(&[layer], &Limits::default());
    let tree = result.unwrap().tree;
    // Resolution is clamped to the image root.
    assert_eq!(tree.resolve("/etc/passwd").as_deref(), Some(secret_path.as_str()));
    assert_eq!(tree.resolve("/abs").as_deref(), Some(secret_path.as_str()));
    let (_, found) = tree.lookup("/etc/passwd").unwrap();
    assert_eq!((found.kind, found.size), (FileKind::Regular, 10));
    // A link to a host path the image lacks names nothing.
    assert_eq!(tree.resolve("/gone"), None);
    assert_eq!(tree.resolve("/dir/bin/sh").as_deref(), Some("/bin/sh"));
    assert_eq!(tree.get("/abs").unwrap().kind, FileKind::Symlink);
    // Only the image's own files were offered; the host file's content never appears.
    let mut offered: Vec<(&str, &[u8])> = rec.seen.iter().map(|s| (s.path.as_str(), s.content.as_slice())).collect();
    offered.sort();
    assert_eq!(offered, [("/bin/sh", &b"image shell"[..]), (secret_path.as_str(), &b"image file"[..])]);
}

#[test]
fn devices_are_recorded_but_never_offered() {
    let layer = Layer::new()
        .special("dev/null", tar::EntryType::Char)
        .special("dev/sda", tar::EntryType::Block)
        .special("run/fifo", tar::EntryType::Fifo)
        .file("etc/hostname", b"box")
        .tar();
    let (result, rec) = read_layers(&[layer], &Limits::default());
    let tree = result.unwrap().tree;
    assert_eq!(tree.get("/dev/null").unwrap().kind, FileKind::CharDevice);
    assert_eq!(tree.get("/dev/sda").unwrap().kind, FileKind::BlockDevice);
    assert_eq!(tree.get("/run/fifo").unwrap().kind, FileKind::Fifo);
    assert_eq!(rec.asked, vec![("/etc/hostname".to_owned(), FileKind::Regular)]);
}

/// A gzip layer holding one file of `size` zero bytes, compressed as it is generated.
fn zero_bomb(size: u64) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(size);
    h.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut h, "zeros", io::Read::take(io::repeat(0), size)).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn gzip_bomb_is_refused_with_default_limits() {
    let size = 320 << 20;
    let blob = zero_bomb(size);
    assert!(blob.len() < 1 << 20, "bomb blob is {} bytes", blob.len());
    let mut tree = FileTree::new();
    let err = apply_layer(&mut tree, 3, &mut blob.as_slice(), &Expected::default(), &Limits::default(), &mut NoContent)
        .unwrap_err();
    match &err {
        Error::Bomb { layer, limit } => assert_eq!((*layer, *limit), (3, Limits::default().max_layer_bytes)),
        other => panic!("expected Bomb, got {other:?}"),
    }
    assert!(err.to_string().contains("layer 3 looks like a decompression bomb"), "{err}");
}

#[test]
fn layer_larger_than_max_layer_bytes_is_a_bomb() {
    let layer = Layer::new().file("big", &vec![7u8; 1 << 20]).tar();
    let limits = Limits { max_layer_bytes: 64 * 1024, ..Limits::default() };
    let (result, rec) = read_layers(&[layer], &limits);
    match result.unwrap_err() {
        Error::Bomb { layer, limit } => assert_eq!((layer, limit), (0, 64 * 1024)),
        other => panic!("expected Bomb, got {other:?}"),
    }
    assert!(rec.seen.is_empty());
}

fn many_files(count: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::with_capacity(count * 512 + (1 << 20)));
    for i in 0..count {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(0);
        h.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut h, format!("d{:03}/f{i:06}", i % 100), &[][..]).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn a_hundred_thousand_files_are_accepted_and_an_entry_limit_is_enforced() {
    let tar = many_files(100_000);
    let blob = compress(&tar, Comp::Gzip);
    let diff_id = sha256(&tar);
    let expected = Expected { blob: None, diff_id: Some(&diff_id) };
    let mut tree = FileTree::new();
    let stats = apply_layer(&mut tree, 0, &mut blob.as_slice(), &expected, &Limits::default(), &mut NoContent).unwrap();
    assert_eq!(stats.entries, 100_000);
    assert_eq!(tree.len(), 100_000);
    assert!(tree.get("/d042/f099942").is_some());
    assert_eq!(tree.walk_under("/d007").count(), 1000);

    let limits = Limits { max_entries_per_layer: 50_000, ..Limits::default() };
    let err =
        apply_layer(&mut FileTree::new(), 1, &mut blob.as_slice(), &expected, &limits, &mut NoContent).unwrap_err();
    assert!(matches!(err, Error::TooManyEntries { layer: 1, limit: 50_000 }), "{err:?}");
    assert_eq!(err.to_string(), "layer 1 has more than 50000 entries");
}

#[test]
fn truncated_layer_in_a_docker_archive_is_an_error() {
    let full = Layer::new().file("a", &[b'a'; 4096]).file("b", &[b'b'; 4096]).tar();
    let diff_id = sha256(&full);
    // Cut in the middle of the second file's data.
    let cut = full[..512 + 4096 + 512 + 1000].to_vec();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("image.tar");
    let mut built = docker_save(std::slice::from_ref(&full), "t:1", Save::Legacy);
    built.members.put(&built.layer_members[0].clone(), cut);
    built.members.write_tar(&path);
    let img = open(format!("docker-archive:{}", path.display())).unwrap();
    assert_eq!(img.layers[0].diff_id.as_deref(), Some(diff_id.as_str()));
    let err = img.read(&Limits::default(), &mut NoContent).unwrap_err();
    match &err {
        Error::Io { context, source } => {
            assert_eq!(context, "reading layer 0");
            assert!(source.to_string().contains("unexpected EOF"), "{source}");
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn truncated_archive_file_is_refused_when_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = Layer::new().file("a", &[b'a'; 100_000]).tar();
    let mut bytes = docker_save(&[layer], "t:1", Save::Legacy).members.tar();
    // The layer is the second member: cut inside its data.
    bytes.truncate(512 * 4 + 50_000);
    let path = tmp.path().join("cut.tar");
    std::fs::write(&path, &bytes).unwrap();
    let err = open(format!("docker-archive:{}", path.display())).unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    assert!(err.to_string().contains("is truncated") && err.to_string().contains("runs past the end"), "{err}");
}

#[test]
fn truncated_oci_blob_is_refused_when_opened() {
    let tar = Layer::new().file("a", &[b'a'; 10_000]).tar();
    let mut oci = Oci::default();
    let img = oci.image(&[(tar, Comp::Gzip)], "amd64");
    oci.index.push(img.manifest.clone());
    let layer = oci.blobs[common::hex_of(&img.layer_digests[0])].clone();
    oci.tamper(&img.layer_digests[0], layer[..layer.len() / 2].to_vec());
    let tmp = tempfile::tempdir().unwrap();
    oci.members().write_dir(tmp.path());
    let err = open(format!("oci:{}", tmp.path().display())).unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("layer 0 blob {}", img.layer_digests[0])) && text.contains("truncated"), "{text}");
}

#[test]
fn wrong_diff_id_is_a_digest_mismatch() {
    let real = Layer::new().file("a", b"real").tar();
    let claimed = Layer::new().file("a", b"fake").tar();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("image.tar");
    let mut built = docker_save(std::slice::from_ref(&claimed), "t:1", Save::Legacy);
    built.members.put(&built.layer_members[0].clone(), real.clone());
    built.members.write_tar(&path);
    let err = open(format!("docker-archive:{}", path.display()))
        .unwrap()
        .read(&Limits::default(), &mut NoContent)
        .unwrap_err();
    match err {
        Error::DigestMismatch { what, expected, actual } => {
            assert_eq!(what, "layer 0 diff_id");
            assert_eq!(expected, sha256(&claimed));
            assert_eq!(actual, sha256(&real));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[test]
fn wrong_blob_digest_is_a_digest_mismatch() {
    // Same tar, same compressed size, different gzip header: the diff id holds, the blob
    // digest does not.
    let tar = Layer::new().file("a", b"content").tar();
    let mut oci = Oci::default();
    let img = oci.image(&[(tar.clone(), Comp::Gzip)], "amd64");
    oci.index.push(img.manifest.clone());
    let other = gzip_with_mtime(&tar, 12345);
    assert_eq!(other.len(), compress(&tar, Comp::Gzip).len());
    oci.tamper(&img.layer_digests[0], other.clone());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("oci.tar");
    oci.members().write_tar(&path);
    let err = open(format!("oci:{}", path.display())).unwrap().read(&Limits::default(), &mut NoContent).unwrap_err();
    match err {
        Error::DigestMismatch { what, expected, actual } => {
            assert_eq!(what, "layer 0 blob");
            assert_eq!(expected, img.layer_digests[0]);
            assert_eq!(actual, sha256(&other));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[test]
fn wrong_config_digest_is_refused_in_both_formats() {
    let tar = Layer::new().file("a", b"x").tar();
    // OCI: the config blob no longer matches its descriptor.
    let mut oci = Oci::default();
    let img = oci.image(&[(tar.clone(), Comp::None)], "amd64");
    oci.index.push(img.manifest.clone());
    let mut config = oci.blobs[common::hex_of(&img.config_digest)].clone();
    let at = config.iter().position(|b| *b == b'1').unwrap();
    config[at] = b'2';
    oci.tamper(&img.config_digest, config.clone());
    let tmp = tempfile::tempdir().unwrap();
    oci.members().write_dir(tmp.path());
    match open(format!("oci:{}", tmp.path().display())).unwrap_err() {
        Error::DigestMismatch { what, expected, actual } => {
            assert_eq!(what, "OCI config");
            assert_eq!(expected, img.config_digest);
            assert_eq!(actual, sha256(&config));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }

    // Docker archive: `<hex>.json` whose content is not that digest.
    let mut built = docker_save(&[tar], "t:1", Save::Legacy);
    let mut config = built.members.get(&built.config_member).to_vec();
    config.push(b' ');
    built.members.put(&built.config_member.clone(), config.clone());
    let path = tmp.path().join("image.tar");
    built.members.write_tar(&path);
    match open(format!("docker-archive:{}", path.display())).unwrap_err() {
        Error::DigestMismatch { what, expected, actual } => {
            assert_eq!(what, format!("image config {}", built.config_member));
            assert_eq!(expected, built.config_digest);
            assert_eq!(actual, sha256(&config));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[test]
fn wrong_oci_manifest_digest_is_refused() {
    let tar = Layer::new().file("a", b"x").tar();
    let mut oci = Oci::default();
    let img = oci.image(&[(tar, Comp::None)], "amd64");
    oci.index.push(img.manifest.clone());
    let mut manifest = oci.blobs[common::hex_of(&img.manifest_digest)].clone();
    // Same length, different bytes: `"schemaVersion":2` becomes `"schemaVersion":3`.
    let at = manifest.windows(17).position(|w| w == b"\"schemaVersion\":2").unwrap() + 16;
    manifest[at] = b'3';
    oci.tamper(&img.manifest_digest, manifest.clone());
    let tmp = tempfile::tempdir().unwrap();
    oci.members().write_dir(tmp.path());
    let err = open(format!("oci:{}", tmp.path().display())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("digest mismatch for OCI manifest: expected {}, got {}", img.manifest_digest, sha256(&manifest))
    );
    assert!(matches!(err, Error::DigestMismatch { .. }));
}

#[test]
fn oversized_documents_are_refused_before_reading() {
    let mut oci = Oci::default();
    let img = oci.image(&[(Layer::new().file("a", b"x").tar(), Comp::None)], "amd64");
    let mut desc = img.manifest.clone();
    desc["size"] = serde_json::json!(17u64 << 20);
    oci.index.push(desc);
    let tmp = tempfile::tempdir().unwrap();
    oci.members().write_dir(tmp.path());
    let err = open(format!("oci:{}", tmp.path().display())).unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    assert!(err.to_string().contains("more than the 16777216-byte limit"), "{err}");

    // A docker archive whose manifest.json is larger than the limit.
    let mut built = docker_save(&[Layer::new().tar()], "t:1", Save::Legacy);
    let mut big = Vec::new();
    big.write_all(b"[").unwrap();
    big.resize((16 << 20) + 10, b' ');
    big.write_all(b"]").unwrap();
    built.members.put("manifest.json", big);
    let path = tmp.path().join("big.tar");
    built.members.write_tar(&path);
    let err = open(format!("docker-archive:{}", path.display())).unwrap_err();
    assert!(err.to_string().contains("manifest.json is 16777227 bytes, more than the"), "{err}");
}
