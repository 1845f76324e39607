//! Connected private registries: add, change, remove, test, and sync (list every
//! repository and tag through the distribution API and bring the catalogue up to date).
//! Passwords are sealed at rest; TLS is verified unless the registry is marked insecure,
//! which only allows plain HTTP.

use api::images::{Registry, RegistryTest, RegistryWrite};
use image::source::{OpenOptions, RegistryBrowser, TagInfo};
use store::{ImageRow, PageReq, RegistryRow, Store, VersionRow};

use super::{ImageKind, ImageSecurity, organisation_of};
use crate::jobs::worker::Outcome;
use crate::jobs::{JobKind, Priority, enqueue};
use crate::seal::registry_password_purpose;
use crate::{DomainError, Result, now_ms, rfc3339};

pub fn to_api(r: &RegistryRow) -> Registry {
    Registry {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: r.kind.clone(),
        images: r.watched.clone(),
        url: r.url.clone(),
        username: r.username.clone(),
        has_password: !r.password_sealed.is_empty(),
        insecure: r.insecure,
        has_ca: !r.ca_pem.is_empty(),
        sync_interval_hours: u32::try_from(r.sync_interval_hours).unwrap_or(0),
        sync_state: r.sync_state.clone(),
        last_sync_at: r.last_sync_at.map(rfc3339),
        last_sync_error: r.last_sync_error.clone(),
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    }
}

/// `https://host[:port]` from what the user typed, and the host.
pub fn normalise_url(url: &str, insecure: bool) -> Result<(String, String)> {
    let url = url.trim().trim_end_matches('/');
    let (scheme, host) = match url.split_once("://") {
        Some((s, h)) => (s.to_ascii_lowercase(), h),
        None => ("https".to_owned(), url),
    };
    if scheme != "https" && scheme != "http" {
        return Err(DomainError::invalid("url", "must be https://host[:port] (or http:// with insecure)"));
    }
    if scheme == "http" && !insecure {
        return Err(DomainError::invalid("url", "plain http:// needs \"insecure\": true"));
    }
    let valid_host = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        && !host.starts_with([':', '.', '-']);
    if !valid_host {
        return Err(DomainError::invalid("url", "must name a registry host[:port] without a path"));
    }
    Ok((format!("{scheme}://{}", host.to_ascii_lowercase()), host.to_ascii_lowercase()))
}

/// The host part of a stored registry URL.
pub fn host_of(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, h)| h)
}

/// Most images an official registry watches.
const MAX_WATCHED: usize = 500;

