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

/// A blob made of separately compressed pieces, each repeated: gzip members (and zstd
/// frames) may follow one another, so the blob expands to `Σ piece × times` bytes while
/// each piece is compressed once.
fn repeated(comp: Comp, pieces: &[(&[u8], usize)]) -> Vec<u8> {
    let mut blob = Vec::new();
    for (piece, times) in pieces {
        let one = compress(piece, comp);
        for _ in 0..*times {
            blob.extend_from_slice(&one);
        }
    }
    blob
}

/// One 512-byte header block, checksummed.
fn block(mut h: tar::Header) -> Vec<u8> {
    h.set_cksum();
    h.as_bytes().to_vec()
}

fn member_header(name: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(size);
    h
}

/// A GNU long name (`L`) or long link (`K`) header announcing `size` bytes.
fn gnu_extension(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    let name = b"././@LongLink";
    h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(size);
    h
}

/// Zero bytes that pad `len` bytes of member data to a whole block.
fn padding(len: u64) -> Vec<u8> {
    vec![0; ((512 - len % 512) % 512) as usize]
}

const MIB: usize = 1 << 20;

/// The uncompressed pieces of a layer whose one member is described by an extension
/// header of `mib` MiB of `a`s: a PAX header (one huge xattr), a GNU long name or a GNU
/// long link. Returns (prefix, the 1 MiB chunk repeated `mib` times, suffix).
fn header_bomb(case: &str, mib: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let value_len = (mib * MIB) as u64;
    let (prefix, mut suffix, payload_len, member) = match case {
        "pax" => {
            // One record, `LEN SCHILY.xattr.user.bomb=VALUE\n`, LEN counting its own digits.
            let key = "SCHILY.xattr.user.bomb";
            let rest = key.len() as u64 + 3 + value_len;
            let mut digits = 1;
            while (rest + digits).to_string().len() as u64 > digits {
                digits += 1;
            }
            let record_len = rest + digits;
            let mut prefix = block(member_header("PaxHeaders/victim", tar::EntryType::XHeader, record_len));
            prefix.extend_from_slice(format!("{record_len} {key}=").as_bytes());
            (prefix, b"\n".to_vec(), record_len, member_header("victim", tar::EntryType::Regular, 0))
        }
        "long-name" => (
            block(gnu_extension(tar::EntryType::GNULongName, value_len + 1)),
            b"\0".to_vec(),
            value_len + 1,
            member_header("victim", tar::EntryType::Regular, 0),
        ),
        "long-link" => {
            let mut link = member_header("victim", tar::EntryType::Symlink, 0);
            link.set_link_name("short").unwrap();
            (block(gnu_extension(tar::EntryType::GNULongLink, value_len + 1)), b"\0".to_vec(), value_len + 1, link)
        }
        other => panic!("unknown case {other}"),
    };
    suffix.extend(padding(payload_len));
    suffix.extend(block(member));
    suffix.extend([0; 1024]);
    (prefix, vec![b'a'; MIB], suffix)
}

/// Set in a child process that runs one extension-header bomb alone, so that the peak
/// memory it measures is the scan's own and not that of tests running beside it.
const BOMB_CASE: &str = "CGUARD_TEST_HEADER_BOMB";

/// Peak resident memory of this process, in bytes (`VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Scans a gzip layer of a few hundred KiB whose PAX header, GNU long name or long link
/// expands to 384 MiB, and checks (in the child) that it is refused, early, without the
/// memory the header would take.
fn header_bomb_case(case: &str) {
    let (prefix, chunk, suffix) = header_bomb(case, 384);
    let blob = repeated(Comp::Gzip, &[(&prefix, 1), (&chunk, 384), (&suffix, 1)]);
    assert!(blob.len() < 1 << 20, "bomb blob is {} bytes", blob.len());
    let before = peak_rss();
    let mut rest = blob.as_slice();
    let result =
        apply_layer(&mut FileTree::new(), 2, &mut rest, &Expected::default(), &Limits::default(), &mut NoContent);
    let growth = peak_rss().saturating_sub(before);
    let consumed = blob.len() - rest.len();
    assert!(growth < 64 << 20, "{case}: peak memory grew by {} MiB", growth >> 20);
    assert!(consumed * 2 < blob.len(), "{case}: read {consumed} of the blob's {} bytes", blob.len());
    let Err(err) = result else { panic!("{case}: the bomb was accepted") };
    assert!(matches!(err, Error::HeadersTooLarge { layer: 2, limit: 1_048_576 }), "{case}: {err:?}");
    assert_eq!(
        err.to_string(),
        "layer 2 has a member whose headers (PAX extended header, GNU long name or long link) exceed 1048576 bytes",
        "{case}"
    );
    println!("header bomb {case}: refused, peak memory +{} KiB", growth >> 10);
}

