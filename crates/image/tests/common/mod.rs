//! Builders shared by the integration tests: tar layers (including hand-made hostile
//! members), compressed blobs, `docker save` archives in both layouts, OCI image layouts,
//! and a visitor that records what it is offered.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use image::{FileEntry, LayerVisitor};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// `sha256:…` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a `sha256:…` digest.
pub fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap()
}

/// Builds one layer tar in memory.
pub struct Layer {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for Layer {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer {
    pub fn new() -> Self {
        Layer { builder: tar::Builder::new(Vec::new()) }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h
    }

    pub fn file(self, path: &str, content: &[u8]) -> Self {
        self.file_mode(path, content, 0o644)
    }

    pub fn file_mode(mut self, path: &str, content: &[u8], mode: u32) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, content.len() as u64);
        self.builder.append_data(&mut h, path, content).unwrap();
        self
    }

    pub fn dir(mut self, path: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Directory, 0o755, 0);
        self.builder.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    /// A `.wh.NAME` whiteout for `path`.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() { format!(".wh.{name}") } else { format!("{dir}/.wh.{name}") };
        self.file(&marker, b"")
    }

    /// A `.wh..wh..opq` marker making `dir` opaque.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// A device node or FIFO.
    pub fn special(mut self, path: &str, kind: tar::EntryType) -> Self {
        let mut h = Self::header(kind, 0o600, 0);
        h.set_device_major(1).unwrap();
        h.set_device_minor(3).unwrap();
        self.builder.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    /// A regular file whose name is written into the header as given, unchecked: the way a
    /// hostile layer is made.
    pub fn raw_file(mut self, name: &[u8], content: &[u8]) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, 0o644, content.len() as u64);
        let slot = &mut h.as_old_mut().name;
        assert!(name.len() < slot.len());
        slot[..name.len()].copy_from_slice(name);
        h.set_cksum();
        self.builder.append(&h, content).unwrap();
        self
    }

    pub fn tar(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    None,
    Gzip,
    Zstd,
}

impl Comp {
    pub fn media_type(self) -> &'static str {
        match self {
            Comp::None => "application/vnd.oci.image.layer.v1.tar",
            Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// A layer tar compressed as asked.
pub fn compress(tar: &[u8], comp: Comp) -> Vec<u8> {
    match comp {
        Comp::None => tar.to_vec(),
        Comp::Gzip => gzip_with_mtime(tar, 0),
        Comp::Zstd => zstd::encode_all(tar, 3).unwrap(),
    }
}

/// Gzip with a chosen header mtime: same size and content, different bytes.
pub fn gzip_with_mtime(bytes: &[u8], mtime: u32) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new().mtime(mtime).write(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// An image config naming these diff ids.
pub fn config_for(diff_ids: &[String], arch: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "config": {"User": "1000", "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": diff_ids.iter().map(|_| json!({"created_by": "test"})).collect::<Vec<_>>(),
    }))
    .unwrap()
}

/// Members of an outer tar, in order; tests tamper with them before writing.
#[derive(Debug, Clone, Default)]
pub struct Members(pub Vec<(String, Vec<u8>)>);

impl Members {
    pub fn put(&mut self, name: &str, data: Vec<u8>) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = data,
            None => self.0.push((name.to_owned(), data)),
        }
    }

    pub fn get(&self, name: &str) -> &[u8] {
        &self.0.iter().find(|(n, _)| n == name).unwrap().1
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| n != name);
    }

    pub fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in &self.0 {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
        b.into_inner().unwrap()
    }

    pub fn write_tar(&self, path: &Path) {
        std::fs::write(path, self.tar()).unwrap();
    }

    pub fn write_dir(&self, root: &Path) {
        for (name, data) in &self.0 {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, data).unwrap();
        }
    }
}

/// The shape of a `docker save` archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Save {
    /// `<id>/layer.tar` and `<config hex>.json` (Docker before 25).
    Legacy,
    /// `blobs/sha256/<hex>` with `index.json` and `oci-layout` (Docker 25 and later).
    Blobs,
}

/// What a built archive contains, for the assertions.
#[derive(Debug, Clone)]
pub struct Built {
    pub members: Members,
    pub config_digest: String,
    pub diff_ids: Vec<String>,
    pub layer_members: Vec<String>,
    pub config_member: String,
}