/// Whether `reference` is `repository:tag` as the distribution grammar writes them.
fn valid_watched(reference: &str) -> bool {
    let Some((repo, tag)) = reference.rsplit_once(':') else { return false };
    let repo_ok = !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|part| {
            part.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    let tag_ok = (1..=128).contains(&tag.len())
        && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    repo_ok && tag_ok
}

/// The registry's kind and watched images from a request.
fn kind_and_watched(input: &RegistryWrite) -> Result<(ImageKind, Vec<String>)> {
    let kind = match input.kind.as_deref().unwrap_or("private") {
        "private" => ImageKind::Private,
        "official" => ImageKind::Official,
        _ => return Err(DomainError::invalid("kind", "private or official")),
    };
    let watched = input.images.clone().unwrap_or_default();
    match kind {
        ImageKind::Official if watched.is_empty() || watched.len() > MAX_WATCHED => {
            Err(DomainError::invalid("images", format!("an official registry watches 1 to {MAX_WATCHED} images")))
        }
        ImageKind::Official => match watched.iter().find(|r| !valid_watched(r)) {
            Some(bad) => Err(DomainError::invalid(
                "images",
                format!("{:?} is not repository:tag", bad.chars().take(80).collect::<String>()),
            )),
            None => {
                let mut w = watched;
                w.sort();
                w.dedup();
                Ok((kind, w))
            }
        },
        _ if !watched.is_empty() => {
            Err(DomainError::invalid("images", "only official registries list images: a private one syncs them all"))
        }
        _ => Ok((kind, watched)),
    }
}

fn check(input: &RegistryWrite) -> Result<()> {
    let name_ok = (1..=64).contains(&input.name.len())
        && input.name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !name_ok {
        return Err(DomainError::invalid("name", "1 to 64 letters, digits, '.', '_' or '-'"));
    }
    if input.username.as_ref().is_some_and(|u| u.len() > 256 || u.contains(['\n', '\r', ':'])) {
        return Err(DomainError::invalid("username", "at most 256 characters, without ':' or line breaks"));
    }
    if input.password.as_ref().is_some_and(|p| p.len() > 4096) {
        return Err(DomainError::invalid("password", "at most 4096 characters"));
    }
    if let Some(pem) = input.ca_pem.as_deref().filter(|p| !p.is_empty())
        && (pem.len() > 65536 || !pem.contains("-----BEGIN CERTIFICATE-----"))
    {
        return Err(DomainError::invalid("ca_pem", "PEM certificates (-----BEGIN CERTIFICATE-----), at most 64 KiB"));
    }
    if input.sync_interval_hours.is_some_and(|h| h > 720) {
        return Err(DomainError::invalid("sync_interval_hours", "0 to 720"));
    }
    Ok(())
}

impl ImageSecurity {
    /// Connects a registry and queues its first sync.
    pub async fn add_registry(&self, input: RegistryWrite) -> Result<Registry> {
        check(&input)?;
        let (kind, watched) = kind_and_watched(&input)?;
        let (url, _) = normalise_url(&input.url, input.insecure)?;
        let now = now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let password_sealed = match input.password.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => self.sealer.seal(&registry_password_purpose(&id), p.as_bytes()),
            None => String::new(),
        };
        let row = RegistryRow {
            id,
            name: input.name,
            kind: kind.as_str().into(),
            watched,
            url,
            username: input.username.unwrap_or_default(),
            password_sealed,
            insecure: input.insecure,
            ca_pem: input.ca_pem.unwrap_or_default(),
            sync_interval_hours: i64::from(input.sync_interval_hours.unwrap_or(24)),
            sync_state: "never".into(),
            last_sync_at: None,
            last_sync_error: String::new(),
            created_at: now,
            updated_at: now,
        };
        self.store.images().create_registry(&row).await.map_err(conflict)?;
        enqueue(self.store.as_ref(), JobKind::SyncRegistry, &row.id, Priority::New, "registry added").await?;
        Ok(to_api(&row))
    }

    /// Changes a registry (not its kind) and queues a sync.
    pub async fn update_registry(&self, id: &str, input: RegistryWrite) -> Result<Registry> {
        check(&input)?;
        let mut row = self.registry_row(id).await?;
        let (kind, watched) = kind_and_watched(&input)?;
        if kind.as_str() != row.kind {
            return Err(DomainError::invalid("kind", format!("this registry is {}; its kind cannot change", row.kind)));
        }
        row.watched = watched;
        let (url, _) = normalise_url(&input.url, input.insecure)?;
        row.name = input.name;
        row.url = url;
        row.username = input.username.unwrap_or_default();
        if let Some(p) = input.password {
            row.password_sealed = if p.is_empty() {
                String::new()
            } else {
                self.sealer.seal(&registry_password_purpose(id), p.as_bytes())
            };
        }
        row.insecure = input.insecure;
        if let Some(pem) = input.ca_pem {
            row.ca_pem = pem;
        }
        if let Some(h) = input.sync_interval_hours {
            row.sync_interval_hours = i64::from(h);
        }
        row.updated_at = now_ms();
        self.store.images().update_registry(&row).await.map_err(conflict)?;
        enqueue(self.store.as_ref(), JobKind::SyncRegistry, &row.id, Priority::New, "registry changed").await?;
        Ok(to_api(&row))
    }

    pub async fn remove_registry(&self, id: &str) -> Result<()> {
        if self.store.images().delete_registry(id).await? { Ok(()) } else { Err(not_found(id)) }
    }

    pub async fn registry(&self, id: &str) -> Result<Registry> {
        Ok(to_api(&self.registry_row(id).await?))
    }

    pub async fn list_registries(&self, page: &PageReq) -> Result<(Vec<Registry>, u64)> {
        let (rows, total) = self.store.images().list_registries(page).await?;
        Ok((rows.iter().map(to_api).collect(), total))
    }

    async fn registry_row(&self, id: &str) -> Result<RegistryRow> {
        self.store.images().registry(id).await?.ok_or_else(|| not_found(id))
    }

    /// Connects with the registry's settings and reads its catalog.
    pub async fn test_registry(&self, id: &str) -> Result<RegistryTest> {
        let row = self.registry_row(id).await?;
        let access = self.access(&row)?;
        let host = host_of(&row.url).to_owned();
        let outcome = tokio::task::spawn_blocking(move || {
            let browser = RegistryBrowser::connect(&host, &access.options)?;
            browser.repositories()
        })
        .await
        .map_err(|e| DomainError::Unavailable(format!("registry test stopped: {e}")))?;
        Ok(match outcome {
            Ok(repos) => RegistryTest {
                ok: true,
                message: format!("connected; the catalog lists {} repositories", repos.len()),
                repositories: Some(repos.len() as u64),
            },
            Err(e) => RegistryTest { ok: false, message: e.to_string(), repositories: None },
        })
    }

    /// Queues a sync of the registry; returns the job's id.
    pub async fn request_sync(&self, id: &str, by: &str, priority: Priority) -> Result<String> {
        self.registry_row(id).await?;
        let (job, _) = enqueue(self.store.as_ref(), JobKind::SyncRegistry, id, priority, by).await?;
        Ok(job)
    }

    /// The options that reach a registry: its credentials, its CA, its insecure flag, and
    /// no credentials from the server's own environment.
    pub(crate) fn access(&self, row: &RegistryRow) -> Result<Access> {
        let dir = match &self.config.temp_dir {
            Some(d) => tempfile::Builder::new().prefix("cguard-registry").tempdir_in(d),
            None => tempfile::Builder::new().prefix("cguard-registry").tempdir(),
        }
        .map_err(|e| DomainError::Unavailable(format!("temporary directory: {e}")))?;
        let mut options = OpenOptions { docker_config_dir: Some(dir.path().to_path_buf()), ..Default::default() };
        if !row.username.is_empty() {
            options.username = Some(row.username.clone());
            let password = if row.password_sealed.is_empty() {
                String::new()
            } else {
                let plain = self
                    .sealer
                    .open(&registry_password_purpose(&row.id), &row.password_sealed)
                    .map_err(|e| DomainError::Unavailable(format!("the registry's password cannot be opened: {e}")))?;
                String::from_utf8(plain)
                    .map_err(|_| DomainError::Unavailable("the stored password is not text".into()))?
            };
            options.password = Some(password);
        }
        if row.insecure {
            options.insecure_registries.push(host_of(&row.url).to_owned());
        }
        if !row.ca_pem.is_empty() {
            let path = dir.path().join("ca.pem");
            std::fs::write(&path, &row.ca_pem).map_err(|e| DomainError::Unavailable(format!("CA file: {e}")))?;
            options.ca_file = Some(path);
        }
        Ok(Access { options, _dir: dir })
    }
}

