//! Private registries (SPEC 5): add, change, remove, test, sync.

use api::images::{Job, Registry, RegistryTest, RegistryWrite};
use api::{Page, PageQuery};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use domain::jobs::Priority;

use super::{Json, Path, Query, page, page_of, user_of};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

/// List the connected registries.
#[utoipa::path(get, path = "/api/v1/registries", tag = "images", params(PageQuery),
    responses((status = 200, body = Page<Registry>)))]
pub async fn list(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<Registry>>> {
    let p = page(&q, &["name", "created_at"])?;
    let (items, total) = st.images.list_registries(&p).await?;
    Ok(Json(page_of(items, total, &p)))
}

/// Connect a registry. The password is sealed at rest and never returned.
#[utoipa::path(post, path = "/api/v1/registries", tag = "images", request_body = RegistryWrite,
    responses((status = 201, body = Registry)))]
pub async fn create(
    State(st): State<AppState>,
    Json(body): Json<RegistryWrite>,
) -> ApiResult<(StatusCode, Json<Registry>)> {
    Ok((StatusCode::CREATED, Json(st.images.add_registry(body).await?)))
}

/// Get a registry.
#[utoipa::path(get, path = "/api/v1/registries/{id}", tag = "images", params(("id" = String, Path)),
    responses((status = 200, body = Registry)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Registry>> {
    Ok(Json(st.images.registry(&id).await?))
}

/// Change a registry; an absent password keeps the stored one.
#[utoipa::path(put, path = "/api/v1/registries/{id}", tag = "images", params(("id" = String, Path)),
    request_body = RegistryWrite, responses((status = 200, body = Registry)))]
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<RegistryWrite>,
) -> ApiResult<Json<Registry>> {
    Ok(Json(st.images.update_registry(&id, body).await?))
}

/// Remove a registry and its images from the catalogue.
#[utoipa::path(delete, path = "/api/v1/registries/{id}", tag = "images", params(("id" = String, Path)),
    responses((status = 204, description = "removed")))]
pub async fn remove(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.images.remove_registry(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Test the connection and the credentials: reads the registry's catalog.
#[utoipa::path(post, path = "/api/v1/registries/{id}/test", tag = "images", params(("id" = String, Path)),
    responses((status = 200, body = RegistryTest)))]
pub async fn test(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<RegistryTest>> {
    Ok(Json(st.images.test_registry(&id).await?))
}

/// Update images from the registry: lists every repository and tag in the background.
#[utoipa::path(post, path = "/api/v1/registries/{id}/sync", tag = "images", params(("id" = String, Path)),
    responses((status = 202, body = Job)))]
pub async fn sync(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    let user = user_of(&caller)?;
    let job = st.images.request_sync(&id, &user.user.name, Priority::Manual).await?;
    Ok((StatusCode::ACCEPTED, Json(super::jobs::job_view(&st, &job).await?)))
}
