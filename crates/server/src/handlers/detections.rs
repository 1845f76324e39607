//! Malicious files and baseline checks across images (SPEC 3.4, 3.5), per view.

use api::detections::{BaselineItem, BaselineQuery, BaselineResultItem, MalwareItem, MalwareQuery};
use api::{Page, PageQuery};
use axum::extract::State;

use super::{Json, Path, Query, page, page_of};
use crate::error::ApiResult;
use crate::state::AppState;

/// A view's malicious files, one item per file and image version; search by file name.
#[utoipa::path(get, path = "/api/v1/malware", tag = "image-security", params(MalwareQuery, PageQuery),
    responses((status = 200, body = Page<MalwareItem>)))]
pub async fn malware(
    State(st): State<AppState>,
    Query(q): Query<MalwareQuery>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<MalwareItem>>> {
    let p = page(&pq, &["file_name", "path", "type", "repository"])?;
    let (items, total) = st.images.malware_list(&q, &p).await?;
    Ok(Json(page_of(items, total, &p)))
}

/// A view's failed baseline checks, most widespread first; filter by level.
#[utoipa::path(get, path = "/api/v1/baseline", tag = "image-security", params(BaselineQuery, PageQuery),
    responses((status = 200, body = Page<BaselineItem>)))]
pub async fn baseline(
    State(st): State<AppState>,
    Query(q): Query<BaselineQuery>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<BaselineItem>>> {
    let p = page(&pq, &["affected_images", "id", "level"])?;
    let (items, total) = st.images.baseline_list(&q, &p).await?;
    Ok(Json(page_of(items, total, &p)))
}

/// Where one baseline check failed in a view: organisation, image, version, check time,
/// problem and advice.
#[utoipa::path(get, path = "/api/v1/baseline/{id}", tag = "image-security",
    params(("id" = String, Path), BaselineQuery, PageQuery), responses((status = 200, body = Page<BaselineResultItem>)))]
pub async fn baseline_check(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<BaselineQuery>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<BaselineResultItem>>> {
    let p = page(&pq, &[])?;
    let (items, total) = st.images.baseline_check(&id, &q, &p).await?;
    Ok(Json(page_of(items, total, &p)))
}
