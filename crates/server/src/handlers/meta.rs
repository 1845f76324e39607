//! The OpenAPI document and the health check.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

/// The OpenAPI 3.1 description of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> impl IntoResponse {
    axum::Json(crate::openapi::document())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    pub database: String,
    pub version: String,
}

/// Whether the server and its database answer.
#[utoipa::path(get, path = "/api/v1/health", tag = "meta", responses((status = 200, body = Health)))]
pub async fn health(State(st): State<AppState>) -> ApiResult<super::Json<Health>> {
    st.store.policy_revision().await?;
    Ok(super::Json(Health {
        status: "ok".into(),
        database: st.store.backend().name().into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
