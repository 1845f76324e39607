//! `registry:` source: pulls an image over the OCI Distribution API v2. Manifests and the
//! config are fetched and verified when the image is opened; layer blobs stream from the
//! registry while [`Image::read`] walks them, and are verified there.

mod auth;
mod catalog;
mod client;
pub(crate) mod manifest;
mod reference;

use std::io::{self, Read};

use reqwest::header::CONTENT_TYPE;
use sha2::{Digest, Sha256};

use self::client::{RegistryClient, read_capped};
use self::manifest::{Document, ImageManifest, Platform, WantedPlatform};
use self::reference::Reference;

pub use self::catalog::{RegistryBrowser, TagInfo};
use crate::source::{OpenOptions, SourceKind};
use crate::{Backend, Error, Image, ImageConfig, LayerBody, LayerRef, Limits};

/// Platform chosen from a multi-platform index when the options name none.
const DEFAULT_PLATFORM: &str = "linux/amd64";
/// Indexes may point at indexes; more levels than this is a loop or an attack.
const MAX_INDEX_DEPTH: usize = 4;

/// Opens the image `name` (a registry reference without the `registry:` prefix): fetches
/// and verifies its manifest, the platform's manifest when it is an index, and its config.
pub(crate) fn open(reference: &str, name: &str, options: &OpenOptions) -> Result<Image, Error> {
    let parsed = Reference::parse(name)?;
    let want = WantedPlatform::parse(options.platform.as_deref().unwrap_or(DEFAULT_PLATFORM))?;
    let client = RegistryClient::connect(&parsed, options)?;

    let top = fetch_manifest(&client, parsed.manifest_ref(), parsed.digest.as_deref())?;
    let top_digest = top.digest.clone();
    let (manifest, manifest_digest) = resolve_platform(&client, top, &want)?;
    manifest::check_image_manifest(&manifest)?;

    let config_digest = manifest.config.digest.clone();
    let config_bytes = fetch_document_blob(&client, &config_digest, "image config")?;
    verify(&config_bytes, &config_digest, "image config blob")?;
    let config = ImageConfig::parse(&config_bytes)?;
    if options.platform.is_some() {
        check_single_platform(&config, &want)?;
    }
    let diff_ids = config.diff_ids();
    if diff_ids.len() != manifest.layers.len() {
        return Err(Error::Format(format!(
            "the manifest lists {} layers but the image config names {} diff_ids",
            manifest.layers.len(),
            diff_ids.len()
        )));
    }
    let layers: Vec<LayerRef> = manifest
        .layers
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| LayerRef {
            digest: Some(layer.digest.clone()),
            diff_id: Some(diff_id.clone()),
            size: layer.size,
            media_type: layer.media_type.clone(),
        })
        .collect();
    let blobs = manifest.layers.iter().map(|l| (l.digest.clone(), l.size)).collect();

    let familiar = parsed.familiar_name();
    let backend = RegistryBackend { client, blobs };
    let mut image = Image::new(reference.to_owned(), SourceKind::Registry, config, layers, Box::new(backend));
    // A tag is only reported when it chose the image: with a digest it is decoration.
    if let (Some(tag), None) = (&parsed.tag, &parsed.digest) {
        image.repo_tags.push(format!("{familiar}:{tag}"));
    }
    // The digest the reference resolves to (an index for multi-platform images), as
    // `docker pull NAME@DIGEST` takes it.
    image.repo_digests.push(format!("{familiar}@{top_digest}"));
    image.manifest_digest = Some(manifest_digest);
    image.id = Some(config_digest);
    Ok(image)
}

/// A manifest document as fetched, with the digest of its bytes.
struct Fetched {
    document: Document,
    digest: String,
}

/// Fetches the manifest named by a tag or digest. The digest of the bytes is computed and
/// checked against the registry's `Docker-Content-Digest` header and, when pulling by
/// digest, against the one asked for.
fn fetch_manifest(client: &RegistryClient, name: &str, expected: Option<&str>) -> Result<Fetched, Error> {
    fetch_manifest_in(client, client.repository(), name, expected)
}

/// [`fetch_manifest`] in another repository of the client's registry.
fn fetch_manifest_in(
    client: &RegistryClient,
    repository: &str,
    name: &str,
    expected: Option<&str>,
) -> Result<Fetched, Error> {
    let what = format!("manifest {name}");
    let response = client.get_in(repository, &format!("manifests/{name}"), Some(manifest::ACCEPT), &what)?;
    let header_digest =
        response.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned());
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = read_capped(response, Limits::default().max_document_bytes)
        .map_err(|why| client.registry_error(format!("{what}: {why}")))?;
    let digest = sha256_digest(&bytes);
    // Only sha256 can be checked; a registry announcing another algorithm is still
    // verified by the computed digest when the reference pins one.
    if let Some(announced) = header_digest.filter(|d| d.starts_with("sha256:"))
        && announced != digest
    {
        return Err(Error::DigestMismatch {
            what: format!("{what} (Docker-Content-Digest header)"),
            expected: announced,
            actual: digest,
        });
    }
    if let Some(expected) = expected
        && expected != digest
    {
        return Err(Error::DigestMismatch { what, expected: expected.to_owned(), actual: digest });
    }
    let document = manifest::parse_document(&bytes, content_type.as_deref())?;
    Ok(Fetched { document, digest })
}

