//! Manifest documents of the distribution API: Docker schema 2 manifests and manifest
//! lists, OCI manifests and indexes, and choosing one platform from a list.

use serde::Deserialize;

use super::reference::check_digest;
use crate::Error;

pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The `Accept` header of manifest requests: every document type this client reads.
pub(crate) const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// Config media types of container images (anything else is an artifact: a Helm chart,
/// a signature, ...).
const IMAGE_CONFIG_TYPES: [&str; 2] =
    ["application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"];

/// Layer media types of container images; [`apply_layer`](crate::apply_layer) sniffs the
/// compression itself.
const LAYER_TYPES: [&str; 9] = [
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
];

/// A content descriptor: what a manifest or index points at.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(default, rename = "mediaType")]
    pub media_type: Option<String>,
    pub digest: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub urls: Vec<String>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// The platform of an index entry.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match self.variant.as_deref() {
            Some(v) if !v.is_empty() => write!(f, "/{v}"),
            _ => Ok(()),
        }
    }
}

/// An image manifest (Docker schema 2 or OCI).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ImageManifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Index {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// A parsed manifest document.
#[derive(Debug, Clone)]
pub(crate) enum Document {
    Manifest(ImageManifest),
    Index(Index),
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default, rename = "schemaVersion")]
    schema_version: Option<u64>,
    #[serde(default, rename = "mediaType")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
}

/// Parses a manifest document. Its own `mediaType` field wins over the `Content-Type` the
/// registry sent; without either, the shape of the document decides.
pub(crate) fn parse_document(bytes: &[u8], content_type: Option<&str>) -> Result<Document, Error> {
    let bad = |why: String| Error::Format(format!("manifest: {why}"));
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| bad(format!("not a JSON manifest: {e}")))?;
    let header_type = content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
    let media_type = probe.media_type.clone().or(header_type.filter(|t| t.starts_with("application/vnd.")));
    if probe.schema_version == Some(1) || media_type.as_deref().is_some_and(|t| DOCKER_SCHEMA1.contains(&t)) {
        return Err(Error::Format(
            "Docker schema 1 manifests are not supported (they are deprecated; push the image again with a current client)"
                .into(),
        ));
    }
    let is_index = match media_type.as_deref() {
        Some(DOCKER_LIST | OCI_INDEX) => true,
        Some(DOCKER_MANIFEST | OCI_MANIFEST) => false,
        Some(other) => return Err(bad(format!("unsupported media type {other:?}"))),
        None if probe.manifests.is_some() => true,
        None if probe.config.is_some() => false,
        None => return Err(bad("neither an image manifest nor an index".into())),
    };
    let document = if is_index {
        let index: Index = serde_json::from_slice(bytes).map_err(|e| bad(format!("malformed index: {e}")))?;
        for entry in &index.manifests {
            check_digest(&entry.digest).map_err(|why| bad(format!("index entry: {why}")))?;
        }
        Document::Index(index)
    } else {
        let manifest: ImageManifest = serde_json::from_slice(bytes).map_err(|e| bad(format!("malformed: {e}")))?;
        check_digest(&manifest.config.digest).map_err(|why| bad(format!("config: {why}")))?;
        for layer in &manifest.layers {
            check_digest(&layer.digest).map_err(|why| bad(format!("layer: {why}")))?;
        }
        Document::Manifest(manifest)
    };
    Ok(document)
}

/// Refuses manifests of artifacts that are not container images, and layers this
/// client cannot fetch.
pub(crate) fn check_image_manifest(manifest: &ImageManifest) -> Result<(), Error> {
    if let Some(t) = manifest.config.media_type.as_deref()
        && !IMAGE_CONFIG_TYPES.contains(&t)
    {
        return Err(Error::Format(format!("unsupported config media type {t:?}: not a container image")));
    }
    for (index, layer) in manifest.layers.iter().enumerate() {
        if !layer.urls.is_empty() {
            return Err(Error::Format(format!(
                "layer {index} ({}) is a foreign, non-distributable layer that lives outside the registry \
                 (urls: {}); foreign layers are not fetched",
                layer.digest,
                layer.urls.join(", ")
            )));
        }
        if let Some(t) = layer.media_type.as_deref()
            && !LAYER_TYPES.contains(&t)
        {
            return Err(Error::Format(format!("layer {index} has unsupported media type {t:?}")));
        }
    }
    Ok(())
}

/// The platform asked for: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WantedPlatform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl WantedPlatform {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Reference(text.to_owned(), "a platform is os/architecture[/variant], like linux/arm64/v8".to_owned())
        };
        let parts: Vec<&str> = text.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(bad()),
        };
        if [os, arch].iter().chain(variant.iter()).any(|p| p.is_empty()) {
            return Err(bad());
        }
        Ok(WantedPlatform {
            os: os.to_ascii_lowercase(),
            architecture: normalize_arch(&arch.to_ascii_lowercase()).to_owned(),
            variant: variant.map(str::to_ascii_lowercase),
        })
    }

    /// Whether an index entry's platform is this one. A variant is compared only when one
    /// was asked for; `arm64` entries without a variant are `v8`.
    pub fn matches(&self, p: &Platform) -> bool {
        if !p.os.eq_ignore_ascii_case(&self.os)
            || normalize_arch(&p.architecture.to_ascii_lowercase()) != self.architecture
        {
            return false;
        }
        match (&self.variant, p.variant.as_deref().filter(|v| !v.is_empty())) {
            (None, _) => true,
            (Some(want), Some(have)) => have.eq_ignore_ascii_case(want),
            (Some(want), None) => self.architecture == "arm64" && want == "v8",
        }
    }
}

