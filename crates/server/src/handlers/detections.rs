//! Malicious files and baseline checks across images (SPEC 3.4, 3.5), per view.

use api::detections::{BaselineItem, BaselineQuery, BaselineResultItem, MalwareItem, MalwareQuery};
use api::{Page, PageQuery};
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::export::{self, ExportQuery};
use super::{Json, Path, Query, page, page_of};
use crate::error::ApiResult;
use crate::state::AppState;

/// A view's malicious files, one item per file and image version; search by file name.
/// `format=csv|jsonl` exports every row instead of a page.
#[utoipa::path(get, path = "/api/v1/malware", tag = "image-security", params(MalwareQuery, PageQuery, ExportQuery),
    responses((status = 200, body = Page<MalwareItem>)))]
pub async fn malware(
    State(st): State<AppState>,
    Query(q): Query<MalwareQuery>,
    Query(pq): Query<PageQuery>,
    Query(e): Query<ExportQuery>,
) -> ApiResult<Response> {
    let p = page(&pq, &["file_name", "path", "type", "repository"])?;
    if let Some(format) = e.format()? {
        let (st, q) = (&st, &q);
        let rows = export::all_rows(|p| async move { Ok(st.images.malware_list(q, &p).await?) }).await?;
        return export::render(&rows, format, &format!("malware-{}", q.view));
    }
    let (items, total) = st.images.malware_list(&q, &p).await?;
    Ok(Json(page_of(items, total, &p)).into_response())
}

/// A view's failed baseline checks, most widespread first; filter by level.
/// `format=csv|jsonl` exports every row instead of a page.
#[utoipa::path(get, path = "/api/v1/baseline", tag = "image-security", params(BaselineQuery, PageQuery, ExportQuery),
    responses((status = 200, body = Page<BaselineItem>)))]
pub async fn baseline(
    State(st): State<AppState>,
    Query(q): Query<BaselineQuery>,
    Query(pq): Query<PageQuery>,
    Query(e): Query<ExportQuery>,
) -> ApiResult<Response> {
    let p = page(&pq, &["affected_images", "id", "level"])?;
    if let Some(format) = e.format()? {
        let (st, q) = (&st, &q);
        let rows = export::all_rows(|p| async move { Ok(st.images.baseline_list(q, &p).await?) }).await?;
        return export::render(&rows, format, &format!("baseline-{}", q.view));
    }
    let (items, total) = st.images.baseline_list(&q, &p).await?;
    Ok(Json(page_of(items, total, &p)).into_response())
}

/// Where one baseline check failed in a view: organisation, image, version, check time,
/// problem and advice. `format=csv|jsonl` exports every row instead of a page.
#[utoipa::path(get, path = "/api/v1/baseline/{id}", tag = "image-security",
    params(("id" = String, Path), BaselineQuery, PageQuery, ExportQuery),
    responses((status = 200, body = Page<BaselineResultItem>)))]
pub async fn baseline_check(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<BaselineQuery>,
    Query(pq): Query<PageQuery>,
    Query(e): Query<ExportQuery>,
) -> ApiResult<Response> {
    let p = page(&pq, &[])?;
    if let Some(format) = e.format()? {
        let (st, q, id) = (&st, &q, &id);
        let rows = export::all_rows(|p| async move { Ok(st.images.baseline_check(id, q, &p).await?) }).await?;
        return export::render(&rows, format, "baseline-check");
    }
    let (items, total) = st.images.baseline_check(&id, &q, &p).await?;
    Ok(Json(page_of(items, total, &p)).into_response())
}
