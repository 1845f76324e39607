//! `docker-archive:` (output of `docker save`) and `oci:` (OCI image layout) sources.
//!
//! Both are read in place: a tar file is indexed once (member name to byte range) and each
//! layer is streamed from its byte range, so nothing is extracted to disk. Only a
//! compressed archive is first decompressed, into a private temporary directory.

mod oci;
mod store;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::source::{OpenOptions, SourceKind};
use crate::{Backend, Error, Image, ImageConfig, LayerBody, LayerRef, Limits};

pub(crate) use store::Store;

/// Opens the output of `docker save` (plain or compressed). `PATH:TAG` picks one image
/// of an archive that holds several.
pub(crate) fn open_docker_archive(reference: &str, path: &Path) -> Result<Image, Error> {
    let (path, tag) = split_name_suffix(path);
    open_docker_archive_at(reference, &path, tag.as_deref(), None)
}

/// Opens an OCI image layout, a directory or a tar file. `PATH:NAME` picks the manifest
/// annotated with that `org.opencontainers.image.ref.name`.
pub(crate) fn open_oci(reference: &str, path: &Path, options: &OpenOptions) -> Result<Image, Error> {
    let (path, name) = split_name_suffix(path);
    let mut scratch = None;
    let store = Store::open(&path, &mut scratch)?;
    let image = oci::open(reference, store, name.as_deref(), options)?;
    Ok(match scratch {
        Some(dir) => image.with_scratch(dir),
        None => image,
    })
}

/// `docker save` output at `path`; `scratch` is a private directory the caller already owns
/// (the `docker:` source downloads into one), reused when the archive is compressed.
pub(crate) fn open_docker_archive_at(
    reference: &str,
    path: &Path,
    tag: Option<&str>,
    mut scratch: Option<tempfile::TempDir>,
) -> Result<Image, Error> {
    let store = Store::open(path, &mut scratch)?;
    if store.is_dir() {
        return Err(Error::Format(format!(
            "{reference}: {} is a directory; a docker archive is the tar file `docker save` writes",
            path.display()
        )));
    }
    let image = open_saved(reference, store, tag)?;
    Ok(match scratch {
        Some(dir) => image.with_scratch(dir),
        None => image,
    })
}

/// One image in `manifest.json` of a `docker save` archive.
#[derive(Deserialize)]
struct SavedImage {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

fn open_saved(reference: &str, store: Store, tag: Option<&str>) -> Result<Image, Error> {
    let cap = Limits::default().max_document_bytes;
    let Some(manifest) = store.read_doc("manifest.json", cap)? else {
        let hint = if store.size("index.json")?.is_some() { "; it looks like an OCI layout: use oci:PATH" } else { "" };
        return Err(Error::Format(format!("{reference}: the archive has no manifest.json{hint}")));
    };
    let saved: Vec<SavedImage> =
        serde_json::from_slice(&manifest).map_err(|e| Error::Format(format!("{reference}: manifest.json: {e}")))?;
    let chosen = choose_saved(reference, saved, tag)?;

    let config_name = store::member_key(&chosen.config);
    let config_bytes = store.read_doc(&config_name, cap)?.ok_or_else(|| {
        Error::Format(format!("{reference}: manifest.json names config {config_name}, which the archive lacks"))
    })?;
    let id = sha256_digest(&config_bytes);
    if let Some(named) = digest_in_name(&config_name)
        && named != id
    {
        return Err(Error::DigestMismatch { what: format!("image config {config_name}"), expected: named, actual: id });
    }
    let config = ImageConfig::parse(&config_bytes)?;
    let diff_ids = config.diff_ids();
    if diff_ids.len() != chosen.layers.len() {
        return Err(Error::Format(format!(
            "{reference}: manifest.json lists {} layers but the config's rootfs.diff_ids names {}",
            chosen.layers.len(),
            diff_ids.len()
        )));
    }
    let mut layers = Vec::with_capacity(chosen.layers.len());
    let mut members = Vec::with_capacity(chosen.layers.len());
    for (name, diff_id) in chosen.layers.iter().zip(diff_ids) {
        let key = store::member_key(name);
        let size = store.size(&key)?.ok_or_else(|| {
            Error::Format(format!("{reference}: manifest.json lists layer {key}, which the archive does not contain"))
        })?;
        layers.push(LayerRef {
            digest: blob_digest_of(&key),
            diff_id: Some(diff_id.clone()),
            size: Some(size),
            media_type: None,
        });
        members.push(key);
    }
    let backend = StoreBackend { store, members };
    let mut image = Image::new(reference.to_owned(), SourceKind::DockerArchive, config, layers, Box::new(backend));
    image.id = Some(id);
    image.repo_tags = chosen.repo_tags.unwrap_or_default();
    Ok(image)
}

/// The image of a `docker save` archive: the only one, the first one (with a note), or the
/// one tagged `tag`.
fn choose_saved(reference: &str, saved: Vec<SavedImage>, tag: Option<&str>) -> Result<SavedImage, Error> {
    let count = saved.len();
    let mut saved = saved.into_iter();
    match tag {
        Some(tag) => {
            let wanted = [tag.to_owned(), format!("{tag}:latest")];
            saved
                .find(|s| s.repo_tags.iter().flatten().any(|t| wanted.contains(t)))
                .ok_or_else(|| Error::NotFound(format!("{reference}: the archive has no image tagged {tag}")))
        }
        None => {
            if count > 1 {
                tracing::warn!(reference, images = count, "archive holds several images; reading the first");
            }
            saved.next().ok_or_else(|| Error::Format(format!("{reference}: manifest.json lists no image")))
        }
    }
}

/// Reads layers from the members of a [`Store`], in layer order.
struct StoreBackend {
    store: Store,
    members: Vec<String>,
}

impl Backend for StoreBackend {
    fn open_layer(&self, index: usize) -> Result<LayerBody<'_>, Error> {
        let name = self.members.get(index).ok_or_else(|| Error::NotFound(format!("layer {index}")))?;
        self.store.layer_body(name)
    }
}