/// A `docker save` archive of uncompressed layer tars, tagged `tag`.
pub fn docker_save(layers: &[Vec<u8>], tag: &str, layout: Save) -> Built {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let config = config_for(&diff_ids, "amd64");
    let config_digest = sha256(&config);
    let mut members = Members::default();
    let mut layer_members = Vec::new();
    let config_member;
    match layout {
        Save::Legacy => {
            for (i, layer) in layers.iter().enumerate() {
                let id = hex::encode(Sha256::digest(format!("{i}{}", diff_ids[i])));
                members.put(&format!("{id}/VERSION"), b"1.0".to_vec());
                members.put(&format!("{id}/layer.tar"), layer.clone());
                layer_members.push(format!("{id}/layer.tar"));
            }
            config_member = format!("{}.json", hex_of(&config_digest));
            members.put(&config_member, config.clone());
        }
        Save::Blobs => {
            for (layer, diff_id) in layers.iter().zip(&diff_ids) {
                let name = format!("blobs/sha256/{}", hex_of(diff_id));
                members.put(&name, layer.clone());
                layer_members.push(name);
            }
            config_member = format!("blobs/sha256/{}", hex_of(&config_digest));
            members.put(&config_member, config.clone());
            let manifest = serde_json::to_vec(&json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config_digest, "size": config.len()},
                "layers": layers.iter().zip(&diff_ids).map(|(l, d)| json!({
                    "mediaType": Comp::None.media_type(), "digest": d, "size": l.len()})).collect::<Vec<_>>(),
            }))
            .unwrap();
            let manifest_digest = sha256(&manifest);
            members.put(&format!("blobs/sha256/{}", hex_of(&manifest_digest)), manifest.clone());
            members.put("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
            members.put(
                "index.json",
                serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": manifest_digest, "size": manifest.len(),
                    "annotations": {"io.containerd.image.name": format!("docker.io/library/{tag}"),
                                    "org.opencontainers.image.ref.name": tag.rsplit(':').next().unwrap()}}]}))
                .unwrap(),
            );
        }
    }
    let manifest = json!([{"Config": config_member, "RepoTags": [tag], "Layers": layer_members}]);
    members.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
    Built { members, config_digest, diff_ids, layer_members, config_member }
}

/// An OCI image layout being assembled.
#[derive(Debug, Default, Clone)]
pub struct Oci {
    pub blobs: BTreeMap<String, Vec<u8>>,
    pub index: Vec<Value>,
}

/// A descriptor plus what it describes.
#[derive(Debug, Clone)]
pub struct OciImage {
    pub manifest: Value,
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_digests: Vec<String>,
    pub diff_ids: Vec<String>,
}

impl Oci {
    /// Stores a blob and returns its descriptor.
    pub fn blob(&mut self, media_type: &str, bytes: Vec<u8>) -> Value {
        let digest = sha256(&bytes);
        let size = bytes.len();
        self.blobs.insert(hex_of(&digest).to_owned(), bytes);
        json!({"mediaType": media_type, "digest": digest, "size": size})
    }

    /// Stores config, layers and manifest of one image; returns the manifest descriptor.
    pub fn image(&mut self, layers: &[(Vec<u8>, Comp)], arch: &str) -> OciImage {
        let diff_ids: Vec<String> = layers.iter().map(|(t, _)| sha256(t)).collect();
        let config = self.blob("application/vnd.oci.image.config.v1+json", config_for(&diff_ids, arch));
        let layer_descs: Vec<Value> = layers.iter().map(|(t, c)| self.blob(c.media_type(), compress(t, *c))).collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": layer_descs,
        }))
        .unwrap();
        let desc = self.blob("application/vnd.oci.image.manifest.v1+json", manifest);
        OciImage {
            manifest_digest: desc["digest"].as_str().unwrap().to_owned(),
            manifest: desc,
            config_digest: config["digest"].as_str().unwrap().to_owned(),
            layer_digests: layer_descs.iter().map(|d| d["digest"].as_str().unwrap().to_owned()).collect(),
            diff_ids,
        }
    }

    /// Replaces the bytes stored under a digest, leaving descriptors as they are.
    pub fn tamper(&mut self, digest: &str, bytes: Vec<u8>) {
        self.blobs.insert(hex_of(digest).to_owned(), bytes);
    }

    pub fn members(&self) -> Members {
        let mut m = Members::default();
        m.put("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
        m.put("index.json", serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": self.index})).unwrap());
        for (hex, bytes) in &self.blobs {
            m.put(&format!("blobs/sha256/{hex}"), bytes.clone());
        }
        m
    }
}

/// A descriptor with a platform and annotations added.
pub fn with_platform(mut desc: Value, os: &str, arch: &str, variant: Option<&str>) -> Value {
    let mut platform = json!({"os": os, "architecture": arch});
    if let Some(v) = variant {
        platform["variant"] = json!(v);
    }
    desc["platform"] = platform;
    desc
}

pub fn with_ref_name(mut desc: Value, name: &str) -> Value {
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": name});
    desc
}

/// One offer the visitor received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub layer: u32,
    pub ordinal: u64,
    pub content: Vec<u8>,
}

/// Wants every regular file and keeps what it read; remembers every path `wants` saw.
#[derive(Debug, Default)]
pub struct Recorder {
    pub asked: Vec<(String, image::FileKind)>,
    pub seen: Vec<Seen>,
}

impl Recorder {
    pub fn copies_of(&self, path: &str) -> Vec<&Seen> {
        self.seen.iter().filter(|s| s.path == path).collect()
    }
}

impl LayerVisitor for Recorder {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        self.asked.push((path.to_owned(), entry.kind));
        true
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        content.read_to_end(&mut bytes)?;
        assert_eq!(bytes.len() as u64, entry.size, "{path}: visitor got a different size than the entry");
        self.seen.push(Seen { path: path.to_owned(), layer: entry.layer, ordinal: entry.ordinal, content: bytes });
        Ok(())
    }
}

/// Every file name below `dir`, recursively, for before/after comparisons.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            out.push(e.path().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}
