//! The worker pool: each worker claims the most urgent ready job, holds its lease while it
//! runs (renewed in the background), and ends it as done, to retry with backoff, or failed.
//! A worker killed mid-job loses nothing: its lease runs out and another worker takes the job.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use store::{Claim, JobEnd, JobRow};
use tokio::sync::watch;

use super::{JobKind, Priority, backoff_ms};
use crate::imagesec::ImageSecurity;

/// The pool's settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Workers in this process. With two or more, the first takes only manual and new
    /// work, so that the scheduled full detection never holds every worker.
    pub workers: usize,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// Names this process in leases (made unique per worker).
    pub name: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: 2,
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            name: format!("worker-{}", uuid::Uuid::new_v4()),
        }
    }
}

/// How a job's work ended.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Worth trying again later.
    Retry(String),
    /// Trying again would fail the same way.
    Fatal(String),
    /// Waiting for something outside the worker (a node's upload): look again after
    /// `LOCAL_POLL_MS`, with this note as the job's state.
    Wait(String),
    Cancelled,
}

/// Starts the pool; the workers stop once `shutdown` turns true (a job in progress is
/// finished first).
pub fn start(
    service: Arc<ImageSecurity>,
    config: WorkerConfig,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..config.workers.max(1))
        .map(|n| {
            let max_priority =
                if config.workers >= 2 && n == 0 { Priority::New as i64 } else { Priority::Scheduled as i64 };
            let owner = format!("{}/{n}", config.name);
            tokio::spawn(run_worker(service.clone(), config.clone(), owner, max_priority, shutdown.clone()))
        })
        .collect()
}

async fn run_worker(
    service: Arc<ImageSecurity>,
    config: WorkerConfig,
    owner: String,
    max_priority: i64,
    mut shutdown: watch::Receiver<bool>,
) {
    let lease_ms = i64::try_from(config.lease.as_millis()).unwrap_or(60_000);
    while !*shutdown.borrow() {
        let claim = Claim { owner: &owner, now: crate::now_ms(), lease_ms, max_priority };
        let job = match service.store.jobs().claim_job(claim).await {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(worker = %owner, error = %e, "cannot claim a job");
                None
            }
        };
        let Some(job) = job else {
            tokio::select! {
                _ = tokio::time::sleep(config.poll) => {}
                // A dropped sender is a shutdown too.
                changed = shutdown.changed() => if changed.is_err() { return },
            }
            continue;
        };
        run_job(&service, &owner, job, config.lease).await;
    }
}

/// Runs one claimed job under a renewed lease and records how it ended.
async fn run_job(service: &Arc<ImageSecurity>, owner: &str, job: JobRow, lease: Duration) {
    let cancel = Arc::new(AtomicBool::new(job.cancel_requested));
    let lost = Arc::new(AtomicBool::new(false));
    let renewer = {
        let (service, id, owner, cancel, lost) =
            (service.clone(), job.id.clone(), owner.to_owned(), cancel.clone(), lost.clone());
        tokio::spawn(async move {
            let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(60_000);
            loop {
                tokio::time::sleep(lease / 3).await;
                match service.store.jobs().renew_job(&id, &owner, crate::now_ms() + lease_ms).await {
                    Ok(Some(asked)) => {
                        if asked {
                            cancel.store(true, Ordering::Relaxed);
                        }
                    }
                    Ok(None) => {
                        lost.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(e) => tracing::warn!(job = %id, error = %e, "cannot renew a job's lease"),
                }
            }
        })
    };
    tracing::info!(job = %job.id, kind = %job.kind, subject = %job.subject, attempt = job.attempts, "job started");
    let outcome = match JobKind::parse(&job.kind) {
        _ if cancel.load(Ordering::Relaxed) => Outcome::Cancelled,
        Some(kind) => service.run(kind, &job, &cancel).await,
        None => Outcome::Fatal(format!("unknown job kind {:?}", job.kind)),
    };
    renewer.abort();
    if lost.load(Ordering::Relaxed) {
        tracing::warn!(job = %job.id, "the job's lease was lost; another worker runs it");
        return;
    }
    let end = match &outcome {
        Outcome::Done => JobEnd::Done,
        Outcome::Cancelled => JobEnd::Cancelled,
        Outcome::Retry(e) if job.attempts < job.max_attempts => {
            JobEnd::Retry { at: crate::now_ms() + backoff_ms(job.attempts), error: e.clone() }
        }
        Outcome::Wait(note) if job.attempts < job.max_attempts => {
            JobEnd::Retry { at: crate::now_ms() + super::LOCAL_POLL_MS, error: note.clone() }
        }
        Outcome::Wait(_) => JobEnd::Failed { error: "no node that holds the image uploaded its scan in time".into() },
        Outcome::Retry(e) | Outcome::Fatal(e) => JobEnd::Failed { error: e.clone() },
    };
    if let JobEnd::Failed { error } = &end {
        service.job_failed(&job, error).await;
    }
    tracing::info!(job = %job.id, kind = %job.kind, outcome = ?outcome, "job ended");
    if let Err(e) = service.store.jobs().finish_job(&job.id, owner, &end).await {
        tracing::warn!(job = %job.id, error = %e, "cannot record the end of a job; its lease will run out");
    }
}
