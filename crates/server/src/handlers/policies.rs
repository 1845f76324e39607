//! Security policies (SPEC 2): process whitelist and file protection list, associated
//! with images; every change raises the revision shields poll by.

use api::policy::{ImageAssociation, SecurityPolicy, SecurityPolicyWrite, validate_image};
use api::{Page, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;

use super::{Json, Path, Query, new_id, not_found, page, page_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{now_ms, rfc3339};

pub fn to_api(p: &store::SecurityPolicyRow) -> SecurityPolicy {
    SecurityPolicy {
        id: p.id.clone(),
        name: p.name.clone(),
        mode: p.mode.clone(),
        process_whitelist: p.process_whitelist.clone(),
        file_protection: p.file_protection.clone(),
        images: p.images.clone(),
        revision: p.revision,
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }
}

fn validated(body: &SecurityPolicyWrite) -> ApiResult<()> {
    body.validate().map_err(|e| ApiError::invalid(e.field, e.message))
}

/// List security policies.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies", params(PageQuery), responses((status = 200, body = Page<SecurityPolicy>)))]
pub async fn list(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<SecurityPolicy>>> {
    let p = page(&q, &["name", "created_at", "updated_at"])?;
    let (rows, total) = st.store.list_security_policies(&p).await?;
    Ok(Json(page_of(rows.iter().map(to_api).collect(), total, &p)))
}

/// Add a security policy. Name: a letter first, then letters, digits and `-`, at most
/// 24; each list at most 50 absolute paths without duplicates.
#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", request_body = SecurityPolicyWrite, responses((status = 201, body = SecurityPolicy)))]
pub async fn create(
    State(st): State<AppState>,
    Json(body): Json<SecurityPolicyWrite>,
) -> ApiResult<(StatusCode, Json<SecurityPolicy>)> {
    validated(&body)?;
    let now = now_ms();
    let row = store::SecurityPolicyRow {
        id: new_id(),
        name: body.name,
        mode: body.mode.unwrap_or_else(|| "detect".into()),
        process_whitelist: body.process_whitelist,
        file_protection: body.file_protection,
        images: vec![],
        revision: 0,
        created_at: now,
        updated_at: now,
    };
    st.store.create_security_policy(&row).await?;
    let stored = st.store.security_policy(&row.id).await?.ok_or_else(|| not_found("policy", &row.id))?;
    Ok((StatusCode::CREATED, Json(to_api(&stored))))
}

/// Get a security policy.
#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "policies", params(("id" = String, Path)), responses((status = 200, body = SecurityPolicy)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<SecurityPolicy>> {
    let row = st.store.security_policy(&id).await?.ok_or_else(|| not_found("policy", &id))?;
    Ok(Json(to_api(&row)))
}

/// Replace a security policy's name, mode and lists.
#[utoipa::path(put, path = "/api/v1/policies/{id}", tag = "policies", params(("id" = String, Path)),
    request_body = SecurityPolicyWrite, responses((status = 200, body = SecurityPolicy)))]
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<SecurityPolicyWrite>,
) -> ApiResult<Json<SecurityPolicy>> {
    validated(&body)?;
    let mut row = st.store.security_policy(&id).await?.ok_or_else(|| not_found("policy", &id))?;
    row.name = body.name;
    row.mode = body.mode.unwrap_or_else(|| row.mode.clone());
    row.process_whitelist = body.process_whitelist;
    row.file_protection = body.file_protection;
    row.updated_at = now_ms();
    st.store.update_security_policy(&row).await?;
    let stored = st.store.security_policy(&id).await?.ok_or_else(|| not_found("policy", &id))?;
    Ok(Json(to_api(&stored)))
}

/// Delete a security policy and its image associations.
#[utoipa::path(delete, path = "/api/v1/policies/{id}", tag = "policies", params(("id" = String, Path)), responses((status = 204, description = "deleted")))]
pub async fn remove(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    if st.store.delete_security_policy(&id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(not_found("policy", &id)) }
}

async fn associate(st: &AppState, id: &str, body: &ImageAssociation, on: bool) -> ApiResult<SecurityPolicy> {
    if body.images.is_empty() || body.images.len() > 100 {
        return Err(ApiError::invalid("images", "1 to 100 image references"));
    }
    for image in &body.images {
        validate_image(image).map_err(|e| ApiError::invalid(e.field, e.message))?;
    }
    st.store.security_policy(id).await?.ok_or_else(|| not_found("policy", id))?;
    st.store.set_policy_images(id, &body.images, on, now_ms()).await?;
    let stored = st.store.security_policy(id).await?.ok_or_else(|| not_found("policy", id))?;
    Ok(to_api(&stored))
}

/// Associate images with a policy.
#[utoipa::path(post, path = "/api/v1/policies/{id}/images/apply", tag = "policies", params(("id" = String, Path)),
    request_body = ImageAssociation, responses((status = 200, body = SecurityPolicy)))]
pub async fn apply_images(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ImageAssociation>,
) -> ApiResult<Json<SecurityPolicy>> {
    Ok(Json(associate(&st, &id, &body, true).await?))
}

/// Cancel the association of images with a policy.
#[utoipa::path(post, path = "/api/v1/policies/{id}/images/cancel", tag = "policies", params(("id" = String, Path)),
    request_body = ImageAssociation, responses((status = 200, body = SecurityPolicy)))]
pub async fn cancel_images(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ImageAssociation>,
) -> ApiResult<Json<SecurityPolicy>> {
    Ok(Json(associate(&st, &id, &body, false).await?))
}