/// How to reach a registry; the temporary directory lives as long as this.
#[derive(Debug)]
pub(crate) struct Access {
    pub options: OpenOptions,
    _dir: tempfile::TempDir,
}

fn not_found(id: &str) -> DomainError {
    DomainError::NotFound(format!("registry {:?}", id.chars().take(80).collect::<String>()))
}

fn conflict(e: store::StoreError) -> DomainError {
    match e {
        store::StoreError::Conflict(what) => DomainError::Conflict(format!("{what} already exists")),
        other => other.into(),
    }
}

/// Every registry.
pub async fn all(store: &dyn Store) -> Result<Vec<RegistryRow>> {
    crate::every(None, |page| async move { store.images().list_registries(&page).await }).await
}

/// What a registry holds: repositories, each with its tags and what they point at.
type Listing = Vec<(String, Vec<(String, Result<TagInfo, String>)>)>;

/// Lists a registry: every repository and tag of its catalog, or only the watched
/// `repository:tag` references when `watched` is given.
fn list(host: &str, options: &OpenOptions, watched: Option<&[String]>) -> Result<Listing, String> {
    let browser = RegistryBrowser::connect(host, options).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let wanted: Vec<(String, Vec<String>)> = match watched {
        Some(refs) => {
            let mut by_repo: Vec<(String, Vec<String>)> = Vec::new();
            for r in refs {
                let Some((repo, tag)) = r.rsplit_once(':') else { continue };
                match by_repo.iter_mut().find(|(name, _)| name == repo) {
                    Some((_, tags)) => tags.push(tag.to_owned()),
                    None => by_repo.push((repo.to_owned(), vec![tag.to_owned()])),
                }
            }
            by_repo
        }
        None => browser
            .repositories()
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter_map(|repo| match browser.tags(&repo) {
                Ok(tags) => Some((repo, tags)),
                Err(e) => {
                    tracing::warn!(%host, repository = %repo, error = %e, "cannot list tags");
                    None
                }
            })
            .collect(),
    };
    for (repo, tags) in wanted {
        let described = tags
            .into_iter()
            .map(|tag| {
                let info = browser.describe(&repo, &tag).map_err(|e| e.to_string());
                (tag, info)
            })
            .collect();
        out.push((repo, described));
    }
    Ok(out)
}

