//! Vulnerabilities across images (SPEC 3.1–3.3): per view (local, private, official), the
//! findings per urgency with the TOP 5 versions, and the list by vulnerability.

use api::vulns::{
    IgnoreDecision, IgnoreRequest, UnignoreRequest, VexImport, VexQuery, ViewQuery, VulnDetail, VulnItem,
    VulnListQuery, VulnSummary,
};
use api::{Page, PageQuery};
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::export::{self, ExportQuery};
use super::{Json, Path, Query, page, page_of, user_of};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

/// A view's findings per urgency (each image version counts its findings) and its five
/// most affected versions.
#[utoipa::path(get, path = "/api/v1/vulnerabilities/summary", tag = "image-security", params(ViewQuery),
    responses((status = 200, body = VulnSummary)))]
pub async fn summary(State(st): State<AppState>, Query(q): Query<ViewQuery>) -> ApiResult<Json<VulnSummary>> {
    Ok(Json(st.images.vuln_summary(&q.view).await?))
}

/// A view's vulnerabilities, most widespread first; filter by urgency, search by id, CVE
/// or software. `format=csv|jsonl` exports every row instead of a page.
#[utoipa::path(get, path = "/api/v1/vulnerabilities", tag = "image-security",
    params(VulnListQuery, PageQuery, ExportQuery), responses((status = 200, body = Page<VulnItem>)))]
pub async fn list(
    State(st): State<AppState>,
    Query(q): Query<VulnListQuery>,
    Query(pq): Query<PageQuery>,
    Query(e): Query<ExportQuery>,
) -> ApiResult<Response> {
    if let Some(format) = e.format()? {
        let (st, q) = (&st, &q);
        let rows = export::all_rows(|p| async move { Ok(st.images.vuln_list(q, &p).await?) }).await?;
        return export::render(&rows, format, &format!("vulnerabilities-{}", q.view));
    }
    let p = page(&pq, &["affected_images", "id", "urgency"])?;
    let (items, total) = st.images.vuln_list(&q, &p).await?;
    Ok(Json(page_of(items, total, &p)).into_response())
}

/// Ignore a vulnerability for all images (no `image_id`), one image version, or every
/// version of its repository (`"scope": "repository"`). It stops counting and stays listed,
/// marked. A decision of the same scope is replaced.
#[utoipa::path(post, path = "/api/v1/vulnerabilities/{id}/ignore", tag = "image-security",
    params(("id" = String, Path)), request_body = IgnoreRequest, responses((status = 200, body = IgnoreDecision)))]
pub async fn ignore(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(body): Json<IgnoreRequest>,
) -> ApiResult<Json<IgnoreDecision>> {
    let user = user_of(&caller)?;
    Ok(Json(st.images.ignore(&id, &body, &user.user.name).await?))
}

/// Take back a decision to ignore, made with the same `image_id` and `scope`.
#[utoipa::path(post, path = "/api/v1/vulnerabilities/{id}/unignore", tag = "image-security",
    params(("id" = String, Path)), request_body = UnignoreRequest, responses((status = 200, body = IgnoreDecision)))]
pub async fn unignore(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<UnignoreRequest>,
) -> ApiResult<Json<IgnoreDecision>> {
    Ok(Json(st.images.unignore(&id, &body).await?))
}

/// The decisions to ignore a vulnerability, in force or lapsed.
#[utoipa::path(get, path = "/api/v1/vulnerabilities/{id}/ignores", tag = "image-security",
    params(("id" = String, Path)), responses((status = 200, body = Vec<IgnoreDecision>)))]
pub async fn decisions(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Vec<IgnoreDecision>>> {
    Ok(Json(st.images.decisions(&id).await?))
}

/// A vulnerability's page in a view: its CVEs (CVSS, disclosure date, description), the
/// solution, the affected images with their versions and software, and the decisions.
#[utoipa::path(get, path = "/api/v1/vulnerabilities/{id}", tag = "image-security",
    params(("id" = String, Path), ViewQuery), responses((status = 200, body = VulnDetail)))]
pub async fn get_one(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ViewQuery>,
) -> ApiResult<Json<VulnDetail>> {
    Ok(Json(st.images.vuln_detail(&id, &q.view).await?))
}

/// Every decision to ignore in force, as a VEX document (`format`: `openvex`, the default,
/// or `cyclonedx`), keyed on vulnerability and package URL.
#[utoipa::path(get, path = "/api/v1/vulnerabilities/vex", tag = "image-security", params(VexQuery),
    responses((status = 200, description = "the VEX document", content_type = "application/json")))]
pub async fn vex_export(State(st): State<AppState>, Query(q): Query<VexQuery>) -> ApiResult<Response> {
    let format = q.format.as_deref().unwrap_or("openvex");
    let doc = st.images.vex_export(format).await?;
    let media = if format == "cyclonedx" { "application/vnd.cyclonedx+json" } else { "application/json" };
    Ok(([(axum::http::header::CONTENT_TYPE, media)], doc.to_string()).into_response())
}

/// Record the decisions of an OpenVEX or CycloneDX VEX document (statements that say
/// not affected, false positive, or an accepted risk), for the images and packages its
/// products name.
#[utoipa::path(post, path = "/api/v1/vulnerabilities/vex", tag = "image-security",
    request_body(content = Object, description = "an OpenVEX or CycloneDX document"),
    responses((status = 200, body = VexImport)))]
pub async fn vex_import(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(doc): Json<serde_json::Value>,
) -> ApiResult<Json<VexImport>> {
    let user = user_of(&caller)?;
    Ok(Json(st.images.vex_import(&doc, &user.user.name).await?))
}
