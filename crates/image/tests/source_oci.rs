//! The `oci:` source: layouts as directories and tar files, platform and name selection
//! through (nested) indexes, and the errors for malformed layouts.

use crate::common;

use common::{Comp, Layer, Oci, OciImage, Recorder, with_platform, with_ref_name};
use image::source::OpenOptions;
use image::{Error, Image, Limits, SourceKind};
use serde_json::json;

fn open(reference: String, platform: Option<&str>) -> Result<Image, Error> {
    Image::open(&reference, &OpenOptions { platform: platform.map(str::to_owned), ..OpenOptions::default() })
}

fn arch_image(oci: &mut Oci, arch: &str) -> OciImage {
    let layer = Layer::new().file("arch", arch.as_bytes()).tar();
    oci.image(&[(layer, Comp::Gzip)], arch)
}

#[test]
fn directory_and_tar_layouts_open_alike() {
    let base = Layer::new().file("etc/os-release", b"ID=oci\n").tar();
    let top = Layer::new().file("usr/bin/tool", b"tool").tar();
    let mut oci = Oci::default();
    let img = oci.image(&[(base, Comp::Gzip), (top, Comp::Zstd)], "amd64");
    oci.index.push(img.manifest.clone());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("layout");
    oci.members().write_dir(&dir);
    let tar = tmp.path().join("layout.tar");
    oci.members().write_tar(&tar);

    for reference in [format!("oci:{}", dir.display()), format!("oci:{}", tar.display())] {
        let image = open(reference.clone(), None).unwrap();
        assert_eq!(image.source, SourceKind::Oci);
        assert_eq!(image.manifest_digest.as_deref(), Some(img.manifest_digest.as_str()), "{reference}");
        assert_eq!(image.id.as_deref(), Some(img.config_digest.as_str()));
        let digests: Vec<_> = image.layers.iter().map(|l| l.digest.clone().unwrap()).collect();
        assert_eq!(digests, img.layer_digests);
        let diff_ids: Vec<_> = image.layers.iter().map(|l| l.diff_id.clone().unwrap()).collect();
        assert_eq!(diff_ids, img.diff_ids);
        let sizes: Vec<_> = image.layers.iter().map(|l| l.size.unwrap()).collect();
        let stored: Vec<_> = img.layer_digests.iter().map(|d| oci.blobs[common::hex_of(d)].len() as u64).collect();
        assert_eq!(sizes, stored);
        let mut rec = Recorder::default();
        let out = image.read(&Limits::default(), &mut rec).unwrap();
        assert_eq!(out.tree.get("/usr/bin/tool").unwrap().layer, 1);
        assert_eq!(rec.copies_of("/etc/os-release")[0].content, b"ID=oci\n");
    }
}

/// A layout whose index points at a nested index of three platforms.
fn multi_platform() -> (Oci, Vec<OciImage>) {
    let mut oci = Oci::default();
    let amd = arch_image(&mut oci, "amd64");
    let arm = arch_image(&mut oci, "arm64");
    let armv7 = arch_image(&mut oci, "arm");
    let nested = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            with_platform(arm.manifest.clone(), "linux", "arm64", Some("v8")),
            with_platform(armv7.manifest.clone(), "linux", "arm", Some("v7")),
            with_platform(amd.manifest.clone(), "linux", "amd64", None),
        ],
    }))
    .unwrap();
    let desc = oci.blob("application/vnd.oci.image.index.v1+json", nested);
    oci.index.push(with_ref_name(desc, "multi"));
    (oci, vec![amd, arm, armv7])
}

#[test]
fn platform_is_chosen_through_a_nested_index() {
    let (oci, images) = multi_platform();
    let tmp = tempfile::tempdir().unwrap();
    oci.members().write_dir(tmp.path());
    let reference = format!("oci:{}", tmp.path().display());

    let default = open(reference.clone(), None).unwrap();
    assert_eq!(default.manifest_digest.as_deref(), Some(images[0].manifest_digest.as_str()));
    assert_eq!(default.config.platform(), "linux/amd64");
    let arm = open(reference.clone(), Some("linux/arm64")).unwrap();
    assert_eq!(arm.manifest_digest.as_deref(), Some(images[1].manifest_digest.as_str()));
    let v7 = open(reference.clone(), Some("linux/arm/v7")).unwrap();
    assert_eq!(v7.manifest_digest.as_deref(), Some(images[2].manifest_digest.as_str()));
    let mut rec = Recorder::default();
    v7.read(&Limits::default(), &mut rec).unwrap();
    assert_eq!(rec.copies_of("/arch")[0].content, b"arm");

    let err = open(reference.clone(), Some("linux/s390x")).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("no manifest for platform linux/s390x"), "{text}");
    assert!(text.contains("available: linux/arm64/v8, linux/arm/v7, linux/amd64"), "{text}");
    let err = open(reference.clone(), Some("linux/arm/v6")).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = open(reference, Some("linux")).unwrap_err();
    assert!(err.to_string().contains("expected os/arch[/variant]"), "{err}");
}

