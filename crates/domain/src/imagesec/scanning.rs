//! Scanning one digest: pull it from a registry that names it (with that registry's
//! credentials, at most a few pulls per registry at a time), run every analysis but the
//! vulnerability match, keep the report, and match it against the current database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use store::CatalogEntry;

use super::registries::host_of;
use super::{ImageKind, ImageSecurity, results};
use crate::jobs::worker::Outcome;
use crate::jobs::{JobKind, Priority, enqueue};
use crate::{DomainError, Result};

impl ImageSecurity {
    /// Queues a scan of a catalogue version's digest (a manual scan runs before any
    /// scheduled work); returns the job's id. A local image is scanned by the shield of a
    /// node that holds it: the job asks the nodes and waits for the upload.
    pub async fn request_scan(&self, version_id: &str, by: &str) -> Result<String> {
        let entry = self.store.images().version(version_id).await?.ok_or_else(|| {
            DomainError::NotFound(format!("image {:?}", version_id.chars().take(80).collect::<String>()))
        })?;
        let kind = match ImageKind::parse(&entry.image.kind) {
            Some(ImageKind::Local) => JobKind::ScanLocal,
            _ => JobKind::ScanImage,
        };
        let (job, new) = enqueue(self.store.as_ref(), kind, &entry.version.digest, Priority::Manual, by).await?;
        if new && kind == JobKind::ScanLocal {
            self.store.images().set_scan_state(&entry.version.digest, "scanning", "").await?;
        }
        Ok(job)
    }
}

/// Errors that would come back on every attempt.
fn is_permanent(e: &image::Error) -> bool {
    matches!(
        e,
        image::Error::HostileEntry { .. }
            | image::Error::Bomb { .. }
            | image::Error::TooManyEntries { .. }
            | image::Error::DigestMismatch { .. }
            | image::Error::Format(_)
            | image::Error::NotFound(_)
            | image::Error::Reference(..)
    )
}

/// The scan job for `digest`.
pub(crate) async fn run_scan(service: &ImageSecurity, digest: &str, cancel: &Arc<AtomicBool>) -> Outcome {
    let images = service.store.images();
    let entries = match images.versions_of_digest(digest).await {
        Ok(e) => e,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let Some(entry) = entries.iter().find(|e| !e.image.registry_id.is_empty()) else {
        return Outcome::Fatal("no registry image names this digest any more".into());
    };
    let had_result = matches!(images.scan(digest).await, Ok(Some(s)) if s.scanned_at.is_some());
    if let Err(e) = images.set_scan_state(digest, "scanning", "").await {
        return Outcome::Retry(e.to_string());
    }
    let outcome = scan_entry(service, entry, digest, cancel).await;
    if matches!(outcome, Outcome::Cancelled) {
        let (state, note) = if had_result { ("completed", "") } else { ("failed", "the scan was cancelled") };
        let _ = images.set_scan_state(digest, state, note).await;
    }
    outcome
}

async fn scan_entry(service: &ImageSecurity, entry: &CatalogEntry, digest: &str, cancel: &Arc<AtomicBool>) -> Outcome {
    let images = service.store.images();
    let registry = match images.registry(&entry.image.registry_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Outcome::Fatal("the image's registry was removed".into()),
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let access = match service.access(&registry) {
        Ok(a) => a,
        Err(e) => return Outcome::Fatal(e.to_string()),
    };
    let malware = match service.malware_engine() {
        Ok(m) => m,
        Err(e) => return Outcome::Fatal(e),
    };
    let host = host_of(&registry.url).to_owned();
    let reference = format!("registry:{host}/{}@{digest}", entry.image.repository);
    let slot = service.pull_slot(&host);
    let Ok(_permit) = slot.acquire().await else {
        return Outcome::Retry("shutting down".into());
    };
    if cancel.load(Ordering::Relaxed) {
        return Outcome::Cancelled;
    }
    let max = service.config.max_image_bytes;
    let scanned = tokio::task::spawn_blocking(move || -> Result<scan::Report, (bool, String)> {
        let options = scan::Options {
            open: access.options.clone(),
            malware: Some(malware),
            secrets: true,
            baseline: true,
            ..Default::default()
        };
        let img = image::Image::open(&reference, &options.open).map_err(|e| (is_permanent(&e), e.to_string()))?;
        let declared: u64 = img.layers.iter().filter_map(|l| l.size).sum();
        if declared > max {
            return Err((true, format!("the image is {declared} bytes, more than the {max}-byte limit")));
        }
        scan::scan_image(&img, &options).map_err(|e| {
            let scan::Error::Image(inner) = &e;
            (is_permanent(inner), e.to_string())
        })
    })
    .await;
    let report = match scanned {
        Ok(Ok(r)) => r,
        Ok(Err((true, e))) => return Outcome::Fatal(e),
        Ok(Err((false, e))) => {
            let _ = images.set_scan_state(digest, "scanning", &e).await;
            return Outcome::Retry(e);
        }
        Err(e) => return Outcome::Retry(format!("the scan stopped: {e}")),
    };
    if cancel.load(Ordering::Relaxed) {
        return Outcome::Cancelled;
    }
    match store_report(service, digest, report).await {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Retry(e),
    }
}

/// Keeps a report (its vulnerabilities are always matched from the inventory) and its
/// first match.
pub async fn store_report(service: &ImageSecurity, digest: &str, mut report: scan::Report) -> Result<(), String> {
    report.vulnerabilities = None;
    let found = results::found(&report);
    let detections = results::detections(&report);
    let ((counts, findings), db, encoded) = {
        let db = service.vulns.current().ok();
        tokio::task::spawn_blocking(move || {
            let matched =
                db.as_ref().map(|db| results::matched(&results::match_report(&report, db))).unwrap_or_default();
            scan::packed::pack(&report).map(|e| (matched, db.map(|d| d.version).unwrap_or_default(), e))
        })
        .await
        .map_err(|e| e.to_string())??
    };
    service
        .store
        .images()
        .store_result(
            digest,
            &store::NewResult {
                report: &encoded,
                found: &found,
                counts: &counts,
                findings: &findings,
                detections: &detections,
                db: &db,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    service.refresh_views().await;
    Ok(())
}