fn parse_created(created: Option<&str>) -> Option<i64> {
    let t = time::OffsetDateTime::parse(created?, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The sync job: lists the registry, records every repository and tag, forgets what is
/// gone, and queues scans of digests never scanned.
pub(crate) async fn run_sync(service: &ImageSecurity, registry_id: &str) -> Outcome {
    let store = service.store.images();
    let row = match store.registry(registry_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Outcome::Fatal("the registry was removed".into()),
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let access = match service.access(&row) {
        Ok(a) => a,
        Err(e) => return Outcome::Fatal(e.to_string()),
    };
    if let Err(e) = store.set_registry_sync(registry_id, "syncing", "", None).await {
        return Outcome::Retry(e.to_string());
    }
    let host = host_of(&row.url).to_owned();
    let listing = {
        let host = host.clone();
        let watched = (row.kind == ImageKind::Official.as_str()).then(|| row.watched.clone());
        tokio::task::spawn_blocking(move || list(&host, &access.options, watched.as_deref())).await
    };
    let listing = match listing {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => {
            let _ = store.set_registry_sync(registry_id, "failed", &e, Some(now_ms())).await;
            return Outcome::Retry(e);
        }
        Err(e) => return Outcome::Retry(format!("the listing stopped: {e}")),
    };
    match record(service, &row, &host, listing).await {
        Ok(problems) => {
            let note = if problems.is_empty() { String::new() } else { problems.join("; ") };
            let _ = store.set_registry_sync(registry_id, "ok", &note, Some(now_ms())).await;
            service.refresh_views().await;
            Outcome::Done
        }
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Writes a listing into the catalogue; returns the tags that could not be described.
async fn record(service: &ImageSecurity, row: &RegistryRow, host: &str, listing: Listing) -> Result<Vec<String>> {
    let store = service.store.images();
    let now = now_ms();
    let mut problems = Vec::new();
    let repos: Vec<String> = listing.iter().map(|(r, _)| r.clone()).collect();
    for (repo, tags) in listing {
        let image = store
            .upsert_image(&ImageRow {
                id: uuid::Uuid::new_v4().to_string(),
                kind: row.kind.clone(),
                registry_id: row.id.clone(),
                registry_host: host.to_owned(),
                organisation: organisation_of(&repo),
                repository: repo.clone(),
                created_at: now,
                updated_at: now,
            })
            .await?;
        let mut kept = Vec::new();
        for (tag, info) in tags {
            let info = match info {
                Ok(i) => i,
                Err(e) => {
                    // A tag that cannot be read now keeps what was known of it.
                    problems.push(format!("{repo}:{tag}: {e}"));
                    kept.push(tag);
                    continue;
                }
            };
            store
                .upsert_version(&VersionRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    image_id: image.id.clone(),
                    tag: tag.clone(),
                    digest: info.digest.clone(),
                    size: i64::try_from(info.size).unwrap_or(i64::MAX),
                    pushed_at: parse_created(info.created.as_deref()),
                    seen_at: now,
                })
                .await?;
            kept.push(tag);
            if store.scan(&info.digest).await?.is_none() {
                enqueue(service.store.as_ref(), JobKind::ScanImage, &info.digest, Priority::New, "sync").await?;
            }
        }
        store.prune_versions(&image.id, &kept).await?;
    }
    store.prune_images(&row.id, &repos).await?;
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_and_checked() {
        assert_eq!(normalise_url("reg.example:5000", false).unwrap().0, "https://reg.example:5000");
        assert_eq!(normalise_url("https://Reg.Example/", false).unwrap().1, "reg.example");
        assert!(normalise_url("http://reg.example", false).is_err());
        assert_eq!(normalise_url("http://127.0.0.1:5000", true).unwrap().0, "http://127.0.0.1:5000");
        assert!(normalise_url("ftp://x", true).is_err());
        assert!(normalise_url("https://x/path", false).is_err());
        assert!(normalise_url("", false).is_err());
        assert!(normalise_url("https://user@x", false).is_err());
    }

    #[test]
    fn watched_references_are_repository_and_tag() {
        assert!(valid_watched("library/nginx:1.27"));
        assert!(valid_watched("busybox:latest"));
        assert!(!valid_watched("library/nginx"));
        assert!(!valid_watched("Library/nginx:1"));
        assert!(!valid_watched("../x:1"));
        assert!(!valid_watched("nginx:-x"));
        assert!(!valid_watched("nginx@sha256:00"));
    }
}
