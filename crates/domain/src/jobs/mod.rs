//! Background work in one place: what kinds of job exist, how urgent each request is, the
//! worker pool that runs them ([`worker`]) and the scheduler that queues periodic work
//! ([`scheduler`]). Jobs live in the store's durable queue, so any process with a worker
//! pool (`cguard server`, `cguard worker`) takes them, and a worker that dies loses nothing.

pub mod scheduler;
pub mod worker;

use store::{JobRow, NewJob, Store};

/// The kinds of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Scan one image digest; subject: the digest.
    ScanImage,
    /// List a registry's repositories and tags; subject: the registry id.
    SyncRegistry,
    /// Match stored inventories against the current database; subject: its version.
    Rematch,
    /// Wait for a node that holds a local image to upload a new scan of it (the node's
    /// shield scans it with its own engine); subject: the digest.
    ScanLocal,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [JobKind::ScanImage, JobKind::SyncRegistry, JobKind::Rematch, JobKind::ScanLocal];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::ScanImage => "scan-image",
            JobKind::SyncRegistry => "sync-registry",
            JobKind::Rematch => "rematch",
            JobKind::ScanLocal => "scan-local",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Attempts before a job is given up.
    fn max_attempts(self) -> i64 {
        match self {
            JobKind::ScanImage | JobKind::SyncRegistry => 3,
            JobKind::Rematch => 5,
            // Looked at every LOCAL_POLL_MS: half an hour.
            JobKind::ScanLocal => 120,
        }
    }
}

/// How urgent a request is: lower runs first. Manual requests and newly seen images never
/// wait behind the scheduled full detection (one worker of each pool takes only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Manual = 0,
    New = 1,
    Scheduled = 2,
}

/// The states a job moves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] =
        [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed, JobState::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Queues a job (or finds the one already waiting for the same subject); returns its id
/// and whether it is new.
pub async fn enqueue(
    store: &dyn Store,
    kind: JobKind,
    subject: &str,
    priority: Priority,
    created_by: &str,
) -> store::Result<(String, bool)> {
    let job = NewJob {
        id: uuid::Uuid::new_v4().to_string(),
        kind: kind.as_str().into(),
        subject: subject.into(),
        payload: "{}".into(),
        priority: priority as i64,
        max_attempts: kind.max_attempts(),
        run_after: crate::now_ms(),
        created_by: created_by.into(),
    };
    store.jobs().enqueue_job(&job).await
}

/// The API's view of a job.
pub fn to_api(j: &JobRow) -> api::images::Job {
    api::images::Job {
        id: j.id.clone(),
        kind: j.kind.clone(),
        subject: j.subject.clone(),
        state: j.state.clone(),
        priority: j.priority,
        attempts: j.attempts,
        error: j.error.clone(),
        created_at: crate::rfc3339(j.created_at),
        updated_at: crate::rfc3339(j.updated_at),
        finished_at: j.finished_at.map(crate::rfc3339),
    }
}

/// How often a `scan-local` job looks whether the node's upload arrived.
pub const LOCAL_POLL_MS: i64 = 15_000;

/// Delay before attempt `attempts + 1` of a job that failed: 30 s, 60 s, 120 s, … at most 1 h.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (30_000i64 << exp).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_round_trip_and_backoff_grows_to_a_cap() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobKind::parse("nope"), None);
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(50), 3_600_000);
    }
}
