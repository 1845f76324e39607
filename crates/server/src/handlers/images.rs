//! The image catalogue (SPEC 5): versions of local, private and official images, manual
//! scans, and a version's report and SBOM.

use api::images::{ImageQuery, ImageReport, ImageVersion, Job, ReportQuery, SbomQuery};
use api::{Page, PageQuery};
use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Json, Path, Query, page, page_of, user_of};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

/// List image versions (one item per tag), filtered by kind, text and scan status.
#[utoipa::path(get, path = "/api/v1/images", tag = "images", params(ImageQuery, PageQuery),
    responses((status = 200, body = Page<ImageVersion>)))]
pub async fn list(
    State(st): State<AppState>,
    Query(q): Query<ImageQuery>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<ImageVersion>>> {
    let p = page(&pq, &["repository", "tag", "seen_at", "pushed_at", "size"])?;
    let (items, total) = st.images.list_images(&q, &p).await?;
    Ok(Json(page_of(items, total, &p)))
}

/// Get an image version.
#[utoipa::path(get, path = "/api/v1/images/{id}", tag = "images", params(("id" = String, Path)),
    responses((status = 200, body = ImageVersion)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ImageVersion>> {
    Ok(Json(st.images.image_version(&id).await?))
}

/// Scan an image version now (before any scheduled work).
#[utoipa::path(post, path = "/api/v1/images/{id}/scan", tag = "images", params(("id" = String, Path)),
    responses((status = 202, body = Job)))]
pub async fn scan(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    let user = user_of(&caller)?;
    let job = st.images.request_scan(&id, &user.user.name).await?;
    Ok((StatusCode::ACCEPTED, Json(super::jobs::job_view(&st, &job).await?)))
}

/// The version's report: basic info, vulnerabilities (matched against the current
/// database), associated policies, malicious files, software, file info, baseline.
#[utoipa::path(get, path = "/api/v1/images/{id}/report", tag = "images", params(("id" = String, Path), ReportQuery),
    responses((status = 200, body = ImageReport)))]
pub async fn report(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<ImageReport>> {
    Ok(Json(st.images.report(&id, &q).await?))
}

/// The version's inventory as CycloneDX 1.5 (with vulnerabilities) or SPDX 2.3 JSON.
#[utoipa::path(get, path = "/api/v1/images/{id}/sbom", tag = "images", params(("id" = String, Path), SbomQuery),
    responses((status = 200, description = "the SBOM document", content_type = "application/json")))]
pub async fn sbom(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SbomQuery>,
) -> ApiResult<Response> {
    let (media, body) = st.images.sbom(&id, &q).await?;
    Ok(([(header::CONTENT_TYPE, media)], body).into_response())
}
