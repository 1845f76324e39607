//! The durable job queue that background work shares (registry syncs, scans, matching
//! again). Workers claim jobs under a lease they renew; a job whose lease ran out is
//! claimed again. On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so any number of
//! workers in any number of processes never run one job twice at the same time.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::sql::{Bind, SqlStore, is_unique_violation, now_ms, order_by};
use crate::{Backend, PageReq, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub payload: String,
    pub priority: i64,
    /// queued | running | done | failed | cancelled
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: i64,
    pub lease_owner: String,
    pub lease_until: i64,
    pub cancel_requested: bool,
    pub error: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub payload: String,
    pub priority: i64,
    pub max_attempts: i64,
    pub run_after: i64,
    pub created_by: String,
}

/// How a claimed job ended.
#[derive(Debug, Clone)]
pub enum JobEnd {
    Done,
    /// Queued again to run after `at` (ms), keeping the error.
    Retry {
        at: i64,
        error: String,
    },
    Failed {
        error: String,
    },
    Cancelled,
}

#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub kind: Option<String>,
    pub state: Option<String>,
    pub subject: Option<String>,
}

/// What a claim may take.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub owner: &'a str,
    pub now: i64,
    pub lease_ms: i64,
    /// Only jobs of this priority or more urgent (lower).
    pub max_priority: i64,
}

#[async_trait]
pub trait JobStore: Send + Sync + std::fmt::Debug {
    /// Queues a job unless one of the same kind and subject is queued or running; returns
    /// the id of the job that will do the work and whether it is new. A more urgent
    /// request raises the waiting job's priority.
    async fn enqueue_job(&self, job: &NewJob) -> Result<(String, bool)>;
    /// Takes the most urgent ready job (queued and due, or running with an expired lease).
    async fn claim_job(&self, claim: Claim<'_>) -> Result<Option<JobRow>>;
    /// Extends the lease; `None` when the owner lost it, else whether a cancel was asked.
    async fn renew_job(&self, id: &str, owner: &str, until: i64) -> Result<Option<bool>>;
    /// Ends a claimed job; false when the owner no longer holds it.
    async fn finish_job(&self, id: &str, owner: &str, end: &JobEnd) -> Result<bool>;
    /// Cancels a queued job, or asks its worker to stop a running one.
    async fn cancel_job(&self, id: &str) -> Result<Option<JobRow>>;
    async fn job(&self, id: &str) -> Result<Option<JobRow>>;
    async fn list_jobs(&self, filter: &JobFilter, page: &PageReq) -> Result<(Vec<JobRow>, u64)>;
    /// Jobs queued or running, per kind.
    async fn active_jobs(&self, kind: &str) -> Result<u64>;
}

fn job_from(row: &AnyRow) -> Result<JobRow> {
    Ok(JobRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        subject: row.try_get("subject")?,
        payload: row.try_get("payload")?,
        priority: row.try_get("priority")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_after: row.try_get("run_after")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until: row.try_get("lease_until")?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        error: row.try_get("error")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue_job(&self, job: &NewJob) -> Result<(String, bool)> {
        let _w = self.writing().await;
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, kind, subject, payload, priority, state, max_attempts, run_after, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $9)",
        )
        .bind(&job.id)
        .bind(&job.kind)
        .bind(&job.subject)
        .bind(&job.payload)
        .bind(job.priority)
        .bind(job.max_attempts)
        .bind(job.run_after)
        .bind(&job.created_by)
        .bind(now)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok((job.id.clone(), true)),
            Err(e) if is_unique_violation(&e) => {
                sqlx::query(
                    "UPDATE jobs SET priority = $3, run_after = CASE WHEN run_after > $4 THEN $4 ELSE run_after END, \
                     updated_at = $5 WHERE kind = $1 AND subject = $2 AND state = 'queued' AND priority > $3",
                )
                .bind(&job.kind)
                .bind(&job.subject)
                .bind(job.priority)
                .bind(job.run_after)
                .bind(now)
                .execute(&self.pool)
                .await?;
                let id: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE kind = $1 AND subject = $2 AND state IN ('queued', 'running')",
                )
                .bind(&job.kind)
                .bind(&job.subject)
                .fetch_optional(&self.pool)
                .await?;
                Ok((id.unwrap_or_else(|| job.id.clone()), false))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn claim_job(&self, claim: Claim<'_>) -> Result<Option<JobRow>> {
        let _w = self.writing().await;
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
             updated_at = $3 WHERE id = (SELECT id FROM jobs WHERE priority <= $4 AND \
             ((state = 'queued' AND run_after <= $3) OR (state = 'running' AND lease_until < $3)) \
             ORDER BY priority, run_after, created_at LIMIT 1{lock}) RETURNING *"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(claim.owner)
            .bind(claim.now + claim.lease_ms)
            .bind(claim.now)
            .bind(claim.max_priority)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from).transpose()
    }

