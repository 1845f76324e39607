//! Image security (SPEC 3, 5): connected registries, the image catalogue (an image is a
//! repository of one kind; a version maps a tag to a digest), scans per digest, and stored
//! results that are always matched against the current vulnerability database.
//!
//! The SBOM is the unit kept: a digest is read once, whatever the number of tags, kinds
//! or registries naming it; its vulnerabilities are `match(stored inventory, database)`,
//! computed again when the database changes, never by reading the image again.

pub mod catalog;
pub mod detection_views;
pub mod ignores;
pub mod local;
pub mod registries;
pub mod report;
pub mod results;
pub mod scanning;
pub mod vex;
pub mod views;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use store::{JobRow, Store};

use crate::jobs::JobKind;
use crate::jobs::worker::Outcome;
use crate::seal::Sealer;
use crate::vulns::VulnDb;

/// The three kinds of image (SPEC 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// On protected nodes, reported by their shields.
    Local,
    /// In a connected private registry.
    Private,
    /// A watched public image.
    Official,
}

impl ImageKind {
    pub const ALL: [ImageKind; 3] = [ImageKind::Local, ImageKind::Private, ImageKind::Official];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Local => "local",
            ImageKind::Private => "private",
            ImageKind::Official => "official",
        }
    }

    pub fn parse(s: &str) -> Option<ImageKind> {
        ImageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a digest's scanning stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanStatus {
    NotScanned,
    Scanning,
    Completed,
    Failed { reason: String },
}

impl ScanStatus {
    pub const NAMES: [&'static str; 4] = ["not-scanned", "scanning", "completed", "failed"];

    pub fn of(scan: Option<&store::ScanRow>) -> ScanStatus {
        match scan.map(|s| (s.status.as_str(), s)) {
            None => ScanStatus::NotScanned,
            Some(("scanning", _)) => ScanStatus::Scanning,
            Some(("completed", _)) => ScanStatus::Completed,
            Some((_, s)) => ScanStatus::Failed { reason: s.error.clone() },
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ScanStatus::NotScanned => "not-scanned",
            ScanStatus::Scanning => "scanning",
            ScanStatus::Completed => "completed",
            ScanStatus::Failed { .. } => "failed",
        }
    }
}

/// Settings of the image security service.
#[derive(Debug, Clone)]
pub struct ImageSecurityConfig {
    /// Images whose layers add up to more than this are not scanned (compressed bytes).
    pub max_image_bytes: u64,
    /// Scans pulling from one registry at the same time, per process.
    pub pulls_per_registry: usize,
    /// Where scans may write temporary files (the Docker engine's save stream, CA files).
    pub temp_dir: Option<std::path::PathBuf>,
}

impl Default for ImageSecurityConfig {
    fn default() -> Self {
        ImageSecurityConfig { max_image_bytes: 10 << 30, pulls_per_registry: 2, temp_dir: None }
    }
}

/// The image security service, shared by handlers, the console and workers.
#[derive(Debug)]
pub struct ImageSecurity {
    pub store: Arc<dyn Store>,
    pub sealer: Arc<dyn Sealer>,
    pub vulns: Arc<VulnDb>,
    pub config: ImageSecurityConfig,
    /// Identifies this process in leases.
    pub instance: String,
    malware: Mutex<Option<detect::malware::Engine>>,
    pulls: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl ImageSecurity {
    pub fn new(
        store: Arc<dyn Store>,
        sealer: Arc<dyn Sealer>,
        vulns: Arc<VulnDb>,
        config: ImageSecurityConfig,
    ) -> ImageSecurity {
        ImageSecurity {
            store,
            sealer,
            vulns,
            config,
            instance: uuid::Uuid::new_v4().to_string(),
            malware: Mutex::new(None),
            pulls: Mutex::new(HashMap::new()),
        }
    }

    /// The malware engine, built once (compiling the rules takes a moment).
    fn malware_engine(&self) -> Result<detect::malware::Engine, String> {
        let mut slot = self.malware.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let engine = detect::malware::Engine::new(detect::malware::Config::default())
            .map_err(|e| format!("loading the malware rules: {e}"))?;
        *slot = Some(engine.clone());
        Ok(engine)
    }

    /// The limit on concurrent pulls from `host` in this process.
    fn pull_slot(&self, host: &str) -> Arc<tokio::sync::Semaphore> {
        let mut pulls = self.pulls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pulls
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(self.config.pulls_per_registry.max(1))))
            .clone()
    }

    /// Runs a claimed job (called by the worker pool).
    pub async fn run(&self, kind: JobKind, job: &JobRow, cancel: &Arc<AtomicBool>) -> Outcome {
        match kind {
            JobKind::ScanImage => scanning::run_scan(self, &job.subject, cancel).await,
            JobKind::SyncRegistry => registries::run_sync(self, &job.subject).await,
            JobKind::Rematch => results::run_rematch(self, cancel).await,
            JobKind::ScanLocal => local::wait_for_upload(self, job).await,
        }
    }

    /// Brings the views across images up to date with what changed (so that their next
    /// reads do not pay for it); a failure is logged, and the next read tries again.
    pub async fn refresh_views(&self) {
        if let Err(e) = self.store.vuln_views().refresh(crate::now_ms()).await {
            tracing::warn!(error = %e, "cannot bring the vulnerability views up to date");
        }
    }

    /// Records what a job that was given up means for its subject.
    pub async fn job_failed(&self, job: &JobRow, error: &str) {
        let recorded = match JobKind::parse(&job.kind) {
            Some(JobKind::ScanImage) => self.store.images().set_scan_state(&job.subject, "failed", error).await,
            Some(JobKind::ScanLocal) => local::rescan_failed(self, &job.subject, error).await,
            Some(JobKind::SyncRegistry) => {
                self.store.images().set_registry_sync(&job.subject, "failed", error, Some(crate::now_ms())).await
            }
            _ => Ok(()),
        };
        if let Err(e) = recorded {
            tracing::warn!(job = %job.id, error = %e, "cannot record a failed job");
        }
    }
}

/// The kind of image a view across images covers (`?view=`).
pub(crate) fn parse_view(s: &str) -> crate::Result<ImageKind> {
    ImageKind::parse(s).ok_or_else(|| crate::DomainError::invalid("view", "is 'local', 'private' or 'official'"))
}

/// Findings per urgency as the API shows them.
pub(crate) fn urgency_counts(c: &store::MatchCounts) -> api::images::UrgencyCounts {
    let n = |x: i64| u64::try_from(x).unwrap_or(0);
    api::images::UrgencyCounts { fix_asap: n(c.fix_asap), can_delay: n(c.can_delay), no_need_now: n(c.no_need_now) }
}

/// The namespace of a repository: its path before the last component.
pub fn organisation_of(repository: &str) -> String {
    repository.rsplit_once('/').map(|(org, _)| org.to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_and_kinds() {
        assert_eq!(organisation_of("team/app"), "team");
        assert_eq!(organisation_of("a/b/c"), "a/b");
        assert_eq!(organisation_of("app"), "");
        for k in ImageKind::ALL {
            assert_eq!(ImageKind::parse(k.as_str()), Some(k));
        }
    }
}
