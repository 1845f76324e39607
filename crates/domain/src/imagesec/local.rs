//! Local images: the images protected nodes hold, as their shields report them. The server
//! records them in the catalogue, asks a node that holds an image nobody scanned yet to
//! scan it with its own engine, and keeps the uploaded report like any other scan (its
//! vulnerabilities are matched here).

use std::collections::HashMap;

use api::shield::{LocalImage, LocalScan};
use store::{ImageRow, JobFilter, JobRow, VersionRow};

use super::{ImageKind, ImageSecurity, organisation_of, scanning};
use crate::jobs::JobKind;
use crate::jobs::worker::Outcome;
use crate::{DomainError, Result, now_ms};

/// Most images a node reports.
pub const MAX_LOCAL_IMAGES: usize = 2000;
/// A local image whose scan failed is asked for again after this long.
const SCAN_RETRY_MS: i64 = 60 * 60_000;

fn valid_id(id: &str) -> bool {
    id.strip_prefix("sha256:").is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks a node's report of its images.
pub fn validate(images: &[LocalImage]) -> Result<()> {
    if images.len() > MAX_LOCAL_IMAGES {
        return Err(DomainError::invalid("local_images", format!("at most {MAX_LOCAL_IMAGES} images")));
    }
    for i in images {
        if !valid_id(&i.id) {
            return Err(DomainError::invalid("local_images", "an image id is not sha256:<64 hex digits>"));
        }
        let names = i.repo_tags.iter().chain(&i.repo_digests);
        if i.repo_tags.len() + i.repo_digests.len() > 100 || names.clone().any(|n| n.len() > 512) {
            return Err(DomainError::invalid("local_images", "at most 100 names of at most 512 characters"));
        }
    }
    Ok(())
}

/// The digest a local image's results are kept under: the registry manifest it was pulled
/// as (so that a registry's scan of the same image serves it), else its engine id.
pub fn digest_of(image: &LocalImage) -> String {
    image
        .repo_digests
        .iter()
        .filter_map(|d| d.rsplit_once('@').map(|(_, digest)| digest))
        .find(|d| valid_id(d))
        .map_or_else(|| image.id.clone(), str::to_owned)
}

/// `repository:tag` split where the tag starts (a registry port is not a tag).
fn split_tag(name: &str) -> Option<(&str, &str)> {
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let colon = name[slash..].rfind(':')? + slash;
    Some((&name[..colon], &name[colon + 1..])).filter(|(r, t)| !r.is_empty() && !t.is_empty())
}

impl ImageSecurity {
    /// Records the images a node reports (when they changed since its last report) and
    /// returns the engine ids of those it should scan: at most one at a time.
    pub async fn node_images(&self, previous: Option<&[LocalImage]>, images: &[LocalImage]) -> Result<Vec<String>> {
        validate(images)?;
        let store = self.store.images();
        let now = now_ms();
        if previous != Some(images) {
            for image in images {
                let digest = digest_of(image);
                for name in &image.repo_tags {
                    let Some((repository, tag)) = split_tag(name) else { continue };
                    let row = store
                        .upsert_image(&ImageRow {
                            id: uuid::Uuid::new_v4().to_string(),
                            kind: ImageKind::Local.as_str().into(),
                            registry_id: String::new(),
                            registry_host: String::new(),
                            repository: repository.to_owned(),
                            organisation: organisation_of(repository),
                            created_at: now,
                            updated_at: now,
                        })
                        .await?;
                    store
                        .upsert_version(&VersionRow {
                            id: uuid::Uuid::new_v4().to_string(),
                            image_id: row.id,
                            tag: tag.to_owned(),
                            digest: digest.clone(),
                            size: i64::try_from(image.size).unwrap_or(i64::MAX),
                            pushed_at: (image.created > 0).then(|| image.created.saturating_mul(1000)),
                            seen_at: now,
                        })
                        .await?;
                }
            }
        }
        // The first image without a result is asked for at every heartbeat until its upload
        // arrives (the shield scans each once); its state says it is being scanned. One
        // query looks up the scans of all the node's images.
        let named: Vec<&LocalImage> = images.iter().filter(|i| !i.repo_tags.is_empty()).collect();
        let digests: Vec<String> = named.iter().map(|i| digest_of(i)).collect();
        let mut scans = std::collections::HashMap::new();
        for chunk in digests.chunks(1000) {
            scans.extend(store.scans(chunk).await?.into_iter().map(|s| (s.digest.clone(), s)));
        }
        let requested = self.rescans_requested().await?;
        for (image, digest) in named.iter().zip(&digests) {
            let scanned_at = scans.get(digest).and_then(|s| s.scanned_at);
            match scans.get(digest) {
                // A user asked for a new scan after the last one.
                _ if requested.get(digest).is_some_and(|&at| scanned_at.is_none_or(|t| t < at)) => {}
                None => store.set_scan_state(digest, "scanning", "").await?,
                Some(s) if s.scanned_at.is_none() && s.status == "scanning" => {}
                Some(s) if s.scanned_at.is_none() && now - s.updated_at > SCAN_RETRY_MS => {
                    store.set_scan_state(digest, "scanning", "").await?;
                }
                Some(_) => continue,
            }
            return Ok(vec![image.id.clone()]);
        }
        Ok(Vec::new())
    }

    /// The digests a user asked to scan again (`scan-local` jobs not finished yet), with
    /// when they asked.
    async fn rescans_requested(&self) -> Result<HashMap<String, i64>> {
        let jobs = self.store.jobs();
        let mut out = HashMap::new();
        for state in ["queued", "running"] {
            let filter =
                JobFilter { kind: Some(JobKind::ScanLocal.as_str().into()), state: Some(state.into()), subject: None };
            let filter = &filter;
            let rows = crate::every(None, |p| async move { jobs.list_jobs(filter, &p).await }).await?;
            for j in rows {
                let at = out.entry(j.subject).or_insert(j.created_at);
                *at = (*at).min(j.created_at);
            }
        }
        Ok(out)
    }

    /// Keeps a scan a node made of one of the images it reported; returns the digest it
    /// is kept under.
    pub async fn local_scan(&self, reported: &[LocalImage], scan: &LocalScan) -> Result<String> {
        let image = reported
            .iter()
            .find(|i| i.id == scan.image_id)
            .ok_or_else(|| DomainError::invalid("image_id", "not an image this node reported in its heartbeat"))?;
        let packed = scan.report.clone();
        let report = tokio::task::spawn_blocking(move || scan::packed::unpack(&packed))
            .await
            .map_err(|e| DomainError::Unavailable(e.to_string()))?
            .map_err(|e| DomainError::invalid("report", e))?;
        if report.image.id.as_deref() != Some(image.id.as_str()) {
            return Err(DomainError::invalid("report", "the report is of another image"));
        }
        let digest = digest_of(image);
        scanning::store_report(self, &digest, report).await.map_err(DomainError::Unavailable)?;
        Ok(digest)
    }
}

/// A `scan-local` job: done once a scan of its digest newer than the request arrived.
pub(crate) async fn wait_for_upload(service: &ImageSecurity, job: &JobRow) -> Outcome {
    match service.store.images().scan(&job.subject).await {
        Ok(Some(s)) if s.scanned_at.is_some_and(|t| t >= job.created_at) => Outcome::Done,
        Ok(_) => Outcome::Wait("waiting for a node that holds the image to upload its scan".into()),
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// A requested scan that no node uploaded: an image scanned before keeps its result.
pub(crate) async fn rescan_failed(service: &ImageSecurity, digest: &str, error: &str) -> store::Result<()> {
    let images = service.store.images();
    match images.scan(digest).await? {
        Some(s) if s.scanned_at.is_some() => images.set_scan_state(digest, "completed", "").await,
        _ => images.set_scan_state(digest, "failed", error).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(digests: &[&str]) -> LocalImage {
        LocalImage {
            id: format!("sha256:{}", "a".repeat(64)),
            repo_tags: vec!["team/app:1".into()],
            repo_digests: digests.iter().map(|d| d.to_string()).collect(),
            size: 1,
            created: 0,
        }
    }

    #[test]
    fn results_key_on_the_registry_digest_when_there_is_one() {
        assert_eq!(digest_of(&image(&[])), format!("sha256:{}", "a".repeat(64)));
        let pulled = format!("reg.example/team/app@sha256:{}", "b".repeat(64));
        assert_eq!(digest_of(&image(&[&pulled])), format!("sha256:{}", "b".repeat(64)));
        assert_eq!(digest_of(&image(&["junk"])), format!("sha256:{}", "a".repeat(64)));
        assert_eq!(split_tag("127.0.0.1:5000/team/app:1.0"), Some(("127.0.0.1:5000/team/app", "1.0")));
        assert_eq!(split_tag("127.0.0.1:5000/team/app"), None);
        assert!(validate(&[LocalImage { id: "sha256:zz".into(), ..image(&[]) }]).is_err());
    }
}