#[test]
fn ref_name_suffix_picks_a_manifest() {
    let mut oci = Oci::default();
    let one = arch_image(&mut oci, "amd64");
    let two = oci.image(&[(Layer::new().file("two", b"2").tar(), Comp::None)], "amd64");
    oci.index.push(with_ref_name(one.manifest.clone(), "one"));
    oci.index.push(with_ref_name(two.manifest.clone(), "two"));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("two.tar");
    oci.members().write_tar(&path);

    let chosen = open(format!("oci:{}:two", path.display()), None).unwrap();
    assert_eq!(chosen.manifest_digest.as_deref(), Some(two.manifest_digest.as_str()));
    let chosen = open(format!("oci:{}:one", path.display()), None).unwrap();
    assert_eq!(chosen.manifest_digest.as_deref(), Some(one.manifest_digest.as_str()));

    let err = open(format!("oci:{}", path.display()), None).unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    assert!(err.to_string().contains("lists 2 images; choose one with oci:PATH:NAME (names: one, two)"), "{err}");
    let err = open(format!("oci:{}:three", path.display()), None).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("no manifest named \"three\" (names: one, two)"), "{err}");
}

#[test]
fn a_path_containing_a_colon_is_a_path_first() {
    let mut oci = Oci::default();
    let img = arch_image(&mut oci, "amd64");
    oci.index.push(img.manifest.clone());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lay:out");
    oci.members().write_dir(&dir);
    let image = open(format!("oci:{}", dir.display()), None).unwrap();
    assert_eq!(image.manifest_digest.as_deref(), Some(img.manifest_digest.as_str()));
}

#[test]
fn malformed_layouts_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let mut oci = Oci::default();
    let img = arch_image(&mut oci, "amd64");

    // No index.json.
    let mut members = oci.members();
    members.remove("index.json");
    let dir = tmp.path().join("noindex");
    members.write_dir(&dir);
    let err = open(format!("oci:{}", dir.display()), None).unwrap_err();
    assert!(err.to_string().contains("not an OCI image layout: index.json is missing"), "{err}");

    // An index naming no manifest.
    let dir = tmp.path().join("empty");
    oci.members().write_dir(&dir);
    let err = open(format!("oci:{}", dir.display()), None).unwrap_err();
    assert!(err.to_string().contains("index.json lists no manifest"), "{err}");

    // A manifest blob that is missing.
    let mut broken = oci.clone();
    broken.index.push(img.manifest.clone());
    broken.blobs.remove(common::hex_of(&img.manifest_digest));
    let dir = tmp.path().join("nomanifest");
    broken.members().write_dir(&dir);
    let err = open(format!("oci:{}", dir.display()), None).unwrap_err();
    assert!(err.to_string().contains(&format!("manifest blob {} is missing", img.manifest_digest)), "{err}");

    // A digest that is not sha256, or that tries to name a path.
    for digest in ["sha512:abcd", "sha256:../../../etc/passwd"] {
        let mut odd = oci.clone();
        let mut desc = img.manifest.clone();
        desc["digest"] = json!(digest);
        odd.index.push(desc);
        let dir = tmp.path().join("odd");
        let _ = std::fs::remove_dir_all(&dir);
        odd.members().write_dir(&dir);
        let err = open(format!("oci:{}", dir.display()), None).unwrap_err();
        assert!(matches!(err, Error::Format(_)), "{digest}: {err:?}");
    }

    // A config that names fewer diff ids than the manifest has layers.
    let mut short = Oci::default();
    let config = short.blob("application/vnd.oci.image.config.v1+json", common::config_for(&[], "amd64"));
    let layer = short.blob(Comp::None.media_type(), Layer::new().tar());
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": [layer]}))
    .unwrap();
    let desc = short.blob("application/vnd.oci.image.manifest.v1+json", manifest);
    short.index.push(desc);
    let dir = tmp.path().join("short");
    short.members().write_dir(&dir);
    let err = open(format!("oci:{}", dir.display()), None).unwrap_err();
    assert!(err.to_string().contains("the manifest lists 1 layers but the config's rootfs.diff_ids names 0"), "{err}");

    // Not an image: an artifact manifest.
    let mut artifact = Oci::default();
    let config = artifact.blob("application/vnd.cncf.helm.config.v1+json", b"{}".to_vec());
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": []}))
    .unwrap();
    let desc = artifact.blob("application/vnd.oci.image.manifest.v1+json", manifest);
    artifact.index.push(desc);
    let dir = tmp.path().join("artifact");
    artifact.members().write_dir(&dir);
    let err = open(format!("oci:{}", dir.display()), None).unwrap_err();
    assert!(err.to_string().contains("not a container image: config media type application/vnd.cncf.helm"), "{err}");

    // A missing path.
    let err = open(format!("oci:{}", tmp.path().join("absent").display()), None).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}
