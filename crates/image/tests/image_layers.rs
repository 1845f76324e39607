//! Layers applied in order: whiteouts, opaque directories, files replacing directories,
//! hard links and symlinks, every copy of a path offered to the visitor; and each
//! supported compression.

use crate::common;

use common::{Comp, Layer, Oci, Recorder, Save, compress, docker_save, sha256};
use image::source::OpenOptions;
use image::{Expected, FileKind, FileTree, Image, Limits, NoContent, apply_layer};

fn three_layers() -> Vec<Vec<u8>> {
    let base = Layer::new()
        .dir("etc")
        .file("etc/a", b"a0")
        .file("etc/b", b"b0")
        .dir("opt/dir")
        .file("opt/dir/x", b"x")
        .dir("var/cache")
        .file("var/cache/c1", b"c1")
        .file("var/cache/c2", b"c2")
        .file("usr/lib/os-release", b"ID=test\n")
        .symlink("etc/os-release", "../usr/lib/os-release")
        .symlink("lib", "usr/lib")
        .file("data/orig", b"orig")
        .hardlink("data/hl", "data/orig")
        .tar();
    let middle = Layer::new()
        .whiteout("etc/b")
        .opaque("var/cache")
        .file("var/cache/c3", b"c3")
        .file("opt/dir", b"now a file")
        .file("etc/a", b"a1")
        .tar();
    let top = Layer::new().file("etc/a", b"a2").tar();
    vec![base, middle, top]
}

#[test]
fn layers_apply_in_order_with_whiteouts_links_and_every_copy_offered() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("image.tar");
    docker_save(&three_layers(), "test/layers:1", Save::Legacy).members.write_tar(&path);
    let img = Image::open(&format!("docker-archive:{}", path.display()), &OpenOptions::default()).unwrap();
    let mut rec = Recorder::default();
    let out = img.read(&Limits::default(), &mut rec).unwrap();
    let tree = &out.tree;

    // Whiteout and opaque directory.
    assert!(tree.get("/etc/b").is_none());
    assert!(tree.get("/var/cache/c1").is_none() && tree.get("/var/cache/c2").is_none());
    assert_eq!(tree.get("/var/cache/c3").unwrap().layer, 1);
    assert_eq!(tree.get("/var/cache").unwrap().kind, FileKind::Directory);
    // A file replacing a directory hides what was below it.
    assert_eq!(tree.get("/opt/dir").unwrap().kind, FileKind::Regular);
    assert!(tree.get("/opt/dir/x").is_none());
    // Hard link: recorded with its target and the target's size; content offered once.
    let hl = tree.get("/data/hl").unwrap();
    assert_eq!((hl.kind, hl.link.as_deref(), hl.size), (FileKind::Hardlink, Some("/data/orig"), 4));
    assert!(rec.copies_of("/data/hl").is_empty());
    assert_eq!(rec.copies_of("/data/orig").len(), 1);
    // Symlinks resolve inside the root.
    assert_eq!(tree.resolve("/etc/os-release").as_deref(), Some("/usr/lib/os-release"));
    assert_eq!(tree.resolve("/lib/os-release").as_deref(), Some("/usr/lib/os-release"));
    assert_eq!(tree.lookup("/etc/os-release").unwrap().1.size, 8);

    // Every copy of /etc/a is offered, in layer order, and only the last is visible.
    let copies = rec.copies_of("/etc/a");
    let summary: Vec<(u32, &[u8], bool)> =
        copies.iter().map(|s| (s.layer, s.content.as_slice(), tree.is_visible("/etc/a", s.layer, s.ordinal))).collect();
    assert_eq!(summary, vec![(0, &b"a0"[..], false), (1, &b"a1"[..], false), (2, &b"a2"[..], true)]);
    // Ordinals name the tar member: /etc/a is the second member of layer 0, the fifth of layer 1.
    assert_eq!(copies.iter().map(|s| s.ordinal).collect::<Vec<_>>(), vec![1, 4, 0]);
    // A deleted file was still offered (from the layer that had it), and is not visible.
    let b = rec.copies_of("/etc/b");
    assert_eq!(b.len(), 1);
    assert!(!tree.is_visible("/etc/b", b[0].layer, b[0].ordinal));
    // Whiteout markers are never offered as files.
    assert!(rec.asked.iter().all(|(p, _)| !p.contains(".wh.")));

    assert_eq!(out.layers.len(), 3);
    assert_eq!(out.layers[2].entries, 1);
}

#[test]
fn gzip_zstd_and_plain_layers_in_one_image() {
    let plain = Layer::new().file("plain.txt", b"p").tar();
    let gz = Layer::new().file("gzip.txt", &[b'g'; 100_000]).tar();
    let zst = Layer::new().file("zstd.txt", &[b'z'; 100_000]).tar();
    let mut oci = Oci::default();
    let img = oci.image(&[(plain.clone(), Comp::None), (gz.clone(), Comp::Gzip), (zst.clone(), Comp::Zstd)], "amd64");
    oci.index.push(img.manifest.clone());
    let tmp = tempfile::tempdir().unwrap();
    oci.members().write_dir(tmp.path());

    let image = Image::open(&format!("oci:{}", tmp.path().display()), &OpenOptions::default()).unwrap();
    let media: Vec<_> = image.layers.iter().map(|l| l.media_type.clone().unwrap()).collect();
    assert_eq!(media, [Comp::None.media_type(), Comp::Gzip.media_type(), Comp::Zstd.media_type()]);
    let mut rec = Recorder::default();
    let out = image.read(&Limits::default(), &mut rec).unwrap();
    for (path, len) in [("/plain.txt", 1), ("/gzip.txt", 100_000), ("/zstd.txt", 100_000)] {
        assert_eq!(rec.copies_of(path)[0].content.len(), len, "{path}");
    }
    assert_eq!(out.layers[0].stored_bytes, out.layers[0].tar_bytes);
    for (stats, tar) in out.layers[1..].iter().zip([&gz, &zst]) {
        assert_eq!(stats.tar_bytes, tar.len() as u64);
        assert!(stats.stored_bytes * 10 < stats.tar_bytes, "{stats:?}");
    }
}

#[test]
fn apply_layer_sniffs_compression_and_checks_both_digests() {
    let tar = Layer::new().dir("d").file("d/f", b"content").tar();
    for comp in [Comp::None, Comp::Gzip, Comp::Zstd] {
        let blob = compress(&tar, comp);
        let (blob_digest, diff_id) = (sha256(&blob), sha256(&tar));
        let expected = Expected { blob: Some(&blob_digest), diff_id: Some(&diff_id) };
        let mut tree = FileTree::new();
        let stats =
            apply_layer(&mut tree, 0, &mut blob.as_slice(), &expected, &Limits::default(), &mut NoContent).unwrap();
        assert_eq!(stats.entries, 2, "{comp:?}");
        assert_eq!(stats.stored_bytes, blob.len() as u64, "{comp:?}");
        assert_eq!(tree.get("/d/f").unwrap().size, 7, "{comp:?}");
    }
}
