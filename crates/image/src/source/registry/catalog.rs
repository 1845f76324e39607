//! Listing what a registry holds: its repositories (`/v2/_catalog`), their tags
//! (`/v2/<name>/tags/list`), both paginated with `n`/`last` and the `Link` header, and what
//! a tag points at (manifest digest, size, creation date) without reading any layer.

use reqwest::header::LINK;
use serde::Deserialize;

use super::client::{RegistryClient, read_capped};
use super::manifest::{self, WantedPlatform};
use super::reference::Reference;
use super::{DEFAULT_PLATFORM, fetch_document_blob_in, fetch_manifest_in, resolve_platform_in};
use crate::source::OpenOptions;
use crate::{Error, ImageConfig, Limits};

/// Entries asked for per page.
const PAGE_SIZE: usize = 200;
/// Pages followed at most for one list: a registry that keeps sending `Link` headers is
/// broken or hostile.
const MAX_PAGES: usize = 10_000;

/// What a tag points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    /// Digest of the document the tag names (an index for multi-platform images), as
    /// `docker pull NAME@DIGEST` takes it.
    pub digest: String,
    /// Digest of the platform's image manifest.
    pub manifest_digest: String,
    /// Compressed size: config and layer blobs of the platform's manifest.
    pub size: u64,
    /// The image config's `created` (RFC 3339), when present.
    pub created: Option<String>,
}

/// A connection to a registry for listing its contents.
pub struct RegistryBrowser {
    client: RegistryClient,
    registry: String,
    platform: WantedPlatform,
}

impl std::fmt::Debug for RegistryBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryBrowser").field("registry", &self.registry).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl RegistryBrowser {
    /// Connects to `registry` (`host[:port]`) with the options' credentials, CA and
    /// insecure list, and learns how it authenticates.
    pub fn connect(registry: &str, options: &OpenOptions) -> Result<RegistryBrowser, Error> {
        let reference = Reference::parse(&format!("{registry}/cguard-probe"))?;
        if reference.registry != registry {
            return Err(Error::Reference(registry.to_owned(), "not a registry host[:port]".into()));
        }
        let platform = WantedPlatform::parse(options.platform.as_deref().unwrap_or(DEFAULT_PLATFORM))?;
        let client = RegistryClient::connect(&reference, options)?;
        Ok(RegistryBrowser { client, registry: registry.to_owned(), platform })
    }

    /// Every repository in the registry's catalog, in the registry's order.
    pub fn repositories(&self) -> Result<Vec<String>, Error> {
        self.paginate("_catalog", "registry:catalog:*", "", "the catalog", |bytes| {
            let page: CatalogPage = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            Ok(page.repositories.unwrap_or_default())
        })
    }

    /// Every tag of `repository`.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>, Error> {
        check_repository_name(repository)?;
        let scope = format!("repository:{repository}:pull");
        self.paginate(&format!("{repository}/tags/list"), &scope, repository, "the tag list", |bytes| {
            let page: TagsPage = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            Ok(page.tags.unwrap_or_default())
        })
    }

    /// The digest, size and date of `repository:tag`, from its manifest and config.
    pub fn describe(&self, repository: &str, tag: &str) -> Result<TagInfo, Error> {
        let reference = Reference::parse(&format!("{}/{repository}:{tag}", self.registry))?;
        let top = fetch_manifest_in(&self.client, &reference.repository, reference.manifest_ref(), None)?;
        let digest = top.digest.clone();
        let (manifest, manifest_digest) =
            resolve_platform_in(&self.client, &reference.repository, top, &self.platform)?;
        manifest::check_image_manifest(&manifest)?;
        let size = manifest.config.size.unwrap_or(0) + manifest.layers.iter().filter_map(|l| l.size).sum::<u64>();
        let config_bytes =
            fetch_document_blob_in(&self.client, &reference.repository, &manifest.config.digest, "image config")?;
        let config = ImageConfig::parse(&config_bytes)?;
        Ok(TagInfo { digest, manifest_digest, size, created: config.created.clone() })
    }

    /// Follows a paginated list from `/v2/<path>?n=…` through its `Link` headers.
    fn paginate(
        &self,
        path: &str,
        scope: &str,
        repository: &str,
        what: &str,
        parse: impl Fn(&[u8]) -> Result<Vec<String>, String>,
    ) -> Result<Vec<String>, Error> {
        let mut out: Vec<String> = Vec::new();
        let mut next = Some(format!("{path}?n={PAGE_SIZE}"));
        let mut pages = 0;
        while let Some(current) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(self.client.registry_error(format!("{what} has more than {MAX_PAGES} pages")));
            }
            let response = self.client.get_url(&current, scope, None, what, repository)?;
            next = response
                .headers()
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .and_then(|link| link.strip_prefix("/v2/").map(str::to_owned));
            let bytes = read_capped(response, Limits::default().max_document_bytes)
                .map_err(|why| self.client.registry_error(format!("{what}: {why}")))?;
            let items =
                parse(&bytes).map_err(|why| self.client.registry_error(format!("{what} is not valid: {why}")))?;
            if items.is_empty() {
                break;
            }
            // A page that repeats the last entry would loop for ever.
            if next.is_some() && out.last() == items.last() {
                break;
            }
            out.extend(items);
        }
        Ok(out)
    }
}

/// The target of a `Link: </v2/_catalog?last=x&n=100>; rel="next"` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        if !is_next {
            return None;
        }
        // Absolute links are reduced to their path: the client stays on its registry.
        let path = match target.find("://") {
            Some(i) => target[i + 3..].find('/').map(|j| &target[i + 3 + j..])?,
            None => target,
        };
        Some(path.to_owned())
    })
}

fn check_repository_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|part| {
            part.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if ok { Ok(()) } else { Err(Error::Reference(name.to_owned(), "not a repository name".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_read_and_kept_on_the_registry() {
        assert_eq!(next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(), Some("/v2/_catalog?last=b&n=2"));
        assert_eq!(
            next_link(r#"<https://elsewhere.example/v2/x/tags/list?last=1>; rel="next""#).as_deref(),
            Some("/v2/x/tags/list?last=1")
        );
        assert_eq!(next_link(r#"</v2/_catalog?last=b>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn repository_names_are_checked_before_use_in_a_path() {
        assert!(check_repository_name("team/app").is_ok());
        assert!(check_repository_name("../x").is_err());
        assert!(check_repository_name("a//b").is_err());
        assert!(check_repository_name("A").is_err());
    }
}
