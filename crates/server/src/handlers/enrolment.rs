//! A cluster's enrolment tokens: issued when protection is turned on, or later one at a
//! time (e.g. single use, for one new host); listed without their secrets; revoked, with
//! the nodes a leaked token enrolled and the on-demand hours they were counted for.

use api::protection::{EnrolmentToken, EnrolmentTokenCreate, EnrolmentTokenIssued, EnrolmentTokenRevoked};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Json, Path, Query, new_id, not_found};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{DAY_MS, now_ms, rfc3339};

/// How long a token lasts unless asked otherwise.
pub const DEFAULT_LIFETIME_MS: i64 = 30 * DAY_MS;
const HOUR_MS: i64 = 3_600_000;

pub fn to_api(t: &store::EnrolmentTokenRow, now: i64) -> EnrolmentToken {
    let state = if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at <= now {
        "expired"
    } else if t.max_nodes.is_some_and(|m| t.nodes_enrolled >= m) {
        "used-up"
    } else {
        "active"
    };
    EnrolmentToken {
        id: t.id.clone(),
        cluster_id: t.cluster_id.clone(),
        state: state.into(),
        max_nodes: t.max_nodes.and_then(|m| u64::try_from(m).ok()),
        nodes_enrolled: u64::try_from(t.nodes_enrolled).unwrap_or(0),
        created_at: rfc3339(t.created_at),
        expires_at: rfc3339(t.expires_at),
        revoked_at: t.revoked_at.map(rfc3339),
    }
}

fn check_max_nodes(max_nodes: Option<u32>) -> ApiResult<Option<i64>> {
    match max_nodes {
        None => Ok(None),
        Some(n @ 1..=100_000) => Ok(Some(i64::from(n))),
        Some(_) => Err(ApiError::invalid("max_nodes", "1 to 100000")),
    }
}

/// Issues a token for a cluster: the row stored and the secret, shown once.
pub async fn issue(
    st: &AppState,
    cluster_id: &str,
    max_nodes: Option<u32>,
    lifetime_ms: i64,
) -> ApiResult<(store::EnrolmentTokenRow, String)> {
    let max_nodes = check_max_nodes(max_nodes)?;
    let secret = auth::new_secret(auth::ENROLMENT_PREFIX);
    let now = now_ms();
    let row = store::EnrolmentTokenRow {
        id: new_id(),
        cluster_id: cluster_id.to_owned(),
        secret_hash: auth::secret_hash(&secret),
        created_at: now,
        expires_at: now + lifetime_ms,
        revoked_at: None,
        max_nodes,
        nodes_enrolled: 0,
    };
    st.store.enrolment().create_enrolment_token(&row).await?;
    Ok((row, secret))
}

/// The command that installs and enrols the shield on a host.
pub fn install_command(st: &AppState, cluster_id: &str, secret: &str) -> String {
    format!("CGUARD_ENROLMENT_TOKEN={secret} cguard shield --server {} --cluster {cluster_id}", st.config.public_url)
}

async fn protected_cluster(st: &AppState, id: &str) -> ApiResult<store::ClusterRow> {
    let c = st.store.cluster(id).await?.ok_or_else(|| not_found("cluster", id))?;
    if !c.protection {
        return Err(ApiError::Conflict(format!("protection of cluster {} is off: turn it on first", c.name)));
    }
    Ok(c)
}

/// Issue a further enrolment token for a protected cluster, beside those handed out.
/// `max_nodes: 1` makes it single use.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/enrolment-tokens", tag = "protection",
    params(("id" = String, Path)), request_body = EnrolmentTokenCreate,
    responses((status = 201, body = EnrolmentTokenIssued)))]
pub async fn create(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<EnrolmentTokenCreate>,
) -> ApiResult<(StatusCode, Json<EnrolmentTokenIssued>)> {
    let lifetime = match body.expires_in_hours {
        None => DEFAULT_LIFETIME_MS,
        Some(h @ 1..=720) => i64::from(h) * HOUR_MS,
        Some(_) => return Err(ApiError::invalid("expires_in_hours", "1 to 720")),
    };
    let c = protected_cluster(&st, &id).await?;
    let (row, secret) = issue(&st, &c.id, body.max_nodes, lifetime).await?;
    let install_command = install_command(&st, &c.id, &secret);
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentTokenIssued { details: to_api(&row, now_ms()), enrolment_token: secret, install_command }),
    ))
}

/// A cluster's enrolment tokens, newest first, without their secrets.
#[utoipa::path(get, path = "/api/v1/clusters/{id}/enrolment-tokens", tag = "protection",
    params(("id" = String, Path)), responses((status = 200, body = Vec<EnrolmentToken>)))]
pub async fn list(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Vec<EnrolmentToken>>> {
    st.store.cluster(&id).await?.ok_or_else(|| not_found("cluster", &id))?;
    let now = now_ms();
    Ok(Json(st.store.enrolment().enrolment_tokens(&id).await?.iter().map(|t| to_api(t, now)).collect()))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RevokeQuery {
    /// Also remove the nodes this token enrolled (their credentials stop working) and the
    /// on-demand hours they were counted for: for a token that leaked.
    #[serde(default)]
    pub remove_nodes: bool,
}

/// Revoke an enrolment token: it enrols nothing more. With `remove_nodes=true` the nodes
/// it enrolled go too, with their on-demand hours.
#[utoipa::path(delete, path = "/api/v1/clusters/{id}/enrolment-tokens/{token_id}", tag = "protection",
    params(("id" = String, Path), ("token_id" = String, Path), RevokeQuery),
    responses((status = 200, body = EnrolmentTokenRevoked)))]
pub async fn revoke(
    State(st): State<AppState>,
    Path((id, token_id)): Path<(String, String)>,
    Query(q): Query<RevokeQuery>,
) -> ApiResult<Json<EnrolmentTokenRevoked>> {
    let now = now_ms();
    let row = st
        .store
        .enrolment()
        .revoke_enrolment_token(&id, &token_id, now)
        .await?
        .ok_or_else(|| not_found("enrolment token", &token_id))?;
    let nodes_removed = if q.remove_nodes { st.store.enrolment().remove_nodes_of_token(&row.id).await? } else { 0 };
    Ok(Json(EnrolmentTokenRevoked { details: to_api(&row, now), nodes_removed }))
}
