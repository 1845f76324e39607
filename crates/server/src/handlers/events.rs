//! Runtime events (SPEC 4) as the console and scripts read them.

use api::shield::RuntimeEvent;
use api::{Page, PageQuery};
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Json, Path, Query, not_found, page, page_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{DAY_MS, now_ms};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// `escape`, `syscall`, `process`, `file` or `environment`.
    pub category: Option<String>,
    pub node_id: Option<String>,
    pub cluster_id: Option<String>,
    /// Events of the last 1, 3 or 7 days.
    pub days: Option<u32>,
}

pub fn to_api(e: &store::EventRow) -> ApiResult<RuntimeEvent> {
    serde_json::from_str(&e.body).map_err(|err| ApiError::Internal(format!("stored event {}: {err}", e.id)))
}

/// List runtime events, newest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/v1/runtime/events", tag = "runtime", params(EventQuery, PageQuery),
    responses((status = 200, body = Page<RuntimeEvent>)))]
pub async fn list(
    State(st): State<AppState>,
    Query(q): Query<EventQuery>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<RuntimeEvent>>> {
    if let Some(c) = &q.category
        && !api::shield::CATEGORIES.contains(&c.as_str())
    {
        return Err(ApiError::invalid("category", format!("is one of {:?}", api::shield::CATEGORIES)));
    }
    let from = match q.days {
        None => None,
        Some(d @ (1 | 3 | 7)) => Some(now_ms() - i64::from(d) * DAY_MS),
        Some(_) => return Err(ApiError::invalid("days", "is 1, 3 or 7")),
    };
    let mut p = page(&pq, &["time", "received_at", "category", "kind"])?;
    if pq.sort.is_none() {
        p.sort = Some("time".into());
        p.descending = true;
    }
    let filter =
        store::EventFilter { category: q.category, node_id: q.node_id, cluster_id: q.cluster_id, from, to: None };
    let (rows, total) = st.store.list_events(&filter, &p).await?;
    let items = rows.iter().map(to_api).collect::<ApiResult<_>>()?;
    Ok(Json(page_of(items, total, &p)))
}

/// Get one runtime event.
#[utoipa::path(get, path = "/api/v1/runtime/events/{id}", tag = "runtime", params(("id" = String, Path)),
    responses((status = 200, body = RuntimeEvent)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<RuntimeEvent>> {
    let row = st.store.event(&id).await?.ok_or_else(|| not_found("event", &id))?;
    Ok(Json(to_api(&row)?))
}