    async fn renew_job(&self, id: &str, owner: &str, until: i64) -> Result<Option<bool>> {
        let _w = self.writing().await;
        let cancel: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET lease_until = $3, updated_at = $4 WHERE id = $1 AND lease_owner = $2 \
             AND state = 'running' RETURNING cancel_requested",
        )
        .bind(id)
        .bind(owner)
        .bind(until)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(cancel.map(|c| c != 0))
    }

    async fn finish_job(&self, id: &str, owner: &str, end: &JobEnd) -> Result<bool> {
        let _w = self.writing().await;
        let now = now_ms();
        let (state, error, run_after, finished): (&str, &str, Option<i64>, Option<i64>) = match end {
            JobEnd::Done => ("done", "", None, Some(now)),
            JobEnd::Retry { at, error } => ("queued", error, Some(*at), None),
            JobEnd::Failed { error } => ("failed", error, None, Some(now)),
            JobEnd::Cancelled => ("cancelled", "cancelled while running", None, Some(now)),
        };
        let done = sqlx::query(
            "UPDATE jobs SET state = $3, error = $4, run_after = COALESCE($5, run_after), finished_at = $6, \
             lease_owner = '', lease_until = 0, updated_at = $7 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(state)
        .bind(error)
        .bind(run_after)
        .bind(finished)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn cancel_job(&self, id: &str) -> Result<Option<JobRow>> {
        {
            let _w = self.writing().await;
            let now = now_ms();
            sqlx::query(
                "UPDATE jobs SET state = 'cancelled', finished_at = $2, updated_at = $2, error = 'cancelled' \
                 WHERE id = $1 AND state = 'queued'",
            )
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
            sqlx::query("UPDATE jobs SET cancel_requested = 1, updated_at = $2 WHERE id = $1 AND state = 'running'")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        self.job(id).await
    }

    async fn job(&self, id: &str) -> Result<Option<JobRow>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(job_from).transpose()
    }

    async fn list_jobs(&self, filter: &JobFilter, page: &PageReq) -> Result<(Vec<JobRow>, u64)> {
        let mut clauses = Vec::new();
        let mut binds = Vec::new();
        for (column, value) in [("kind", &filter.kind), ("state", &filter.state), ("subject", &filter.subject)] {
            if let Some(v) = value {
                binds.push(Bind::Text(v.clone()));
                clauses.push(format!("{column} = ${}", binds.len()));
            }
        }
        let clause = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
        let total = self.count(&format!("SELECT COUNT(*) FROM jobs{clause}"), &binds).await?;
        let order = order_by(page, &["created_at", "priority", "updated_at"], "created_at");
        let rows = self.rows(&format!("SELECT * FROM jobs{clause}{order}"), &binds).await?;
        Ok((rows.iter().map(job_from).collect::<Result<_>>()?, total))
    }

    async fn active_jobs(&self, kind: &str) -> Result<u64> {
        self.count(
            "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND state IN ('queued', 'running')",
            &[Bind::Text(kind.to_owned())],
        )
        .await
    }
}
