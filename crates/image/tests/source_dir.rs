//! The `dir:` source: an unpacked root filesystem read as one layer, without following
//! symlinks, opening special files or leaving the root.

use crate::common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::{Recorder, listing};
use image::source::OpenOptions;
use image::{Error, FileKind, Image, Limits, NoContent, SourceKind};

fn open(root: &Path) -> Result<Image, Error> {
    Image::open(&format!("dir:{}", root.display()), &OpenOptions::default())
}

/// A small root filesystem; returns the host directory whose secret must never be read.
fn populate(root: &Path, host: &Path) {
    fs::create_dir_all(root.join("etc/ssl")).unwrap();
    fs::create_dir_all(root.join("usr/lib")).unwrap();
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::write(root.join("usr/lib/os-release"), b"ID=dir\n").unwrap();
    std::os::unix::fs::symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
    fs::write(root.join("usr/bin/tool"), b"#!/bin/sh\necho tool\n").unwrap();
    fs::set_permissions(root.join("usr/bin/tool"), fs::Permissions::from_mode(0o4755)).unwrap();
    let t = fs::File::options().write(true).open(root.join("usr/bin/tool")).unwrap();
    t.set_modified(UNIX_EPOCH + Duration::from_secs(1_600_000_000)).unwrap();
    fs::write(root.join("a_first"), b"linked").unwrap();
    fs::hard_link(root.join("a_first"), root.join("z_second")).unwrap();
    fs::hard_link(root.join("a_first"), root.join("sub/third")).unwrap();
    fs::write(root.join("etc/ssl/cert.pem"), b"CERT").unwrap();

    fs::write(host.join("secret"), b"HOST SECRET").unwrap();
    fs::create_dir_all(host.join("hostdir")).unwrap();
    fs::write(host.join("hostdir/inner"), b"HOST INNER").unwrap();
    std::os::unix::fs::symlink(host.join("secret"), root.join("etc/shadow")).unwrap();
    std::os::unix::fs::symlink(host.join("hostdir"), root.join("linkdir")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../../..", root.join("up")).unwrap();

    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
}

#[test]
fn directory_is_read_as_one_layer_with_metadata_and_links() {
    let tmp = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    populate(&root, host.path());
    let before = listing(tmp.path());

    let img = open(&root).unwrap();
    assert_eq!(img.source, SourceKind::Dir);
    assert_eq!(img.layers.len(), 1);
    assert_eq!(img.config.os.as_deref(), Some("linux"));
    let expected_arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(img.config.architecture.as_deref(), Some(expected_arch));

    let mut rec = Recorder::default();
    let out = img.read(&Limits::default(), &mut rec).unwrap();
    let tree = &out.tree;

    let tool = tree.get("/usr/bin/tool").unwrap();
    let host_meta = fs::metadata(root.join("usr/bin/tool")).unwrap();
    assert_eq!(tool.kind, FileKind::Regular);
    assert_eq!(tool.mode, 0o4755);
    assert_eq!(tool.size, 20);
    assert_eq!(tool.mtime, 1_600_000_000);
    assert_eq!((tool.uid, tool.gid), (u64::from(host_meta.uid()), u64::from(host_meta.gid())));
    assert_eq!(tree.get("/etc").unwrap().kind, FileKind::Directory);

    // Symlinks are recorded with their targets and resolved inside the root.
    let link = tree.get("/etc/os-release").unwrap();
    assert_eq!((link.kind, link.link.as_deref()), (FileKind::Symlink, Some("../usr/lib/os-release")));
    assert_eq!(tree.resolve("/etc/os-release").as_deref(), Some("/usr/lib/os-release"));
    assert_eq!(tree.resolve("/up/usr/bin/tool").as_deref(), Some("/usr/bin/tool"));
    assert_eq!(tree.get("/linkdir").unwrap().kind, FileKind::Symlink);
    assert!(tree.get("/linkdir/inner").is_none(), "a symlinked directory was followed");
    assert!(tree.lookup("/etc/shadow").is_none());

    // Hard links: the first path in walk order is the file, the others link to it.
    assert_eq!(tree.get("/a_first").unwrap().kind, FileKind::Regular);
    for other in ["/z_second", "/sub/third"] {
        let e = tree.get(other).unwrap();
        assert_eq!((e.kind, e.link.as_deref(), e.size), (FileKind::Hardlink, Some("/a_first"), 6), "{other}");
    }

    // Special files: FIFOs recorded, sockets skipped, neither offered.
    assert_eq!(tree.get("/fifo").unwrap().kind, FileKind::Fifo);
    assert!(tree.get("/sock").is_none());
    let asked: Vec<&str> = rec.asked.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(asked, ["/a_first", "/etc/ssl/cert.pem", "/usr/bin/tool", "/usr/lib/os-release"]);
    assert!(rec.asked.iter().all(|(_, k)| *k == FileKind::Regular));
    assert!(rec.seen.iter().all(|s| !s.content.starts_with(b"HOST")));
    assert_eq!(rec.copies_of("/usr/lib/os-release")[0].content, b"ID=dir\n");
    assert!(rec.seen.iter().all(|s| tree.is_visible(&s.path, s.layer, s.ordinal)));

    assert_eq!(out.layers[0].entries as usize, tree.len() + 1, "the socket is counted but not recorded");
    assert_eq!(listing(tmp.path()), before, "reading changed the directory");
}

#[test]
fn walk_order_and_ordinals_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    populate(&root, host.path());
    let img = open(&root).unwrap();
    let mut first = Recorder::default();
    let a = img.read(&Limits::default(), &mut first).unwrap().tree;
    let mut second = Recorder::default();
    let b = img.read(&Limits::default(), &mut second).unwrap().tree;
    assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
    assert_eq!(first.seen, second.seen);
    let mut ordinals: Vec<u64> = a.iter().map(|(_, e)| e.ordinal).collect();
    ordinals.sort();
    ordinals.dedup();
    assert_eq!(ordinals.len(), a.len(), "ordinals must be unique");
}

#[test]
fn entry_limit_applies_to_directories() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..10 {
        fs::write(tmp.path().join(format!("f{i}")), b"x").unwrap();
    }
    let limits = Limits { max_entries_per_layer: 5, ..Limits::default() };
    let err = open(tmp.path()).unwrap().read(&limits, &mut NoContent).unwrap_err();
    assert!(matches!(err, Error::TooManyEntries { layer: 0, limit: 5 }), "{err:?}");
}

#[test]
fn missing_or_non_directory_roots_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let err = open(&tmp.path().join("absent")).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("no such directory"), "{err}");
    let file = tmp.path().join("file");
    fs::write(&file, b"x").unwrap();
    let err = open(&file).unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    assert!(err.to_string().contains("is not a directory"), "{err}");
}