impl std::fmt::Display for WantedPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) => write!(f, "/{v}"),
            None => Ok(()),
        }
    }
}

/// Architecture names as the Go toolchain spells them.
fn normalize_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        other => other,
    }
}

/// Picks the entry of `index` for `want`, or says which platforms the index offers.
pub(crate) fn select<'a>(index: &'a Index, want: &WantedPlatform) -> Result<&'a Descriptor, Error> {
    let found = index.manifests.iter().find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)));
    if let Some(d) = found {
        return Ok(d);
    }
    // Attestation manifests and other artifacts carry `unknown/unknown`: not platforms.
    let mut offered: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .filter(|p| p.os != "unknown" && !p.os.is_empty())
        .map(Platform::to_string)
        .collect();
    offered.dedup();
    let offered = if offered.is_empty() { "none".to_owned() } else { offered.join(", ") };
    Err(Error::NotFound(format!("no image for platform {want} in the index; it offers: {offered}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn index_json() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":10,"platform":{{"os":"linux","architecture":"amd64"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":10,"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":10,"platform":{{"os":"unknown","architecture":"unknown"}}}}
            ]}}"#
        )
    }

    fn index() -> Index {
        match parse_document(index_json().as_bytes(), None).unwrap() {
            Document::Index(i) => i,
            Document::Manifest(_) => panic!("an index was read as a manifest"),
        }
    }

    fn want(s: &str) -> WantedPlatform {
        WantedPlatform::parse(s).unwrap()
    }

    #[test]
    fn selects_platform_with_and_without_variant() {
        let i = index();
        assert_eq!(select(&i, &want("linux/amd64")).unwrap().digest, D1);
        assert_eq!(select(&i, &want("linux/arm64")).unwrap().digest, D2);
        assert_eq!(select(&i, &want("linux/arm64/v8")).unwrap().digest, D2);
        assert_eq!(select(&i, &want("linux/aarch64")).unwrap().digest, D2);
        let err = select(&i, &want("linux/s390x")).unwrap_err().to_string();
        assert!(err.contains("linux/s390x") && err.contains("linux/amd64, linux/arm64/v8"), "{err}");
        assert!(!err.contains("unknown"), "{err}");
        assert!(select(&i, &want("linux/arm64/v9")).is_err());
    }

    #[test]
    fn arm64_without_variant_is_v8() {
        let p = Platform { os: "linux".into(), architecture: "arm64".into(), variant: None };
        assert!(want("linux/arm64/v8").matches(&p));
        assert!(!want("linux/arm/v7").matches(&p));
    }

    #[test]
    fn platform_syntax() {
        assert_eq!(want("Linux/X86_64").to_string(), "linux/amd64");
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", ""] {
            assert!(WantedPlatform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn media_type_from_document_header_or_shape() {
        let manifest = format!(r#"{{"schemaVersion":2,"config":{{"digest":"{D1}"}},"layers":[{{"digest":"{D2}"}}]}}"#);
        assert!(matches!(parse_document(manifest.as_bytes(), None).unwrap(), Document::Manifest(_)));
        assert!(matches!(
            parse_document(manifest.as_bytes(), Some("application/vnd.oci.image.manifest.v1+json; charset=x")).unwrap(),
            Document::Manifest(_)
        ));
        // The registry's generic content type does not override the document's shape.
        assert!(matches!(
            parse_document(manifest.as_bytes(), Some("application/json")).unwrap(),
            Document::Manifest(_)
        ));
        let err = parse_document(manifest.as_bytes(), Some("application/vnd.cncf.helm.config")).unwrap_err();
        assert!(err.to_string().contains("unsupported media type"), "{err}");
        let schema1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        assert!(parse_document(schema1, None).unwrap_err().to_string().contains("schema 1"));
    }

    #[test]
    fn refuses_bad_digests_and_shapes() {
        let path_escape = r#"{"config":{"digest":"sha256:../../etc"},"layers":[]}"#;
        assert!(parse_document(path_escape.as_bytes(), None).is_err());
        let bad_size = format!(r#"{{"config":{{"digest":"{D1}","size":-1}}}}"#);
        assert!(parse_document(bad_size.as_bytes(), None).is_err());
        assert!(parse_document(b"[]", None).is_err());
        assert!(parse_document(b"{}", None).is_err());
        assert!(parse_document(b"\xff", None).is_err());
    }

    #[test]
    fn foreign_layers_and_artifacts_are_refused() {
        let doc = format!(
            r#"{{"config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{D1}"}},
               "layers":[{{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"{D2}",
               "urls":["https://example.com/layer"]}}]}}"#
        );
        let Document::Manifest(m) = parse_document(doc.as_bytes(), None).unwrap() else { panic!("not a manifest") };
        let err = check_image_manifest(&m).unwrap_err().to_string();
        assert!(err.contains("foreign") && err.contains("https://example.com/layer"), "{err}");
        let doc = format!(r#"{{"config":{{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"{D1}"}}}}"#);
        let Document::Manifest(m) = parse_document(doc.as_bytes(), None).unwrap() else { panic!("not a manifest") };
        assert!(check_image_manifest(&m).unwrap_err().to_string().contains("not a container image"));
    }
}
