//! Image sources: parsing `cguard scan IMAGE` references and opening them.

mod archive;
pub mod docker;
mod registry;

pub use registry::{RegistryBrowser, TagInfo};

use std::path::PathBuf;

use serde::Serialize;

use crate::{Error, Image};

/// Where an image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    DockerArchive,
    Oci,
    Docker,
    Dir,
    Registry,
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    DockerArchive(PathBuf),
    Oci(PathBuf),
    Docker(String),
    Dir(PathBuf),
    Registry(String),
}

impl SourceSpec {
    pub fn parse(reference: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Reference(reference.to_owned(), why.to_owned());
        let (scheme, rest) = match reference.split_once(':') {
            Some((s, r)) if ["docker-archive", "oci", "docker", "dir", "registry"].contains(&s) => (s, r),
            _ => ("registry", reference),
        };
        if rest.is_empty() {
            return Err(bad("empty reference"));
        }
        Ok(match scheme {
            "docker-archive" => SourceSpec::DockerArchive(rest.into()),
            "oci" => SourceSpec::Oci(rest.into()),
            "docker" => SourceSpec::Docker(rest.into()),
            "dir" => SourceSpec::Dir(rest.into()),
            _ => SourceSpec::Registry(rest.into()),
        })
    }
}

/// Options for opening an image.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `os/arch[/variant]` to pick from a multi-platform index (default `linux/amd64`).
    pub platform: Option<String>,
    /// Registry credentials given on the command line (override `~/.docker/config.json`).
    pub username: Option<String>,
    pub password: Option<String>,
    /// Registries (host[:port]) that may be reached over plain HTTP. HTTPS is tried first;
    /// plain HTTP is used when no TLS connection can be made. Loopback registries
    /// (`localhost`, `127.0.0.0/8`, `[::1]`) always may.
    pub insecure_registries: Vec<String>,
    /// Extra PEM certificate(s) trusted, besides the built-in roots, for HTTPS registries
    /// and their token servers (a private CA).
    pub ca_file: Option<PathBuf>,
    /// Directory holding the Docker CLI `config.json` to read registry logins from,
    /// instead of `$DOCKER_CONFIG` or `~/.docker`.
    pub docker_config_dir: Option<PathBuf>,
    /// Docker engine socket (default `/var/run/docker.sock` or `DOCKER_HOST`).
    pub docker_host: Option<String>,
}

pub(crate) fn open(reference: &str, options: &OpenOptions) -> Result<Image, Error> {
    match SourceSpec::parse(reference)? {
        SourceSpec::DockerArchive(path) => archive::open_docker_archive(reference, &path),
        SourceSpec::Oci(path) => archive::open_oci(reference, &path, options),
        SourceSpec::Docker(name) => docker::open(reference, &name, options),
        SourceSpec::Dir(path) => crate::dir::open(reference, &path),
        SourceSpec::Registry(name) => registry::open(reference, &name, options),
    }
}

/// For the fuzz targets: parse a registry document and pick a platform from an index.
pub(crate) fn fuzz_registry_document(bytes: &[u8]) {
    if let Ok(registry::manifest::Document::Index(index)) = registry::manifest::parse_document(bytes, None)
        && let Ok(want) = registry::manifest::WantedPlatform::parse("linux/arm64/v8")
    {
        let _ = registry::manifest::select(&index, &want);
    }
    let _ = registry::manifest::parse_document(bytes, Some("application/vnd.oci.image.manifest.v1+json"));
}