/// Walks down indexes to the image manifest for `want`; returns it with its digest.
fn resolve_platform(
    client: &RegistryClient,
    top: Fetched,
    want: &WantedPlatform,
) -> Result<(ImageManifest, String), Error> {
    resolve_platform_in(client, client.repository(), top, want)
}

fn resolve_platform_in(
    client: &RegistryClient,
    repository: &str,
    top: Fetched,
    want: &WantedPlatform,
) -> Result<(ImageManifest, String), Error> {
    let mut current = top;
    for _ in 0..MAX_INDEX_DEPTH {
        match current.document {
            Document::Manifest(m) => return Ok((m, current.digest)),
            Document::Index(index) => {
                let entry = manifest::select(&index, want)?;
                current = fetch_manifest_in(client, repository, &entry.digest, Some(&entry.digest))?;
            }
        }
    }
    match current.document {
        Document::Manifest(m) => Ok((m, current.digest)),
        Document::Index(_) => Err(Error::Format(format!("indexes nested more than {MAX_INDEX_DEPTH} levels deep"))),
    }
}

/// Refuses an image that is not for the platform the options name explicitly.
fn check_single_platform(config: &ImageConfig, want: &WantedPlatform) -> Result<(), Error> {
    let (Some(os), Some(architecture)) = (&config.os, &config.architecture) else {
        return Ok(());
    };
    let have = Platform { os: os.clone(), architecture: architecture.clone(), variant: config.variant.clone() };
    if want.matches(&have) {
        Ok(())
    } else {
        Err(Error::NotFound(format!("the image is for platform {have}, not {want}")))
    }
}

/// Fetches a small blob (the config) whole, within the document size limit.
fn fetch_document_blob(client: &RegistryClient, digest: &str, what: &str) -> Result<Vec<u8>, Error> {
    fetch_document_blob_in(client, client.repository(), digest, what)
}

fn fetch_document_blob_in(
    client: &RegistryClient,
    repository: &str,
    digest: &str,
    what: &str,
) -> Result<Vec<u8>, Error> {
    let response = client.get_in(repository, &format!("blobs/{digest}"), None, &format!("{what} {digest}"))?;
    read_capped(response, Limits::default().max_document_bytes)
        .map_err(|why| client.registry_error(format!("{what} {digest}: {why}")))
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn verify(bytes: &[u8], expected: &str, what: &str) -> Result<(), Error> {
    let actual = sha256_digest(bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch { what: what.to_owned(), expected: expected.to_owned(), actual })
    }
}

/// Layers of a registry image: blobs fetched when read.
struct RegistryBackend {
    client: RegistryClient,
    /// Digest and declared size of each layer blob, base layer first.
    blobs: Vec<(String, Option<u64>)>,
}

impl Backend for RegistryBackend {
    fn open_layer(&self, index: usize) -> Result<LayerBody<'_>, Error> {
        let (digest, size) =
            self.blobs.get(index).ok_or_else(|| Error::NotFound(format!("layer {index} of the registry image")))?;
        let response = self.client.get(&format!("blobs/{digest}"), None, &format!("layer {index} blob {digest}"))?;
        let body: Box<dyn Read> = match size {
            Some(declared) => Box::new(DeclaredSize { inner: response, left: *declared, declared: *declared }),
            None => Box::new(response),
        };
        Ok(LayerBody::Blob(body))
    }
}

/// Fails a blob that runs past the size its descriptor declares, so that a hostile
/// registry cannot stream without end; the digest check catches every other change.
struct DeclaredSize<R> {
    inner: R,
    left: u64,
    declared: u64,
}

impl<R: Read> Read for DeclaredSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::other(format!("blob is larger than the {} bytes its manifest declares", self.declared))
        })?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_size_stops_overlong_blobs() {
        let mut exact = DeclaredSize { inner: &b"abcd"[..], left: 4, declared: 4 };
        let mut out = Vec::new();
        exact.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
        let mut long = DeclaredSize { inner: &b"abcdef"[..], left: 4, declared: 4 };
        let err = long.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("larger than the 4 bytes"), "{err}");
    }

    #[test]
    fn config_digest_verification() {
        let digest = sha256_digest(b"{}");
        assert!(verify(b"{}", &digest, "c").is_ok());
        assert!(matches!(verify(b"{ }", &digest, "c"), Err(Error::DigestMismatch { .. })));
    }

    #[test]
    fn explicit_platform_must_match_a_single_image() {
        let config = ImageConfig::parse(br#"{"os":"linux","architecture":"arm64"}"#).unwrap();
        assert!(check_single_platform(&config, &WantedPlatform::parse("linux/arm64").unwrap()).is_ok());
        let err = check_single_platform(&config, &WantedPlatform::parse("linux/amd64").unwrap()).unwrap_err();
        assert!(err.to_string().contains("linux/arm64, not linux/amd64"), "{err}");
    }
}