/// `sha256:…` of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Whether `hex` is 64 lowercase hexadecimal digits.
fn is_sha256_hex(hex: &str) -> bool {
    hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The digest a member's name carries: `blobs/sha256/HEX` or a legacy `HEX.json`.
fn digest_in_name(key: &str) -> Option<String> {
    blob_digest_of(key).or_else(|| {
        let hex = key.rsplit('/').next()?.strip_suffix(".json")?;
        is_sha256_hex(hex).then(|| format!("sha256:{hex}"))
    })
}

/// `sha256:HEX` for a member named `blobs/sha256/HEX`.
fn blob_digest_of(key: &str) -> Option<String> {
    let hex = key.strip_prefix("blobs/sha256/")?;
    is_sha256_hex(hex).then(|| format!("sha256:{hex}"))
}

/// The member that holds the blob with this digest, refusing anything but a well-formed
/// `sha256:` digest (so that a digest can never name a path outside `blobs/`).
pub(crate) fn blob_member(digest: &str) -> Result<String, Error> {
    match digest.split_once(':') {
        Some(("sha256", hex)) if is_sha256_hex(hex) => Ok(format!("blobs/sha256/{hex}")),
        Some((algorithm, _)) if algorithm != "sha256" => {
            Err(Error::Format(format!("unsupported digest algorithm in {digest:?} (only sha256 is supported)")))
        }
        _ => Err(Error::Format(format!("malformed digest {digest:?}"))),
    }
}

/// Splits `PATH:NAME` when `PATH:NAME` is not itself an existing path but `PATH` is.
fn split_name_suffix(path: &Path) -> (PathBuf, Option<String>) {
    if path.exists() {
        return (path.to_owned(), None);
    }
    // The name may itself hold colons (`docker.io/library/alpine:3.19`): the first colon
    // after an existing path starts it.
    let text = path.to_string_lossy();
    for (at, _) in text.match_indices(':') {
        let (Some(prefix), Some(name)) = (text.get(..at), text.get(at + 1..)) else {
            continue;
        };
        if !prefix.is_empty() && !name.is_empty() && Path::new(prefix).exists() {
            return (PathBuf::from(prefix), Some(name.to_owned()));
        }
    }
    (path.to_owned(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_member_names() {
        let hex = "a".repeat(64);
        assert_eq!(digest_in_name(&format!("{hex}.json")), Some(format!("sha256:{hex}")));
        assert_eq!(digest_in_name(&format!("blobs/sha256/{hex}")), Some(format!("sha256:{hex}")));
        assert_eq!(digest_in_name("config.json"), None);
        assert_eq!(digest_in_name(&format!("{}.json", "A".repeat(64))), None);
    }

    #[test]
    fn blob_members_come_only_from_wellformed_digests() {
        let hex = "0".repeat(64);
        assert_eq!(blob_member(&format!("sha256:{hex}")).unwrap(), format!("blobs/sha256/{hex}"));
        assert!(blob_member("sha256:../../etc/passwd").is_err());
        assert!(blob_member(&format!("sha512:{hex}")).unwrap_err().to_string().contains("unsupported"));
        assert!(blob_member("nodigest").is_err());
    }
}
