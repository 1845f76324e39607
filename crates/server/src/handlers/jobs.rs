//! Background jobs (scans, registry syncs, matching again): list, get, cancel.

use api::images::{Job, JobQuery};
use api::{Page, PageQuery};
use axum::extract::State;
use domain::jobs::{JobKind, JobState, to_api};

use super::{Json, Path, Query, not_found, page, page_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) async fn job_view(st: &AppState, id: &str) -> ApiResult<Job> {
    let job = st.store.jobs().job(id).await?.ok_or_else(|| not_found("job", id))?;
    Ok(to_api(&job))
}

/// List jobs, newest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "images", params(JobQuery, PageQuery),
    responses((status = 200, body = Page<Job>)))]
pub async fn list(
    State(st): State<AppState>,
    Query(q): Query<JobQuery>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<Job>>> {
    if q.kind.as_deref().is_some_and(|k| JobKind::parse(k).is_none()) {
        return Err(ApiError::invalid("kind", "one of scan-image, sync-registry, rematch"));
    }
    if q.state.as_deref().is_some_and(|s| JobState::parse(s).is_none()) {
        return Err(ApiError::invalid("state", "one of queued, running, done, failed, cancelled"));
    }
    let mut p = page(&pq, &["created_at", "priority", "updated_at"])?;
    if p.sort.is_none() {
        p.sort = Some("created_at".into());
        p.descending = true;
    }
    let filter = store::JobFilter { kind: q.kind, state: q.state, subject: q.subject };
    let (rows, total) = st.store.jobs().list_jobs(&filter, &p).await?;
    Ok(Json(page_of(rows.iter().map(to_api).collect(), total, &p)))
}

/// Get a job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "images", params(("id" = String, Path)),
    responses((status = 200, body = Job)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Job>> {
    Ok(Json(job_view(&st, &id).await?))
}

/// Cancel a queued job, or ask the worker running it to stop.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "images", params(("id" = String, Path)),
    responses((status = 200, body = Job)))]
pub async fn cancel(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Job>> {
    let job = st.store.jobs().cancel_job(&id).await?.ok_or_else(|| not_found("job", &id))?;
    Ok(Json(to_api(&job)))
}
