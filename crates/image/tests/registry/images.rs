//! Test images built in memory: tar layers (plain, gzip, zstd), image configs, Docker and
//! OCI manifests, manifest lists and indexes, each with its digest.

use std::io::Write;

use sha2::{Digest, Sha256};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Bytes stored in a registry under their digest.
#[derive(Clone, Debug)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub digest: String,
    pub media_type: String,
}

impl Blob {
    pub fn new(bytes: Vec<u8>, media_type: &str) -> Self {
        Blob { digest: sha256(&bytes), bytes, media_type: media_type.to_owned() }
    }

    fn descriptor(&self) -> serde_json::Value {
        serde_json::json!({"mediaType": self.media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

/// One member of a test layer.
pub enum Member<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
    /// Deletes the named path of lower layers (`.wh.NAME`).
    Whiteout(&'a str),
}

#[derive(Clone, Copy, Debug)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A layer blob and the digest of its tar stream.
#[derive(Clone, Debug)]
pub struct Layer {
    pub blob: Blob,
    pub diff_id: String,
}

pub fn tar(members: &[Member<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        let (path, data): (String, &[u8]) = match member {
            Member::Dir(p) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                (format!("{p}/"), &[])
            }
            Member::File(p, content, mode) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(content.len() as u64);
                ((*p).to_owned(), content)
            }
            Member::Symlink(p, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                header.set_link_name(target).unwrap();
                ((*p).to_owned(), &[])
            }
            Member::Whiteout(p) => {
                let (dir, name) = p.rsplit_once('/').map_or(("", *p), |(d, n)| (d, n));
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(0);
                let path = if dir.is_empty() { format!(".wh.{name}") } else { format!("{dir}/.wh.{name}") };
                (path, &[])
            }
        };
        header.set_path(&path).unwrap();
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

pub fn layer(members: &[Member<'_>], compression: Compression, media_type: &str) -> Layer {
    let tar_bytes = tar(members);
    let diff_id = sha256(&tar_bytes);
    let stored = match compression {
        Compression::None => tar_bytes,
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&tar_bytes).unwrap();
            enc.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(&tar_bytes[..], 3).unwrap(),
    };
    Layer { blob: Blob::new(stored, media_type), diff_id }
}

/// Docker schema 2 or OCI flavour of manifests and indexes.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    Docker,
    Oci,
}

/// An image: config, layers and the manifest that ties them.
#[derive(Clone, Debug)]
pub struct TestImage {
    pub config: Blob,
    pub layers: Vec<Layer>,
    pub manifest: Blob,
    pub architecture: String,
}

pub fn image(layers: Vec<Layer>, architecture: &str, flavor: Flavor) -> TestImage {
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
    let config = serde_json::json!({
        "architecture": architecture,
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"User": "app", "Env": ["PATH=/usr/bin:/bin"], "Labels": {"org.example.arch": architecture}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": layers.iter().map(|_| serde_json::json!({"created_by": "ADD layer /"})).collect::<Vec<_>>(),
    });
    let (manifest_type, config_type) = match flavor {
        Flavor::Docker => (DOCKER_MANIFEST, DOCKER_CONFIG),
        Flavor::Oci => (OCI_MANIFEST, OCI_CONFIG),
    };
    let config = Blob::new(serde_json::to_vec(&config).unwrap(), config_type);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": config.descriptor(),
        "layers": layers.iter().map(|l| l.blob.descriptor()).collect::<Vec<_>>(),
    });
    let manifest = Blob::new(serde_json::to_vec_pretty(&manifest).unwrap(), manifest_type);
    TestImage { config, layers, manifest, architecture: architecture.to_owned() }
}

/// A manifest list (Docker) or index (OCI) of linux images, one per architecture.
pub fn index(images: &[&TestImage], flavor: Flavor) -> Blob {
    let media_type = match flavor {
        Flavor::Docker => DOCKER_LIST,
        Flavor::Oci => OCI_INDEX,
    };
    let entries: Vec<serde_json::Value> = images
        .iter()
        .map(|image| {
            let mut platform = serde_json::json!({"os": "linux", "architecture": image.architecture});
            if image.architecture == "arm64" {
                platform["variant"] = "v8".into();
            }
            let mut d = image.manifest.descriptor();
            d["platform"] = platform;
            d
        })
        .collect();
    let doc = serde_json::json!({"schemaVersion": 2, "mediaType": media_type, "manifests": entries});
    Blob::new(serde_json::to_vec(&doc).unwrap(), media_type)
}
