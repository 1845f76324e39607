//! The service authorization (SPEC 1.1): the explicit grant that lets the service act on
//! the user's clusters and registries. Granting it is audited as `registerCgsAgency`.

use api::protection::Authorization;
use axum::Extension;
use axum::extract::State;

use super::{Json, user_of};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{now_ms, rfc3339};

const KEY: &str = "service_authorization";

pub async fn current(st: &AppState) -> ApiResult<Authorization> {
    let Some(text) = st.store.setting(KEY).await? else {
        return Ok(Authorization { granted: false, granted_by: None, granted_at: None });
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    Ok(Authorization {
        granted: true,
        granted_by: v["by"].as_str().map(str::to_string),
        granted_at: v["at"].as_i64().map(rfc3339),
    })
}

/// Fails with a clear error until the authorization is granted.
pub async fn require(st: &AppState) -> ApiResult<()> {
    if current(st).await?.granted {
        Ok(())
    } else {
        Err(ApiError::NotAuthorized(
            "the service is not authorized to act on your clusters yet: grant it with PUT /api/v1/authorization".into(),
        ))
    }
}

/// Whether the service authorization is granted, by whom and when.
#[utoipa::path(get, path = "/api/v1/authorization", tag = "protection", responses((status = 200, body = Authorization)))]
pub async fn get_one(State(st): State<AppState>) -> ApiResult<Json<Authorization>> {
    Ok(Json(current(&st).await?))
}

/// Grant the service authorization.
#[utoipa::path(put, path = "/api/v1/authorization", tag = "protection", responses((status = 200, body = Authorization)))]
pub async fn grant(State(st): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult<Json<Authorization>> {
    let user = user_of(&caller)?;
    let value = serde_json::json!({ "by": user.user.name, "at": now_ms() });
    st.store.set_setting(KEY, &value.to_string()).await?;
    Ok(Json(current(&st).await?))
}

/// Withdraw the service authorization.
#[utoipa::path(delete, path = "/api/v1/authorization", tag = "protection", responses((status = 200, body = Authorization)))]
pub async fn revoke(State(st): State<AppState>) -> ApiResult<Json<Authorization>> {
    st.store.delete_setting(KEY).await?;
    Ok(Json(current(&st).await?))
}
