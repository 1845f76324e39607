//! The OCI image layout: `index.json`, nested indexes, the manifest, the config and the
//! layer blobs under `blobs/sha256/`. Every document is checked against the digest and
//! size its descriptor gives before it is parsed.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::{Store, StoreBackend, blob_member, sha256_digest};
use crate::source::{OpenOptions, SourceKind};
use crate::{Error, Image, ImageConfig, LayerRef, Limits};

const INDEX_TYPES: [&str; 2] =
    ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
const MANIFEST_TYPES: [&str; 2] =
    ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];
const CONFIG_TYPES: [&str; 2] =
    ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// Indexes nested deeper than this are refused (real layouts nest at most once).
const MAX_NESTING: usize = 4;

#[derive(Debug, Clone, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

impl Descriptor {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Platform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl Platform {
    fn parse(text: &str) -> Result<Platform, Error> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform { os: (*os).into(), architecture: (*arch).into(), variant: None })
            }
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform { os: (*os).into(), architecture: (*arch).into(), variant: Some((*variant).into()) })
            }
            _ => Err(Error::Format(format!("invalid platform {text:?}: expected os/arch[/variant]"))),
        }
    }

    /// Whether a descriptor's platform satisfies this wanted one. A wanted variant must
    /// match; `arm64` without a variant is `arm64/v8`.
    fn accepts(&self, other: &Platform) -> bool {
        let variant = |p: &Platform| match (&p.variant, p.architecture.as_str()) {
            (None, "arm64") => Some("v8".to_owned()),
            (v, _) => v.clone(),
        };
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || variant(self) == variant(other))
    }

    fn show(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// Enough of a document to tell an index from a manifest when no media type says which.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<IgnoredAny>,
    #[serde(default)]
    layers: Option<IgnoredAny>,
}

enum Kind {
    Index,
    Manifest,
}