#[test]
fn extension_header_bombs_are_refused_early_with_bounded_memory() {
    if let Ok(case) = std::env::var(BOMB_CASE) {
        header_bomb_case(&case);
        return;
    }
    let me = module_path!().split_once("::").map_or(module_path!(), |(_, m)| m);
    let test = format!("{me}::extension_header_bombs_are_refused_early_with_bounded_memory");
    let mut failed = Vec::new();
    for case in ["pax", "long-name", "long-link"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(BOMB_CASE, case)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The child ran the case (not zero tests) and the case held.
        if !out.status.success() || !stdout.contains(&format!("header bomb {case}: refused")) {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let why = stderr.lines().find(|l| l.contains(case)).unwrap_or(&stderr).to_owned();
            failed.push(why);
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// The same bomb, uncompressed in a docker archive: read with seeks, it is refused too.
#[test]
fn long_name_bomb_in_a_local_uncompressed_layer_is_refused() {
    let (prefix, chunk, suffix) = header_bomb("long-name", 8);
    let mut layer = prefix;
    for _ in 0..8 {
        layer.extend_from_slice(&chunk);
    }
    layer.extend(suffix);
    let ok = Layer::new().file("ok", b"fine").tar();
    let (result, rec) = read_layers(&[ok, layer], &Limits::default());
    let Err(err) = result else { panic!("the long name was accepted") };
    assert!(matches!(err, Error::HeadersTooLarge { layer: 1, limit: 1_048_576 }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "layer 1 has a member whose headers (PAX extended header, GNU long name or long link) exceed 1048576 bytes"
    );
    assert_eq!(rec.seen.len(), 1);
}

#[test]
fn large_but_legitimate_member_headers_are_read_and_the_limit_is_a_setting() {
    // A PAX header with a 200 KiB extended attribute and a 5000-byte path, a GNU long
    // name and a GNU long link: all well under the default limit.
    let deep = format!("{}/file", "d".repeat(4995));
    let long = format!("opt/{}", "n".repeat(3000));
    let target = format!("/{}", "t".repeat(2000));
    let xattr = vec![b'x'; 200 << 10];
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_pax_extensions([("SCHILY.xattr.user.big", xattr.as_slice()), ("path", deep.as_bytes())]).unwrap();
    let mut h = member_header("placeholder", tar::EntryType::Regular, 4);
    builder.append_data(&mut h, "placeholder", &b"deep"[..]).unwrap();
    // GNU headers: the builder writes names and targets past 100 bytes as `L` and `K`.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(4);
    h.set_mode(0o644);
    builder.append_data(&mut h, &long, &b"long"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    builder.append_link(&mut h, "link", &target).unwrap();
    let tar = builder.into_inner().unwrap();
    let blob = compress(&tar, Comp::Gzip);

    let mut rec = Recorder::default();
    let mut tree = FileTree::new();
    apply_layer(&mut tree, 0, &mut blob.as_slice(), &Expected::default(), &Limits::default(), &mut rec).unwrap();
    assert_eq!(rec.copies_of(&format!("/{deep}"))[0].content, b"deep");
    assert_eq!(rec.copies_of(&format!("/{long}"))[0].content, b"long");
    assert_eq!(tree.get("/link").unwrap().link.as_deref(), Some(target.as_str()));
    assert!(tree.get("/placeholder").is_none());

    // The same layer under a 64 KiB limit: the PAX header is refused, and nothing after it
    // is read.
    let limits = Limits { max_member_header_bytes: 64 << 10, ..Limits::default() };
    let mut rec = Recorder::default();
    let err = apply_layer(&mut FileTree::new(), 5, &mut blob.as_slice(), &Expected::default(), &limits, &mut rec)
        .unwrap_err();
    assert!(matches!(err, Error::HeadersTooLarge { layer: 5, limit: 65536 }), "{err:?}");
    assert!(rec.asked.is_empty());
}

#[test]
fn truncated_stream_is_an_error_where_a_skip_runs_out() {
    // An uncompressed layer read as a stream (not a local file), cut inside content that
    // nobody reads: the forward seek over it meets the end.
    let full = Layer::new().file("a", &[b'a'; 100_000]).file("b", b"b").tar();
    let cut = &full[..512 + 50_000];
    let err =
        apply_layer(&mut FileTree::new(), 0, &mut &cut[..], &Expected::default(), &Limits::default(), &mut NoContent)
            .unwrap_err();
    match &err {
        Error::Io { context, source } => {
            assert_eq!(context, "reading layer 0");
            assert!(source.to_string().contains("unexpected EOF"), "{source}");
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn long_name_bomb_in_the_outer_archive_is_refused_when_opened() {
    // A docker archive whose member list holds an 8 MiB GNU long name: indexing the
    // archive must not read it into memory.
    let mut built = docker_save(&[Layer::new().file("a", b"x").tar()], "t:1", Save::Legacy);
    built.members.put(&"n".repeat(8 << 20), b"junk".to_vec());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("image.tar");
    built.members.write_tar(&path);
    let Err(err) = open(format!("docker-archive:{}", path.display())) else { panic!("the archive was opened") };
    assert_eq!(
        err.to_string(),
        format!(
            "malformed image: {} has a member whose headers (PAX extended header, GNU long name or long link) \
             exceed 1048576 bytes",
            path.display()
        )
    );
}

/// Records the regular files it is offered; reads their content only if `read` is set.
#[derive(Default)]
struct Offered {
    read: bool,
    paths: Vec<String>,
}

impl image::LayerVisitor for Offered {
    fn wants(&mut self, path: &str, _: &image::FileEntry) -> bool {
        self.paths.push(path.to_owned());
        self.read
    }
    fn visit(&mut self, _: &str, _: &image::FileEntry, content: &mut dyn io::Read) -> io::Result<()> {
        io::copy(content, &mut io::sink()).map(|_| ())
    }
}

#[test]
fn content_bombs_are_refused_during_the_walk() {
    // 1 GiB of zeros in one member, then a member that must never be reached.
    let size = 1u64 << 30;
    let head = block(member_header("zeros", tar::EntryType::Regular, size));
    let mut tail = block(member_header("after", tar::EntryType::Regular, 5));
    tail.extend_from_slice(b"after");
    tail.extend(padding(5));
    tail.extend([0; 1024]);
    let zeros = vec![0u8; MIB];
    for comp in [Comp::Gzip, Comp::Zstd] {
        let blob = repeated(comp, &[(&head, 1), (&zeros, 1024), (&tail, 1)]);
        assert!(blob.len() < 2 << 20, "{comp:?} bomb blob is {} bytes", blob.len());
        for read in [false, true] {
            let mut visitor = Offered { read, ..Offered::default() };
            let err = apply_layer(
                &mut FileTree::new(),
                4,
                &mut blob.as_slice(),
                &Expected::default(),
                &Limits::default(),
                &mut visitor,
            )
            .unwrap_err();
            match &err {
                Error::Bomb { layer, limit } => assert_eq!((*layer, *limit), (4, Limits::default().max_layer_bytes)),
                other => panic!("{comp:?}: expected Bomb, got {other:?}"),
            }
            // Refused while the bomb streamed past, not after the walk.
            assert_eq!(visitor.paths, ["/zeros"], "{comp:?}, content read: {read}");
        }
    }
}
