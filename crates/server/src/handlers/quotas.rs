//! Protection quotas (SPEC 1.2, 6): seat accounting only, no payment. A quota protects
//! one node; nodes beyond the normal quotas are protected on demand.

use api::protection::{ProtectionSummary, Quota, QuotaPurchase, QuotaRenew};
use api::{Page, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;

use super::{Json, Path, Query, new_id, not_found, page, page_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{DAY_MS, now_ms, rfc3339};

/// A month of quota is 30 days; a year is 365.
pub fn duration_ms(months: u32) -> i64 {
    if months == 12 { 365 * DAY_MS } else { i64::from(months) * 30 * DAY_MS }
}

fn check_months(months: u32) -> ApiResult<()> {
    if (1..=9).contains(&months) || months == 12 {
        Ok(())
    } else {
        Err(ApiError::invalid("months", "is 1 to 9 months, or 12 for a year"))
    }
}

fn to_api(q: &store::QuotaRow) -> Quota {
    Quota {
        id: q.id.clone(),
        edition: q.edition.clone(),
        state: q.state.clone(),
        months: u32::try_from(q.months).unwrap_or(0),
        auto_renew: q.auto_renew,
        created_at: rfc3339(q.created_at),
        expires_at: rfc3339(q.expires_at),
        expires_in_seconds: (q.expires_at - now_ms()) / 1000,
    }
}

pub async fn all_quotas(st: &AppState) -> ApiResult<Vec<store::QuotaRow>> {
    super::every(None, |p| async move { st.store.list_quotas(&p).await }).await
}

pub async fn count_state(st: &AppState, state: &str) -> ApiResult<u64> {
    Ok(st.store.count_quotas(state).await?)
}

/// List quotas with their state and time to expiry.
#[utoipa::path(get, path = "/api/v1/quotas", tag = "protection", params(PageQuery), responses((status = 200, body = Page<Quota>)))]
pub async fn list(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<Quota>>> {
    let p = page(&q, &["created_at", "expires_at", "state"])?;
    let (rows, total) = st.store.list_quotas(&p).await?;
    Ok(Json(page_of(rows.iter().map(to_api).collect(), total, &p)))
}

/// Purchase quotas (seat accounting). The first purchase is at least the configured
/// minimum (10 by default).
#[utoipa::path(post, path = "/api/v1/quotas", tag = "protection", request_body = QuotaPurchase, responses((status = 201, body = Vec<Quota>)))]
pub async fn purchase(
    State(st): State<AppState>,
    Json(body): Json<QuotaPurchase>,
) -> ApiResult<(StatusCode, Json<Vec<Quota>>)> {
    check_months(body.months)?;
    if !(1..=1000).contains(&body.count) {
        return Err(ApiError::invalid("count", "is 1 to 1000"));
    }
    let first = st.store.list_quotas(&store::PageReq { limit: 1, ..Default::default() }).await?.1 == 0;
    let min = st.config.min_first_purchase;
    if first && body.count < min {
        return Err(ApiError::invalid("count", format!("the first purchase is at least {min} quotas")));
    }
    let now = now_ms();
    let rows: Vec<store::QuotaRow> = (0..body.count)
        .map(|_| store::QuotaRow {
            id: new_id(),
            edition: "enterprise".into(),
            state: "normal".into(),
            months: i64::from(body.months),
            auto_renew: body.auto_renew,
            created_at: now,
            expires_at: now + duration_ms(body.months),
            frozen_at: None,
        })
        .collect();
    st.store.create_quotas(&rows).await?;
    Ok((StatusCode::CREATED, Json(rows.iter().map(to_api).collect())))
}

/// Get a quota.
#[utoipa::path(get, path = "/api/v1/quotas/{id}", tag = "protection", params(("id" = String, Path)), responses((status = 200, body = Quota)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Quota>> {
    let q = st.store.quota(&id).await?.ok_or_else(|| not_found("quota", &id))?;
    Ok(Json(to_api(&q)))
}

/// Renew a quota: it runs `months` longer from its expiry (or from now, once expired)
/// and is normal again.
#[utoipa::path(post, path = "/api/v1/quotas/{id}/renew", tag = "protection", params(("id" = String, Path)),
    request_body = QuotaRenew, responses((status = 200, body = Quota)))]
pub async fn renew(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<QuotaRenew>,
) -> ApiResult<Json<Quota>> {
    check_months(body.months)?;
    let mut q = st.store.quota(&id).await?.ok_or_else(|| not_found("quota", &id))?;
    q.expires_at = q.expires_at.max(now_ms()) + duration_ms(body.months);
    q.months = i64::from(body.months);
    q.state = "normal".into();
    q.frozen_at = None;
    st.store.update_quota(&q).await?;
    Ok(Json(to_api(&q)))
}

/// Unsubscribe a quota: it is removed.
#[utoipa::path(delete, path = "/api/v1/quotas/{id}", tag = "protection", params(("id" = String, Path)), responses((status = 204, description = "unsubscribed")))]
pub async fn unsubscribe(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    if st.store.delete_quota(&id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(not_found("quota", &id)) }
}

/// Totals of the protection list: clusters, protected nodes, quotas by state.
#[utoipa::path(get, path = "/api/v1/protection/summary", tag = "protection", responses((status = 200, body = ProtectionSummary)))]
pub async fn summary(State(st): State<AppState>) -> ApiResult<Json<ProtectionSummary>> {
    let (clusters, _) = st.store.list_clusters(&store::PageReq { limit: 1000, ..Default::default() }).await?;
    let protected: std::collections::HashSet<&str> =
        clusters.iter().filter(|c| c.protection).map(|c| c.id.as_str()).collect();
    let nodes = super::clusters::every_node(&st).await?;
    let nodes_protected = nodes.iter().filter(|n| protected.contains(n.cluster_id.as_str())).count() as u64;
    let quotas = all_quotas(&st).await?;
    let count = |s: &str| quotas.iter().filter(|q| q.state == s).count() as u64;
    let normal = count("normal");
    Ok(Json(ProtectionSummary {
        clusters_protected: protected.len() as u64,
        clusters_unprotected: (clusters.len() - protected.len()) as u64,
        nodes_protected,
        nodes_on_demand: nodes_protected.saturating_sub(normal),
        on_demand_node_hours_30d: st.store.on_demand_hours(now_ms() - 30 * DAY_MS).await?,
        quotas_normal: normal,
        quotas_expired: count("expired"),
        quotas_frozen: count("frozen"),
    }))
}