/// Opens the image a layout's `index.json` leads to.
pub(super) fn open(reference: &str, store: Store, name: Option<&str>, options: &OpenOptions) -> Result<Image, Error> {
    let cap = Limits::default().max_document_bytes;
    check_layout_version(reference, &store)?;
    let index_bytes = store
        .read_doc("index.json", cap)?
        .ok_or_else(|| Error::Format(format!("{reference}: not an OCI image layout: index.json is missing")))?;
    let index: Index = parse(reference, "index.json", &index_bytes)?;
    let want = Platform::parse(options.platform.as_deref().unwrap_or("linux/amd64"))?;
    let explicit = options.platform.is_some();

    let mut candidates = index.manifests;
    if let Some(name) = name {
        let known: Vec<String> = candidates.iter().filter_map(|d| d.annotation(REF_NAME)).map(str::to_owned).collect();
        candidates.retain(|d| d.annotation(REF_NAME) == Some(name) || d.annotation(CONTAINERD_NAME) == Some(name));
        if candidates.is_empty() {
            return Err(Error::NotFound(format!(
                "{reference}: index.json has no manifest named {name:?} (names: {})",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            )));
        }
    }
    let mut descriptor = choose(reference, "index.json", candidates, &want, explicit)?;
    let repo_tags: Vec<String> = descriptor.annotation(CONTAINERD_NAME).map(str::to_owned).into_iter().collect();

    let mut nesting = 0;
    let manifest_bytes = loop {
        let bytes = fetch(reference, &store, &descriptor, "manifest", cap)?;
        match kind(reference, &descriptor, &bytes)? {
            Kind::Manifest => break bytes,
            Kind::Index => {
                nesting += 1;
                if nesting > MAX_NESTING {
                    return Err(Error::Format(format!("{reference}: indexes nested more than {MAX_NESTING} deep")));
                }
                let where_ = format!("index {}", descriptor.digest);
                let nested: Index = parse(reference, &where_, &bytes)?;
                descriptor = choose(reference, &where_, nested.manifests, &want, explicit)?;
            }
        }
    };
    let manifest: Manifest = parse(reference, &format!("manifest {}", descriptor.digest), &manifest_bytes)?;

    if let Some(media_type) = manifest.config.media_type.as_deref()
        && !CONFIG_TYPES.contains(&media_type)
    {
        return Err(Error::Format(format!("{reference}: not a container image: config media type {media_type}")));
    }
    let config_bytes = fetch(reference, &store, &manifest.config, "config", cap)?;
    let config = ImageConfig::parse(&config_bytes)?;
    let diff_ids = config.diff_ids();
    if diff_ids.len() != manifest.layers.len() {
        return Err(Error::Format(format!(
            "{reference}: the manifest lists {} layers but the config's rootfs.diff_ids names {}",
            manifest.layers.len(),
            diff_ids.len()
        )));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    let mut members = Vec::with_capacity(manifest.layers.len());
    for (number, (layer, diff_id)) in manifest.layers.iter().zip(diff_ids).enumerate() {
        if layer.media_type.as_deref().is_some_and(|t| t.contains("encrypted")) {
            return Err(Error::Format(format!("{reference}: layer {number} is encrypted, which is not supported")));
        }
        let member = blob_member(&layer.digest)?;
        match store.size(&member)? {
            None => {
                return Err(Error::Format(format!(
                    "{reference}: layer {number} blob {} is missing from the layout",
                    layer.digest
                )));
            }
            Some(actual) if actual != layer.size => {
                return Err(Error::Format(format!(
                    "{reference}: layer {number} blob {} is {actual} bytes but its descriptor says {} (truncated or corrupt)",
                    layer.digest, layer.size
                )));
            }
            Some(_) => {}
        }
        layers.push(LayerRef {
            digest: Some(layer.digest.clone()),
            diff_id: Some(diff_id.clone()),
            size: Some(layer.size),
            media_type: layer.media_type.clone(),
        });
        members.push(member);
    }
    let backend = StoreBackend { store, members };
    let mut image = Image::new(reference.to_owned(), SourceKind::Oci, config, layers, Box::new(backend));
    image.id = Some(manifest.config.digest.clone());
    image.manifest_digest = Some(descriptor.digest);
    image.repo_tags = repo_tags;
    Ok(image)
}

/// Refuses a layout of an unknown major version; an absent `oci-layout` file (some tools
/// omit it) is tolerated.
fn check_layout_version(reference: &str, store: &Store) -> Result<(), Error> {
    #[derive(Deserialize)]
    struct Layout {
        #[serde(rename = "imageLayoutVersion")]
        version: String,
    }
    let Some(bytes) = store.read_doc("oci-layout", 64 * 1024)? else {
        tracing::debug!(reference, "OCI layout without an oci-layout file");
        return Ok(());
    };
    let layout: Layout = parse(reference, "oci-layout", &bytes)?;
    if !layout.version.starts_with("1.") {
        return Err(Error::Format(format!("{reference}: unsupported OCI layout version {:?}", layout.version)));
    }
    Ok(())
}

/// Picks one descriptor from an index: the only one, or the first for the wanted platform.
fn choose(
    reference: &str,
    where_: &str,
    candidates: Vec<Descriptor>,
    want: &Platform,
    explicit: bool,
) -> Result<Descriptor, Error> {
    let wrong_platform = |d: &Descriptor| d.platform.as_ref().is_some_and(|p| !want.accepts(p));
    let platforms = |list: &[Descriptor]| {
        let shown: Vec<String> = list.iter().filter_map(|d| d.platform.as_ref()).map(Platform::show).collect();
        if shown.is_empty() { "none named".to_owned() } else { shown.join(", ") }
    };
    match candidates.as_slice() {
        [] => Err(Error::Format(format!("{reference}: {where_} lists no manifest"))),
        // A single image is taken whatever its platform, unless one was asked for.
        [only] if !(explicit && wrong_platform(only)) => Ok(only.clone()),
        [_] => Err(Error::NotFound(format!(
            "{reference}: no manifest for platform {} in {where_} (available: {})",
            want.show(),
            platforms(&candidates)
        ))),
        _ => {
            if let Some(found) = candidates.iter().find(|d| d.platform.as_ref().is_some_and(|p| want.accepts(p))) {
                return Ok(found.clone());
            }
            if candidates.iter().all(|d| d.platform.is_none()) {
                let names: Vec<&str> = candidates.iter().filter_map(|d| d.annotation(REF_NAME)).collect();
                return Err(Error::Format(format!(
                    "{reference}: {where_} lists {} images; choose one with oci:PATH:NAME (names: {})",
                    candidates.len(),
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                )));
            }
            Err(Error::NotFound(format!(
                "{reference}: no manifest for platform {} in {where_} (available: {})",
                want.show(),
                platforms(&candidates)
            )))
        }
    }
}

/// Reads the blob a descriptor names, checking its size limit, digest and size.
fn fetch(reference: &str, store: &Store, d: &Descriptor, what: &str, cap: u64) -> Result<Vec<u8>, Error> {
    let member = blob_member(&d.digest)?;
    if d.size > cap {
        return Err(Error::Format(format!(
            "{reference}: {what} {} is {} bytes, more than the {cap}-byte limit for documents",
            d.digest, d.size
        )));
    }
    let bytes = store
        .read_doc(&member, cap)?
        .ok_or_else(|| Error::Format(format!("{reference}: {what} blob {} is missing from the layout", d.digest)))?;
    let actual = sha256_digest(&bytes);
    if actual != d.digest {
        return Err(Error::DigestMismatch { what: format!("OCI {what}"), expected: d.digest.clone(), actual });
    }
    if bytes.len() as u64 != d.size {
        return Err(Error::Format(format!(
            "{reference}: {what} {} is {} bytes but its descriptor says {}",
            d.digest,
            bytes.len(),
            d.size
        )));
    }
    Ok(bytes)
}

/// Whether a document is an index or a manifest, from its descriptor's media type, its own
/// `mediaType`, or failing both its shape.
fn kind(reference: &str, d: &Descriptor, bytes: &[u8]) -> Result<Kind, Error> {
    let probe: Probe = parse(reference, &d.digest, bytes)?;
    let media_type = d.media_type.as_deref().or(probe.media_type.as_deref());
    match media_type {
        Some(t) if INDEX_TYPES.contains(&t) => Ok(Kind::Index),
        Some(t) if MANIFEST_TYPES.contains(&t) => Ok(Kind::Manifest),
        Some(t) => Err(Error::Format(format!("{reference}: {} has unsupported media type {t}", d.digest))),
        None if probe.manifests.is_some() => Ok(Kind::Index),
        None if probe.layers.is_some() => Ok(Kind::Manifest),
        None => Err(Error::Format(format!("{reference}: {} is neither an index nor a manifest", d.digest))),
    }
}

fn parse<T: DeserializeOwned>(reference: &str, what: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Format(format!("{reference}: {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(platform: Option<&str>, name: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: None,
            digest: format!("sha256:{}", "0".repeat(64)),
            size: 1,
            platform: platform.map(|p| Platform::parse(p).unwrap()),
            annotations: name.map(|n| BTreeMap::from([(REF_NAME.to_owned(), n.to_owned())])),
        }
    }

    #[test]
    fn platforms_match_with_variants() {
        let want = Platform::parse("linux/arm64").unwrap();
        assert!(want.accepts(&Platform::parse("linux/arm64/v8").unwrap()));
        let v7 = Platform::parse("linux/arm/v7").unwrap();
        assert!(!v7.accepts(&Platform::parse("linux/arm/v6").unwrap()));
        assert!(Platform::parse("linux/arm").unwrap().accepts(&v7));
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux//").is_err());
    }

    #[test]
    fn choose_by_platform_and_refuse_ambiguity() {
        let amd = Platform::parse("linux/amd64").unwrap();
        let list = vec![desc(Some("linux/arm64"), None), desc(Some("linux/amd64"), Some("x"))];
        let got = choose("r", "index.json", list.clone(), &amd, false).unwrap();
        assert_eq!(got.annotation(REF_NAME), Some("x"));
        let s390 = Platform::parse("linux/s390x").unwrap();
        let err = choose("r", "index.json", list, &s390, true).unwrap_err().to_string();
        assert!(err.contains("linux/arm64, linux/amd64"), "{err}");
        let unnamed = vec![desc(None, Some("a")), desc(None, Some("b"))];
        let err = choose("r", "index.json", unnamed, &amd, false).unwrap_err().to_string();
        assert!(err.contains("oci:PATH:NAME") && err.contains("a, b"), "{err}");
        let single = vec![desc(Some("linux/arm64"), None)];
        assert!(choose("r", "index.json", single.clone(), &amd, false).is_ok());
        assert!(choose("r", "index.json", single, &amd, true).is_err());
    }
}
